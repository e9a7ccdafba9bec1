"""Phases are cumulative, and the owner may record GO with exceptions: for one phase, for a
while, listed with its verdict, withdrawn with `unexcept`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.gate.model import Verdict
from bot.incidents.replies import Noted
from bot.store.tables import audit_log, gate_exceptions
from bot.text import plain
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, BOB, DAY, dumped, gate_runtime, item, json_contract, lucia_yaml

# staging's backups are unknown (no Supabase configured); go-live's incidents pass.
CONFIG = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
  infra:
    name: Bob Infra
    slack: U01BOBBY00
gate:
  phases:
    staging:
      items: [backups]
    go-live:
      items: [incidents]
"""
EXCEPT = "gate except go-live backups --for 2d PITR is being enabled by support"


async def test_go_live_is_no_go_while_a_staging_item_fails_though_its_own_items_pass(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        go_live = await gate.check("go-live")
        staging = await gate.check("staging")
        last = await gate.check()  # no phase named: the last one

    assert go_live.verdict == "NO-GO"
    assert [(p.name, p.verdict) for p in go_live.phases] == [
        ("staging", "NO-GO"),
        ("go-live", "NO-GO"),
    ]
    assert [i.verdict for i in go_live.asked.items] == [Verdict.PASS]
    assert item(go_live, "backups").verdict is Verdict.UNKNOWN
    doc = dumped(go_live)
    json_contract(doc)
    assert [p["name"] for p in doc["phases"]] == ["staging", "go-live"]
    assert [i["item"] for i in doc["phases"][0]["items"]] == ["backups"]
    assert [p.name for p in staging.phases] == ["staging"]
    assert (last.phase, last.verdict) == ("go-live", "NO-GO")


async def test_only_the_owner_records_or_withdraws_an_exception(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        with pytest.raises(UserError) as recording:
            await gate.run(EXCEPT, actor=BOB)
        await gate.run(EXCEPT, actor=ANA)
        with pytest.raises(UserError) as withdrawing:
            await gate.run("gate unexcept go-live", actor=BOB)
        stored = await gate.rows(gate_exceptions)
        evaluation = await gate.check("go-live")

    assert str(recording.value) == "Only the owner records GO with exceptions."
    assert str(withdrawing.value) == "Only the owner withdraws exceptions."
    assert [(r["recorded_by"], r["withdrawn_at"]) for r in stored] == [(ANA, None)]
    assert evaluation.verdict == "GO"  # Ana's stands


async def test_an_exception_makes_its_phase_go_is_listed_and_expires(
    tmp_path: Path, database_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(database_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        reply = await gate.run(EXCEPT, actor=ANA)
        excepted = await gate.check("go-live")
        staging = await gate.check("staging")
        clock.advance(2 * DAY + 1)
        expired = await gate.check("go-live")
        audited = [(r["action"], r["actor"]) for r in await gate.rows(audit_log)]

    until = clock.start + timedelta(days=2)
    assert isinstance(reply, Noted)
    assert reply.warning
    assert plain(reply.text) == (
        f"⚠️ go-live may be GO without backups until {until:%Y-%m-%d %H:%M} UTC: "
        "PITR is being enabled by support. It is shown with every verdict, and audited."
    )
    assert excepted.verdict == "GO"
    assert item(excepted, "backups").verdict is Verdict.UNKNOWN  # excused, not passed
    (exception,) = excepted.exceptions
    assert (exception.phase, exception.items, exception.recorded_by) == (
        "go-live",
        ("backups",),
        ANA,
    )
    assert exception.expires_at == until
    doc = dumped(excepted)
    json_contract(doc)
    assert doc["exceptions"] == [
        {
            "phase": "go-live",
            "items": ["backups"],
            "reason": "PITR is being enabled by support",
            "recorded_by": ANA,
            "recorded_at": clock.start.isoformat(),
            "expires_at": until.isoformat(),
        }
    ]
    # For its phase only: staging's own verdict is still NO-GO.
    assert [(p.name, p.verdict) for p in excepted.phases] == [
        ("staging", "NO-GO"),
        ("go-live", "GO"),
    ]
    assert (staging.verdict, staging.exceptions) == ("NO-GO", ())
    assert (expired.verdict, expired.exceptions) == ("NO-GO", ())
    assert ("gate_exception", ANA) in audited


async def test_an_exception_for_staging_does_not_carry_into_go_live(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("gate except staging backups --for 1d restore is tested by hand", ANA)
        staging = await gate.check("staging")
        go_live = await gate.check("go-live")

    assert (staging.verdict, len(staging.exceptions)) == ("GO", 1)
    assert (go_live.verdict, go_live.exceptions) == ("NO-GO", ())


async def test_unexcept_withdraws_the_exception(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run(EXCEPT, actor=ANA)
        excepted = await gate.check("go-live")
        withdrawn = await gate.run("gate unexcept go-live", actor=ANA)
        after = await gate.check("go-live")
        again = await gate.run("gate unexcept go-live", actor=ANA)

    assert excepted.verdict == "GO"
    assert isinstance(withdrawn, Noted)
    assert plain(withdrawn.text) == "Withdrew 1 exception of go-live."
    assert (after.verdict, after.exceptions) == ("NO-GO", ())
    assert isinstance(again, Noted)
    assert plain(again.text) == "go-live has no exceptions."
