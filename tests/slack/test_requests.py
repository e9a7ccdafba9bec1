"""What reaches /slack/events must be from Slack: signatures, staleness, size, handshake."""

from __future__ import annotations

import io
import time
from urllib.parse import urlencode

import sqlalchemy as sa

from bot.store.tables import incidents
from tests.drivers.bot import Bot
from tests.drivers.payloads import slack_fixture
from tests.drivers.slack import sign


def _open_form(bot: Bot) -> str:
    return urlencode(
        slack_fixture("slash_command.json")
        | {
            "text": "incident open sev1 Forged",
            "response_url": bot.slack.response_url("x"),
        }
    )


async def _stored(bot: Bot) -> int:
    async with bot.runtime.engine.connect() as conn:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(incidents))).scalar_one()
        )


async def test_forged_signature_is_refused_and_nothing_is_stored(bot: Bot) -> None:
    body = _open_form(bot)
    headers = sign(body, secret="not-the-secret") | {
        "Content-Type": "application/x-www-form-urlencoded"
    }
    response = await bot.client.post("/slack/events", data=body.encode(), headers=headers)
    assert response.status == 401
    await bot.settle()
    assert await _stored(bot) == 0
    assert [c.method for c in bot.slack.calls] == ["auth.test"]  # only the check at start


async def test_tampered_body_is_refused(bot: Bot) -> None:
    body = _open_form(bot)
    headers = sign(body) | {"Content-Type": "application/x-www-form-urlencoded"}
    tampered = body.replace("Forged", "Tampered")
    response = await bot.client.post("/slack/events", data=tampered.encode(), headers=headers)
    assert response.status == 401
    assert await _stored(bot) == 0


async def test_stale_timestamp_is_refused(bot: Bot) -> None:
    body = _open_form(bot)
    headers = sign(body, timestamp=int(time.time()) - 301) | {
        "Content-Type": "application/x-www-form-urlencoded"
    }
    response = await bot.client.post("/slack/events", data=body.encode(), headers=headers)
    assert response.status == 401
    await bot.settle()
    assert await _stored(bot) == 0


async def test_unsigned_request_is_refused(bot: Bot) -> None:
    response = await bot.client.post(
        "/slack/events",
        data=_open_form(bot).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 401
    assert await _stored(bot) == 0


async def test_oversized_body_is_refused(bot: Bot) -> None:
    body = "text=" + "x" * (1100 * 1024)  # over the 1 MiB limit
    headers = sign(body) | {"Content-Type": "application/x-www-form-urlencoded"}
    response = await bot.client.post(
        "/slack/events", data=io.BytesIO(body.encode()), headers=headers
    )
    assert response.status == 413
    assert await _stored(bot) == 0


async def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    handshake = slack_fixture("url_verification.json")
    response = await bot.event(handshake)
    assert response.status == 200
    assert (await response.json())["challenge"] == handshake["challenge"]
