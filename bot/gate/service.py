"""`GateService`: gather each item's evidence, judge the phases cumulatively, keep every
evaluation and piece of evidence, and answer the `gate` commands.

A check that errors or takes too long makes its item unknown, never pass; the reason says
what happened. Every evaluation is stored, and one whose verdict differs from the phase's
previous one is announced (the scheduled re-check is `recheck`).
"""

from __future__ import annotations

__all__ = ["Announce", "GateService"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import ClassVar, get_args

from bot import log_messages as msg
from bot.config import GateConfig, LuciaConfig
from bot.errors import LuciaError, UserError
from bot.gate import commands as cmd
from bot.gate.evidence import Checks, EvidenceGatherer
from bot.gate.judge import (
    judge_signoff,
    judge_trace,
)
from bot.gate.model import (
    GO,
    NO_GO,
    Evaluation,
    GateException,
    ItemResult,
    PhaseResult,
    SignOff,
    Verdict,
    item_from,
)
from bot.gate.ports import GateStore
from bot.gate.replies import GateHistory, GateReply, GateReport, VerdictChange
from bot.incidents.replies import ItemList, Noted, Reply
from bot.paging.ports import PagingStore
from bot.text import Mention, Text
from bot.types import Clock, UserId
from bot.vocabulary import SYSTEM_ACTOR, Invocation, Role

log = logging.getLogger(__name__)

Announce = Callable[[GateReport], Awaitable[None]]  # to the incidents channel
_HISTORY_READ = 500  # evaluations read to find where a verdict changed


class GateService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.GateCommand)

    def __init__(
        self,
        config: LuciaConfig,
        store: GateStore,
        launch_table: PagingStore,
        checks: Checks,
        clock: Clock,
        announce: Announce,
    ) -> None:
        self._lucia = config
        self._config: GateConfig = config.gate
        self._store = store
        self._table = launch_table
        self._checks = checks
        self._evidence = EvidenceGatherer(config, store, launch_table, checks)
        self._clock = clock
        self._announce = announce
        self._evaluating = asyncio.Lock()  # one evaluation at a time: a double click waits

    @property
    def phases(self) -> tuple[str, ...]:
        return tuple(self._config.phases)

    async def run(self, command: cmd.GateCommand, inv: Invocation) -> GateReply:
        match command:
            case cmd.ShowGate(phase=phase):
                return await self.evaluate(phase, inv.actor)
            case cmd.ShowGateHistory(phase=phase):
                return await self._history(self._phase(phase))
            case cmd.SendTestPage(role=role):
                return await self._checks.test_pages.send(role, inv)
            case cmd.TraceAlerts():
                return await self._trace(inv)
            case cmd.SignItem():
                return await self._sign(command, inv)
            case cmd.UnsignItem(item=item):
                return await self._unsign(item, inv)
            case cmd.RecordException():
                return await self._except(command, inv)
            case cmd.WithdrawExceptions(phase=phase):
                return await self._unexcept(self._phase(phase), inv)
        raise AssertionError(f"unhandled gate command {command!r}")

    async def evaluate(self, phase: str | None, by: UserId) -> GateReport:
        """The verdict for `phase` (the last one when None), every check made now or read
        from what is stored; each phase up to it is kept as an evaluation of its own."""
        asked = self._phase(phase)
        async with self._evaluating:
            evaluations = await self._judge(asked)
            changed: str | None = None
            for evaluation in evaluations:
                before = await self._store.record_evaluation(evaluation, by)
                if before != evaluation.verdict:
                    log.info(
                        msg.GATE_VERDICT_CHANGED,
                        extra={"phase": evaluation.phase, "was": before, "now": evaluation.verdict},
                    )
                    report = GateReport(evaluation, before)
                    if evaluation.phase == asked:
                        changed = before
                    await self._tell(report)
        return GateReport(evaluations[-1], changed)

    async def recheck(self) -> None:
        """The scheduled re-check: every phase; the incidents channel hears only changes."""
        if self._config.phases:
            await self.evaluate(None, SYSTEM_ACTOR)

    def _phase(self, name: str | None) -> str:
        if not self._config.phases:
            raise UserError(
                "No launch-gate phases are configured: add `gate:` → `phases:` to lucia.yaml "
                "(lucia.example.yaml has staging and go-live)."
            )
        if name is None:
            return self.phases[-1]
        if name not in self._config.phases:
            raise UserError(f"There is no phase `{name}`: the phases are {', '.join(self.phases)}.")
        return name

    async def _tell(self, report: GateReport) -> None:
        try:
            await self._announce(report)
        except LuciaError as exc:  # stored either way: the next change is still told
            log.warning(msg.GATE_ANNOUNCE_FAILED, extra={"error": type(exc).__name__})

    # -- judging ----------------------------------------------------------------------

    async def _judge(self, asked: str) -> list[Evaluation]:
        now = self._clock()
        upto = self.phases[: self.phases.index(asked) + 1]
        configs = [self._config.phases[name] for name in upto]
        wanted = {item for phase in configs for item in phase.items}
        pitr = any(p.pitr for p in configs if "backups" in p.items)
        name_of = await self._evidence.names()  # one read of the table, for every reason
        looks = (self._evidence.gather(item, now, pitr, name_of) for item in wanted)
        gathered = dict(zip(wanted, await asyncio.gather(*looks), strict=True))
        fresh = [e for item in wanted if item != "alert_pipeline" for e in gathered[item][1]]
        await self._store.record(fresh)
        signoffs = await self._store.signoffs(now)
        exceptions = await self._store.exceptions(now)
        results: list[ItemResult] = []
        evaluations: list[Evaluation] = []
        phases: list[PhaseResult] = []
        for name, phase in zip(upto, configs, strict=True):
            own: list[ItemResult] = [
                item_from(item, gathered[item][0], gathered[item][1], now) for item in phase.items
            ]
            for item, signoff in phase.signoffs.items():
                roles = [r.value for r in signoff.roles]
                evidence = judge_signoff(item, roles, signoffs.get((name, item)), now, name_of)
                own.append(item_from(item, f"/lucia gate sign {item} <note>", [evidence], now))
            results += own
            failing = {r.item for r in results if r.verdict is not Verdict.PASS}
            covering = tuple(e for e in exceptions if e.phase == name and set(e.items) & failing)
            excused = {i for e in covering for i in e.items}
            verdict = GO if failing <= excused else NO_GO
            used = covering if verdict == GO else ()
            phases.append(PhaseResult(name, verdict, tuple(own), used))
            evaluations.append(Evaluation(name, verdict, now, tuple(phases)))
        return evaluations

    # -- the rest of the commands -----------------------------------------------------

    async def _trace(self, inv: Invocation) -> Reply:
        if self._checks.trace is None:
            raise UserError(
                "A trace needs LUCIA_PUBLIC_URL (the bot's public URL, through Cloudflare) "
                "and SENTRY_CLIENT_SECRET, to send a signed synthetic alert the way Sentry does."
            )
        result = await self._checks.trace.run(inv.actor)
        evidence = judge_trace(result, self._config.max_age.alert_pipeline)
        await self._store.record([evidence])
        mark = {Verdict.PASS: "✅", Verdict.FAIL: "❌"}.get(evidence.verdict, "❔")
        return ItemList(
            Text(f"{mark} Alert pipeline trace {result.trace_id}: {evidence.verdict.value}"),
            tuple(
                Text(
                    f"{'✅' if h.seen else '❌'} {h.name}"
                    + (f" +{h.after_ms / 1000:.2f} s" if h.after_ms is not None else "")
                    + f": {h.detail}"
                )
                for h in result.hops
            ),
            (Text(result.resolved),) if result.resolved else (),
        )

    def _signoff(self, item: str) -> tuple[str, list[str], timedelta]:
        for phase, config in self._config.phases.items():
            if item in config.signoffs:
                signoff = config.signoffs[item]
                return phase, [r.value for r in signoff.roles], signoff.valid_for
        names = [i for c in self._config.phases.values() for i in c.signoffs]
        raise UserError(
            f"`{item}` isn't an item anyone signs"
            + (f": those are {', '.join(names)}." if names else ": lucia.yaml names none.")
        )

    async def _holds(self, actor: UserId, roles: Sequence[str]) -> bool:
        return any(
            e.contact is not None and e.contact.slack_user == actor and e.role.value in roles
            for e in await self._table.owners()
        )

    async def _sign(self, command: cmd.SignItem, inv: Invocation) -> Reply:
        phase, roles, valid_for = self._signoff(command.item)
        if inv.actor == SYSTEM_ACTOR:
            raise UserError("The bot never signs an item: a person vouches for it.")
        if not await self._holds(inv.actor, roles):
            raise UserError(
                f"Only whoever holds {' or '.join(roles)} signs `{command.item}` "
                "(`/lucia owners` shows who)."
            )
        now = self._clock()
        # A holder may sign for less time than lucia.yaml's `for`, never for more.
        duration = min(command.valid_for or valid_for, valid_for)
        signed = await self._store.sign(
            SignOff(0, phase, command.item, command.note, inv.actor, now, now + duration)
        )
        return Noted(
            Text(
                f"Signed `{command.item}` for {phase} until "
                f"{signed.expires_at:%Y-%m-%d %H:%M} UTC, as ",
                Mention(inv.actor),
                f": {command.note}",
            )
        )

    async def _unsign(self, item: str, inv: Invocation) -> Reply:
        phase, roles, _ = self._signoff(item)
        if not await self._holds(inv.actor, roles):
            raise UserError(f"Only whoever holds {' or '.join(roles)} withdraws `{item}`.")
        if not await self._store.unsign(phase, item, inv.actor, self._clock()):
            return Noted(f"`{item}` wasn't signed.")
        return Noted(f"`{item}` is no longer signed: the {phase} phase needs it signed again.")

    async def _except(self, command: cmd.RecordException, inv: Invocation) -> Reply:
        phase = self._phase(command.phase)
        if not await self._holds(inv.actor, [Role.OWNER.value]):
            raise UserError("Only the owner records GO with exceptions.")
        upto = self.phases[: self.phases.index(phase) + 1]
        known = {
            i
            for name in upto
            for i in (*self._config.phases[name].items, *self._config.phases[name].signoffs)
        }
        unknown = [i for i in command.items if i not in known]
        if unknown:
            raise UserError(
                f"{', '.join(unknown)} isn't an item of {phase} or a phase before it "
                f"(those are {', '.join(sorted(known))})."
            )
        if command.valid_for > _LONGEST_EXCEPTION:
            raise UserError("An exception lasts at most 30 days: record a new one then.")
        now = self._clock()
        recorded = await self._store.add_exception(
            GateException(
                0, phase, command.items, command.reason, inv.actor, now, now + command.valid_for
            )
        )
        return Noted(
            f"⚠️ {phase} may be GO without {', '.join(recorded.items)} until "
            f"{recorded.expires_at:%Y-%m-%d %H:%M} UTC: {recorded.reason}. "
            "It is shown with every verdict, and audited.",
            warning=True,
        )

    async def _unexcept(self, phase: str, inv: Invocation) -> Reply:
        if not await self._holds(inv.actor, [Role.OWNER.value]):
            raise UserError("Only the owner withdraws exceptions.")
        count = await self._store.withdraw_exceptions(phase, inv.actor, self._clock())
        if not count:
            return Noted(f"{phase} has no exceptions.")
        return Noted(f"Withdrew {count} exception{'s' if count > 1 else ''} of {phase}.")

    async def _history(self, phase: str) -> GateHistory:
        evaluations = await self._store.evaluations(phase, _HISTORY_READ)
        changes: list[VerdictChange] = []
        before: Evaluation | None = None
        for evaluation in evaluations:
            if before is None or before.verdict != evaluation.verdict:
                changes.append(
                    VerdictChange(
                        evaluation.evaluated_at,
                        evaluation.verdict,
                        _moved(before, evaluation),
                        len(evaluation.exceptions),
                    )
                )
            before = evaluation
        return GateHistory(phase, tuple(changes), len(evaluations))


def _moved(before: Evaluation | None, after: Evaluation) -> tuple[str, ...]:
    """The items whose verdict differs between two evaluations, with the new reason."""
    was = {i.item: i.verdict for p in before.phases for i in p.items} if before else {}
    lines = []
    for phase in after.phases:
        for item in phase.items:
            old = was.get(item.item)
            if old is not item.verdict and (before is not None or item.verdict is not Verdict.PASS):
                was_said = f"{old.value} → " if old else ""
                lines.append(f"{item.item}: {was_said}{item.verdict.value} ({item.reason})")
    return tuple(lines)


_LONGEST_EXCEPTION = timedelta(days=30)
