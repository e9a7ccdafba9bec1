"""Escalation steps as pure functions: the escalation as stored, the roster and the time
in, a `StepResult` out. No database, no sleeps: a clock moved by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.config import EscalationPolicy, EscalationStep
from bot.incidents.model import EventKind, Incident, Status
from bot.paging.escalation_steps import (
    Roster,
    StepResult,
    due_roles,
    fire,
    restart,
    start,
    stop,
)
from bot.paging.model import Escalation, EscalationStatus, PageStatus
from bot.paging.ports import Contact, Unstarted
from bot.vocabulary import SYSTEM_ACTOR, Role, Severity

OPENED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
THROTTLE = timedelta(minutes=2)
BOB = Contact("Bob Infra", "U01BOBBY00", "bob@lucia.example")
ANA = Contact("Ana Lucia", "U01ALICE00")
DAN = Contact("Dan Fallback", email="dan@lucia.example")
HOLDERS = {"infra": BOB, "owner": ANA, "fallback": DAN, "dns": None}
POLICY = EscalationPolicy(
    steps=[
        EscalationStep(roles=[Role.INFRA], wait=MINUTE),
        EscalationStep(roles=[Role.OWNER], wait=2 * MINUTE),
    ]
)


class Clock:
    def __init__(self) -> None:
        self.now = OPENED

    def __call__(self) -> datetime:
        return self.now

    def to(self, at: datetime | None) -> datetime:
        assert at is not None
        assert at >= self.now
        self.now = at
        return at


def incident(severity: Severity = Severity.SEV1, **changes: object) -> Incident:
    opened = Incident(
        7, "Checkout crashes", severity, Status.INVESTIGATING, "U01ALICE00", OPENED, OPENED
    )
    return replace(opened, **changes)


def started(policy: EscalationPolicy = POLICY, now: datetime = OPENED) -> Escalation:
    return start(Unstarted(incident(), ()), policy, now).escalation


def fired(escalation: Escalation, now: datetime, roster: Roster | None = None) -> StepResult:
    return fire(escalation, incident(), roster or Roster(HOLDERS), THROTTLE, now)


def text(result: StepResult) -> str:
    assert result.event is not None
    assert result.event.kind is EventKind.ESCALATION
    assert result.event.actor == SYSTEM_ACTOR
    return result.event.text


def test_a_start_copies_the_chain_closed_by_the_fallback_with_the_first_step_due_now() -> None:
    result = start(Unstarted(incident(), ("billing",)), POLICY, OPENED)

    chain = result.escalation.chain
    assert [s.roles for s in chain.steps] == [("billing",), ("infra",), ("owner",), ("fallback",)]
    assert result.escalation.status is EscalationStatus.ACTIVE
    assert (result.escalation.step, result.escalation.round) == (0, 0)
    assert result.escalation.due_at == OPENED
    assert text(result) == (
        "Escalation started: billing (1 min) → infra (1 min) → owner (2 min) → fallback (2 min)"
    )
    assert result.event is not None
    assert result.event.data == {"chain": chain.to_json()}
    assert result.pages == ()


def test_an_incident_with_nothing_to_page_or_answered_already_starts_nothing() -> None:
    nothing = start(Unstarted(incident(), ()), None, OPENED)
    acked = start(Unstarted(incident(acknowledged_at=OPENED), ()), POLICY, OPENED)

    for result in (nothing, acked):
        assert result.escalation.status is EscalationStatus.NONE
        assert result.escalation.due_at is None
        assert result.event is None
    assert nothing.escalation.chain.steps == ()


def test_a_step_fires_at_its_due_time_and_the_next_is_due_after_its_wait() -> None:
    clock = Clock()
    result = fired(started(), clock.to(OPENED))

    assert text(result) == "Escalation step 1/3: paging Bob Infra (infra)"
    assert result.event is not None
    assert result.event.data == {"step": 1, "round": 1, "roles": "infra"}
    (page,) = result.pages
    assert (page.target, page.contact, page.message) == ("infra", BOB, "")
    assert (page.status, page.due_at, page.created_by) == (PageStatus.PENDING, OPENED, SYSTEM_ACTOR)
    assert page.urgent
    assert page.incident_number == 7
    assert (result.escalation.step, result.escalation.round) == (1, 0)
    assert result.escalation.due_at == OPENED + MINUTE

    second = fired(result.escalation, clock.to(result.escalation.due_at))
    assert text(second) == "Escalation step 2/3: paging Ana Lucia (owner)"
    assert [p.contact for p in second.pages] == [ANA]
    assert second.escalation.due_at == OPENED + 3 * MINUTE  # the owner's step waits 2 min


def test_a_page_for_a_sev3_is_not_urgent() -> None:
    result = fire(started(), incident(Severity.SEV3), Roster(HOLDERS), THROTTLE, OPENED)
    assert [p.urgent for p in result.pages] == [False]


def test_a_role_nobody_holds_is_skipped_and_a_step_that_reaches_nobody_waits_for_nothing() -> None:
    escalation = started(EscalationPolicy(steps=[EscalationStep(roles=[Role.DNS], wait=MINUTE)]))
    assert due_roles(escalation) == ("dns",)

    result = fired(escalation, OPENED)

    assert text(result) == "Escalation step 1/2: paging nobody now (nobody holds dns)"
    assert result.pages == ()
    assert result.escalation.due_at == OPENED  # the fallback's step is due at once
    assert result.escalation.step == 1


def test_a_step_pages_the_roles_held_and_names_the_ones_that_are_not() -> None:
    both = EscalationStep(roles=[Role.DNS, Role.INFRA], wait=MINUTE)
    escalation = started(EscalationPolicy(steps=[both]))

    result = fired(escalation, OPENED)

    assert text(result) == "Escalation step 1/2: paging Bob Infra (infra) (nobody holds dns)"
    assert [p.target for p in result.pages] == ["infra"]
    assert result.escalation.due_at == OPENED + MINUTE


def test_someone_paged_moments_ago_gets_a_page_that_waits_for_the_throttle() -> None:
    earlier = OPENED - timedelta(seconds=30)
    roster = Roster(HOLDERS, {BOB.person: earlier})

    result = fired(started(), OPENED, roster)

    assert text(result) == (
        "Escalation step 1/3: paging nobody now (Bob Infra (infra) was paged at 09:59:30; "
        "this page waits until 10:01:30 UTC)"
    )
    (page,) = result.pages
    assert page.due_at == earlier + THROTTLE  # delayed, not dropped
    assert result.escalation.due_at == OPENED + MINUTE  # a page was written: the step waits


def test_one_person_holding_two_roles_of_a_step_gets_the_second_page_after_the_throttle() -> None:
    both = EscalationStep(roles=[Role.INFRA, Role.DNS], wait=MINUTE)
    escalation = started(EscalationPolicy(steps=[both]))

    result = fired(escalation, OPENED, Roster({"infra": BOB, "dns": BOB}))

    assert [p.due_at for p in result.pages] == [OPENED, OPENED + THROTTLE]
    assert text(result) == (
        "Escalation step 1/2: paging Bob Infra (infra) (Bob Infra (dns) was paged at "
        "10:00:00; this page waits until 10:02:00 UTC)"
    )


def test_the_chain_runs_every_round_then_is_exhausted() -> None:
    clock = Clock()
    policy = POLICY.model_copy(update={"repeat": 1})
    escalation = started(policy)
    said = []
    for _ in range(6):  # 3 steps, 2 rounds
        result = fired(escalation, clock.to(escalation.due_at))
        said.append(text(result))
        escalation = result.escalation
    assert said == [
        "Escalation step 1/3, round 1/2: paging Bob Infra (infra)",
        "Escalation step 2/3, round 1/2: paging Ana Lucia (owner)",
        "Escalation step 3/3, round 1/2: paging Dan Fallback (fallback)",
        "Escalation step 1/3, round 2/2: paging Bob Infra (infra)",
        "Escalation step 2/3, round 2/2: paging Ana Lucia (owner)",
        "Escalation step 3/3, round 2/2: paging Dan Fallback (fallback)",
    ]
    assert clock() == OPENED + 8 * MINUTE  # two rounds of 1 + 2 + 2 min, less the last wait
    assert (escalation.step, escalation.round) == (0, 2)
    assert due_roles(escalation) == ()

    exhausted = fired(escalation, clock.to(escalation.due_at))

    assert text(exhausted) == (
        "Escalation exhausted: nobody acknowledged after 2 rounds. Page someone with `/lucia page`."
    )
    assert exhausted.event is not None
    assert exhausted.event.data == {"exhausted": True}
    assert exhausted.escalation.status is EscalationStatus.EXHAUSTED
    assert exhausted.escalation.due_at is None
    assert exhausted.escalation.stopped_at == OPENED + 10 * MINUTE  # after the last wait
    assert exhausted.pages == ()


def test_one_round_is_said_in_the_singular() -> None:
    escalation = replace(started(), round=1)
    assert text(fired(escalation, OPENED)).startswith(
        "Escalation exhausted: nobody acknowledged after 1 round. "
    )


def test_an_acknowledgement_stops_the_chain_and_cancels_its_pages() -> None:
    clock = Clock()
    escalation = fired(started(), clock.to(OPENED)).escalation
    acked = incident(acknowledged_at=OPENED + timedelta(seconds=245), acknowledged_by="U01BOBBY00")

    result = stop(escalation, acked, clock.to(OPENED + 5 * MINUTE))

    assert text(result) == (
        "Escalation stopped: <@U01BOBBY00> acknowledged 4 min 05 s after the incident opened"
    )
    assert result.event is not None
    assert result.event.data == {"time_to_acknowledge_s": 245}
    assert result.cancel_pages
    assert result.escalation.status is EscalationStatus.STOPPED
    assert result.escalation.due_at is None
    assert result.escalation.stopped_at == OPENED + 5 * MINUTE
    assert result.pages == ()


def test_a_resolution_stops_the_chain_too() -> None:
    result = stop(started(), incident(resolved_at=OPENED + MINUTE), OPENED + MINUTE)

    assert text(result) == "Escalation stopped: the incident was resolved"
    assert result.event is not None
    assert result.event.data == {}
    assert result.cancel_pages
    assert result.escalation.status is EscalationStatus.STOPPED


def test_a_reopened_incident_pages_again_from_the_start_of_the_policy_it_has_now() -> None:
    clock = Clock()
    stopped = stop(started(), incident(resolved_at=OPENED), clock.to(OPENED + MINUTE)).escalation
    now_policy = EscalationPolicy(steps=[EscalationStep(roles=[Role.OWNER], wait=MINUTE)])

    result = restart(stopped, incident(), now_policy, clock.to(OPENED + 9 * MINUTE))

    assert text(result) == "Escalation started again (reopened): owner (1 min) → fallback (1 min)"
    assert result.escalation.status is EscalationStatus.ACTIVE
    assert (result.escalation.step, result.escalation.round) == (0, 0)
    assert result.escalation.due_at == result.escalation.started_at == OPENED + 9 * MINUTE
    assert result.escalation.stopped_at is None
    assert result.event is not None
    assert result.event.data == {"chain": result.escalation.chain.to_json()}


def test_a_severity_raised_to_one_that_pages_starts_the_chain() -> None:
    nothing = start(Unstarted(incident(Severity.SEV4), ()), None, OPENED).escalation

    result = restart(nothing, incident(Severity.SEV2), POLICY, OPENED + MINUTE)

    assert text(result) == (
        "Escalation started again (now SEV2): infra (1 min) → owner (2 min) → fallback (2 min)"
    )
    assert result.escalation.due_at == OPENED + MINUTE


def test_a_restart_with_no_policy_keeps_the_chain_it_had() -> None:
    stopped = replace(started(), status=EscalationStatus.STOPPED, due_at=None)

    result = restart(stopped, incident(), None, OPENED + MINUTE)

    assert result.escalation.chain == stopped.chain
    assert text(result).startswith("Escalation started again (reopened): infra (1 min)")


def test_a_restart_with_nothing_to_page_records_none() -> None:
    nothing = start(Unstarted(incident(Severity.SEV4), ()), None, OPENED).escalation

    result = restart(nothing, incident(Severity.SEV4), None, OPENED + MINUTE)

    assert result.event is None
    assert result.escalation.status is EscalationStatus.NONE
    assert result.escalation.started_at == OPENED + MINUTE
