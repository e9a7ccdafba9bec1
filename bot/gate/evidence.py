"""What the gate looks at for each built-in item, gathered now or read from what is
stored: the evidence `judge.py` words. Each look is bounded in time; a look that fails or
takes too long is one piece of unknown evidence saying so, never a pass."""

from __future__ import annotations

__all__ = ["Checks", "EvidenceGatherer", "TestPager", "Trace"]

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot import log_messages as msg
from bot.config import GateConfig, LuciaConfig
from bot.errors import EvidenceUnavailable, LuciaError
from bot.gate.judge import (
    judge_backups,
    judge_drill,
    judge_incidents,
    judge_owner,
    judge_reference,
    judge_service,
)
from bot.gate.model import Evidence, Verdict
from bot.gate.ports import BackupsAPI, GateStore, UrlProbe
from bot.gate.trace import TraceResult
from bot.incidents.replies import Reply
from bot.paging.ports import PagingStore
from bot.paging.test_pages import TestPageRecord
from bot.playbooks.ports import DeployStatus, RenderAPI, RenderDeploy
from bot.types import UserId
from bot.vocabulary import REFERENCE_KEYS, Invocation, Role

log = logging.getLogger(__name__)


class TestPager(Protocol):
    """Test pages (paging's `TestPages`): sent without an incident; the click is evidence."""

    async def send(self, role: str | None, inv: Invocation) -> Reply: ...

    async def latest(self) -> Mapping[str, TestPageRecord]: ...


class Trace(Protocol):
    """`/lucia gate trace`: a synthetic alert through the public URL, hop by hop."""

    async def run(self, by: UserId, within: float = ...) -> TraceResult: ...


@dataclass(frozen=True)
class Checks:
    """What the gate looks through; None where the bot isn't configured for it."""

    probe: UrlProbe
    render: RenderAPI | None
    backups: BackupsAPI | None
    trace: Trace | None
    test_pages: TestPager
    channels: Collection[str]  # the page channels this bot has ("slack_dm", "email", …)


class EvidenceGatherer:
    def __init__(
        self, config: LuciaConfig, store: GateStore, launch_table: PagingStore, checks: Checks
    ) -> None:
        self._lucia = config
        self._config: GateConfig = config.gate
        self._store = store
        self._table = launch_table
        self._checks = checks

    async def gather(
        self, item: str, now: datetime, pitr: bool, name_of: Callable[[UserId], str]
    ) -> tuple[str, list[Evidence]]:
        """(the refresh command, the evidence) of a built-in item; a check that fails or
        takes too long is one piece of unknown evidence saying so."""
        refresh = _REFRESH.get(item, "/lucia gate")
        within = self._config.fetch_timeout.total_seconds() * 4
        try:
            async with asyncio.timeout(within):
                return refresh, await self._look(item, now, pitr, name_of)
        except TimeoutError:
            reason = f"the check took longer than {within:.0f} s"
        except Exception as exc:  # a check's bug is an unknown item, not a crashed gate
            log.exception(msg.GATE_CHECK_FAILED, extra={"item": item})
            reason = f"the check failed ({type(exc).__name__})"
        return refresh, [Evidence(item, item, Verdict.UNKNOWN, reason, now, None, "bot")]

    async def _look(
        self, item: str, now: datetime, pitr: bool, name_of: Callable[[UserId], str]
    ) -> list[Evidence]:
        ages = self._config.max_age
        match item:
            case "owners":
                entries = await self._table.owners()
                tests = await self._checks.test_pages.latest()
                by_role = {e.role: e for e in entries}
                return [
                    judge_owner(
                        by_role[role],
                        self._checks.channels,
                        tests.get(role.value),
                        now,
                        ages.owners,
                    )
                    for role in Role
                    if role in by_role
                ] or [
                    Evidence(
                        "owners",
                        "owners",
                        Verdict.FAIL,
                        "the table is empty",
                        now,
                        None,
                        "database",
                    )
                ]
            case "references":
                refs = await self._table.refs()
                expect = self._config.references
                timeout = self._config.fetch_timeout.total_seconds()

                async def one(key: str) -> Evidence:
                    value = refs.get(key)
                    seen = None
                    if value and expect[key] != "pointer":
                        seen = await self._checks.probe.look(value, timeout)
                    return judge_reference(key, value, expect[key], seen, now, ages.references)

                return list(await asyncio.gather(*(one(k) for k in REFERENCE_KEYS)))
            case "services":
                if not self._lucia.services:
                    return [_unknown(item, "no services in lucia.yaml (`services:`)", now)]
                return list(
                    await asyncio.gather(*(self._service(n, now) for n in self._lucia.services))
                )
            case "rollback_drill":
                staging = [n for n, s in self._lucia.services.items() if not s.production]
                if not staging:
                    return [
                        _unknown(
                            item,
                            "lucia.yaml has no non-production service to drill on "
                            "(`services:` → `production: false`)",
                            now,
                        )
                    ]
                passed, latest = await self._store.drills(self._config.drill_playbook, staging)
                return [
                    judge_drill(
                        passed,
                        latest,
                        self._config.drill_playbook,
                        now,
                        ages.rollback_drill,
                        name_of,
                    )
                ]
            case "alert_pipeline":
                stored = await self._store.latest_evidence("alert_pipeline")
                return list(stored) or [
                    _unknown(item, "no trace has run: `/lucia gate trace`", now)
                ]
            case "incidents":
                facts = await self._store.incident_facts(now - self._config.incidents_within)
                return [judge_incidents(facts, now, ages.incidents)]
            case "backups":
                if self._checks.backups is None:
                    return [
                        _unknown(
                            item,
                            "not configured: set SUPABASE_ACCESS_TOKEN (Account → Access "
                            "Tokens) and SUPABASE_PROJECT_REF (the <ref> of <ref>.supabase.co)",
                            now,
                        )
                    ]
                try:
                    seen = await self._checks.backups.backups()
                except EvidenceUnavailable as exc:
                    return [
                        judge_backups(str(exc), pitr, now, self._config.backup_within, ages.backups)
                    ]
                return [judge_backups(seen, pitr, now, self._config.backup_within, ages.backups)]
        raise AssertionError(f"no check for gate item {item!r}")

    async def _service(self, name: str, now: datetime) -> Evidence:
        service = self._lucia.services[name]
        timeout = self._config.fetch_timeout.total_seconds()
        deploy: tuple[str, str] | str
        if self._checks.render is None:
            deploy = "RENDER_API_KEY isn't set"
        else:
            try:
                recent = await self._checks.render.deploys(service.render_service_id, limit=5)
                deploy = _serving(recent)
            except LuciaError as exc:
                deploy = str(exc)
        health: tuple[int, float] | str
        if service.health_url is None:
            health = "no health_url in lucia.yaml"
        else:
            # Redirects not followed: a health URL behind a sign-in page is no health.
            seen = await self._checks.probe.look(service.health_url, timeout)
            health = (
                (seen.status, seen.elapsed_ms)
                if seen.status is not None
                else f"no answer ({seen.problem})"
            )
        return judge_service(name, deploy, health, now, self._config.max_age.services)

    async def names(self) -> Callable[[UserId], str]:
        """People by the launch-gate table's names; anyone else by their id."""
        names = {
            e.contact.slack_user: e.contact.name
            for e in await self._table.owners()
            if e.contact is not None and e.contact.slack_user
        }
        return lambda user: names.get(user, user)


def _serving(recent: Sequence[RenderDeploy]) -> tuple[str, str] | str:
    """The deploy a service stands on: the newest, unless it is still going (this very
    gate may be its pre-deploy command), in which case the live one below it."""
    if not recent:
        return "no deploys yet"
    newest = recent[0]
    if newest.status.finished:
        return newest.id, newest.status.value
    live = next((d for d in recent if d.status is DeployStatus.LIVE), None)
    return (live.id, live.status.value) if live else (newest.id, newest.status.value)


def _unknown(item: str, reason: str, now: datetime) -> Evidence:
    return Evidence(item, item, Verdict.UNKNOWN, reason, now, None, "bot")


_REFRESH = {
    "owners": "/lucia gate test-page all",
    "references": "/lucia gate",
    "services": "/lucia gate",
    "rollback_drill": "/lucia playbook run drill <staging service>",
    "alert_pipeline": "/lucia gate trace",
    "incidents": "/lucia gate",
    "backups": "/lucia gate",
}
