"""What the launch gate says and what it rests on: evidence, items, phases, an evaluation.

Every item is `pass`, `fail` or `unknown`, each with a reason in plain words, when its
evidence was observed, when it expires and the command that refreshes it. `unknown` never
passes: a phase is GO only when every item of it and of every earlier phase passes, or is
named by an exception the owner recorded for that phase.
"""

from __future__ import annotations

__all__ = [
    "GO",
    "NO_GO",
    "Evaluation",
    "Evidence",
    "GateException",
    "ItemResult",
    "PhaseResult",
    "SignOff",
    "Verdict",
    "evaluation_from_json",
    "item_from",
    "stale",
]

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.durations import age_words
from bot.types import JSONValue, UserId

GO = "GO"
NO_GO = "NO-GO"


class Verdict(enum.StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    UNKNOWN = "unknown"


# The worse verdict wins when an item rests on several pieces of evidence.
_RANK = {Verdict.PASS: 0, Verdict.UNKNOWN: 1, Verdict.FAIL: 2}


@dataclass(frozen=True)
class Evidence:
    """One thing a check saw (or couldn't see), as it is stored."""

    item: str  # "references"
    subject: str  # what of it: "staging_url", a role, a service, a sign-off
    verdict: Verdict
    reason: str  # plain words: "answers 200 to anyone: staging is publicly reachable"
    observed_at: datetime
    expires_at: datetime | None
    source: str  # where it was seen: "http", "render", "supabase", "database", "person"
    seen: Mapping[str, JSONValue] = field(default_factory=dict)  # status, deploy id, digest


def stale(evidence: Evidence, now: datetime) -> Evidence:
    """Evidence past its expiry is unknown, saying how old it is."""
    if evidence.expires_at is None or now < evidence.expires_at:
        return evidence
    return replace(
        evidence,
        verdict=Verdict.UNKNOWN,
        reason=f"stale: last seen {age_words(now - evidence.observed_at)} ago ({evidence.reason})",
    )


@dataclass(frozen=True)
class ItemResult:
    item: str
    verdict: Verdict
    reason: str
    observed_at: datetime | None
    expires_at: datetime | None
    refresh: str  # the exact command that brings new evidence
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "item": self.item,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "observed_at": _iso(self.observed_at),
            "expires_at": _iso(self.expires_at),
            "refresh": self.refresh,
        }


def item_from(item: str, refresh: str, evidence: Sequence[Evidence], now: datetime) -> ItemResult:
    """An item from all its evidence: the worst verdict, the reasons of that verdict, the
    oldest observation and the earliest expiry. No evidence at all is unknown."""
    if not evidence:
        return ItemResult(item, Verdict.UNKNOWN, "no evidence yet", None, None, refresh)
    judged = tuple(stale(e, now) for e in evidence)
    worst = max((e.verdict for e in judged), key=_RANK.__getitem__)
    reasons = [
        f"{e.subject}: {e.reason}" if e.subject != item else e.reason
        for e in judged
        if e.verdict is worst
    ]
    expiries = [e.expires_at for e in judged if e.expires_at is not None]
    return ItemResult(
        item,
        worst,
        "; ".join(reasons),
        min(e.observed_at for e in judged),
        min(expiries) if expiries else None,
        refresh,
        judged,
    )


@dataclass(frozen=True)
class SignOff:
    id: int
    phase: str
    item: str
    note: str
    signed_by: UserId
    signed_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class GateException:
    """GO with exceptions: the owner accepts these items not passing, for a while."""

    id: int
    phase: str
    items: tuple[str, ...]
    reason: str
    recorded_by: UserId
    recorded_at: datetime
    expires_at: datetime

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "phase": self.phase,
            "items": list(self.items),
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_at": _iso(self.recorded_at),
            "expires_at": _iso(self.expires_at),
        }


@dataclass(frozen=True)
class PhaseResult:
    name: str
    verdict: str  # GO or NO-GO: this phase and every earlier one
    items: tuple[ItemResult, ...]  # this phase's own items
    exceptions: tuple[GateException, ...] = ()  # what let it be GO anyway

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "verdict": self.verdict,
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True)
class Evaluation:
    """The verdict for `phase`, with every phase up to it (the JSON contract)."""

    phase: str
    verdict: str
    evaluated_at: datetime
    phases: tuple[PhaseResult, ...]

    @property
    def exceptions(self) -> tuple[GateException, ...]:
        return self.phases[-1].exceptions

    @property
    def asked(self) -> PhaseResult:
        return self.phases[-1]

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "phase": self.phase,
            "verdict": self.verdict,
            "evaluated_at": _iso(self.evaluated_at),
            "exceptions": [e.to_json() for e in self.exceptions],
            "phases": [p.to_json() for p in self.phases],
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def evaluation_from_json(doc: Mapping[str, Any]) -> Evaluation:
    """An evaluation as stored (its JSON contract) read back, for history."""
    exceptions = tuple(
        GateException(
            0,
            str(e["phase"]),
            tuple(e["items"]),
            str(e["reason"]),
            str(e["recorded_by"]),
            _at(e["recorded_at"]) or datetime.min,
            _at(e["expires_at"]) or datetime.min,
        )
        for e in doc.get("exceptions", [])
    )
    phases = tuple(
        PhaseResult(
            str(p["name"]),
            str(p["verdict"]),
            tuple(
                ItemResult(
                    str(i["item"]),
                    Verdict(i["verdict"]),
                    str(i["reason"]),
                    _at(i["observed_at"]),
                    _at(i["expires_at"]),
                    str(i["refresh"]),
                )
                for i in p["items"]
            ),
        )
        for p in doc["phases"]
    )
    if phases:
        phases = (*phases[:-1], replace(phases[-1], exceptions=exceptions))
    return Evaluation(
        str(doc["phase"]), str(doc["verdict"]), _at(doc["evaluated_at"]) or datetime.min, phases
    )


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
