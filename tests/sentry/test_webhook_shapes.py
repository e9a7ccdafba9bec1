"""Every signed body, whatever its shape, is kept (2xx, then read or marked unreadable) or
refused with a reason (4xx): never a 5xx from a parsing path. Property-based, over each
resource Sentry sends, starting from its real payload and breaking it anywhere."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.model import Delivery
from bot.errors import UnreadableDelivery
from bot.sentry.payloads import read_delivery, repeat_key
from bot.store.tables import alert_deliveries
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, TOKEN, deliver
from tests.fakes.slack_api import FakeSlackAPI

# Resource header → a real body of it (None: a resource the bot reads nothing from).
RESOURCES: dict[str, str | None] = {
    "event_alert": "event_alert.triggered.json",
    "error": "error.created.json",
    "issue": "issue.created.json",
    "metric_alert": "metric_alert.critical.json",
    "installation": None,
    "comment": None,
    "": None,  # no Sentry-Hook-Resource at all
}
AT = datetime(2026, 12, 1, tzinfo=UTC)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@st.composite
def broken(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """`value` with any subtree replaced by any JSON, keys dropped, or left alone."""
    if draw(st.integers(0, 7)) == 0:
        return draw(JSON)
    if isinstance(value, dict) and depth < 4:
        kept = {k: v for k, v in value.items() if draw(st.integers(0, 9))}
        return {k: draw(broken(v, depth + 1)) for k, v in kept.items()}
    if isinstance(value, list) and depth < 4:
        return [draw(broken(v, depth + 1)) for v in value[:3]]
    return value


def bodies(fixture: str | None) -> st.SearchStrategy[Any]:
    if fixture is None:
        return JSON
    return broken(json.loads(sentry_fixture(fixture)))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, bytes]:
    resource = draw(st.sampled_from(sorted(RESOURCES)))
    return resource, orjson.dumps(draw(bodies(RESOURCES[resource])))


@pytest.mark.parametrize("resource", sorted(RESOURCES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_parsers_answer_every_shape_with_a_read_or_unreadable(
    resource: str, data: st.DataObject
) -> None:
    payload = data.draw(bodies(RESOURCES[resource]))
    if isinstance(payload, dict):
        key = repeat_key(resource, payload)  # the fast path: must never raise
        assert key is None or key.startswith("sentry:issue:")
    delivery = Delivery(1, "sentry", resource, orjson.dumps(payload), AT)
    with contextlib.suppress(UnreadableDelivery):  # kept, marked unreadable: an answer
        read_delivery(delivery)  # anything else raised here would be a 500 or a lost read


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str, redis_url: str) -> AsyncIterator[Bot]:
    env = {"SENTRY_CLIENT_SECRET": SECRET, "SENTRY_WEBHOOK_TOKEN": TOKEN, "REDIS_URL": redis_url}
    async with running_bot(slack_api, database_url, **env) as running:
        # A firing group, so repeats of its issue take the Redis path too.
        for resource in ("event_alert", "error"):
            await deliver(running, sentry_fixture(str(RESOURCES[resource])), resource)
        await running.settle()
        yield running


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=st.lists(deliveries(), min_size=1, max_size=5))
async def test_every_signed_body_is_kept_or_refused_with_a_reason(
    bot: Bot, sent: list[tuple[str, bytes]]
) -> None:
    for resource, body in sent:
        response = await deliver(bot, body, resource)
        answer = await response.json()
        if response.status == 200:
            assert answer == {"counted": True} or isinstance(answer.get("accepted"), int)
        else:
            assert response.status == 400, answer
            assert answer["error"]
    # The legacy plugin's route reads the same bodies, authorised by its token.
    response = await bot.client.post(f"/webhooks/sentry?token={TOKEN}", data=sent[0][1])
    assert response.status in (200, 400), await response.text()
    await bot.settle()
    async with bot.runtime.engine.connect() as conn:
        unread = await conn.execute(
            sa.select(sa.func.count())
            .select_from(alert_deliveries)
            .where(alert_deliveries.c.outcome.is_(None))
        )
        assert unread.scalar_one() == 0  # every kept body was read or marked why not
