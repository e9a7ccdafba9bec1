"""`lucia-bot serve | shell | migrate | check-config`, run as a real process."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.store.migrate import head_revision

LUCIA_BOT = Path(sys.executable).with_name("lucia-bot")

VALID_YAML = textwrap.dedent(
    """\
    owners:
      owner:
        name: Lucia Founder
        slack: U0OWNER01
      infra:
        name: Ivan Infra
      dns:
    services:
      engine:
        render_service_id: srv-engine123
      admin:
        render_service_id: srv-admin456
    """
)


def clean_env(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A minimal environment: nothing of the developer's Lucia settings leaks in."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lucia.db'}",
        **variables,
    }


def run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, script: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [str(LUCIA_BOT)] if script else [sys.executable, "-m", "bot"]
    return subprocess.run(  # noqa: S603 - our own entry points
        [*command, *args],
        cwd=tmp_path,
        env=clean_env(tmp_path) if env is None else env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=45,
        check=False,
    )


# --- check-config -----------------------------------------------------------------------


def test_check_config_on_a_fresh_directory_is_ok(tmp_path: Path) -> None:
    result = run(tmp_path, "check-config")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "OK: environment is valid; no lucia.yaml: the launch-gate table is empty"
    )
    assert "0 owner roles, 0 services" in result.stdout
    assert "Slack: off" in result.stdout
    assert result.stderr == ""


def test_check_config_counts_what_lucia_yaml_configures(tmp_path: Path) -> None:
    (tmp_path / "lucia.yaml").write_text(VALID_YAML, encoding="utf-8")
    env = clean_env(
        tmp_path, SLACK_BOT_TOKEN="xoxb-1-2-abc", SLACK_SIGNING_SECRET="0123456789abcdef"
    )

    result = run(tmp_path, "check-config", env=env)

    assert result.returncode == 0, result.stderr
    assert "3 owner roles, 2 services" in result.stdout
    assert "Slack: http" in result.stdout


def test_check_config_reads_the_file_named_by_lucia_config(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "on-call.yaml").write_text(VALID_YAML, encoding="utf-8")
    env = clean_env(tmp_path, LUCIA_CONFIG="ops/on-call.yaml")

    result = run(tmp_path, "check-config", env=env)

    assert result.returncode == 0, result.stderr
    assert "ops/on-call.yaml is valid" in result.stdout
    assert "3 owner roles, 2 services" in result.stdout


def test_check_config_refuses_a_missing_lucia_config_file(tmp_path: Path) -> None:
    env = clean_env(tmp_path, LUCIA_CONFIG="ops/missing.yaml")

    result = run(tmp_path, "check-config", env=env)

    assert result.returncode == 2
    assert "ops/missing.yaml: file not found (LUCIA_CONFIG)" in result.stderr


def test_check_config_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    text = VALID_YAML.replace("render_service_id: srv-admin456", "render_service_id: admin")
    (tmp_path / "lucia.yaml").write_text(text, encoding="utf-8")
    bad_line = text.splitlines().index("    render_service_id: admin") + 1
    env = clean_env(tmp_path, PORT="70000", SLACK_BOT_TOKEN="xoxb-1-2-abc")

    result = run(tmp_path, "check-config", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "lucia-bot: 3 configuration problem(s):"
    assert "  env PORT: 70000 is not a TCP port" in lines
    assert any(line.startswith("  env SLACK_SIGNING_SECRET: is missing") for line in lines)
    assert any(
        line.startswith(f"  lucia.yaml:{bad_line}: services.admin.render_service_id")
        for line in lines
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_reports_the_lucia_config_file_beside_an_env_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "ops").mkdir()
    text = VALID_YAML.replace("render_service_id: srv-admin456", "render_service_id: admin")
    (tmp_path / "ops" / "on-call.yaml").write_text(text, encoding="utf-8")
    env = clean_env(tmp_path, PORT="0", LUCIA_CONFIG="ops/on-call.yaml")

    result = run(tmp_path, "check-config", env=env)

    assert result.returncode == 2
    assert "env PORT" in result.stderr
    assert "ops/on-call.yaml:" in result.stderr


# --- migrate ----------------------------------------------------------------------------


def test_migrate_creates_the_sqlite_file_and_prints_the_revision(tmp_path: Path) -> None:
    database = tmp_path / "data" / "lucia.db"
    env = clean_env(tmp_path, DATABASE_URL=f"sqlite:///{database}")

    result = run(tmp_path, "migrate", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Database schema is at revision {head_revision()}."
    assert database.is_file()
    with sqlite3.connect(database) as conn:
        (stored,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert stored == head_revision()
    assert {"incidents", "timeline_events"} <= tables


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    first = run(tmp_path, "migrate")
    second = run(tmp_path, "migrate")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_the_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    del env["DATABASE_URL"]

    result = run(tmp_path, "migrate", env=env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lucia.db").is_file()


# --- serve ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"SLACK_BOT_TOKEN": "xoxb-1-2-abc"}, "SLACK_SIGNING_SECRET", id="no-secret"),
        pytest.param(
            {"SLACK_SIGNING_SECRET": "0123456789abcdef"}, "SLACK_BOT_TOKEN", id="no-token"
        ),
        pytest.param({"SLACK_APP_TOKEN": "xapp-1-A1-2-abc"}, "SLACK_BOT_TOKEN", id="app-only"),
    ],
)
def test_serve_with_half_configured_slack_exits_2_instead_of_starting(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    env = clean_env(tmp_path, PORT="1", **variables)

    result = run(tmp_path, "serve", env=env)  # a server that started would time out

    assert result.returncode == 2
    assert result.stderr.startswith("lucia-bot: 1 configuration problem(s):")
    assert f"env {named}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lucia.db").exists()


def test_serve_with_a_broken_lucia_yaml_exits_2_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "lucia.yaml").write_text("owners:\n  infra:\n    name: Ivan: Infra\n")

    result = run(tmp_path, "serve")

    assert result.returncode == 2
    assert "lucia.yaml:3: not valid YAML" in result.stderr


# --- the entry points -------------------------------------------------------------------


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: lucia-bot ")
    for command in ("serve", "shell", "migrate", "check-config", "export", "gate"):
        assert f"\n    {command}" in result.stdout


def test_no_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path)

    assert result.returncode == 2
    assert "usage: lucia-bot" in result.stderr
    assert "COMMAND" in result.stderr


def test_an_unknown_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path, "start")

    assert result.returncode == 2
    assert "invalid choice: 'start'" in result.stderr


@pytest.mark.parametrize(
    "args", [("--help",), ("check-config",), ("migrate",), ("frobnicate",)], ids=" ".join
)
def test_python_dash_m_bot_works_like_the_console_script(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    assert LUCIA_BOT.is_file(), f"{LUCIA_BOT} is not installed"
    (tmp_path / "module").mkdir()
    (tmp_path / "script").mkdir()

    module = run(tmp_path / "module", *args, env=clean_env(tmp_path / "module"))
    script = run(tmp_path / "script", *args, env=clean_env(tmp_path / "script"), script=True)

    assert module.returncode == script.returncode
    assert module.stdout == script.stdout
    assert module.stderr == script.stderr


def test_migrate_does_not_need_the_config_file(tmp_path: Path) -> None:
    """Render's first deploy runs `migrate` before a secret file can exist."""
    env = clean_env(tmp_path, LUCIA_CONFIG=str(tmp_path / "secrets" / "lucia.yaml"))
    result = run(tmp_path, "migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Database schema is at revision {head_revision()}.\n"


def test_serve_without_its_config_file_starts_and_says_what_is_missing(tmp_path: Path) -> None:
    port = _free_port()
    missing = tmp_path / "secrets" / "lucia.yaml"
    env = clean_env(tmp_path, LUCIA_CONFIG=str(missing), PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert first["message"] == "config_file_missing"
    assert first["path"] == str(missing)
    assert "Secret Files" in first["hint"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql://bot:s3cr#t@db.example.com:5432/postgres",
            "env DATABASE_URL: has a `#` in it, which ends a URL: if it is in the password, "
            "percent-encode it in DATABASE_URL (# → %23",
        ),
        (
            "postgresql://bot:p@ss@db.example.com:5432/postgres",
            "env DATABASE_URL: has more than one `@` before the host",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check-config", "migrate"])
def test_a_database_url_that_needs_encoding_is_refused_in_one_line(
    tmp_path: Path, command: str, url: str, says: str
) -> None:
    result = run(tmp_path, command, env=clean_env(tmp_path, DATABASE_URL=url))
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 2  # the count, then the one problem


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("nonexistent_db", "database nonexistent_db: that database does not exist"),
        (None, "the connection was refused: check the host and port"),
    ],
)
def test_migrate_that_cannot_reach_postgres_says_where_and_why_in_one_line(
    tmp_path: Path, database: str | None, says: str
) -> None:
    url = (
        f"postgresql://postgres@127.0.0.1:5432/{database}"
        if database
        else f"postgresql://postgres@127.0.0.1:{_free_port()}/lucia"
    )
    result = run(tmp_path, "migrate", env=clean_env(tmp_path, DATABASE_URL=url))
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("lucia-bot migrate: can't use the database at 127.0.0.1:")
    assert says in line


def test_export_to_a_folder_that_does_not_exist_says_so_in_one_line(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "lucia.db") as db:
        db.execute(
            "INSERT INTO incidents (number, title, severity, status, opened_by, created_at,"
            " updated_at) VALUES (1, 'Down', 'sev2', 'investigating', 'U1', "
            "'2026-12-01 09:00:00', '2026-12-01 09:00:00')"
        )
    result = run(tmp_path, "export", "1", "--out", "/nonexistent/x.md")
    assert result.returncode == 1
    assert result.stderr == (
        "lucia-bot export: can't write /nonexistent/x.md: No such file or directory\n"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_check_config_finds_what_serve_would_accept_but_work_badly(tmp_path: Path) -> None:
    (tmp_path / "lucia.yaml").write_text(
        "owners:\n  infra:\n    name: Ivan Infra\n    email: ivan@lucia.example\n"
    )
    env = clean_env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-1-2-abc",
        SLACK_SIGNING_SECRET="s3cret",
        LUCIA_INCIDENTS_CHANNEL="#incidents",
        LUCIA_ALERTS_CHANNEL="C0ALERTS01",
    )
    result = run(tmp_path, "check-config", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "lucia-bot: 2 configuration problem(s):",
        "  env LUCIA_INCIDENTS_CHANNEL: `#incidents` looks like a channel name: give the "
        "channel's id, like C012ABCDEF (in Slack: the channel's name → About → Channel ID), "
        "which stays right when the channel is renamed",
        "  lucia.yaml: nobody can be paged: no role under `owners:` has a Slack user id, a "
        "push topic, or an e-mail address with SMTP_HOST set",
    ]


def test_check_config_refuses_a_malformed_sentry_dsn(tmp_path: Path) -> None:
    env = clean_env(tmp_path, SENTRY_DSN="https://o1.ingest.sentry.io/123")
    result = run(tmp_path, "check-config", env=env)
    assert result.returncode == 2
    assert "env SENTRY_DSN: isn't a Sentry DSN (Missing public key): copy it from" in result.stderr


@pytest.mark.parametrize(
    ("yaml_text", "says"),
    [
        (
            "owners:\n  infra:\n    name: Ivan\n    notes: 'token xoxb-1234-5678-abcdefgh'\n",
            "lucia.yaml:4: owners.infra.notes: looks like a secret (a token or key): never put "
            "one in lucia.yaml",
        ),
        (
            "services:\n  engine:\n    render_service_id: srv-abc\n"
            "    health_url: engine.lucia.example/healthz\n",
            "lucia.yaml:4: services.engine.health_url: `engine.lucia.example/healthz` needs a "
            "scheme and a host, like https://engine.lucia.example/healthz",
        ),
    ],
)
def test_check_config_names_a_secret_or_a_url_without_scheme(
    tmp_path: Path, yaml_text: str, says: str
) -> None:
    (tmp_path / "lucia.yaml").write_text(yaml_text)
    result = run(tmp_path, "check-config")
    assert result.returncode == 2
    assert f"  {says}" in result.stderr.splitlines()


def test_check_config_names_a_database_ca_file_that_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / "secrets" / "supabase-ca.crt"
    url = f"postgresql://bot@db.example:5432/postgres?sslmode=verify-full&sslrootcert={missing}"

    result = run(tmp_path, "check-config", env=clean_env(tmp_path, DATABASE_URL=url))

    assert result.returncode == 2
    assert f"env DATABASE_URL: sslrootcert={missing} is not a file here" in result.stderr
    missing.parent.mkdir()
    missing.write_text("-----BEGIN CERTIFICATE-----\n")
    assert run(tmp_path, "check-config", env=clean_env(tmp_path, DATABASE_URL=url)).returncode == 0
