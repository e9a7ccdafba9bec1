"""Paging's records: the launch-gate row, an escalation chain copied onto an incident,
a page to one person and what each channel made of it."""

from __future__ import annotations

__all__ = [
    "Chain",
    "ChainStep",
    "Delivery",
    "DeliveryStatus",
    "Escalation",
    "EscalationStatus",
    "OwnerEntry",
    "Page",
    "PageStatus",
    "build_chain",
    "describe_chain",
    "new_page",
]

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import EscalationPolicy
from bot.durations import short_duration
from bot.incidents.model import Incident
from bot.paging.ports import Contact, NewPage
from bot.types import JSONValue
from bot.vocabulary import Role, Severity

# A role with nothing to say how long to wait: the wait before the next step.
DEFAULT_WAIT = timedelta(minutes=5)
URGENT = (Severity.SEV1, Severity.SEV2)


@dataclass(frozen=True)
class OwnerEntry:
    """One row of the launch-gate table, as the database holds it."""

    role: Role
    contact: Contact | None  # None: nobody holds the role (a gap)
    notes: str = ""
    updated_by: str = "lucia.yaml"
    updated_at: datetime | None = None

    def gaps(self, channels: Collection[str]) -> list[str]:
        """What keeps a page from reaching this role, given the channels this bot has."""
        if self.contact is None:
            return ["nobody holds this role"]
        c = self.contact
        found = []
        outside = [
            name
            for name, have in (
                ("e-mail", c.email and "email" in channels),
                ("push", c.push_topic and "push" in channels),
            )
            if have
        ]
        if not outside:
            if c.email and "email" not in channels:
                why = "an e-mail address, but e-mail isn't set up: set SMTP_HOST and SMTP_FROM"
            elif c.phone:
                why = "a phone number, but no SMS or voice is set up"
            else:
                why = "no e-mail or push"
            found.append(f"no way to reach them outside Slack ({why})")
        if not c.slack_user:
            found.append("no Slack user: no DM, no mention")
        return found


@dataclass(frozen=True)
class ChainStep:
    roles: tuple[str, ...]
    wait: timedelta  # before the next step


@dataclass(frozen=True)
class Chain:
    """An escalation policy as copied onto an incident: config edits don't change it."""

    steps: tuple[ChainStep, ...]
    repeat: int  # how many times the whole chain runs again after the first

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "steps": [
                {"roles": list(s.roles), "wait": int(s.wait.total_seconds())} for s in self.steps
            ],
            "repeat": self.repeat,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Chain:
        steps = tuple(
            ChainStep(tuple(str(r) for r in s["roles"]), timedelta(seconds=int(s["wait"])))
            for s in data["steps"]
        )
        return cls(steps, int(data["repeat"]))


def build_chain(policy: EscalationPolicy | None, requested: Sequence[str]) -> Chain:
    """The chain an incident runs: the roles its routing rule names first, then the
    policy for its severity, closed by the fallback contact unless the policy opts out."""
    steps: list[ChainStep] = []
    first_wait = policy.steps[0].wait if policy else DEFAULT_WAIT
    if requested:
        steps.append(ChainStep(tuple(dict.fromkeys(requested)), first_wait))
    if policy is not None:
        steps += [ChainStep(tuple(r.value for r in s.roles), s.wait) for s in policy.steps]
    closes = policy.close_with_fallback if policy is not None else True
    if steps and closes and Role.FALLBACK.value not in steps[-1].roles:
        steps.append(ChainStep((Role.FALLBACK.value,), steps[-1].wait))
    return Chain(tuple(steps), policy.repeat if policy else 0)


def describe_chain(chain: Chain) -> str:
    """`infra (5 min) → owner (5 min) → fallback (10 min), 2 rounds`."""
    parts = [f"{', '.join(s.roles)} ({short_duration(s.wait)})" for s in chain.steps]
    rounds = chain.repeat + 1
    return " → ".join(parts) + (f", {rounds} rounds" if rounds > 1 else "")


class EscalationStatus(enum.StrEnum):
    ACTIVE = "active"  # a step is due at due_at
    STOPPED = "stopped"  # acknowledged or resolved
    EXHAUSTED = "exhausted"  # every round ran and nobody acknowledged
    NONE = "none"  # nothing to page for this incident


@dataclass(frozen=True)
class Escalation:
    incident_number: int
    chain: Chain
    status: EscalationStatus
    round: int  # 0-based
    step: int  # the next step to fire
    due_at: datetime | None
    started_at: datetime
    stopped_at: datetime | None = None


class PageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent
    SENDING = "sending"  # claimed by a process until its lease ends
    SENT = "sent"  # at least one channel delivered
    FAILED = "failed"  # every channel failed, or the person has none
    CANCELLED = "cancelled"  # the incident was acknowledged before it went out
    THROTTLED = "throttled"  # this person was paged moments ago
    UNKNOWN = "unknown"  # no channel confirmed, and one was tried with no answer recorded


class DeliveryStatus(enum.StrEnum):
    """What one channel of a page came to. A channel is recorded as attempted before its
    send starts, so no sender ever sends it twice."""

    ATTEMPTING = "attempting"  # a send started; its answer is not recorded yet
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # attempted, but its sender stopped before the answer came


@dataclass(frozen=True)
class Delivery:
    """One channel's record for a page."""

    status: DeliveryStatus
    detail: str  # "sent", the failure's reason, or why it is unknown

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.SENT


@dataclass(frozen=True)
class Page:
    id: int
    incident_number: int | None
    target: str  # the role, or the Slack user id, that was asked for
    contact: Contact
    message: str  # as typed, in Slack's markup (`bot/paging/words.py`): people kept by id
    urgent: bool
    status: PageStatus
    created_at: datetime
    created_by: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    test: bool = False  # a test page: no incident, its acknowledgement the gate's evidence


def new_page(
    incident: Incident | None,
    target: str,
    contact: Contact,
    message: str,
    by: str,
    now: datetime,
) -> NewPage:
    """A page to write, due now: urgent for a SEV1 or SEV2, or when no incident says."""
    return NewPage(
        incident_number=incident.number if incident else None,
        target=target,
        contact=contact,
        message=message,
        urgent=incident is None or incident.severity in URGENT,
        status=PageStatus.PENDING,
        due_at=now,
        created_at=now,
        created_by=by,
    )
