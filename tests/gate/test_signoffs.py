"""Sign-offs: items only a person vouches for (`/lucia gate sign <item> <note>`), by a holder
of the roles the item names, never by the bot, for a while; withdrawn with `unsign`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.gate.model import Verdict
from bot.incidents.replies import Noted
from bot.store.tables import audit_log, gate_signoffs
from bot.text import plain
from bot.vocabulary import SYSTEM_ACTOR
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, BOB, CARLA, DAY, gate_runtime, item, lucia_yaml

CONFIG = """\
owners:
  owner:
    name: Ana Lucia
    slack: U01ALICE00
  infra:
    name: Bob Infra
    slack: U01BOBBY00
  dns:
    name: Carla Dns
    slack: U01CARLA00
gate:
  phases:
    staging:
      signoffs:
        security-review:
          what: Staging's auth, TLS and access control reviewed
          roles: [owner, infra]
          for: 30d
"""
UNSIGNED = "nobody has signed it: `/lucia gate sign security-review <note>` (owner or infra)"


@pytest.mark.parametrize(
    ("actor", "refusal"),
    [
        (
            CARLA,  # holds dns, which this item doesn't name
            "Only whoever holds owner or infra signs `security-review` "
            "(`/lucia owners` shows who).",
        ),
        (SYSTEM_ACTOR, "The bot never signs an item: a person vouches for it."),
    ],
    ids=["not-a-holder", "the-bot"],
)
async def test_a_sign_off_by_anyone_but_a_holder_is_refused_and_nothing_is_stored(
    tmp_path: Path, postgres_url: str, clock: FakeClock, actor: str, refusal: str
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        with pytest.raises(UserError) as refused:
            await gate.run("gate sign security-review looked at it", actor=actor)
        result = item(await gate.check(), "security-review")
        stored = await gate.rows(gate_signoffs)
        audited = [r["action"] for r in await gate.rows(audit_log)]

    assert str(refused.value) == refusal
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN, UNSIGNED)
    assert stored == []
    assert "gate_sign" not in audited


async def test_a_holder_signs_and_the_item_passes_until_the_sign_off_expires(
    tmp_path: Path, database_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(database_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        reply = await gate.run("gate sign security-review --for 1d Access and TLS checked", BOB)
        signed = await gate.check()
        clock.advance(2 * DAY)
        two_days_later = await gate.check()
        audited = [(r["action"], r["actor"], r["subject"]) for r in await gate.rows(audit_log)]

    assert isinstance(reply, Noted)
    assert plain(reply.text) == (
        f"Signed `security-review` for staging until "
        f"{clock.start + timedelta(days=1):%Y-%m-%d %H:%M} UTC, as "
        f"@{BOB}: Access and TLS checked"
    )
    result = item(signed, "security-review")
    assert (result.verdict, result.reason) == (
        Verdict.PASS,
        "signed by Bob Infra: Access and TLS checked",
    )
    assert signed.verdict == "GO"
    stale = item(two_days_later, "security-review")
    assert (stale.verdict, stale.reason) == (
        Verdict.UNKNOWN,
        "stale: last seen 2 days ago (signed by Bob Infra: Access and TLS checked)",
    )
    assert two_days_later.verdict == "NO-GO"
    assert ("gate_sign", BOB, "staging/security-review") in audited


async def test_unsign_withdraws_it_and_the_item_is_unknown_again(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, CONFIG), clock=clock) as gate:
        await gate.run("gate sign security-review Access and TLS checked", actor=ANA)
        signed = item(await gate.check(), "security-review")
        reply = await gate.run("gate unsign security-review", actor=ANA)
        withdrawn = await gate.check()
        again = await gate.run("gate unsign security-review", actor=ANA)

    assert signed.verdict is Verdict.PASS
    assert isinstance(reply, Noted)
    assert plain(reply.text) == (
        "`security-review` is no longer signed: the staging phase needs it signed again."
    )
    result = item(withdrawn, "security-review")
    assert (result.verdict, result.reason) == (Verdict.UNKNOWN, UNSIGNED)
    assert withdrawn.verdict == "NO-GO"
    assert isinstance(again, Noted)
    assert plain(again.text) == "`security-review` wasn't signed."
