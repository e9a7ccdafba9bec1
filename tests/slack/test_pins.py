"""Timeline capture: 📌 or a pin on a message of an incident channel keeps it in the timeline
at the message's own time, with its author; taking it away marks it; retries add nothing.

The real bot app, driven with signed Events API requests, on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from bot import log_messages as msg
from bot.store.database import from_utc
from bot.store.tables import timeline_events
from tests.drivers.bot import Bot
from tests.drivers.payloads import slack_fixture
from tests.fakes.slack_api import FakeChannel

ALICE, BOB, LUCIA = "U01ALICE00", "U01BOBBY00", "U01LUCIABT"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

_event_ids = iter(range(1, 10_000))


def _ts(seconds_ago: float, micros: int = 100) -> str:
    return f"{int(time.time() - seconds_ago)}.{micros:06d}"


def _envelope(event: dict[str, Any], channel: str, event_id: str | None) -> dict[str, Any]:
    """An event_callback as Slack sends it: the fixture's envelope around `event`."""
    body = copy.deepcopy(slack_fixture("event_callback.app_mention.json"))
    event["event_ts"] = _ts(0, 999_999)
    body["event"] = event
    body["event_id"] = event_id or f"Ev0PIN{next(_event_ids):05d}"
    body["event_time"] = int(time.time())
    body["event_context"] = f"1-{event['type']}-T01LUCIA00-{channel}"
    return body


def reaction(
    kind: str,
    channel: str,
    ts: str,
    *,
    name: str = "pushpin",
    user: str = ALICE,
    item_user: str = BOB,
    event_id: str | None = None,
) -> dict[str, Any]:
    """reaction_added / reaction_removed (docs.slack.dev/reference/events/reaction_added)."""
    event = {
        "type": kind,
        "user": user,
        "reaction": name,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts, "channel_type": "channel"},
    }
    return _envelope(event, channel, event_id)


def pin(
    kind: str,
    channel: str,
    message: dict[str, Any],
    *,
    user: str = ALICE,
    event_id: str | None = None,
) -> dict[str, Any]:
    """pin_added / pin_removed (docs.slack.dev/reference/events/pin_added): the pinned
    message rides along in `item.message`."""
    now = int(time.time())
    event: dict[str, Any] = {
        "type": kind,
        "user": user,
        "channel_id": channel,
        "item": {
            "type": "message",
            "created": now,
            "created_by": user,
            "channel": channel,
            "message": {**message, "pinned_to": [channel] if kind == "pin_added" else []},
        },
        "item_user": message.get("user", ""),
        "pin_count": "1" if kind == "pin_added" else "0",
        "pinned_info": {"channel": channel, "pinned_by": user, "pinned_ts": now},
    }
    if kind == "pin_removed":
        event["has_pins"] = False
    return _envelope(event, channel, event_id)


async def open_incident(bot: Bot) -> FakeChannel:
    assert (await bot.command("incident open sev2 Checkout errors")).status == 200
    await bot.settle()
    (channel,) = [c for c in bot.slack.channels.values() if c.name.startswith("inc-1")]
    return channel


async def send(bot: Bot, body: dict[str, Any], **headers: str) -> None:
    response = await bot.event(body, **headers)
    assert response.status == 200
    await bot.settle()


async def kept(bot: Bot) -> list[dict[str, Any]]:
    """The incident's pinned/unpinned timeline events, in the order they were stored."""
    query = (
        sa.select(timeline_events)
        .where(timeline_events.c.kind.in_(["pinned", "unpinned"]))
        .order_by(timeline_events.c.id)
    )
    async with bot.runtime.engine.connect() as conn:
        rows = [dict(r) for r in (await conn.execute(query)).mappings()]
    for row in rows:
        row["at"] = from_utc(row["at"])
    return rows


def at(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


async def test_pushpin_keeps_the_message_at_its_own_time_with_its_author(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(600)
    bot.slack.add_message(
        channel.id, "rolled back deploy 1234, error rate dropping", user=BOB, ts=ts
    )

    await send(bot, reaction("reaction_added", channel.id, ts))

    (row,) = await kept(bot)
    assert row["incident_number"] == 1
    assert row["kind"] == "pinned"
    assert row["at"] == at(ts)  # the message's time, not the reaction's
    assert row["actor"] == BOB  # its author, not who reacted
    assert row["text"] == "rolled back deploy 1234, error rate dropping"
    assert row["data"] == {"ts": ts, "channel": channel.id, "kept_by": ALICE}
    (read,) = bot.slack.calls_to("conversations.history")
    assert read.args["channel"] == channel.id
    assert read.args["latest"] == ts
    assert read.args["inclusive"] in ("1", "true")
    assert read.args["limit"] == "1"


async def test_retried_reaction_and_a_pin_of_the_same_message_add_nothing(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(300)
    message = bot.slack.add_message(channel.id, "DB failover done", user=BOB, ts=ts)
    first = reaction("reaction_added", channel.id, ts, event_id="Ev0PINRETRY1")

    await send(bot, first)
    await send(bot, first, **RETRY)  # Slack's redelivery: same event_id
    assert len(await kept(bot)) == 1
    assert len(bot.slack.calls_to("conversations.history")) == 1  # the retry did no work

    await send(bot, reaction("reaction_added", channel.id, ts, user=BOB))  # a second 📌
    await send(bot, pin("pin_added", channel.id, message))
    await send(bot, pin("pin_added", channel.id, message), **RETRY)
    assert [r["kind"] for r in await kept(bot)] == ["pinned"]


async def test_pin_uses_the_message_it_carries(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(120)
    message = bot.slack.add_message(channel.id, "customer impact: EU only", user=BOB, ts=ts)

    await send(bot, pin("pin_added", channel.id, message, user=ALICE))

    (row,) = await kept(bot)
    assert (row["at"], row["actor"], row["text"]) == (at(ts), BOB, "customer impact: EU only")
    assert row["data"]["kept_by"] == ALICE
    assert bot.slack.calls_to("conversations.history") == []


async def test_pin_without_the_message_reads_it(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(120)
    message = bot.slack.add_message(channel.id, "paged the DBA", user=BOB, ts=ts)
    body = pin("pin_added", channel.id, message)
    body["event"]["item"]["message"] = {"ts": ts}  # only the reference

    await send(bot, body)

    (row,) = await kept(bot)
    assert (row["actor"], row["text"]) == (BOB, "paged the DBA")
    assert len(bot.slack.calls_to("conversations.history")) == 1


async def test_removing_the_pushpin_marks_it_and_keeps_history(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(200)
    bot.slack.add_message(channel.id, "root cause: expired cert", user=BOB, ts=ts)
    await send(bot, reaction("reaction_added", channel.id, ts))

    removed = reaction("reaction_removed", channel.id, ts, user=ALICE, event_id="Ev0UNPIN01")
    await send(bot, removed)
    await send(bot, removed, **RETRY)

    pinned, unpinned = await kept(bot)
    assert (pinned["kind"], pinned["text"], pinned["actor"]) == (
        "pinned",
        "root cause: expired cert",
        BOB,
    )
    assert unpinned["kind"] == "unpinned"
    assert unpinned["actor"] == ALICE
    assert unpinned["data"] == {"ts": ts, "channel": channel.id}


async def test_unpinning_marks_a_message_kept_by_a_pin(bot: Bot) -> None:
    channel = await open_incident(bot)
    message = bot.slack.add_message(channel.id, "status page updated", user=BOB, ts=_ts(90))
    await send(bot, pin("pin_added", channel.id, message))
    await send(bot, pin("pin_removed", channel.id, message, user=BOB))

    assert [(r["kind"], r["actor"]) for r in await kept(bot)] == [
        ("pinned", BOB),
        ("unpinned", BOB),
    ]


async def test_removing_a_pushpin_never_kept_adds_nothing(bot: Bot) -> None:
    channel = await open_incident(bot)
    ts = _ts(60)
    bot.slack.add_message(channel.id, "just chatting", user=BOB, ts=ts)
    await send(bot, reaction("reaction_removed", channel.id, ts))
    assert await kept(bot) == []


async def test_pushpin_outside_an_incident_channel_adds_nothing(bot: Bot) -> None:
    await open_incident(bot)
    ts = _ts(60)
    bot.slack.add_message("C01GENERAL", "lunch?", user=BOB, ts=ts)
    await send(bot, reaction("reaction_added", "C01GENERAL", ts))
    await send(bot, reaction("reaction_removed", "C01GENERAL", ts))
    assert await kept(bot) == []


@pytest.mark.parametrize("emoji", ["eyes", "round_pushpin", "white_check_mark"])
async def test_another_emoji_adds_nothing(bot: Bot, emoji: str) -> None:
    channel = await open_incident(bot)
    ts = _ts(60)
    bot.slack.add_message(channel.id, "on it", user=BOB, ts=ts)
    await send(bot, reaction("reaction_added", channel.id, ts, name=emoji))
    assert await kept(bot) == []
    assert bot.slack.calls_to("conversations.history") == []


async def test_pushpin_on_a_file_adds_nothing(bot: Bot) -> None:
    channel = await open_incident(bot)
    body = reaction("reaction_added", channel.id, _ts(60))
    body["event"]["item"] = {"type": "file", "file": "F0FILE0001"}
    await send(bot, body)
    assert await kept(bot) == []


async def test_thread_reply_is_found_through_its_thread(bot: Bot) -> None:
    channel = await open_incident(bot)
    parent_ts, reply_ts = _ts(500), _ts(400)
    bot.slack.add_message(channel.id, "what changed at 10:02?", user=ALICE, ts=parent_ts)
    bot.slack.add_message(channel.id, "a flag flip", user=BOB, ts=_ts(450), thread_ts=parent_ts)
    bot.slack.add_message(
        channel.id, "flag checkout_v2 went to 100%", user=BOB, ts=reply_ts, thread_ts=parent_ts
    )
    bot.slack.add_message(channel.id, "later, top level", user=ALICE, ts=_ts(300))

    await send(bot, reaction("reaction_added", channel.id, reply_ts, user=ALICE))

    (row,) = await kept(bot)
    assert (row["at"], row["actor"], row["text"]) == (
        at(reply_ts),
        BOB,
        "flag checkout_v2 went to 100%",
    )
    assert len(bot.slack.calls_to("conversations.history")) == 1  # a reply is not top-level
    (replies,) = bot.slack.calls_to("conversations.replies")
    assert replies.args["channel"] == channel.id
    assert replies.args["ts"] == reply_ts


async def test_a_message_that_is_gone_is_skipped(bot: Bot) -> None:
    channel = await open_incident(bot)
    bot.slack.add_message(channel.id, "an older message", user=BOB, ts=_ts(900))
    await send(bot, reaction("reaction_added", channel.id, _ts(100)))  # deleted meanwhile
    assert await kept(bot) == []
    assert len(bot.slack.calls_to("conversations.replies")) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
async def test_an_unreadable_message_is_logged_and_skipped(
    bot: Bot, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await open_incident(bot)
    ts = _ts(100)
    bot.slack.add_message(channel.id, "kept after all", user=BOB, ts=ts)
    bot.slack.fail_next("conversations.history", error)

    with caplog.at_level(logging.WARNING, logger="bot.slack.listeners.pins"):
        await send(bot, reaction("reaction_added", channel.id, ts))

    assert await kept(bot) == []
    (record,) = [r for r in caplog.records if r.name == "bot.slack.listeners.pins"]
    assert record.getMessage() == msg.CHAT_CALL_FAILED
    assert record.__dict__["error"] == error
    assert not [r for r in caplog.records if r.getMessage() == msg.BACKGROUND_TASK_FAILED]

    await send(bot, reaction("reaction_added", channel.id, ts))  # readable again: kept
    assert [r["text"] for r in await kept(bot)] == ["kept after all"]


async def test_the_bots_own_pin_is_ignored(bot: Bot) -> None:
    channel = await open_incident(bot)
    message = bot.slack.add_message(channel.id, "incident card", user=LUCIA, ts=_ts(30))
    await send(bot, pin("pin_added", channel.id, message, user=LUCIA))
    assert await kept(bot) == []
