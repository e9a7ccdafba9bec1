"""`lucia.yaml`: the launch-gate table, references, services, routing, escalation, the
gate's phases and the status page.

Validated with pydantic; a bad file is reported problem by problem, each with its line.
It is over 400 lines on purpose: one schema, in the order of the file it reads, so a
section and its rules are found where lucia.example.yaml puts them.
"""

from __future__ import annotations

__all__ = [
    "AdminViewConfig",
    "AlertRoute",
    "AlertsConfig",
    "Duration",
    "EscalationPolicy",
    "EscalationStep",
    "LuciaConfig",
    "Owner",
    "PagingConfig",
    "PlaybooksConfig",
    "References",
    "Service",
    "load_config",
    "load_yaml",
]

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError, ConfigProblem
from bot.secret_shapes import looks_secret
from bot.vocabulary import EMAIL_ADDRESS, REFERENCE_KEYS, Role, Severity, parse_duration

M = TypeVar("M", bound=BaseModel)


def _duration(value: Any) -> Any:
    """`90s`, `5m`, `1h`, or a number of seconds; never negative."""
    if isinstance(value, bool):
        raise ValueError(f"`{value}` is not a duration like 90s, 5m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"`{value}` is negative: a wait can't be")
        return timedelta(seconds=value)
    if isinstance(value, str):
        duration = parse_duration(value, units="smh", bare="s")
        if duration is None:
            raise ValueError(f"`{value}` is not a duration like 90s, 5m or 1h")
        return duration
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _long_duration(value: Any) -> Any:
    """A `Duration` that may also be in days: `7d`, `26h`, `30m`."""
    if isinstance(value, str):
        duration = parse_duration(value, units="smhd", bare="s")
        if duration is None:
            raise ValueError(f"`{value}` is not a duration like 30m, 26h or 7d")
        return duration
    return _duration(value)


LongDuration = Annotated[timedelta, BeforeValidator(_long_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _slack_user(value: str) -> str:
    if not _SLACK_USER.fullmatch(value):
        raise ValueError(
            f"`{value}` isn't a Slack user id like U012ABCDEF "
            "(in Slack: the person's profile → ⋮ → Copy member ID)"
        )
    return value


def _email(value: str) -> str:
    if not re.fullmatch(EMAIL_ADDRESS, value):
        raise ValueError(f"`{value}` isn't an e-mail address like ana@example.com")
    return value


def _render_service(value: str) -> str:
    if not re.fullmatch(r"srv-[a-z0-9]+", value):
        raise ValueError(
            f"`{value}` isn't a Render service id like srv-abc123 "
            "(Render: the service → Settings → Service ID)"
        )
    return value


def _web_url(value: str) -> str:
    if not re.match(r"https?://[^/\s]+", value):
        raise ValueError(f"`{value}` needs a scheme and a host, like https://{value.strip('/')}")
    return value


def _no_secret(value: str) -> str:
    if looks_secret(value):
        raise ValueError("looks like a secret (a token or key): never put one in lucia.yaml")
    return value


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
SlackUser = Annotated[str, AfterValidator(_slack_user)]
FreeText = Annotated[str, AfterValidator(_no_secret)]


class Owner(_Model):
    name: FreeText
    slack: SlackUser | None = None
    email: Annotated[str, AfterValidator(_email)] | None = None
    phone: FreeText | None = None
    push_topic: FreeText | None = None
    notes: FreeText = ""


class _Pointers(_Model):
    """Where things are — never a secret itself (a token here is refused at start)."""

    @field_validator("*")
    @classmethod
    def _not_a_secret(cls, value: str | None) -> str | None:
        if value is not None and looks_secret(value):
            raise ValueError("looks like a secret: put where it lives (a vault path), not it")
        return value


# One optional text per key of the shared vocabulary, so the file and `/lucia refs set`
# know the same keys. mypy can't see fields made from a list: to it, this is `_Pointers`
# (the bot reads references with `model_dump`).
if TYPE_CHECKING:
    References = _Pointers
else:
    References = create_model(
        "References",
        __base__=_Pointers,
        __doc__=_Pointers.__doc__,
        __module__=__name__,
        **{key: (str | None, None) for key in REFERENCE_KEYS},
    )


class Service(_Model):
    render_service_id: Annotated[str, AfterValidator(_render_service)]
    health_url: Annotated[str, AfterValidator(_web_url)] | None = None
    production: bool = True


class AlertMatch(_Model):
    resource: list[str] = []
    level: list[str] = []
    project: list[str] = []
    environment: list[str] = []
    rule: list[str] = []
    tags: dict[str, str] = {}


class AlertRoute(_Model):
    match: AlertMatch = AlertMatch()
    action: Literal["post", "incident"] = "post"
    severity: Severity | None = None
    page: list[Role] = []

    @model_validator(mode="after")
    def _incident_needs_a_severity(self) -> AlertRoute:
        if self.action == "incident" and self.severity is None:
            raise ValueError("a route that opens an incident needs a severity (sev1-sev4)")
        return self


class EscalationStep(_Model):
    roles: list[Role] = Field(min_length=1)
    wait: Duration = timedelta(minutes=5)


class EscalationPolicy(_Model):
    steps: list[EscalationStep] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)
    # The emergency fallback contact closes the chain unless a step already pages it.
    close_with_fallback: bool = True


class PagingConfig(_Model):
    # One person is paged at most once in this window by escalations (a flapping alert
    # mustn't page them every minute); `/lucia page` by a person always goes through.
    throttle: Duration = timedelta(minutes=2)
    # A page being sent is leased to its sender for this long, renewed every quarter of it
    # while the send runs: a sender that stops (killed) leaves the page to another process
    # this soon after, which sends only the channels never attempted.
    send_lease: Duration = Field(default=timedelta(seconds=5), ge=timedelta(seconds=1))


class PlaybooksConfig(_Model):
    # Who may run a playbook that changes something, besides the launch-gate owners.
    responders: list[str] = []
    # A run whose bot stops renewing its lease (killed, crashed) for this long is marked
    # interrupted and its service lock freed; the lease is renewed every quarter of it.
    run_lease: Duration = Field(default=timedelta(minutes=2), ge=timedelta(seconds=1))


class AlertsConfig(_Model):
    """How alert groups reach Slack (Alertmanager's group_wait; Slack's update pace)."""

    group_wait: Duration = timedelta(seconds=10)
    update_interval: Duration = timedelta(seconds=5)


# The launch gate's built-in items, each a check the bot makes itself (bot/gate/).
GATE_ITEMS = (
    "owners",
    "references",
    "services",
    "rollback_drill",
    "alert_pipeline",
    "incidents",
    "backups",
)
GateItem = Literal[
    "owners",
    "references",
    "services",
    "rollback_drill",
    "alert_pipeline",
    "incidents",
    "backups",
]
# What an anonymous request to a reference must show (`gate.references` overrides).
Expectation = Literal["public", "private", "exists", "pointer"]
_GATE_NAME = r"[a-z0-9][a-z0-9_-]{0,39}"


class SignOffItem(_Model):
    """An item only a person can vouch for, signed with `/lucia gate sign <item> <note>`."""

    what: FreeText = ""  # what signing it means, shown on the gate
    roles: list[Role] = Field(default=[Role.OWNER], min_length=1)
    valid_for: LongDuration = Field(default=timedelta(days=30), alias="for")


class GatePhase(_Model):
    items: list[GateItem] = []
    signoffs: dict[Annotated[str, Field(pattern=_GATE_NAME)], SignOffItem] = {}
    pitr: bool = False  # the backups item needs point-in-time recovery on

    @model_validator(mode="after")
    def _no_twice(self) -> GatePhase:
        clash = set(self.items) & set(self.signoffs)
        if clash or len(set(self.items)) != len(self.items):
            raise ValueError("an item is named twice in this phase")
        return self


class MaxAge(_Model):
    """Evidence older than this is unknown ("stale")."""

    owners: LongDuration = timedelta(days=7)  # a test page acknowledged within
    references: LongDuration = timedelta(hours=1)
    services: LongDuration = timedelta(hours=1)
    rollback_drill: LongDuration = timedelta(days=14)
    alert_pipeline: LongDuration = timedelta(hours=24)
    incidents: LongDuration = timedelta(hours=1)
    backups: LongDuration = timedelta(hours=1)  # how long a look at the backup list holds


def _default_expectations() -> dict[str, Expectation]:
    return {
        "staging_url": "private",
        "staging_api_url": "private",
        "production_app_url": "public",
        "production_api_url": "public",
        "status_page": "public",
        "runbook": "exists",
        "rollback_doc": "exists",
        "vault_location": "pointer",
    }


class GateConfig(_Model):
    # Phases in order, each cumulative: GO needs every item of it and of the ones above.
    phases: dict[Annotated[str, Field(pattern=_GATE_NAME)], GatePhase] = {}
    recheck: LongDuration = Field(default=timedelta(hours=1), ge=timedelta(minutes=5))
    max_age: MaxAge = MaxAge()
    backup_within: LongDuration = timedelta(hours=26)  # the newest completed backup
    drill_playbook: str = "drill"
    incidents_within: LongDuration = timedelta(days=7)  # resolved SEV1/2 need a postmortem
    fetch_timeout: Duration = Field(default=timedelta(seconds=5), gt=timedelta(0))
    references: dict[str, Expectation] = Field(default_factory=_default_expectations)

    @field_validator("references")
    @classmethod
    def _known_references(cls, value: dict[str, Expectation]) -> dict[str, Expectation]:
        unknown = sorted(set(value) - set(REFERENCE_KEYS))
        if unknown:
            raise ValueError(
                f"no reference {', '.join(unknown)} (known: {', '.join(REFERENCE_KEYS)})"
            )
        return {**_default_expectations(), **value}


class StatusComponent(_Model):
    id: Annotated[str, Field(pattern=r"[a-z0-9][a-z0-9_-]{0,39}")]
    name: FreeText
    group: FreeText | None = None
    description: FreeText = ""
    service: str | None = None  # the `services:` entry it stands for


class StatusPageConfig(_Model):
    """The public status page (`/status`, `/api/v2/*.json`): what it is called, where it
    is, and the components it shows, in order."""

    name: FreeText = "Lucia"
    url: Annotated[str, AfterValidator(_web_url)] | None = None  # its public URL
    components: list[StatusComponent] = []

    @model_validator(mode="after")
    def _ids_once(self) -> StatusPageConfig:
        ids = [c.id for c in self.components]
        if len(set(ids)) != len(ids):
            raise ValueError("a component id is used twice")
        return self


def _org_role(role: str) -> str:
    # Session tokens v2 carry `admin`, v1 carried `org:admin`: compare without the prefix.
    return role.strip().removeprefix("org:")


class AdminViewConfig(_Model):
    """Who may enter `/admin`: Clerk user ids (`user_…`) or verified e-mails, or members of
    one Clerk organization holding one of `roles`."""

    users: list[FreeText] = []
    organization: FreeText | None = None  # a Clerk organization id (`org_…`)
    roles: list[Annotated[str, AfterValidator(_org_role)]] = ["admin"]


class LuciaConfig(_Model):
    owners: dict[Role, Owner | None] = {}
    # Who may change owners besides the owner: Slack user ids, or shell users (--user).
    admins: list[str] = []
    references: References = References()
    services: dict[str, Service] = {}
    routing: list[AlertRoute] = []
    escalation: dict[Severity, EscalationPolicy] = {}
    paging: PagingConfig = PagingConfig()
    playbooks: PlaybooksConfig = PlaybooksConfig()
    alerts: AlertsConfig = AlertsConfig()
    gate: GateConfig = GateConfig()
    status_page: StatusPageConfig = StatusPageConfig()
    admin_view: AdminViewConfig = AdminViewConfig()

    @model_validator(mode="after")
    def _components_name_services(self) -> LuciaConfig:
        unknown = [
            c.service
            for c in self.status_page.components
            if c.service is not None and c.service not in self.services
        ]
        if unknown:
            raise ValueError(
                f"status_page components name services lucia.yaml doesn't have: "
                f"{', '.join(unknown)}"
            )
        return self


def load_config(path: Path, *, required: bool) -> LuciaConfig:
    """Read and validate the file; a missing file is an empty table unless `required`."""
    if not path.exists():
        if required:
            raise ConfigError([ConfigProblem(str(path), "file not found (LUCIA_CONFIG)")])
        return LuciaConfig()
    return load_yaml(path, LuciaConfig, what="sections")


def load_yaml(path: Path, model: type[M], *, what: str) -> M:
    """A YAML file validated by `model`; every problem named with its line (ConfigError)."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(path, text, exc)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(f"{path}:1", f"must be a mapping of {what}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    f"{path}:{_line_of(root, err['loc'])}",
                    f"{'.'.join(str(p) for p in err['loc'] if p != '[key]')}: "
                    f"{_PLAIN.get(err['type'], err['msg'].removeprefix('Value error, '))}",
                )
                for err in exc.errors()
            ]
        ) from None


# pydantic's words for what people get wrong most, in the file's terms.
_PLAIN = {
    "extra_forbidden": "isn't something lucia.yaml has here: check the spelling",
    "missing": "is required here",
}


def _yaml_problem(path: Path, text: str, exc: yaml.YAMLError) -> ConfigProblem:
    """Where PyYAML noticed the problem, and where the construct it was reading began.
    An unclosed quote is noticed lines after it was opened, so that line is named too."""
    mark = getattr(exc, "problem_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        reason += f" ({context} that starts at line {context_mark.line + 1})"
    if mark is not None:
        quote_line = _unclosed_quote_line(text, mark.line)
        if quote_line is not None:
            reason += f"; is the quote opened on line {quote_line} closed?"
    line = f":{mark.line + 1}" if mark else ""
    return ConfigProblem(f"{path}{line}", f"not valid YAML: {reason}")


_OPENS_QUOTE = re.compile(r"""^\s*(?:-\s+|[^#"']*?:\s+)(["'])(.*)$""")


def _unclosed_quote_line(text: str, before: int) -> int | None:
    """The first line whose value opens a quote that the same line doesn't close."""
    for number, line in enumerate(text.splitlines()[:before], start=1):
        match = _OPENS_QUOTE.match(line)
        if match and match.group(1) not in match.group(2):
            return number
    return None


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest YAML node along a pydantic error location."""
    line = node.start_mark.line + 1 if node else 1
    for index, part in enumerate(loc):
        child = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            if index + 1 < len(loc) and loc[index + 1] == "[key]":
                return int(pair[0].start_mark.line) + 1  # the key itself is wrong
            child = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
