"""`POST /webhooks/sentry` through the real server: verified, kept, read into groups."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store.tables import alert_deliveries, alert_groups
from tests.drivers.alerts import issue_alert
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, TOKEN, deliver, signed
from tests.drivers.services import proxy_url
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    env = {"SENTRY_CLIENT_SECRET": SECRET, "SENTRY_WEBHOOK_TOKEN": TOKEN}
    async with running_bot(slack_api, database_url, **env) as running:
        yield running


async def table(bot: Bot, which: sa.Table) -> list[dict[str, object]]:
    async with bot.runtime.engine.connect() as conn:
        rows = await conn.execute(sa.select(which).order_by(which.c.id))
        return [dict(r) for r in rows.mappings()]


async def settle(bot: Bot) -> None:
    await bot.runtime.background.wait_idle()


FIXTURES = [
    ("event_alert.triggered.json", "event_alert", "sentry:issue:1117540176", "firing"),
    ("error.created.json", "error", "sentry:issue:1170820242", "firing"),
    ("issue.created.json", "issue", "sentry:issue:1170820242", "firing"),
    ("metric_alert.critical.json", "metric_alert", "sentry:metric:7:1", "firing"),
    ("metric_alert.warning.json", "metric_alert", "sentry:metric:349732:2", "firing"),
]


@pytest.mark.parametrize(("fixture", "resource", "key", "status"), FIXTURES)
async def test_each_firing_fixture_becomes_an_alert_group(
    bot: Bot, fixture: str, resource: str, key: str, status: str
) -> None:
    response = await deliver(bot, sentry_fixture(fixture), resource)
    assert response.status == 200
    assert "accepted" in await response.json()
    await settle(bot)
    (group,) = await table(bot, alert_groups)
    assert group["key"] == key
    assert group["status"] == status
    assert group["count"] == 1
    assert group["title"]
    (delivery,) = await table(bot, alert_deliveries)
    assert delivery["outcome"] == "new"


async def test_the_event_alert_is_read_field_by_field(bot: Bot) -> None:
    await deliver(bot, sentry_fixture("event_alert.triggered.json"), "event_alert")
    await settle(bot)
    (group,) = await table(bot, alert_groups)
    assert group["title"] == "ReferenceError: heck is not defined"
    assert group["level"] == "error"
    assert group["project"] == "front-end"
    assert group["rule"] == "Very Important Alert Rule!"
    assert str(group["url"]).startswith(
        "https://sentry.io/organizations/test-org/issues/1117540176/"
    )


async def test_repeats_count_on_one_group_and_sentry_resolving_resolves_it(bot: Bot) -> None:
    for _ in range(3):
        await deliver(bot, sentry_fixture("metric_alert.critical.json"), "metric_alert")
    resolved = json.loads(sentry_fixture("metric_alert.resolved.json"))
    resolved["data"]["metric_alert"]["alert_rule"]["id"] = "7"
    resolved["data"]["metric_alert"]["identifier"] = "1"
    await deliver(bot, json.dumps(resolved).encode(), "metric_alert")
    await settle(bot)
    (group,) = await table(bot, alert_groups)
    assert group["count"] == 3
    assert group["status"] == "resolved"
    assert group["resolved_at"] is not None
    outcomes = [d["outcome"] for d in await table(bot, alert_deliveries)]
    assert outcomes == ["new", "repeat", "repeat", "resolved"]


async def test_an_issue_resolved_in_sentry_resolves_its_group(bot: Bot) -> None:
    created = json.loads(sentry_fixture("issue.created.json"))
    created["data"]["issue"]["id"] = "1638821441"
    await deliver(bot, json.dumps(created).encode(), "issue")
    await deliver(bot, sentry_fixture("issue.resolved.json"), "issue")
    await settle(bot)
    (group,) = await table(bot, alert_groups)
    assert group["status"] == "resolved"


async def test_a_resolve_for_nothing_open_is_kept_and_ignored(bot: Bot) -> None:
    assert (await deliver(bot, sentry_fixture("issue.resolved.json"), "issue")).status == 200
    await settle(bot)
    assert await table(bot, alert_groups) == []
    (delivery,) = await table(bot, alert_deliveries)
    assert delivery["outcome"] == "ignored"


async def test_unknown_resources_and_actions_are_answered_and_kept(bot: Bot) -> None:
    body = json.dumps({"action": "created", "data": {"installation": {"uuid": "x"}}}).encode()
    assert (await deliver(bot, body, "installation")).status == 200
    assert (await deliver(bot, b'{"action": "whatever", "data": {}}', "seer")).status == 200
    await settle(bot)
    deliveries = await table(bot, alert_deliveries)
    assert [d["outcome"] for d in deliveries] == ["ignored", "ignored"]
    assert "installation.created: nothing to alert on" in str(deliveries[0]["error"])


async def test_a_payload_of_the_wrong_shape_is_kept_and_marked_unreadable(bot: Bot) -> None:
    body = json.dumps({"action": "triggered", "data": {"event": {"title": "no issue id"}}})
    assert (await deliver(bot, body.encode(), "event_alert")).status == 200
    await settle(bot)
    (delivery,) = await table(bot, alert_deliveries)
    assert delivery["outcome"] == "unreadable"
    assert "issue_id" in str(delivery["error"])
    assert await table(bot, alert_groups) == []


async def test_a_delivery_that_fails_does_not_block_the_ones_behind_it(bot: Bot) -> None:
    bad = json.loads(sentry_fixture("event_alert.triggered.json"))
    bad["data"]["event"]["issue_id"] = "9" * 300  # a key longer than the column
    await deliver(bot, json.dumps(bad).encode(), "event_alert")
    await deliver(bot, issue_alert(2), "event_alert")
    await bot.settle()
    outcomes = [r["outcome"] for r in await table(bot, alert_deliveries)]
    assert outcomes[1] == "new"  # the good one behind it was read
    assert outcomes[0] in ("failed", "new")  # Postgres refuses the key; SQLite doesn't care


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"Sentry-Hook-Signature": ""}, "missing Sentry-Hook-Signature"),
        ({"Sentry-Hook-Signature": "0" * 64}, "does not match"),
        (signed(b"{}", secret="another-secret"), "does not match"),
        ({"Sentry-Hook-Timestamp": str(int(time.time()) - 3600)}, "away from now"),
        ({"Sentry-Hook-Timestamp": ""}, "Sentry-Hook-Timestamp"),
    ],
    ids=["missing", "wrong", "other-secret", "stale", "no-timestamp"],
)
async def test_unverified_deliveries_are_refused_and_nothing_is_kept(
    bot: Bot, headers: dict[str, str], says: str
) -> None:
    body = sentry_fixture("event_alert.triggered.json")
    sent = signed(body) | headers
    response = await bot.client.post("/webhooks/sentry", data=body, headers=sent)
    assert response.status == 401
    assert says in (await response.json())["error"]
    assert await table(bot, alert_deliveries) == []


async def test_a_tampered_body_is_refused(bot: Bot) -> None:
    body = sentry_fixture("event_alert.triggered.json")
    tampered = body.replace(b"heck is not defined", b"all is fine")
    response = await bot.client.post("/webhooks/sentry", data=tampered, headers=signed(body))
    assert response.status == 401
    assert await table(bot, alert_deliveries) == []


async def test_a_timestamp_that_is_not_a_number_is_refused(bot: Bot) -> None:
    body = sentry_fixture("event_alert.triggered.json")
    for stamp in ("nan", "inf", "1e12"):
        headers = signed(body) | {"Sentry-Hook-Timestamp": stamp}
        response = await bot.client.post("/webhooks/sentry", data=body, headers=headers)
        assert response.status == 401


async def test_broken_json_and_oversized_bodies_get_clear_answers(bot: Bot) -> None:
    broken = await deliver(bot, b'{"action": "triggered", ', "event_alert")
    assert broken.status == 400
    assert "not valid JSON" in (await broken.json())["error"]
    listed = await deliver(bot, b"[1, 2]", "event_alert")
    assert listed.status == 400
    big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    headers = signed(big) | {"Sentry-Hook-Resource": "event_alert"}
    huge = await bot.client.post("/webhooks/sentry", data=io.BytesIO(big), headers=headers)
    assert huge.status == 413
    assert "limit" in (await huge.json())["error"]
    assert await table(bot, alert_deliveries) == []


async def test_the_legacy_plugin_posts_with_the_shared_token(bot: Bot) -> None:
    body = sentry_fixture("legacy_plugin.json")
    headers = {"Content-Type": "application/json"}
    wrong = await bot.client.post("/webhooks/sentry?token=nope", data=body, headers=headers)
    assert wrong.status == 401
    right = await bot.client.post(f"/webhooks/sentry?token={TOKEN}", data=body, headers=headers)
    assert right.status == 200
    await settle(bot)
    (group,) = await table(bot, alert_groups)
    assert group["key"] == "sentry:issue:4218258981"
    assert group["environment"] == "prod"


async def test_without_a_client_secret_deliveries_are_refused_with_the_reason(
    slack_api: FakeSlackAPI, tmp_path: Path
) -> None:
    async with running_bot(slack_api, f"sqlite:///{tmp_path / 'l.db'}") as bot:
        response = await deliver(bot, sentry_fixture("event_alert.triggered.json"), "event_alert")
        assert response.status == 503
        reason = (await response.json())["error"]
        assert "set SENTRY_CLIENT_SECRET to the internal integration's Client Secret" in reason
        assert "SENTRY_WEBHOOK_TOKEN and post to /webhooks/sentry?token=" in reason


async def test_with_the_database_hung_every_answer_comes_within_sentrys_second(
    slack_api: FakeSlackAPI, postgres_proxy: TcpProxy
) -> None:
    """Packets dropped, not refused: no answer may wait past Sentry's 1 s, and a 2xx only
    for a delivery that is kept."""
    env = {"SENTRY_CLIENT_SECRET": SECRET}
    async with running_bot(slack_api, proxy_url(postgres_proxy), **env) as bot:
        assert (await deliver(bot, sentry_fixture("error.created.json"), "error")).status == 200
        await bot.settle()
        postgres_proxy.hang()
        loop = asyncio.get_running_loop()

        async def timed(n: int) -> tuple[int, float, object]:
            await asyncio.sleep(n * 0.02)
            started = loop.time()
            response = await deliver(bot, event_alert(1000 + n), "event_alert")
            return response.status, loop.time() - started, await response.json()

        answers = await asyncio.gather(*(timed(n) for n in range(60)))
        await postgres_proxy.resume()
        assert max(took for _, took, _ in answers) < 1.0
        assert {status for status, _, _ in answers} <= {200, 503}
        refused = [body for status, _, body in answers if status == 503]
        assert refused, "a hung database answered every webhook 2xx"
        assert all("within 0.8 s" in str(body) for body in refused)
        accepted = [body["accepted"] for status, _, body in answers if status == 200]  # type: ignore[index]
        await asyncio.sleep(0.5)  # the abandoned commit's connection is replaced
        kept = {row["id"] for row in await table(bot, alert_deliveries)}
        assert set(accepted) <= kept  # every 2xx is in the inbox


def event_alert(issue: int) -> bytes:
    payload = json.loads(sentry_fixture("event_alert.triggered.json"))
    payload["data"]["event"]["issue_id"] = str(issue)
    return json.dumps(payload).encode()
