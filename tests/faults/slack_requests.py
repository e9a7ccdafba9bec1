"""Slash commands sent to a `serve` process the way Slack sends them (signed form posts),
and the answers it sends back through their response_url."""

from __future__ import annotations

__all__ = ["answers", "buttons", "click", "slash", "wait_answer"]

import json
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from tests.drivers.payloads import slack_fixture
from tests.drivers.slack import sign
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI

_triggers = iter(range(1, 1_000_000))


async def slash(
    base: str,
    slack: FakeSlackAPI,
    text: str,
    *,
    key: str,
    user: str = "U01ALICE00",
    channel: str = "C01GENERAL",
) -> int:
    """`/lucia <text>`; the bot answers through the response_url named `key`."""
    form = urlencode(
        slack_fixture("slash_command.json")
        | {
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "response_url": slack.response_url(key),
            "trigger_id": f"trigger-{next(_triggers)}",
        }
    )
    return await _post(base, form)


async def click(
    base: str,
    slack: FakeSlackAPI,
    action_id: str,
    value: str,
    *,
    key: str,
    user: str = "U01ALICE00",
    channel: str = "C01GENERAL",
) -> int:
    """A button in a message the bot sent to `channel`."""
    payload: dict[str, Any] = slack_fixture("block_actions.json")
    payload["user"] = payload["user"] | {"id": user}
    payload["channel"] = {"id": channel, "name": "general"}
    payload["container"]["channel_id"] = channel
    payload["actions"][0] |= {"action_id": action_id, "value": value}
    payload["response_url"] = slack.response_url(key)
    payload["trigger_id"] = f"trigger-{next(_triggers)}"
    return await _post(base, "payload=" + quote(json.dumps(payload)))


async def _post(base: str, form: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/slack/events",
            data=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(form)},
        ) as response,
    ):
        await response.read()
        return response.status


def buttons(slack: FakeSlackAPI, key: str) -> dict[str, str]:
    """action_id → value of the buttons on the last answer sent to `key`."""
    post = [p for p in slack.response_posts if p.key == key][-1]
    found: dict[str, str] = {}
    for block in post.body.get("blocks", []):
        for element in block.get("elements", []):
            if "action_id" in element:
                found[element["action_id"]] = element.get("value", "")
    return found


def answers(slack: FakeSlackAPI, key: str) -> list[str]:
    return [str(p.body.get("text", "")) for p in slack.response_posts if p.key == key]


async def wait_answer(slack: FakeSlackAPI, key: str, limit: float = 10.0) -> str:
    async def answered() -> bool:
        return bool(answers(slack, key))

    await until(answered, limit)
    return answers(slack, key)[-1]
