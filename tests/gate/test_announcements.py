"""A changed verdict is announced in the incidents channel, and only a change: the
scheduled re-check (`GateService.recheck`) stays quiet while nothing moves. `gate history`
lists the changes with why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.config import load_config
from bot.gate.replies import GateHistory
from tests.drivers.bot import running_bot
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, INCIDENTS, gate_runtime, lucia_yaml
from tests.fakes.slack_api import FakeSlackAPI

CONFIG = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
gate:
  phases:
    staging:
      signoffs:
        security-review:
          roles: [owner]
"""
SIGN = "gate sign security-review Access and TLS checked"
UNSIGNED = "nobody has signed it: `/lucia gate sign security-review <note>` (owner)"


async def test_rechecks_announce_the_first_verdict_once_and_then_only_a_change(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run(SIGN, actor=ANA)
        await gate.service.recheck()
        await gate.service.recheck()
        quiet = list(gate.announced.verdicts())
        await gate.run("gate unsign security-review", actor=ANA)
        await gate.service.recheck()
        await gate.service.recheck()

    assert quiet == [("staging", "GO", None)]
    assert gate.announced.verdicts() == [("staging", "GO", None), ("staging", "NO-GO", "GO")]
    assert {channel for channel, _ in gate.announced.posted} == {INCIDENTS}
    last = gate.announced.posted[-1][1].evaluation
    assert last.asked.items[0].reason == UNSIGNED


async def test_history_lists_each_change_of_verdict_with_why(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.check()  # NO-GO: nobody signed
        await gate.run(SIGN, actor=ANA)
        clock.advance(60)
        await gate.check()  # GO
        clock.advance(60)
        await gate.service.recheck()  # GO again: no change
        await gate.run("gate unsign security-review", actor=ANA)
        clock.advance(60)
        await gate.check()  # NO-GO
        history = await gate.run("gate history staging")

    assert isinstance(history, GateHistory)
    assert (history.phase, history.evaluations) == ("staging", 4)
    assert [(c.at, c.verdict) for c in history.changes] == [
        (clock.start, "NO-GO"),
        (clock.start + timedelta(seconds=60), "GO"),
        (clock.now, "NO-GO"),
    ]
    assert [c.why for c in history.changes] == [
        (f"security-review: unknown ({UNSIGNED})",),
        ("security-review: unknown → pass (signed by Ana Lucia: Access and TLS checked)",),
        (f"security-review: pass → unknown ({UNSIGNED})",),
    ]


async def test_the_console_chat_announces_a_changed_verdict(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    """The console chat given to `build_runtime` as the gate chat (the terminal's front):
    the announcement is printed in the incidents channel, and the check doesn't crash."""
    cfg = lucia_yaml(tmp_path, CONFIG)
    async with gate_runtime(postgres_url, cfg, clock=clock, console_announces=True) as gate:
        await gate.service.recheck()

    shown = [line for line in gate.console if line.startswith(f"[#{INCIDENTS}]")]
    assert len(shown) == 1, gate.console
    assert "staging" in shown[0]
    assert "NO-GO" in shown[0]


async def test_serve_announces_a_changed_verdict_in_the_slack_incidents_channel(
    tmp_path: Path, postgres_url: str, slack_api: FakeSlackAPI
) -> None:
    """`lucia-bot serve` (build_server_app) posts a changed verdict to
    LUCIA_INCIDENTS_CHANNEL, as the README's "Going live with the gate" promises."""
    config = load_config(lucia_yaml(tmp_path, CONFIG), required=True)
    async with running_bot(slack_api, postgres_url, config) as bot:
        await bot.runtime.desk.gate.recheck()
        await bot.settle()

    posted = [m["text"] for m in slack_api.channels[INCIDENTS].messages]
    assert len(posted) == 1, posted
    assert "staging" in posted[0]
    assert "NO-GO" in posted[0]
