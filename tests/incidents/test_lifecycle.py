"""The incident state machine: each allowed step changes the incident and writes one event;
each step that isn't allowed says why and what to do instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.errors import IllegalTransition
from bot.incidents import lifecycle
from bot.incidents.lifecycle import Change
from bot.incidents.model import EventKind, Incident, Status
from bot.text import Mention
from bot.vocabulary import Severity

ALICE = "U01ALICE00"
BOB = "U01BOBBY00"
CAROL = "U01CAROL00"

T0 = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 6, 3, 10, 5, tzinfo=UTC)
T2 = datetime(2025, 6, 3, 11, 30, tzinfo=UTC)
T3 = datetime(2025, 6, 3, 12, 45, tzinfo=UTC)

WORKING = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
OPEN = (*WORKING, Status.MITIGATED)


def _declared(severity: Severity = Severity.SEV2) -> Incident:
    return lifecycle.declare(
        number=7,
        title="Checkout is down",
        severity=severity,
        description="500s on /checkout",
        actor=ALICE,
        at=T0,
        lead=ALICE,
    ).incident


def _in(status: Status) -> Incident:
    incident = _declared()
    if status is Status.MITIGATED:
        return lifecycle.mitigate(incident, ALICE, T1).incident
    if status is Status.RESOLVED:
        return lifecycle.resolve(incident, "Reverted", ALICE, T1).incident
    return replace(incident, status=status)


def _assert_event(change: Change, kind: EventKind, actor: str, at: datetime, text: str) -> None:
    assert change.event.incident_number == 7
    assert change.event.kind is kind
    assert change.event.actor == actor
    assert change.event.at == at
    assert change.event.text == text


# --- allowed steps ---------------------------------------------------------------------------


def test_declare_opens_an_investigating_incident_led_by_the_declarer() -> None:
    change = lifecycle.declare(
        number=7,
        title="Checkout is down",
        severity=Severity.SEV2,
        description="500s on /checkout",
        actor=ALICE,
        at=T0,
        lead=ALICE,
    )
    incident = change.incident
    assert incident.key == "INC-7"
    assert incident.status is Status.INVESTIGATING
    assert incident.severity is Severity.SEV2
    assert (incident.opened_by, incident.lead) == (ALICE, ALICE)
    assert incident.description == "500s on /checkout"
    assert incident.created_at == incident.updated_at == T0
    assert incident.acknowledged_at is incident.mitigated_at is incident.resolved_at is None
    _assert_event(change, EventKind.DECLARED, ALICE, T0, "Declared SEV2: Checkout is down")
    assert change.event.data == {"severity": "sev2", "title": "Checkout is down"}


def test_acknowledge_records_who_and_when_and_keeps_the_lead() -> None:
    change = lifecycle.acknowledge(_declared(), BOB, T1)
    assert change.incident.acknowledged_at == T1
    assert change.incident.acknowledged_by == BOB
    assert change.incident.lead == ALICE
    assert change.incident.updated_at == T1
    assert change.incident.status is Status.INVESTIGATING
    _assert_event(change, EventKind.ACKNOWLEDGED, BOB, T1, "Acknowledged")


def test_acknowledging_a_leaderless_incident_makes_the_acker_lead() -> None:
    change = lifecycle.acknowledge(replace(_declared(), lead=None), BOB, T1)
    assert change.incident.lead == BOB


@pytest.mark.parametrize(("before", "after"), [(b, a) for b in OPEN for a in WORKING if b is not a])
def test_status_moves_between_working_statuses_and_back_from_mitigated(
    before: Status, after: Status
) -> None:
    change = lifecycle.set_status(_in(before), after, "found the bad index", BOB, T2)
    assert change.incident.status is after
    assert change.incident.updated_at == T2
    _assert_event(
        change,
        EventKind.STATUS_CHANGED,
        BOB,
        T2,
        f"Status {before.value} → {after.value}: found the bad index",
    )
    assert change.event.data == {"previous": before.value, "status": after.value}


def test_status_without_text_has_no_trailing_colon() -> None:
    change = lifecycle.set_status(_declared(), Status.IDENTIFIED, "", BOB, T2)
    assert change.event.text == "Status investigating → identified"


def test_severity_regrade() -> None:
    change = lifecycle.set_severity(_declared(Severity.SEV3), Severity.SEV1, BOB, T2)
    assert change.incident.severity is Severity.SEV1
    assert change.incident.updated_at == T2
    _assert_event(change, EventKind.SEVERITY_CHANGED, BOB, T2, "Severity SEV3 → SEV1")
    assert change.event.data == {"previous": "sev3", "severity": "sev1"}


def test_lead_handover() -> None:
    change = lifecycle.set_lead(_declared(), CAROL, BOB, T2)
    assert change.incident.lead == CAROL
    assert change.incident.updated_at == T2
    _assert_event(change, EventKind.LEAD_CHANGED, BOB, T2, f"Lead is now <@{CAROL}>")
    assert change.event.data == {"lead": CAROL, "previous": ALICE}


def test_lead_on_a_leaderless_incident_records_no_previous_lead() -> None:
    change = lifecycle.set_lead(replace(_declared(), lead=None), CAROL, BOB, T2)
    assert change.event.data == {"lead": CAROL, "previous": ""}


def test_update_is_on_the_timeline_and_bumps_updated_at() -> None:
    change = lifecycle.post_update(_declared(), "Rolling back 4f2a", BOB, T2)
    assert change.incident.updated_at == T2
    assert change.incident.status is Status.INVESTIGATING
    _assert_event(change, EventKind.UPDATE, BOB, T2, "Rolling back 4f2a")


@pytest.mark.parametrize("status", [*OPEN, Status.RESOLVED])
def test_notes_are_allowed_in_any_status_including_resolved(status: Status) -> None:
    incident = _in(status)
    change = lifecycle.add_note(incident, "Alert fired 10 min late", CAROL, T3)
    assert change.incident == incident
    _assert_event(change, EventKind.NOTE, CAROL, T3, "Alert fired 10 min late")


@pytest.mark.parametrize("before", WORKING)
def test_mitigate_from_each_working_status(before: Status) -> None:
    change = lifecycle.mitigate(_in(before), BOB, T2)
    assert change.incident.status is Status.MITIGATED
    assert change.incident.mitigated_at == T2
    assert change.incident.resolved_at is None
    assert change.incident.updated_at == T2
    _assert_event(change, EventKind.MITIGATED, BOB, T2, "Mitigated")
    assert change.event.data == {"previous": before.value}


@pytest.mark.parametrize("before", OPEN)
def test_resolve_from_each_open_status(before: Status) -> None:
    change = lifecycle.resolve(_in(before), "Reverted deploy 4f2a", BOB, T2)
    assert change.incident.status is Status.RESOLVED
    assert change.incident.resolved_at == T2
    assert change.incident.summary == "Reverted deploy 4f2a"
    assert change.incident.updated_at == T2
    _assert_event(change, EventKind.RESOLVED, BOB, T2, "Resolved: Reverted deploy 4f2a")
    assert change.event.data == {"previous": before.value}


def test_resolve_keeps_an_earlier_mitigation_time() -> None:
    change = lifecycle.resolve(_in(Status.MITIGATED), "", BOB, T2)
    assert change.incident.mitigated_at == T1
    assert change.incident.resolved_at == T2


def test_resolve_without_mitigation_invents_no_mitigation_time() -> None:
    """The postmortem's time-to-mitigate must come from a real `mitigated`."""
    change = lifecycle.resolve(_declared(), "", BOB, T2)
    assert change.incident.mitigated_at is None
    assert change.incident.resolved_at == T2


def test_resolve_without_summary_after_reopen_has_no_stale_summary() -> None:
    first = lifecycle.resolve(_declared(), "Reverted deploy 4f2a", BOB, T1).incident
    reopened = lifecycle.reopen(first, BOB, T2).incident
    assert reopened.summary == ""
    change = lifecycle.resolve(reopened, "", BOB, T3)
    assert change.incident.summary == ""
    assert change.event.text == "Resolved"


def test_reopen_needs_a_fresh_acknowledgement() -> None:
    acked = lifecycle.acknowledge(_declared(), BOB, T1).incident
    resolved = lifecycle.resolve(acked, "done", BOB, T2).incident
    reopened = lifecycle.reopen(resolved, CAROL, T3).incident
    assert reopened.acknowledged_at is None
    assert reopened.acknowledged_by is None
    assert lifecycle.acknowledge(reopened, CAROL, T3).incident.acknowledged_by == CAROL


def test_going_back_from_mitigated_drops_the_mitigation_time() -> None:
    mitigated = lifecycle.mitigate(_declared(), BOB, T1).incident
    change = lifecycle.set_status(mitigated, Status.INVESTIGATING, "it's back", BOB, T2)
    assert change.incident.mitigated_at is None


def test_reopen_goes_back_to_investigating_and_clears_the_end_times() -> None:
    resolved = _in(Status.RESOLVED)
    assert resolved.resolved_at == T1
    change = lifecycle.reopen(resolved, CAROL, T2)
    assert change.incident.status is Status.INVESTIGATING
    assert change.incident.resolved_at is None
    assert change.incident.mitigated_at is None
    assert change.incident.updated_at == T2
    _assert_event(change, EventKind.REOPENED, CAROL, T2, "Reopened")


def test_a_reopened_incident_can_be_worked_and_resolved_again() -> None:
    incident = lifecycle.reopen(_in(Status.RESOLVED), CAROL, T2).incident
    incident = lifecycle.set_status(incident, Status.IDENTIFIED, "", CAROL, T2).incident
    incident = lifecycle.resolve(incident, "Really fixed", CAROL, T3).incident
    assert incident.status is Status.RESOLVED
    assert incident.resolved_at == T3


# --- illegal steps ---------------------------------------------------------------------------


def _refused(step: Callable[[], Change]) -> str:
    with pytest.raises(IllegalTransition) as caught:
        step()
    return str(caught.value)


def _refusal_names(step: Callable[[], Change]) -> tuple[Mention, ...]:
    """Whom a refusal names, as structure (each front renders them)."""
    with pytest.raises(IllegalTransition) as caught:
        step()
    text = caught.value.text
    assert text is not None
    return tuple(part for part in text.parts if isinstance(part, Mention))


def test_ack_twice_names_who_acked_and_when() -> None:
    acked = lifecycle.acknowledge(_declared(), BOB, T1).incident
    message = _refused(lambda: lifecycle.acknowledge(acked, CAROL, T2))
    assert "INC-7" in message
    assert "already acknowledged" in message
    assert f"by @{BOB} at" in message
    assert "10:05 UTC" in message
    assert _refusal_names(lambda: lifecycle.acknowledge(acked, CAROL, T2)) == (Mention(BOB),)


RESOLVED_STEPS: dict[str, Callable[[Incident], Change]] = {
    "ack": lambda i: lifecycle.acknowledge(i, BOB, T2),
    "update": lambda i: lifecycle.post_update(i, "still broken?", BOB, T2),
    "status": lambda i: lifecycle.set_status(i, Status.IDENTIFIED, "", BOB, T2),
    "sev": lambda i: lifecycle.set_severity(i, Severity.SEV1, BOB, T2),
    "lead": lambda i: lifecycle.set_lead(i, CAROL, BOB, T2),
    "mitigated": lambda i: lifecycle.mitigate(i, BOB, T2),
}


@pytest.mark.parametrize("step", RESOLVED_STEPS.values(), ids=RESOLVED_STEPS.keys())
def test_a_resolved_incident_must_be_reopened_first(step: Callable[[Incident], Change]) -> None:
    resolved = _in(Status.RESOLVED)
    message = _refused(lambda: step(resolved))
    assert "INC-7 is resolved" in message
    assert "/lucia incident reopen #7" in message


def test_resolve_twice_says_when_it_was_resolved() -> None:
    resolved = _in(Status.RESOLVED)
    message = _refused(lambda: lifecycle.resolve(resolved, "again", BOB, T2))
    assert "INC-7 is already resolved" in message
    assert "2025-06-03 10:05 UTC" in message


@pytest.mark.parametrize("status", OPEN)
def test_reopen_an_open_incident_says_it_is_open(status: Status) -> None:
    message = _refused(lambda: lifecycle.reopen(_in(status), BOB, T2))
    assert "INC-7 is still open" in message
    assert status.value in message


@pytest.mark.parametrize("status", WORKING)
def test_status_to_the_same_status_points_to_update(status: Status) -> None:
    message = _refused(lambda: lifecycle.set_status(_in(status), status, "x", BOB, T2))
    assert f"INC-7 is already {status.value}" in message
    assert "/lucia incident update #7" in message


@pytest.mark.parametrize("status", [Status.MITIGATED, Status.RESOLVED])
def test_status_cannot_jump_to_mitigated_or_resolved(status: Status) -> None:
    message = _refused(lambda: lifecycle.set_status(_declared(), status, "", BOB, T2))
    assert "incident mitigated" in message
    assert "incident resolve" in message


def test_sev_to_the_same_severity() -> None:
    message = _refused(lambda: lifecycle.set_severity(_declared(), Severity.SEV2, BOB, T2))
    assert "INC-7 is already SEV2" in message


def test_mitigated_twice() -> None:
    mitigated = _in(Status.MITIGATED)
    message = _refused(lambda: lifecycle.mitigate(mitigated, BOB, T2))
    assert "INC-7 is already mitigated" in message


def test_lead_to_the_current_lead() -> None:
    message = _refused(lambda: lifecycle.set_lead(_declared(), ALICE, BOB, T2))
    assert f"@{ALICE} is already the lead of INC-7" in message
    assert _refusal_names(lambda: lifecycle.set_lead(_declared(), ALICE, BOB, T2)) == (
        Mention(ALICE),
    )
