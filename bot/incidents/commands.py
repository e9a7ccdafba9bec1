"""The `/lucia` command grammar: text in, a typed command out, or a `CommandError`
that says what was wrong and the right form.

Parsing is pure and front-agnostic: Slack's slash command, an @-mention and the local
shell all hand their text to `parse`.
"""

from __future__ import annotations

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "USAGE",
    "Acknowledge",
    "AcknowledgeNotice",
    "AcknowledgePage",
    "AddNote",
    "AlertCommand",
    "Command",
    "Help",
    "IncidentCommand",
    "LiftSilence",
    "ListAlerts",
    "ListIncidents",
    "Mitigate",
    "NoticeAction",
    "OpenIncident",
    "OpenIncidentFromNotice",
    "PageSomeone",
    "PagingCommand",
    "PostUpdate",
    "Reopen",
    "Resolve",
    "SetLead",
    "SetOwner",
    "SetRef",
    "SetSeverity",
    "SetStatus",
    "ShowIncident",
    "ShowOwners",
    "ShowRefs",
    "SilenceAlerts",
    "SilenceNotice",
    "parse",
    "usage",
]

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.errors import CommandError
from bot.incidents.lifecycle import WORKING_STATUSES
from bot.incidents.model import Severity, Status
from bot.incidents.plain_text import plain_text
from bot.types import UserId
from bot.vocabulary import EMAIL_ADDRESS, REFERENCE_KEYS, ROLES, parse_duration

MAX_TITLE = 150  # Slack's header block limit: the title must fit the card as typed
MAX_TEXT = 2900  # under Slack's 3,000-character section limit

USAGE = {
    "help": "/lucia help",
    "open": "/lucia incident open [sev1-4] <title>   (no title: a form)",
    "list": "/lucia incident list [--all]",
    "show": "/lucia incident show [#N]",
    "timeline": "/lucia incident timeline [#N]",
    "ack": "/lucia incident ack [#N]",
    "update": "/lucia incident update [#N] <text>",
    "status": "/lucia incident status [#N] investigating|identified|monitoring <text>",
    "sev": "/lucia incident sev [#N] <1-4>",
    "lead": "/lucia incident lead [#N] @user",
    "note": "/lucia incident note [#N] <text>",
    "mitigated": "/lucia incident mitigated [#N]",
    "resolve": "/lucia incident resolve [#N] [summary]",
    "reopen": "/lucia incident reopen [#N]",
    "alerts": "/lucia alerts",
    "silence": "/lucia alerts silence <A12|project> <duration: 30m, 2h, 1d> [reason]",
    "unsilence": "/lucia alerts unsilence <S3>",
    "page": "/lucia page <owner|infra|dns|billing|fallback|@user> [message]",
    "owners": "/lucia owners",
    "owners set": "/lucia owners set <role> @user [email] [phone]",
    "refs": "/lucia refs",
    "refs set": "/lucia refs set <key> <value>",
    "playbook": "/lucia playbook list | run <name> [service] [deploy-or-commit] [--dry-run]",
    "rollback": "/lucia rollback <service> [deploy-id] [--dry-run]",
    "deploys": "/lucia deploys <service>",
    "run": "/lucia playbook confirm|cancel|approve <R12>",
    "postmortem": "/lucia postmortem [#N]",
    "followup": "/lucia followup add [#N] <text> [@owner] | list [#N] | done <F3>",
}


def usage(name: str) -> str:
    return USAGE[name]


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OpenIncident:
    title: str | None  # None: ask with a form
    severity: Severity | None
    description: str = ""
    responders: tuple[UserId, ...] = ()  # invited to the channel with the opener


@dataclass(frozen=True)
class ListIncidents:
    include_closed: bool


@dataclass(frozen=True)
class IncidentCommand:
    number: int | None  # None: the incident of the channel the command was typed in


@dataclass(frozen=True)
class ShowIncident(IncidentCommand):
    with_timeline: bool


@dataclass(frozen=True)
class Acknowledge(IncidentCommand):
    pass


@dataclass(frozen=True)
class PostUpdate(IncidentCommand):
    text: str


@dataclass(frozen=True)
class SetStatus(IncidentCommand):
    status: Status
    text: str


@dataclass(frozen=True)
class SetSeverity(IncidentCommand):
    severity: Severity


@dataclass(frozen=True)
class SetLead(IncidentCommand):
    lead: UserId


@dataclass(frozen=True)
class AddNote(IncidentCommand):
    text: str


@dataclass(frozen=True)
class Mitigate(IncidentCommand):
    pass


@dataclass(frozen=True)
class Resolve(IncidentCommand):
    summary: str


@dataclass(frozen=True)
class Reopen(IncidentCommand):
    pass


@dataclass(frozen=True)
class ListAlerts:
    pass


@dataclass(frozen=True)
class SilenceAlerts:
    group_id: int | None  # one alert group (A12) ...
    project: str | None  # ... or every alert of a project
    duration: timedelta
    reason: str


@dataclass(frozen=True)
class LiftSilence:
    silence_id: int


@dataclass(frozen=True)
class NoticeAction:
    """A click on an alert notice's button (no text form)."""

    notice_id: int


@dataclass(frozen=True)
class AcknowledgeNotice(NoticeAction):
    pass


@dataclass(frozen=True)
class SilenceNotice(NoticeAction):
    duration: timedelta


@dataclass(frozen=True)
class OpenIncidentFromNotice(NoticeAction):
    pass


@dataclass(frozen=True)
class PageSomeone:
    target: str  # a role, or a Slack user id
    message: str  # as typed, Slack's markup kept: paging names its people for each channel
    is_role: bool


@dataclass(frozen=True)
class AcknowledgePage:
    """The Acknowledge button of a page's DM (no text form)."""

    page_id: int


@dataclass(frozen=True)
class ShowOwners:
    pass


@dataclass(frozen=True)
class SetOwner:
    role: str
    user: UserId
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class ShowRefs:
    pass


@dataclass(frozen=True)
class SetRef:
    key: str
    value: str


@dataclass(frozen=True)
class ListPlaybooks:
    pass


@dataclass(frozen=True)
class ShowDeploys:
    service: str


@dataclass(frozen=True)
class RunPlaybook:
    playbook: str
    service: str | None
    ref: str | None  # a deploy id to roll back to, or a commit to deploy
    dry_run: bool


@dataclass(frozen=True)
class DecideRun:
    """Confirm, cancel or approve a planned run (its buttons, or the text form)."""

    run_id: int
    decision: str  # "confirm" | "cancel" | "approve"


@dataclass(frozen=True)
class ExportPostmortem:
    number: int | None


@dataclass(frozen=True)
class AddFollowUp:
    number: int | None
    text: str
    owner: UserId | None


@dataclass(frozen=True)
class ListFollowUps:
    number: int | None


@dataclass(frozen=True)
class FinishFollowUp:
    followup_id: int


PostmortemCommand = ExportPostmortem | AddFollowUp | ListFollowUps | FinishFollowUp

PlaybookCommand = ListPlaybooks | ShowDeploys | RunPlaybook | DecideRun

PagingCommand = PageSomeone | AcknowledgePage | ShowOwners | SetOwner | ShowRefs | SetRef

AlertCommand = (
    ListAlerts
    | SilenceAlerts
    | LiftSilence
    | AcknowledgeNotice
    | SilenceNotice
    | OpenIncidentFromNotice
)

Command = (
    Help
    | ExportPostmortem
    | AddFollowUp
    | ListFollowUps
    | FinishFollowUp
    | ListPlaybooks
    | ShowDeploys
    | RunPlaybook
    | DecideRun
    | PageSomeone
    | AcknowledgePage
    | ShowOwners
    | SetOwner
    | ShowRefs
    | SetRef
    | ListAlerts
    | SilenceAlerts
    | LiftSilence
    | AcknowledgeNotice
    | SilenceNotice
    | OpenIncidentFromNotice
    | OpenIncident
    | ListIncidents
    | ShowIncident
    | Acknowledge
    | PostUpdate
    | SetStatus
    | SetSeverity
    | SetLead
    | AddNote
    | Mitigate
    | Resolve
    | Reopen
)

# How an incident is named: INC-12 (any case), #12, or a bare 12 where nothing else could
# stand there; "INC-12:" and "#12," work too (as typed before the text). A word that starts
# with INC- or # and isn't a number is a mistake, never text that silently lands on the
# channel's incident. Where a bare number could be the command's own value, it is that value:
# `incident sev 2` sets SEV2 (name the incident as #N or INC-N: `sev INC-3 2`), and the first
# word of free text (`update 3 pods restarted`) stays text, unless it is the only word
# (`resolve 3` resolves INC-3). The bare number is the incident in show, timeline, ack,
# mitigated, reopen, postmortem and followup list, before status's status word, and on
# either side of lead's @mention.
_REF_PREFIX = re.compile(r"#|inc-", re.IGNORECASE)
_REF_NUMBER = re.compile(r"(\d+)[:,]?")
_MAX_INCIDENT_DIGITS = 9  # the numbers are stored as a 32-bit integer
# "sev2", "SEV-9", "sev": meant as a severity (and checked); "severe" starts a title.
_SEVERITY_TOKEN = re.compile(r"sev[-_]?\d*:?", re.IGNORECASE)
# Slack escapes mentions as <@U123> or <@U123|name> (the manifest sets should_escape);
# the local shell writes <@name>.
_MENTION = re.compile(r"<@([\w.:-]+)(?:\|[^>]*)?>")


def parse(text: str) -> Command:
    head, rest = _split(text)
    match head.lower():
        case "" | "help":
            return Help()
        case "incident" | "inc" | "i":
            return _parse_incident(rest)
        case "alerts" | "alert":
            return _parse_alerts(rest)
        case "page":
            return _parse_page(rest)
        case "owners" | "owner":
            return _parse_owners(rest)
        case "refs" | "references":
            return _parse_refs(rest)
        case "playbook" | "playbooks":
            return _parse_playbook(rest)
        case "rollback":
            return _parse_run("rollback", rest, "rollback")
        case "postmortem" | "pm":
            number, rest = _take_ref(rest, "postmortem", bare=True)
            _no_more(rest, "postmortem")
            return ExportPostmortem(number)
        case "followup" | "followups" | "follow-up":
            return _parse_followup(rest)
        case "deploys":
            service, more = _split(rest)
            if not service or more:
                raise CommandError("Deploys of which service?", usage("deploys"))
            return ShowDeploys(service.lower())
        case _:
            raise CommandError(f"I don't know the command `{_clip(head)}`.", "/lucia help")


def _parse_incident(text: str) -> Command:
    sub, rest = _split(text)
    match sub.lower():
        case "" | "help":
            return Help()
        case "open" | "declare" | "new":
            return _parse_open(rest)
        case "list" | "ls":
            return _parse_list(rest)
        case "show" | "timeline":
            number, rest = _take_ref(rest, sub.lower(), bare=True)
            _no_more(rest, sub.lower())
            return ShowIncident(number, with_timeline=sub.lower() == "timeline")
        case "ack" | "acknowledge":
            number = _ref_only(rest, "ack")
            return Acknowledge(number)
        case "update":
            number, rest = _take_ref(rest, "update", bare=_lone(rest))
            return PostUpdate(number, _text(rest, "update", "What's the update?"))
        case "status":
            return _parse_status(rest)
        case "sev" | "severity":
            return _parse_severity(rest)
        case "lead":
            return _parse_lead(rest)
        case "note":
            number, rest = _take_ref(rest, "note", bare=_lone(rest))
            return AddNote(number, _text(rest, "note", "The note is empty."))
        case "mitigated" | "mitigate":
            return Mitigate(_ref_only(rest, "mitigated"))
        case "resolve" | "resolved":
            number, rest = _take_ref(rest, "resolve", bare=_lone(rest))
            return Resolve(number, _text(rest, "resolve", "", required=False))
        case "reopen":
            return Reopen(_ref_only(rest, "reopen"))
        case _:
            raise CommandError(
                f"`incident {_clip(sub)}` isn't a command I know. "
                "Try open, list, show, timeline, ack, update, status, sev, lead, note, "
                "mitigated, resolve or reopen.",
                "/lucia help",
            )


_GROUP = re.compile(r"A(\d{1,12})", re.IGNORECASE)
_SILENCE = re.compile(r"S?(\d{1,12})", re.IGNORECASE)
MAX_SILENCE = timedelta(days=30)


def _parse_alerts(text: str) -> Command:
    sub, rest = _split(text)
    match sub.lower():
        case "" | "list":
            return ListAlerts()
        case "silence":
            target, rest = _split(rest)
            span, rest = _split(rest)
            if not target or not span:
                raise CommandError("Silence what, and for how long?", usage("silence"))
            group = _GROUP.fullmatch(target)
            duration = _duration(span)
            reason = _text(rest, "silence", "", required=False)
            if group:
                return SilenceAlerts(int(group.group(1)), None, duration, reason)
            return SilenceAlerts(None, plain_text(target).lower(), duration, reason)
        case "unsilence":
            match = _SILENCE.fullmatch(rest.strip())
            if match is None:
                raise CommandError(
                    "Which silence? `/lucia alerts` lists them (S3…).", usage("unsilence")
                )
            return LiftSilence(int(match.group(1)))
        case _:
            raise CommandError(f"`alerts {_clip(sub)}` isn't a command I know.", usage("alerts"))


_EMAIL = re.compile(rf"(?:<mailto:[^|>]+\|)?({EMAIL_ADDRESS})>?")
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}")


def _parse_page(text: str) -> PageSomeone:
    target, rest = _split(text)
    if not target:
        raise CommandError(
            "Page whom? A role from the launch-gate table, or @someone.", usage("page")
        )
    _text(rest, "page", "", required=False)  # its length, as people read it
    message = rest.strip()
    if target.lower() in ROLES:
        return PageSomeone(target.lower(), message, is_role=True)
    mention = _MENTION.fullmatch(target)
    if mention is None:
        raise CommandError(
            f"`{_clip(target)}` is neither a role ({', '.join(ROLES)}) nor a @mention.",
            usage("page"),
        )
    return PageSomeone(mention.group(1), message, is_role=False)


def _parse_owners(text: str) -> ShowOwners | SetOwner:
    sub, rest = _split(text)
    if sub == "":
        return ShowOwners()
    if sub.lower() != "set":
        raise CommandError(f"`owners {_clip(sub)}` isn't a command I know.", usage("owners set"))
    words = rest.split()
    if len(words) < 2 or words[0].lower() not in ROLES:
        raise CommandError(
            f"Set which role to whom? Roles: {', '.join(ROLES)}.", usage("owners set")
        )
    mention = _MENTION.fullmatch(words[1])
    if mention is None:
        raise CommandError(
            f"`{_clip(words[1])}` isn't a @mention: type @ and pick the person.",
            usage("owners set"),
        )
    email = phone = None
    extra = " ".join(words[2:])
    for word in re.split(r"\s+(?=\S*@|\+)", extra) if extra else []:
        if found := _EMAIL.fullmatch(word.strip()):
            email = found.group(1)
        elif _PHONE.fullmatch(word.strip()):
            phone = word.strip()
        else:
            raise CommandError(
                f"`{_clip(word)}` is neither an e-mail address nor a phone number.",
                usage("owners set"),
            )
    return SetOwner(words[0].lower(), mention.group(1), email, phone)


def _parse_refs(text: str) -> ShowRefs | SetRef:
    sub, rest = _split(text)
    if sub == "":
        return ShowRefs()
    if sub.lower() != "set":
        raise CommandError(f"`refs {_clip(sub)}` isn't a command I know.", usage("refs set"))
    key, value = _split(rest)
    if key.lower() not in REFERENCE_KEYS:
        raise CommandError(
            f"`{_clip(key)}` isn't a reference. Keys: {', '.join(REFERENCE_KEYS)}.",
            usage("refs set"),
        )
    value = plain_text(value).strip()
    if not value:
        raise CommandError("Set it to what?", usage("refs set"))
    return SetRef(key.lower(), value)


_RUN = re.compile(r"R?(\d{1,12})", re.IGNORECASE)
_FOLLOWUP = re.compile(r"F?(\d{1,12})", re.IGNORECASE)


def _parse_followup(text: str) -> Command:
    sub, rest = _split(text)
    if _incident_number(sub, "followup", bare=True) is not None:  # `followup INC-3`: its list
        sub, rest = "list", text
    match sub.lower():
        case "" | "list" | "ls":
            number, rest = _take_ref(rest, "followup", bare=True)
            _no_more(rest, "followup")
            return ListFollowUps(number)
        case "add":
            number, rest = _take_ref(rest, "followup", bare=_lone(rest))
            words = rest.split()
            owner = None
            if words and (mention := _MENTION.fullmatch(words[-1])):
                owner, rest = mention.group(1), " ".join(words[:-1])
            return AddFollowUp(number, _text(rest, "followup", "What needs doing?"), owner)
        case "done":
            match = _FOLLOWUP.fullmatch(rest.strip())
            if match is None:
                raise CommandError("Which follow-up? (F3)", usage("followup"))
            return FinishFollowUp(int(match.group(1)))
        case _:
            raise CommandError(
                f"`followup {_clip(sub)}` isn't a command I know.", usage("followup")
            )


def _parse_playbook(text: str) -> Command:
    sub, rest = _split(text)
    match sub.lower():
        case "" | "list" | "ls":
            return ListPlaybooks()
        case "run":
            name, rest = _split(rest)
            if not name:
                raise CommandError("Run which playbook? `/lucia playbook list`", usage("playbook"))
            return _parse_run(name.lower(), rest, "playbook")
        case "confirm" | "cancel" | "approve":
            match = _RUN.fullmatch(rest.strip())
            if match is None:
                raise CommandError("Which run? (R12)", usage("run"))
            return DecideRun(int(match.group(1)), sub.lower())
        case _:
            raise CommandError(
                f"`playbook {_clip(sub)}` isn't a command I know.", usage("playbook")
            )


def _parse_run(name: str, text: str, form: str) -> RunPlaybook:
    words = text.split()
    dry_run = "--dry-run" in words
    words = [w for w in words if w != "--dry-run"]
    if len(words) > 2 or any(w.startswith("-") for w in words):
        raise CommandError(f"I didn't understand `{_clip(' '.join(words))}`.", usage(form))
    if form == "rollback" and not words:
        raise CommandError("Roll back which service?", usage("rollback"))
    service = words[0].lower() if words else None
    ref = words[1] if len(words) > 1 else None
    return RunPlaybook(name, service, ref, dry_run)


def _duration(text: str) -> timedelta:
    duration = parse_duration(text.lower(), units="mhd", max_digits=4)
    if duration is None:
        raise CommandError(
            f"`{_clip(text)}` isn't a duration like 30m, 2h or 1d.", usage("silence")
        )
    if not timedelta(0) < duration <= MAX_SILENCE:
        raise CommandError("A silence lasts between a minute and 30 days.", usage("silence"))
    return duration


def _parse_open(text: str) -> OpenIncident:
    first, rest = _split(text)
    severity = None
    if _SEVERITY_TOKEN.fullmatch(first):
        severity = Severity.parse(first.rstrip(":").replace("-", "").replace("_", ""))
        if severity is None:
            raise CommandError(
                f"`{_clip(first)}` isn't a severity: use sev1 (worst) to sev4.", usage("open")
            )
        text = rest
    if not text.strip():
        return OpenIncident(title=None, severity=severity)  # the front asks with a form
    title = " ".join(plain_text(text).split())
    if len(title) > MAX_TITLE:
        raise CommandError(
            f"That title is {len(title):,} characters; keep it to {MAX_TITLE} "
            "and put the details in `/lucia incident note`.",
            usage("open"),
        )
    return OpenIncident(title=title, severity=severity)


def _parse_list(text: str) -> ListIncidents:
    words = text.split()
    if words in ([], ["--all"], ["all"]):
        return ListIncidents(include_closed=bool(words))
    raise CommandError(f"`{_clip(text)}` isn't an option of list.", usage("list"))


def _parse_status(text: str) -> SetStatus:
    number, rest = _take_ref(text, "status", bare=True)  # a status is never a number
    word, rest = _split(rest)
    try:
        status = Status(word.lower())
    except ValueError:
        status = None
    if status not in WORKING_STATUSES:
        allowed = "|".join(s.value for s in WORKING_STATUSES)
        problem = "Which status?" if not word else f"`{_clip(word)}` isn't a status: use {allowed}."
        if status is Status.MITIGATED:
            problem = "Use `/lucia incident mitigated` to mark it mitigated."
        elif status is Status.RESOLVED:
            problem = "Use `/lucia incident resolve [summary]` to resolve it."
        raise CommandError(problem, usage("status"))
    assert status is not None
    return SetStatus(number, status, _text(rest, "status", "", required=False))


def _parse_severity(text: str) -> SetSeverity:
    number, rest = _take_ref(text, "sev", bare=False)  # `sev 2`: the severity
    word, rest = _split(rest)
    severity = Severity.parse(word)
    if severity is None:
        problem = "Which severity?" if not word else f"`{_clip(word)}` isn't a severity."
        raise CommandError(f"{problem} Use 1 (worst) to 4.", usage("sev"))
    if number is None and _REF_NUMBER.fullmatch(rest.strip()):  # `sev 2 3`
        raise CommandError(_two_numbers(word, rest.strip().rstrip(":,")), usage("sev"))
    if rest.strip():
        number = _trailing_ref(rest, "sev", number, bare=False)
    return SetSeverity(number, severity)


def _two_numbers(severity: str, other: str) -> str:
    severity, other = _clip(severity), _clip(other)
    if not severity.isdigit():
        return (
            f"`{other}` after the severity isn't an incident: write it as #{other} or INC-{other}."
        )
    return (
        f"Which is the incident, {severity} or {other}? A bare number after sev is the "
        f"severity: name the incident as #N or INC-N, `sev INC-{other} {severity}` "
        f"or `sev INC-{severity} {other}`."
    )


def _parse_lead(text: str) -> SetLead:
    number, rest = _take_ref(text, "lead", bare=True)  # a lead is a @mention
    word, rest = _split(rest)
    if not word:
        raise CommandError("Who should lead?", usage("lead"))
    mention = _MENTION.fullmatch(word)
    if mention is None:
        raise CommandError(
            f"I couldn't find a user for `{_clip(word)}`. "
            "Mention them so Slack completes the name (type @ and pick them).",
            usage("lead"),
        )
    if rest.strip():
        number = _trailing_ref(rest, "lead", number, bare=True)
    return SetLead(number, mention.group(1))


def _split(text: str) -> tuple[str, str]:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _take_ref(text: str, name: str, *, bare: bool) -> tuple[int | None, str]:
    """The incident named by the first word, if it names one, and the rest of the text.
    `bare`: whether a bare number there names the incident (see `_REF_PREFIX`)."""
    first, rest = _split(text)
    number = _incident_number(first, name, bare=bare) if first else None
    if number is None:
        return None, text
    return number, rest


def _lone(text: str) -> bool:
    """The whole text is one word: a bare number alone names the incident."""
    return len(text.split()) == 1


def _incident_number(word: str, name: str, *, bare: bool) -> int | None:
    """INC-12, #12 (and 12, when `bare`) → 12; None for a word that doesn't try to name an
    incident; a `CommandError` for one that tries and isn't a number we could have."""
    prefix = _REF_PREFIX.match(word)
    if prefix is not None:
        form = "#" if prefix.group() == "#" else "INC-"
        digits = _REF_NUMBER.fullmatch(word[prefix.end() :])
    elif bare and (digits := _REF_NUMBER.fullmatch(word)) is not None:
        form = "#"
    else:
        return None
    if digits is None:
        raise CommandError(
            f"`{_clip(word)}` isn't an incident number: write it as {form}N, for example {form}12.",
            usage(name),
        )
    significant = digits.group(1).lstrip("0")
    if not significant:
        raise CommandError(
            f"`{_clip(word)}` isn't an incident number: they start at {form}1.", usage(name)
        )
    if len(significant) > _MAX_INCIDENT_DIGITS:
        raise CommandError(
            f"`{_clip(word)}` is too big for an incident number: write it as {form}N, "
            f"for example {form}12.",
            usage(name),
        )
    return int(significant)


def _trailing_ref(text: str, name: str, number: int | None, *, bare: bool) -> int:
    """`sev 2 #3`, `lead @ana INC-3`: the incident may also follow the value."""
    words = text.split()
    found = _incident_number(words[0], name, bare=bare) if len(words) == 1 else None
    if number is not None or found is None:
        raise CommandError(f"I didn't understand `{_clip(text)}`.", usage(name))
    return found


def _ref_only(text: str, name: str) -> int | None:
    number, rest = _take_ref(text, name, bare=True)
    _no_more(rest, name)
    return number


def _no_more(text: str, name: str) -> None:
    if text.strip():
        raise CommandError(f"I didn't understand `{_clip(text)}`.", usage(name))


def _text(text: str, name: str, missing: str, *, required: bool = True) -> str:
    text = plain_text(text).strip()
    if required and not text:
        raise CommandError(missing, usage(name))
    if len(text) > MAX_TEXT:
        raise CommandError(
            f"That text is {len(text):,} characters; the limit is {MAX_TEXT:,}.", usage(name)
        )
    return text


def _clip(text: str, limit: int = 40) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"
