"""A SEV1's escalation on the real services and SQLite, with time moved by hand: each
step pages when its wait has passed, not a second sooner, and an acknowledgement stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner
from bot.vocabulary import Role, Severity
from tests.drivers.core import Core, core_bot

ANA, BOB = "U01ALICE00", "U01BOBBY00"
WAIT = 300  # seconds: the infra step's wait

CONFIG = LuciaConfig(
    owners={
        Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example"),
        Role.FALLBACK: Owner(name="Dan Fallback", email="dan@lucia.example"),
    },
    escalation={
        Severity.SEV1: EscalationPolicy(
            steps=[EscalationStep(roles=[Role.INFRA], wait=timedelta(seconds=WAIT))]
        )
    },
)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    async with core_bot(tmp_path, CONFIG) as running:
        yield running


async def test_a_sev1_pages_infra_at_once_and_the_fallback_only_after_the_step_wait(
    core: Core,
) -> None:
    await core.command("incident open sev1 Checkout crashes", ANA)
    await core.tick()
    assert core.paged() == ["Bob Infra"]
    assert core.notifier.sent[0].title == "SEV1 INC-1: Checkout crashes"

    core.clock.advance(WAIT - 1)
    await core.tick()
    assert core.paged() == ["Bob Infra"]  # one second before the wait ends: not yet

    core.clock.advance(1)
    await core.tick()
    assert core.paged() == ["Bob Infra", "Dan Fallback"]
    assert core.notifier.sent[1].at == core.notifier.sent[0].at + timedelta(seconds=WAIT)


async def test_an_acknowledgement_stops_the_chain_before_the_fallback_is_paged(
    core: Core,
) -> None:
    await core.command("incident open sev1 Checkout crashes", ANA)
    await core.tick()
    core.clock.advance(60)
    await core.command("incident ack 1", BOB)
    await core.tick()

    core.clock.advance(WAIT * 10)
    await core.tick()

    assert core.paged() == ["Bob Infra"]
    assert any("Escalation stopped: @U01BOBBY00 acknowledged 1 min" in s for s in core.said)
