"""Launch-gate evaluations made by hand for the renderers' tests (Slack's views, the
console's text): items seen a while before `AT`, exceptions an owner recorded, and an
evaluation of the last phase given."""

from __future__ import annotations

__all__ = ["AT", "OWNER", "evaluation", "exception", "item"]

from datetime import UTC, datetime, timedelta

from bot.gate.model import Evaluation, GateException, ItemResult, PhaseResult, Verdict

AT = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)  # when the evaluations are made
OWNER = "U01OWNER00"


def item(
    name: str,
    verdict: Verdict = Verdict.PASS,
    reason: str = "fine",
    seen: timedelta | None = timedelta(minutes=3),
    refresh: str = "/lucia gate",
) -> ItemResult:
    """An item whose evidence was observed `seen` before `AT` (None: never)."""
    observed = AT - seen if seen is not None else None
    return ItemResult(name, verdict, reason, observed, None, refresh)


def exception(
    phase: str, *items: str, reason: str = "the backup job runs tonight", number: int = 1
) -> GateException:
    """Recorded by `OWNER` two hours before `AT`, for three days."""
    return GateException(
        number, phase, items, reason, OWNER, AT - timedelta(hours=2), AT + timedelta(days=3)
    )


def evaluation(*phases: PhaseResult) -> Evaluation:
    """The last phase's evaluation at `AT`, with the phases before it."""
    return Evaluation(phases[-1].name, phases[-1].verdict, AT, phases)
