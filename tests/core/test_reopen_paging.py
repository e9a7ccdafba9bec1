"""A reopened incident's paging on the real services and SQLite, with time moved by hand:
the reopen needs a fresh acknowledgement, so the chain of its severity starts again from
the first step at once, and runs on its waits as the first time did, also after the chain
ran out (`exhausted`) with nobody answering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner, PagingConfig
from bot.vocabulary import Role, Severity
from tests.drivers.core import Core, core_bot

ANA, BOB = "U01ALICE00", "U01BOBBY00"
BOB_INFRA, DAN_FALLBACK = "Bob Infra", "Dan Fallback"
WAIT = 300  # seconds: the infra step's wait, then the fallback's
THROTTLE = 120  # an escalation pages one person at most once in this window
REOPENED_AT = 1200

CONFIG = LuciaConfig(
    owners={
        Role.INFRA: Owner(name=BOB_INFRA, slack=BOB, email="bob@lucia.example"),
        Role.FALLBACK: Owner(name=DAN_FALLBACK, email="dan@lucia.example"),
    },
    escalation={
        Severity.SEV1: EscalationPolicy(
            steps=[EscalationStep(roles=[Role.INFRA], wait=timedelta(seconds=WAIT))]
        )
    },
    paging=PagingConfig(throttle=timedelta(seconds=THROTTLE)),
)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    async with core_bot(tmp_path, CONFIG) as running:
        yield running


async def at(core: Core, second: float, command: str = "", actor: str = ANA) -> None:
    """At `second`, `command` (if any) is typed; then the due work runs."""
    core.clock.move_to(second)
    if command:
        await core.command(command, actor)
    await core.tick()


async def test_a_reopened_incident_pages_the_first_step_again_at_once_then_escalates(
    core: Core,
) -> None:
    await at(core, 0, "incident open sev1 Checkout crashes")
    await at(core, 60, "incident resolve #1 Rolled back")
    assert core.channel_shows("Escalation stopped: the incident was resolved")

    await at(core, REOPENED_AT, "incident reopen 1")

    assert core.paged_at() == [(0, BOB_INFRA), (REOPENED_AT, BOB_INFRA)]
    assert core.channel_shows(
        "Escalation started again (reopened): infra (5 min) → fallback (5 min)"
    )
    assert core.channel_shows("Escalation step 1/2: paging Bob Infra (infra)")
    await at(core, REOPENED_AT + WAIT - 1)
    assert len(core.paged_at()) == 2  # the fallback waits the infra step's wait, as before
    await at(core, REOPENED_AT + WAIT)
    assert core.paged_at()[2:] == [(REOPENED_AT + WAIT, DAN_FALLBACK)]


async def test_a_reopened_incident_needs_a_fresh_acknowledgement_to_stop_its_paging(
    core: Core,
) -> None:
    await at(core, 0, "incident open sev1 Checkout crashes")
    await at(core, 60, "incident ack 1", BOB)
    await at(core, 600, "incident resolve 1")
    await at(core, REOPENED_AT, "incident reopen 1")
    assert core.paged_at() == [(0, BOB_INFRA), (REOPENED_AT, BOB_INFRA)]  # the old ack is gone

    await at(core, REOPENED_AT + 60, "incident ack 1", BOB)
    await at(core, REOPENED_AT + WAIT * 10)

    assert core.paged_at() == [(0, BOB_INFRA), (REOPENED_AT, BOB_INFRA)]  # no fallback
    # The time to acknowledge it states counts from the first open, not from the reopen.
    assert core.channel_shows("Escalation stopped: @U01BOBBY00 acknowledged 21 min 00 s after")


async def test_a_reopen_moments_after_a_page_pages_the_first_step_when_the_throttle_ends(
    core: Core,
) -> None:
    await at(core, 0, "incident open sev1 Checkout crashes")
    await at(core, 10, "incident resolve 1")
    await at(core, 20, "incident reopen 1")
    assert core.paged_at() == [(0, BOB_INFRA)]  # Bob was paged 20 s ago by this incident
    assert core.channel_shows("this page waits until 10:02:00 UTC")

    await at(core, THROTTLE - 1)
    assert len(core.paged_at()) == 1
    await at(core, THROTTLE)
    assert core.paged_at() == [(0, BOB_INFRA), (THROTTLE, BOB_INFRA)]
    await at(core, 20 + WAIT)  # the chain's own wait counts from the reopen
    assert core.paged_at()[2:] == [(20 + WAIT, DAN_FALLBACK)]


async def test_a_reopened_incident_whose_escalation_ran_out_pages_again(core: Core) -> None:
    await at(core, 0, "incident open sev1 Checkout crashes")
    await at(core, WAIT)
    await at(core, WAIT * 2)  # nobody answered: exhausted
    assert core.channel_shows("Escalation exhausted")
    assert core.paged_at() == [(0, BOB_INFRA), (WAIT, DAN_FALLBACK)]
    await at(core, 900, "incident resolve 1")
    await at(core, REOPENED_AT, "incident reopen 1")

    assert core.paged_at()[2:] == [(REOPENED_AT, BOB_INFRA)]
