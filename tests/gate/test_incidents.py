"""The `incidents` item, from what the incident, postmortem and follow-up commands stored:
no open SEV1/SEV2, a postmortem exported for each one resolved in the last 7 days, and no
blocking follow-up left open."""

from __future__ import annotations

from pathlib import Path

from bot.gate.model import Verdict
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, DAY, Gate, gate_runtime, item, lucia_yaml

CONFIG = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
gate:
  phases:
    go-live:
      items: [incidents]
"""
PASSED = "no open SEV1/SEV2; every recent one has its postmortem; no blocking follow-up open"


async def incidents(gate: Gate) -> tuple[Verdict, str]:
    result = item(await gate.check(), "incidents")
    return result.verdict, result.reason


async def test_an_open_sev1_fails_naming_it_and_a_sev3_does_not(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("incident open sev3 Slow admin search")
        await gate.run("incident open sev1 Checkout is down")
        open_sev1 = await incidents(gate)
        evaluation = await gate.check()

    assert open_sev1 == (Verdict.FAIL, "INC-2 (SEV1) is open")
    assert evaluation.verdict == "NO-GO"


async def test_a_resolved_sev2_needs_its_postmortem_exported(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("incident open sev2 Payments slow")
        await gate.run("incident resolve #1 Fixed the pool size")
        resolved = await incidents(gate)
        await gate.run("postmortem #1", actor=ANA)
        exported = await incidents(gate)

    assert resolved == (
        Verdict.FAIL,
        "INC-1 has no exported postmortem: `/lucia postmortem #1`",
    )
    assert exported == (Verdict.PASS, PASSED)


async def test_a_sev2_resolved_more_than_7_days_ago_no_longer_needs_one(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("incident open sev2 Payments slow")
        await gate.run("incident resolve #1")
        clock.advance(8 * DAY)
        later = await incidents(gate)

    assert later == (Verdict.PASS, PASSED)


async def test_a_blocking_follow_up_fails_until_it_is_done(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("incident open sev3 Slow admin search")
        await gate.run("followup add #1 tune the index")  # not blocking
        await gate.run("followup add #1 fix it --blocking")
        blocked = await incidents(gate)
        await gate.run("followup done F2", actor=ANA)
        done = await incidents(gate)

    assert blocked == (Verdict.FAIL, "blocking follow-up F2 of INC-1 isn't done: fix it")
    assert done == (Verdict.PASS, PASSED)
