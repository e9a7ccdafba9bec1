"""An unanswered escalation's rounds on the real services and SQLite, with time moved by
hand: once its last step has waited, the chain starts again from its first step, `repeat`
times, each page on the second it is due; then it is exhausted and pages nobody more. An
acknowledgement in a later round stops it there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner, PagingConfig
from bot.vocabulary import Role, Severity
from tests.drivers.core import Core, core_bot

ANA, BOB = "U01ALICE00", "U01BOBBY00"
BOB_INFRA, OLGA_OWNER = "Bob Infra", "Olga Owner"
INFRA_WAIT, OWNER_WAIT = 300, 600  # seconds each step waits before the next
ROUND = INFRA_WAIT + OWNER_WAIT
REPEAT = 2  # the chain runs 1 + 2 times
THROTTLE = 120  # an escalation pages one person at most once in this window

# The SEV1 chain: infra, then owner, three rounds, and no fallback after them.
SEV1_SCHEDULE = [
    (r * ROUND + offset, name)
    for r in range(REPEAT + 1)
    for offset, name in ((0, BOB_INFRA), (INFRA_WAIT, OLGA_OWNER))
]
EXHAUSTED_AT = (REPEAT + 1) * ROUND  # the last step's wait, after the last round
SEV2_WAIT = 90  # a SEV2 round is infra alone, shorter than the throttle

CONFIG = LuciaConfig(
    owners={
        Role.INFRA: Owner(name=BOB_INFRA, slack=BOB, email="bob@lucia.example"),
        Role.OWNER: Owner(name=OLGA_OWNER, email="olga@lucia.example"),
    },
    escalation={
        Severity.SEV1: EscalationPolicy(
            steps=[
                EscalationStep(roles=[Role.INFRA], wait=timedelta(seconds=INFRA_WAIT)),
                EscalationStep(roles=[Role.OWNER], wait=timedelta(seconds=OWNER_WAIT)),
            ],
            repeat=REPEAT,
            close_with_fallback=False,
        ),
        Severity.SEV2: EscalationPolicy(
            steps=[EscalationStep(roles=[Role.INFRA], wait=timedelta(seconds=SEV2_WAIT))],
            repeat=1,
            close_with_fallback=False,
        ),
    },
    paging=PagingConfig(throttle=timedelta(seconds=THROTTLE)),
)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    async with core_bot(tmp_path, CONFIG) as running:
        yield running


async def page_on_schedule(core: Core, schedule: Sequence[tuple[float, str]]) -> None:
    """Each page of `schedule` goes out on its second: not one second sooner."""
    for at, name in schedule:
        before = core.paged_at()
        core.clock.move_to(at - 1)
        await core.tick()
        assert core.paged_at() == before, f"{name} paged before second {at}"
        core.clock.move_to(at)
        await core.tick()
        assert core.paged_at() == [*before, (at, name)]


async def test_an_unanswered_chain_pages_from_its_first_step_again_each_round_then_stops(
    core: Core,
) -> None:
    await core.command("incident open sev1 Checkout crashes", ANA)
    await core.tick()
    assert core.paged_at() == SEV1_SCHEDULE[:1]

    await page_on_schedule(core, SEV1_SCHEDULE[1:])
    assert core.channel_shows("Escalation step 1/2, round 3/3: paging Bob Infra (infra)")

    core.clock.move_to(EXHAUSTED_AT - 1)
    await core.tick()
    assert not core.channel_shows("Escalation exhausted")
    core.clock.move_to(EXHAUSTED_AT)
    await core.tick()
    assert core.channel_shows("10:45:00 @lucia [escalation] Escalation exhausted: ")
    assert core.channel_shows("nobody acknowledged after 3 rounds")

    core.clock.advance(ROUND * 10)
    await core.tick()
    assert core.paged_at() == SEV1_SCHEDULE  # no fourth round


async def test_an_acknowledgement_in_a_repeated_round_stops_the_rest_of_the_chain(
    core: Core,
) -> None:
    await core.command("incident open sev1 Checkout crashes", ANA)
    await core.tick()
    await page_on_schedule(core, SEV1_SCHEDULE[1:3])  # round 2 has paged infra again
    core.clock.move_to(ROUND + 60)
    await core.command("incident ack 1", BOB)
    await core.tick()

    core.clock.advance(ROUND * 10)
    await core.tick()

    assert core.paged_at() == SEV1_SCHEDULE[:3]
    assert core.channel_shows("Escalation stopped: @U01BOBBY00 acknowledged 16 min 00 s after")


async def test_a_round_shorter_than_the_throttle_repages_only_when_the_throttle_ends(
    core: Core,
) -> None:
    await core.command("incident open sev2 Slow search", ANA)
    await core.tick()
    core.clock.move_to(SEV2_WAIT)
    await core.tick()
    assert core.paged_at() == [(0, BOB_INFRA)]  # round 2 is due, but Bob was paged 90 s ago
    assert core.channel_shows("this page waits until 10:02:00 UTC")

    await page_on_schedule(core, [(THROTTLE, BOB_INFRA)])  # delayed, not dropped
