"""`load_config`: lucia.yaml is validated at start, and a bad file says where and why."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import AdminViewConfig, load_config
from bot.errors import ConfigError
from bot.playbooks.model import load_playbooks
from bot.vocabulary import Role, Severity

FULL = textwrap.dedent(
    """\
    # Lucia's launch-gate table and on-call wiring.
    owners:
      owner:
        name: Lucia Founder
        slack: U0OWNER01
        email: founder@lucia.example
        phone: "+1 555 0100"
        push_topic: lucia-owner
        notes: decides go/no-go
      infra:
        name: Ivan Infra
        slack: U0INFRA01
        email: infra@lucia.example
      dns:
      billing:
        name: Bea Billing
        email: billing@lucia.example
      fallback:
        name: Fay Fallback
        slack: W0FALLBK1
        phone: "+1 555 0199"
    admins: [U0ADMIN01]
    references:
      staging_url: https://staging.lucia.example
      staging_api_url: https://api.staging.lucia.example
      production_app_url: https://app.lucia.example
      production_api_url: https://api.lucia.example
      status_page: https://status.lucia.example
      runbook: https://docs.lucia.example/runbook
      rollback_doc: https://docs.lucia.example/rollback
      vault_location: 1Password, vault "Lucia Ops"
    services:
      engine:
        render_service_id: srv-engine123
        health_url: https://api.lucia.example/healthz
      admin:
        render_service_id: srv-admin456
        production: false
    routing:
      - match:
          level: [fatal, error]
          environment: [production]
        action: incident
        severity: sev2
        page: [infra, owner]
      - match:
          project: [lucia-admin]
    escalation:
      sev1:
        steps:
          - roles: [infra]
            wait: 90s
          - roles: [owner, fallback]
            wait: 5m
          - roles: [fallback]
            wait: 1h
        repeat: 2
      sev2:
        steps:
          - roles: [infra]
            wait: 300
          - roles: [owner]
    """
)


def write(tmp_path: Path, text: str, name: str = "lucia.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line of `text` that contains `needle`."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


def changed(old: str, new: str) -> str:
    assert FULL.count(old) == 1, old
    return FULL.replace(old, new)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, required=True)
    return [str(problem) for problem in raised.value.problems]


# --- missing and empty files -----------------------------------------------------------


def test_a_missing_default_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "lucia.yaml", required=False)

    assert config.owners == {}
    assert config.services == {}
    assert config.routing == []
    assert config.escalation == {}
    assert config.references.runbook is None


def test_a_missing_required_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "ops" / "lucia.yaml"

    with pytest.raises(ConfigError) as raised:
        load_config(path, required=True)

    (problem,) = raised.value.problems
    assert problem.location == str(path)
    assert "not found" in problem.message
    assert "LUCIA_CONFIG" in problem.message


@pytest.mark.parametrize("text", ["", "# nothing configured yet\n"])
def test_an_empty_file_is_an_empty_config(tmp_path: Path, text: str) -> None:
    config = load_config(write(tmp_path, text), required=True)

    assert config.owners == {}
    assert config.services == {}


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "- owners\n- services\n")

    assert problems_of(path) == [f"{path}:1: must be a mapping of sections"]


def test_an_existing_default_file_is_validated_too(tmp_path: Path) -> None:
    path = write(tmp_path, changed("email: infra@lucia.example", "email: infra"))

    with pytest.raises(ConfigError):
        load_config(path, required=False)


# --- a full, valid file -----------------------------------------------------------------


def test_a_full_file_loads_to_the_right_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), required=True)

    assert set(config.owners) == set(Role)
    owner = config.owners[Role.OWNER]
    assert owner is not None
    assert owner.name == "Lucia Founder"
    assert owner.slack == "U0OWNER01"
    assert owner.email == "founder@lucia.example"
    assert owner.phone == "+1 555 0100"
    assert owner.push_topic == "lucia-owner"
    assert owner.notes == "decides go/no-go"
    billing = config.owners[Role.BILLING]
    assert billing is not None
    assert billing.slack is None
    assert billing.notes == ""
    fallback = config.owners[Role.FALLBACK]
    assert fallback is not None
    assert fallback.slack == "W0FALLBK1"
    assert config.admins == ["U0ADMIN01"]

    refs = config.references
    assert refs.staging_url == "https://staging.lucia.example"
    assert refs.staging_api_url == "https://api.staging.lucia.example"
    assert refs.production_app_url == "https://app.lucia.example"
    assert refs.production_api_url == "https://api.lucia.example"
    assert refs.status_page == "https://status.lucia.example"
    assert refs.runbook == "https://docs.lucia.example/runbook"
    assert refs.rollback_doc == "https://docs.lucia.example/rollback"
    assert refs.vault_location == '1Password, vault "Lucia Ops"'

    assert set(config.services) == {"engine", "admin"}
    assert config.services["engine"].render_service_id == "srv-engine123"
    assert config.services["engine"].health_url == "https://api.lucia.example/healthz"
    assert config.services["engine"].production is True
    assert config.services["admin"].render_service_id == "srv-admin456"
    assert config.services["admin"].health_url is None
    assert config.services["admin"].production is False

    first, second = config.routing
    assert first.match.level == ["fatal", "error"]
    assert first.match.environment == ["production"]
    assert first.action == "incident"
    assert first.severity is Severity.SEV2
    assert first.page == [Role.INFRA, Role.OWNER]
    assert second.match.project == ["lucia-admin"]
    assert second.action == "post"
    assert second.severity is None
    assert second.page == []

    assert set(config.escalation) == {Severity.SEV1, Severity.SEV2}
    sev1 = config.escalation[Severity.SEV1]
    assert [step.roles for step in sev1.steps] == [
        [Role.INFRA],
        [Role.OWNER, Role.FALLBACK],
        [Role.FALLBACK],
    ]
    assert [step.wait for step in sev1.steps] == [
        timedelta(seconds=90),
        timedelta(minutes=5),
        timedelta(hours=1),
    ]
    assert sev1.repeat == 2
    sev2 = config.escalation[Severity.SEV2]
    assert sev2.steps[0].wait == timedelta(seconds=300)  # a bare number is seconds
    assert sev2.steps[1].wait == timedelta(minutes=5)  # the default wait
    assert sev2.repeat == 0


def test_the_shipped_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "lucia.example.yaml"

    config = load_config(example, required=True)

    assert set(config.owners) == set(Role)
    assert config.owners[Role.DNS] is None
    assert set(config.services) == {"engine", "admin", "engine-staging"}
    assert set(config.escalation) == {Severity.SEV1, Severity.SEV2}


def test_an_empty_role_is_allowed_and_kept_as_a_gap(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), required=True)

    assert Role.DNS in config.owners
    assert config.owners[Role.DNS] is None


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("45", timedelta(seconds=45)),
        ("120", timedelta(minutes=2)),
        ("2.5", timedelta(seconds=2.5)),
        ("' 10 m '", timedelta(minutes=10)),
    ],
)
def test_durations(tmp_path: Path, written: str, expected: timedelta) -> None:
    path = write(tmp_path, changed("wait: 90s", f"wait: {written}"))

    config = load_config(path, required=True)

    assert config.escalation[Severity.SEV1].steps[0].wait == expected


@pytest.mark.parametrize("written", ["-5", "yes"])
def test_a_wait_that_is_not_a_positive_duration_is_refused(tmp_path: Path, written: str) -> None:
    text = changed("wait: 90s", f"wait: {written}")
    path = write(tmp_path, text)

    (problem,) = problems_of(path)

    assert problem.startswith(f"{path}:{line_of(text, f'wait: {written}')}: ")
    assert "escalation.sev1.steps.0.wait" in problem


# --- broken YAML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "bad_line"),
    [
        pytest.param(
            "name: Ivan Infra", "name: Ivan: Infra", "name: Ivan: Infra", id="colon-in-value"
        ),
        pytest.param(
            "  admin:\n    render_service_id: srv-admin456",
            "  admin:\n    render_service_id: srv-admin456\n   health_url: x",
            "   health_url: x",
            id="bad-indent",
        ),
        pytest.param("  sev2:\n", "  sev2:\n\t\n", "\t", id="tab"),
    ],
)
def test_broken_yaml_is_reported_with_its_line(
    tmp_path: Path, old: str, new: str, bad_line: str
) -> None:
    text = changed(old, new)
    path = write(tmp_path, text)

    (problem,) = problems_of(path)

    assert problem.startswith(f"{path}:{line_of(text, bad_line)}: not valid YAML: ")


def test_an_unclosed_quote_points_at_the_line_where_it_was_opened(tmp_path: Path) -> None:
    opened = 'runbook: "https://docs.lucia.example/runbook'
    text = changed("runbook: https://docs.lucia.example/runbook", opened)
    path = write(tmp_path, text)

    (problem,) = problems_of(path)

    line = line_of(text, opened)
    assert problem.startswith(f"{path}:{line}: ") or f"line {line}" in problem


def test_broken_yaml_says_what_is_wrong(tmp_path: Path) -> None:
    path = write(tmp_path, changed("name: Ivan Infra", "name: Ivan: Infra"))

    (problem,) = problems_of(path)

    assert "mapping values are not allowed here" in problem


# --- invalid values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "location", "says"),
    [
        pytest.param(
            "    email: founder@lucia.example",
            "    emial: founder@lucia.example",
            "owners.owner.emial",
            "isn't something lucia.yaml has here: check the spelling",
            id="typo-key",
        ),
        pytest.param(
            "  status_page: https://status.lucia.example",
            "  statuspage: https://status.lucia.example",
            "references.statuspage",
            "isn't something lucia.yaml has here: check the spelling",
            id="typo-reference",
        ),
        pytest.param(
            "    email: infra@lucia.example",
            "    email: infra at lucia.example",
            "owners.infra.email",
            "`infra at lucia.example` isn't an e-mail address like ana@example.com",
            id="bad-email",
        ),
        pytest.param(
            "    slack: U0INFRA01",
            "    slack: ivan",
            "owners.infra.slack",
            "`ivan` isn't a Slack user id like U012ABCDEF (in Slack: the person's profile",
            id="bad-slack-id",
        ),
        pytest.param(
            "    render_service_id: srv-admin456",
            "    render_service_id: lucia-admin",
            "services.admin.render_service_id",
            "isn't a Render service id like srv-abc123 (Render: the service → Settings",
            id="bad-render-service-id",
        ),
        pytest.param(
            "        wait: 5m",
            "        wait: five minutes",
            "escalation.sev1.steps.1.wait",
            "`five minutes` is not a duration like 90s, 5m or 1h",
            id="bad-duration",
        ),
        pytest.param(
            "      - roles: [owner, fallback]",
            "      - roles: [owner, sre]",
            "escalation.sev1.steps.1.roles.1",
            "'owner', 'infra', 'dns', 'billing' or 'fallback'",
            id="unknown-role-in-steps",
        ),
        pytest.param(
            "    page: [infra, owner]",
            "    page: [infra, cto]",
            "routing.0.page.1",
            "'owner', 'infra', 'dns', 'billing' or 'fallback'",
            id="unknown-role-paged",
        ),
        pytest.param(
            "    severity: sev2",
            "    severity: critical",
            "routing.0.severity",
            "'sev1', 'sev2', 'sev3' or 'sev4'",
            id="unknown-severity-in-routing",
        ),
        pytest.param(
            "    action: incident",
            "    action: page",
            "routing.0.action",
            "'post' or 'incident'",
            id="unknown-action",
        ),
        pytest.param(
            "    repeat: 2",
            "    repeat: 99",
            "escalation.sev1.repeat",
            "less than or equal to 10",
            id="too-many-repeats",
        ),
        pytest.param(
            "  dns:\n",
            "  domain:\n",
            "owners.domain",
            "'owner', 'infra', 'dns', 'billing' or 'fallback'",
            id="unknown-empty-role",
        ),
        pytest.param(
            "  billing:\n",
            "  finance:\n",
            "owners.finance",
            "'owner', 'infra', 'dns', 'billing' or 'fallback'",
            id="unknown-role",
        ),
        pytest.param(
            "  sev2:\n",
            "  sev9:\n",
            "escalation.sev9",
            "'sev1', 'sev2', 'sev3' or 'sev4'",
            id="unknown-severity-key",
        ),
    ],
)
def test_an_invalid_value_reports_its_line_and_dotted_location(
    tmp_path: Path, old: str, new: str, location: str, says: str
) -> None:
    text = changed(old, new)
    path = write(tmp_path, text)

    (problem,) = problems_of(path)

    assert problem.startswith(f"{path}:{line_of(text, new.strip())}: {location}")
    assert says in problem


def test_a_missing_name_is_reported_under_the_role(tmp_path: Path) -> None:
    text = changed("    name: Bea Billing\n", "")
    path = write(tmp_path, text)

    (problem,) = problems_of(path)

    assert problem.startswith(f"{path}:")
    assert "owners.billing.name: is required here" in problem


def test_every_problem_in_a_file_is_reported_each_with_its_line(tmp_path: Path) -> None:
    text = FULL.replace("    email: infra@lucia.example", "    email: infra").replace(
        "    render_service_id: srv-engine123", "    render_service_id: engine"
    )
    text = text.replace("        wait: 1h", "        wait: an hour")
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert len(problems) == 3, problems
    assert problems[0].startswith(f"{path}:{line_of(text, 'email: infra')}: owners.infra.email")
    assert problems[1].startswith(
        f"{path}:{line_of(text, 'id: engine')}: services.engine.render_service_id"
    )
    assert problems[2].startswith(
        f"{path}:{line_of(text, 'wait: an hour')}: escalation.sev1.steps.2.wait"
    )


def test_the_shipped_playbooks_all_load() -> None:
    folder = Path(__file__).resolve().parents[1] / "playbooks"

    shipped = load_playbooks(folder)

    assert shipped.problems == []
    assert set(shipped.playbooks) >= {
        "rollback",
        "restart",
        "redeploy",
        "suspend",
        "resume",
        "drill",
    }
    assert [s.kind for s in shipped.playbooks["rollback"].steps] == [
        "rollback",
        "autodeploy_off",
        "wait_live",
        "health_check",
    ]


def test_admin_view_roles_lose_their_org_prefix() -> None:
    view = AdminViewConfig(users=["user_1"], organization="org_1", roles=["org:admin", "oncall"])
    assert view.roles == ["admin", "oncall"]
