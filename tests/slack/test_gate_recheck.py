"""The launch gate in Slack, through the real app with signed requests: `/lucia gate`, its
Re-check button, and a changed verdict announced in the incidents channel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import GateConfig, GatePhase, LuciaConfig
from tests.drivers.bot import Bot, running_bot
from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.fakes.slack_api import FakeSlackAPI

# The incidents item is judged from what the bot stores: no network to wait for.
GATED = LuciaConfig(gate=GateConfig(phases={"staging": GatePhase(items=["incidents"])}))


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    async with running_bot(slack_api, database_url, GATED) as running:
        yield running


def _answer(bot: Bot, key: str) -> dict[str, Any]:
    (posted,) = [p.body for p in bot.slack.response_posts if p.key == key]
    return posted


def _header(message: dict[str, Any]) -> str:
    return str(message["blocks"][0]["text"]["text"])


def _sections(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def _gate_reports(bot: Bot) -> list[dict[str, Any]]:
    return [
        m
        for m in bot.slack.channels[INCIDENTS_CHANNEL].messages
        if "lucia_gate_recheck" in json.dumps(m.get("blocks", []))
    ]


async def test_recheck_replaces_the_report_with_a_new_evaluation(bot: Bot) -> None:
    await bot.command("gate staging")
    await bot.settle()
    first = _answer(bot, "cmd")
    assert _header(first) == "🟢 staging: GO"
    (recheck,) = first["blocks"][-1]["elements"]
    assert (recheck["action_id"], recheck["value"]) == ("lucia_gate_recheck", "staging")

    await bot.command("incident open sev1 Checkout down", response_key="open")
    await bot.settle()
    clicked = await bot.click(
        recheck["action_id"], recheck["value"], channel="C01GENERAL", response_key="recheck"
    )
    assert clicked.status == 200
    assert await clicked.text() == ""  # acknowledged at once; the answer comes after
    await bot.settle()

    replaced = _answer(bot, "recheck")
    assert replaced["replace_original"] is True
    assert "response_type" not in replaced  # the message keeps its own audience
    assert _header(replaced) == "🔴 staging: NO-GO (changed from GO)"
    assert "❌ *incidents* — INC-1 (SEV1) is open" in _sections(replaced)
    assert replaced["blocks"][-1]["elements"][0]["value"] == "staging"  # and can re-check again


async def test_each_change_of_verdict_is_announced_in_the_incidents_channel(bot: Bot) -> None:
    await bot.command("gate")
    await bot.settle()
    await bot.command("incident open sev2 Payments failing", response_key="open")
    await bot.settle()
    await bot.click("lucia_gate_recheck", "staging", channel=INCIDENTS_CHANNEL)
    await bot.click("lucia_gate_recheck", "staging", channel=INCIDENTS_CHANNEL, response_key="2")
    await bot.settle()

    announced = [_header(m) for m in _gate_reports(bot)]
    assert announced == ["🟢 staging: GO", "🔴 staging: NO-GO (changed from GO)"]  # not twice
    assert _header(_answer(bot, "2")) == "🔴 staging: NO-GO"  # the second click: no change


async def test_a_recheck_that_is_refused_leaves_the_report_and_tells_the_clicker(
    bot: Bot,
) -> None:
    await bot.click("lucia_gate_recheck", "go-live", response_key="unknown")
    await bot.click("lucia_gate_recheck", "<!channel>", response_key="forged")
    await bot.settle()

    refused = _answer(bot, "unknown")
    assert refused["text"] == "⚠️ There is no phase `go-live`: the phases are staging."
    assert refused["response_type"] == "ephemeral"
    assert refused["replace_original"] is False
    assert not [p for p in bot.slack.response_posts if p.key == "forged"]  # not ours: ignored
    assert _gate_reports(bot) == []  # nothing was evaluated
