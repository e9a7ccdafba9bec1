"""What the gate's commands answer beyond the shared reply shapes, before any front
renders them: an evaluation, and the history of a phase's verdict."""

from __future__ import annotations

__all__ = ["GateHistory", "GateReply", "GateReport", "VerdictChange"]

from dataclasses import dataclass
from datetime import datetime

from bot.gate.model import Evaluation
from bot.incidents.replies import Reply


@dataclass(frozen=True)
class GateReport:
    evaluation: Evaluation
    changed_from: str | None = None  # the phase's verdict before this evaluation, if it differs


@dataclass(frozen=True)
class VerdictChange:
    at: datetime
    verdict: str  # what it became
    why: tuple[str, ...]  # the items whose verdict moved: "backups: pass → unknown (…)"
    exceptions: int = 0  # GO only thanks to this many exceptions


@dataclass(frozen=True)
class GateHistory:
    phase: str
    changes: tuple[VerdictChange, ...]  # oldest first
    evaluations: int  # how many evaluations were read


GateReply = Reply | GateReport | GateHistory
