"""Events API: @-mentions run commands; Slack's retries are handled once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import slack_fixture
from tests.fakes.slack_api import FakeSlackAPI


def _mention(text: str, event_id: str = "Ev01LUCIA042") -> dict[str, Any]:
    body = copy.deepcopy(slack_fixture("event_callback.app_mention.json"))
    body["event"]["text"] = f"<@U01LUCIABT> {text}"
    body["event"]["channel"] = "C01GENERAL"
    body["event_id"] = event_id
    return body


async def test_mention_runs_the_command_and_answers_in_thread(bot: Bot) -> None:
    body = _mention("incident open sev3 Admin is slow")
    response = await bot.event(body)
    assert response.status == 200
    await bot.settle()
    replies = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == body["event"]["ts"]
    ]
    assert len(replies) == 1
    assert "Opened INC-1 (SEV3)" in replies[0].args["text"]


async def test_mention_with_bad_command_explains(bot: Bot) -> None:
    body = _mention("stauts")
    await bot.event(body)
    await bot.settle()
    # The mistake echoes what was typed, so only its author sees the answer, in thread.
    assert bot.slack.calls_to("chat.postMessage") == []
    (reply,) = bot.slack.calls_to("chat.postEphemeral")
    assert "don't know the command `stauts`" in reply.args["text"]
    assert reply.args["user"] == "U01ALICE00"
    assert reply.args["thread_ts"] == body["event"]["ts"]


async def _retries_are_processed_once(bot: Bot) -> None:
    body = _mention("incident open sev3 Retry me", event_id="Ev0RETRY01")
    assert (await bot.event(body)).status == 200
    for attempt in ("1", "2", "3"):
        retry = await bot.event(
            body, **{"X-Slack-Retry-Num": attempt, "X-Slack-Retry-Reason": "http_timeout"}
        )
        assert retry.status == 200
    await bot.settle()
    assert len(bot.slack.calls_to("conversations.create")) == 1


async def test_event_retries_are_processed_once_in_process(bot: Bot) -> None:
    await _retries_are_processed_once(bot)


async def test_event_retries_are_processed_once_with_redis_across_restarts(
    slack_api: FakeSlackAPI, redis_url: str, tmp_path: Path
) -> None:
    """The dedupe key lives in Redis: a retry landing on a new process is still dropped."""
    database = f"sqlite:///{tmp_path / 'lucia.db'}"
    body = _mention("incident open sev3 Retry me", event_id="Ev0RETRY02")
    for retry_num in (None, "1"):
        async with running_bot(slack_api, database, REDIS_URL=redis_url) as bot:
            headers = {"X-Slack-Retry-Num": retry_num} if retry_num else {}
            assert (await bot.event(body, **headers)).status == 200
            await bot.settle()
    assert len(slack_api.calls_to("conversations.create")) == 1


async def test_app_home_lists_open_incidents(bot: Bot) -> None:
    await bot.command("incident open sev1 Engine down")
    await bot.settle()
    response = await bot.event(slack_fixture("event_callback.app_home_opened.json"))
    assert response.status == 200
    await bot.settle()
    (published,) = bot.slack.calls_to("views.publish")
    assert published.args["user_id"] == "U01ALICE00"
    assert "INC-1" in str(published.args["view"]["blocks"])
