"""Each built-in check's judgement: what was seen → `Evidence`, pass / fail / unknown with a
reason in plain words. Pure functions of what the service gathered, and of the time."""

from __future__ import annotations

__all__ = [
    "DrillRecord",
    "IncidentFacts",
    "judge_backups",
    "judge_drill",
    "judge_incidents",
    "judge_owner",
    "judge_reference",
    "judge_service",
    "judge_signoff",
    "judge_trace",
]

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.durations import age_words, spoken_duration
from bot.gate.model import Evidence, SignOff, Verdict
from bot.gate.ports import BackupList, UrlSeen
from bot.gate.trace import Hop, TraceResult
from bot.paging.delivery import channel_name
from bot.paging.model import OwnerEntry
from bot.paging.test_pages import TestPageRecord
from bot.types import JSONValue, UserId

_SIGN_IN = ("login", "signin", "sign-in", "sign_in", "auth", "sso", "oauth", "access")


def judge_owner(
    entry: OwnerEntry,
    channels: Collection[str],
    test_page: TestPageRecord | None,
    now: datetime,
    max_age: timedelta,
) -> Evidence:
    role = entry.role.value

    def said(
        verdict: Verdict,
        reason: str,
        at: datetime = now,
        seen: Mapping[str, JSONValue] | None = None,
    ) -> Evidence:
        expires = at + max_age if verdict is Verdict.PASS else None
        return Evidence("owners", role, verdict, reason, at, expires, "database", seen or {})

    if entry.contact is None:
        return said(Verdict.FAIL, f"nobody holds {role}: `/lucia owners set {role} @user`")
    contact = entry.contact
    if not contact.reachable_by(channels):
        gaps = "; ".join(entry.gaps(channels))
        return said(Verdict.FAIL, f"{contact.name} can't be reached by this bot ({gaps})")
    refresh = f"`/lucia gate test-page {role}`"
    if test_page is None:
        return said(Verdict.UNKNOWN, f"{contact.name} has had no test page: {refresh}")
    channels_said = (
        ", ".join(f"{channel_name(c)} {r}" for c, r in sorted(test_page.deliveries.items()))
        or "no channel reached them"
    )
    seen: dict[str, JSONValue] = {
        "page": test_page.page_id,
        "deliveries": dict(test_page.deliveries),
    }
    if test_page.acknowledged_at is None:
        age = age_words(now - test_page.sent_at)
        return said(
            Verdict.FAIL if now - test_page.sent_at > timedelta(minutes=30) else Verdict.UNKNOWN,
            f"{contact.name} hasn't acknowledged the test page sent {age} ago ({channels_said})",
            seen=seen,
        )
    return said(
        Verdict.PASS,
        f"{contact.name} acknowledged a test page ({channels_said})",
        test_page.acknowledged_at,
        seen,
    )


def judge_reference(
    key: str,
    value: str | None,
    expectation: str,
    seen: UrlSeen | None,
    now: datetime,
    max_age: timedelta,
) -> Evidence:
    """`public`: 2xx to anyone. `private`: refused (401/403) or sent to a sign-in page, a
    200 is a fail. `exists`: 2xx, or a sign-in page. `pointer`: only filled, never fetched."""

    def said(verdict: Verdict, reason: str, source: str = "http") -> Evidence:
        facts: dict[str, JSONValue] = {"url": value}
        if seen is not None:
            facts.update(status=seen.status, location=seen.location, ms=round(seen.elapsed_ms))
        return Evidence("references", key, verdict, reason, now, now + max_age, source, facts)

    if not value:
        return said(Verdict.FAIL, f"not filled in: `/lucia refs set {key} <value>`", "database")
    if expectation == "pointer":
        return said(Verdict.PASS, "filled in (a pointer: never fetched)", "database")
    if seen is None or seen.status is None:
        problem = seen.problem if seen is not None else "not fetched"
        return said(Verdict.UNKNOWN, f"no answer: {problem}")
    status = seen.status
    to_sign_in = 300 <= status < 400 and _is_sign_in(seen.location)
    where = f" to {seen.location}" if seen.location else ""
    match expectation:
        case "public":
            if 200 <= status < 300:
                return said(Verdict.PASS, f"answers {status} to anyone")
            return said(Verdict.FAIL, f"answers {status}{where}: it must answer 2xx publicly")
        case "private":
            if status in (401, 403):
                return said(Verdict.PASS, f"refuses anonymous requests ({status})")
            if to_sign_in:
                return said(Verdict.PASS, f"sends anonymous requests to sign in ({status}{where})")
            if 200 <= status < 300:
                return said(
                    Verdict.FAIL, f"answers {status} to anyone: staging is publicly reachable"
                )
            return said(
                Verdict.FAIL, f"answers {status}{where}: expected 401/403 or a sign-in page"
            )
        case _:  # exists
            if 200 <= status < 300:
                return said(Verdict.PASS, f"exists ({status})")
            if to_sign_in:
                return said(Verdict.PASS, f"exists behind a sign-in ({status}{where})")
            return said(Verdict.FAIL, f"answers {status}{where}: expected 2xx or a sign-in page")


def _is_sign_in(location: str | None) -> bool:
    if not location:
        return False
    parts = urlsplit(location)
    host, path = parts.hostname or "", parts.path.lower()
    return host.endswith(".cloudflareaccess.com") or any(w in path for w in _SIGN_IN)


def judge_service(
    name: str,
    deploy: tuple[str, str] | str,  # (deploy id, status), or why it couldn't be read
    health: tuple[int, float] | str,  # (status, ms), or why it couldn't be fetched
    now: datetime,
    max_age: timedelta,
) -> Evidence:
    facts: dict[str, JSONValue] = {}
    problems: list[str] = []
    unknowns: list[str] = []
    said: list[str] = []
    if isinstance(deploy, str):
        unknowns.append(f"Render: {deploy}")
    else:
        deploy_id, status = deploy
        facts.update(deploy=deploy_id, deploy_status=status)
        (said if status == "live" else problems).append(f"latest deploy {deploy_id} is {status}")
    if isinstance(health, str):
        unknowns.append(f"health: {health}")
    else:
        code, ms = health
        facts.update(health_status=code, health_ms=round(ms))
        (said if 200 <= code < 300 else problems).append(f"health answers {code}")
    verdict = Verdict.FAIL if problems else Verdict.UNKNOWN if unknowns else Verdict.PASS
    reason = "; ".join(problems or unknowns or said)
    return Evidence("services", name, verdict, reason, now, now + max_age, "render", facts)


@dataclass(frozen=True)
class DrillRecord:
    run_id: int
    service: str
    state: str  # a RunState value
    requested_by: UserId
    finished_at: datetime
    seconds: float | None
    result: str


def judge_drill(
    passed: DrillRecord | None,
    latest: DrillRecord | None,
    playbook: str,
    now: datetime,
    max_age: timedelta,
    name_of: Callable[[UserId], str] = str,
) -> Evidence:
    """The newest passed drill on a non-production service; a later one that didn't pass
    is said, since it is the newest truth about the rollback path. People are named by
    `name_of` (the launch-gate table's names: reasons are read on every surface)."""
    refresh = f"`/lucia playbook run {playbook} <staging service>`"
    if latest is not None and (passed is None or latest.finished_at > passed.finished_at):
        return Evidence(
            "rollback_drill",
            latest.service,
            Verdict.FAIL,
            f"the last drill (run {latest.run_id}, {latest.service}) ended {latest.state}: "
            f"{latest.result or 'no result'}; run it again: {refresh}",
            latest.finished_at,
            None,
            "database",
            {"run": latest.run_id, "state": latest.state},
        )
    if passed is None:
        return Evidence(
            "rollback_drill",
            "rollback_drill",
            Verdict.UNKNOWN,
            f"no drill has passed on a non-production service: {refresh}",
            now,
            None,
            "database",
        )
    took = f" in {spoken_duration(timedelta(seconds=passed.seconds))}" if passed.seconds else ""
    return Evidence(
        "rollback_drill",
        passed.service,
        Verdict.PASS,
        f"drill run {passed.run_id} passed{took} (live and healthy both ways), run by "
        f"{name_of(passed.requested_by)}",
        passed.finished_at,
        passed.finished_at + max_age,
        "database",
        {"run": passed.run_id, "seconds": passed.seconds, "by": passed.requested_by},
    )


@dataclass(frozen=True)
class IncidentFacts:
    open_serious: Sequence[tuple[int, str]]  # (number, severity) of open SEV1/SEV2
    without_postmortem: Sequence[int]  # resolved SEV1/SEV2 in the window, never exported
    blocking_followups: Sequence[tuple[int, int, str]]  # (id, incident, text) not done


def judge_incidents(facts: IncidentFacts, now: datetime, max_age: timedelta) -> Evidence:
    problems = [
        *(f"INC-{n} ({sev.upper()}) is open" for n, sev in facts.open_serious),
        *(
            f"INC-{n} has no exported postmortem: `/lucia postmortem #{n}`"
            for n in facts.without_postmortem
        ),
        *(
            f"blocking follow-up F{i} of INC-{n} isn't done: {t}"
            for i, n, t in facts.blocking_followups
        ),
    ]
    seen: dict[str, JSONValue] = {
        "open": [n for n, _ in facts.open_serious],
        "without_postmortem": list(facts.without_postmortem),
        "blocking_followups": [i for i, _, _ in facts.blocking_followups],
    }
    if problems:
        return Evidence(
            "incidents",
            "incidents",
            Verdict.FAIL,
            "; ".join(problems),
            now,
            now + max_age,
            "database",
            seen,
        )
    return Evidence(
        "incidents",
        "incidents",
        Verdict.PASS,
        "no open SEV1/SEV2; every recent one has its postmortem; no blocking follow-up open",
        now,
        now + max_age,
        "database",
        seen,
    )


def judge_backups(
    seen: BackupList | str,  # the list, or why it couldn't be read
    pitr_required: bool,
    now: datetime,
    within: timedelta,
    max_age: timedelta,
) -> Evidence:
    def said(verdict: Verdict, reason: str, **facts: JSONValue) -> Evidence:
        return Evidence(
            "backups", "backups", verdict, reason, now, now + max_age, "supabase", facts
        )

    if isinstance(seen, str):
        return said(Verdict.UNKNOWN, seen)
    facts: dict[str, JSONValue] = {"pitr_enabled": seen.pitr_enabled, "region": seen.region}
    newest = max(seen.backups, key=lambda b: b.inserted_at, default=None)
    problems: list[str] = []
    if pitr_required and not seen.pitr_enabled:
        problems.append("point-in-time recovery is off, and this phase needs it")
    last: datetime | None = None
    if newest is not None:
        facts.update(backup=newest.id, status=newest.status, at=newest.inserted_at.isoformat())
        if newest.status != "COMPLETED":
            problems.append(
                f"the newest backup ({newest.inserted_at:%Y-%m-%d %H:%M}) is {newest.status}"
            )
        else:
            last = newest.inserted_at
    if seen.pitr_enabled and seen.latest_physical_backup is not None:
        physical = seen.latest_physical_backup
        facts.update(latest_physical=physical.isoformat())
        last = physical if last is None else max(last, physical)
    if last is None and not problems:
        problems.append("Supabase lists no completed backup")
    elif last is not None and now - last > within:
        problems.append(
            f"the newest completed backup is {age_words(now - last)} old "
            f"(at most {age_words(within)})"
        )
    if problems:
        return said(Verdict.FAIL, "; ".join(problems), **facts)
    assert last is not None
    pitr = ", point-in-time recovery on" if seen.pitr_enabled else ""
    return said(Verdict.PASS, f"newest backup completed {age_words(now - last)} ago{pitr}", **facts)


def judge_signoff(
    item: str,
    roles: Sequence[str],
    signed: SignOff | None,
    now: datetime,
    name_of: Callable[[UserId], str] = str,
) -> Evidence:
    who = " or ".join(roles)
    if signed is None:
        return Evidence(
            item,
            item,
            Verdict.UNKNOWN,
            f"nobody has signed it: `/lucia gate sign {item} <note>` ({who})",
            now,
            None,
            "person",
        )
    return Evidence(
        item,
        item,
        Verdict.PASS,
        f"signed by {name_of(signed.signed_by)}: {signed.note}",
        signed.signed_at,
        signed.expires_at,
        "person",
        {"signoff": signed.id, "by": signed.signed_by},
    )


def _hop_said(hop: Hop) -> str:
    after = f" +{hop.after_ms / 1000:.1f} s" if hop.after_ms is not None else ""
    return f"{hop.name}{after}" + ("" if hop.seen else f" not seen ({hop.detail})")


def judge_trace(result: TraceResult, max_age: timedelta) -> Evidence:
    """A trace passes when every hop was seen. The public URL not accepting it is unknown
    (the bot may be fine, the path to it isn't shown); a later hop unseen is a fail."""
    said = "; ".join(_hop_said(h) for h in result.hops)
    accepted = next((h for h in result.hops if h.name == "accepted"), None)
    if result.passed:
        verdict, reason = Verdict.PASS, f"every hop seen: {said}"
    elif accepted is None or not accepted.seen:
        verdict = Verdict.UNKNOWN
        reason = f"the public URL didn't accept the synthetic alert: {said}"
    else:
        verdict, reason = Verdict.FAIL, f"the alert stopped on its way: {said}"
    expires = result.started_at + max_age if verdict is Verdict.PASS else None
    return Evidence(
        "alert_pipeline",
        "alert_pipeline",  # one trace stands for the whole item
        verdict,
        reason,
        result.started_at,
        expires,
        "synthetic alert",
        result.to_json(),
    )
