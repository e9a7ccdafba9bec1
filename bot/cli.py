"""`lucia-bot serve | shell | migrate | check-config | export | gate` (also `python -m bot`)."""

from __future__ import annotations

__all__ = ["main"]

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from bot import log_messages as msg
from bot.app import build_runtime
from bot.config import LuciaConfig, load_config
from bot.console.chat import ConsoleChat
from bot.console.render import reply_text
from bot.errors import ConfigError, ConfigProblem, StoreUnavailable, UserError
from bot.gate.model import GO
from bot.gate.replies import GateReport
from bot.logs import configure_logging
from bot.observability import init_sentry
from bot.postmortem.export import postmortem_json, postmortem_markdown
from bot.preflight import preflight
from bot.server import serve
from bot.settings import Settings, load_settings
from bot.shell_session import run_shell
from bot.store.database import create_engine, driver_url
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.store.postmortem_store import SqlPostmortemStore
from bot.store.reach import connection_problem

log = logging.getLogger(__name__)

# What connecting, migrating or reading can raise when the database isn't what the URL says.
DATABASE_ERRORS = (StoreUnavailable, sa.exc.SQLAlchemyError, OSError, TimeoutError)
CONFIG_HINT = (
    "the launch-gate table, services and routing stay empty until it exists: add it "
    "(on Render: Environment → Secret Files) and restart; `lucia-bot check-config` checks it"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lucia-bot", description="Lucia's on-call bot.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="run the HTTP server (Slack, health checks)")
    shell = sub.add_parser("shell", help="a local chat console against the same core")
    shell.add_argument("--user", default=None, help="who you are in the shell")
    shell.add_argument(
        "--deliver",
        action="store_true",
        help="send pages for real (without it they are shown in the terminal, not sent)",
    )
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("check-config", help="validate lucia.yaml and the environment")
    export = sub.add_parser("export", help="an incident's postmortem, from the database")
    export.add_argument("number", type=int, help="the incident number (N of INC-N)")
    export.add_argument("--format", choices=("md", "json"), default="md")
    export.add_argument("--out", type=Path, default=None, help="write here, not to stdout")
    gate = sub.add_parser(
        "gate",
        help="the launch gate's verdict: exit 0 on GO, 1 on NO-GO, 2 when it can't be evaluated",
    )
    gate.add_argument("--phase", default=None, help="the phase (default: the last one)")
    gate.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)

    try:
        # Only check-config insists on the file LUCIA_CONFIG names: on Render it is a
        # secret file added once the service exists, after the first deploy's migrate.
        settings, config = _load(config_required=args.command == "check-config")
    except ConfigError as exc:
        _print_problems(exc.problems)
        return 2
    try:
        return _run(args, settings, config)
    except DATABASE_ERRORS as exc:
        url = driver_url(settings.database_url)
        print(f"lucia-bot {args.command}: {connection_problem(url, exc)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings, config: LuciaConfig) -> int:
    match args.command:
        case "check-config":
            if problems := preflight(settings, config):
                _print_problems(problems)
                return 2
            print(_summary(settings, config))
            return 0
        case "migrate":
            configure_logging(settings.log_level)
            revision = asyncio.run(_migrate(settings))
            print(f"Database schema is at revision {revision}.")
            return 0
        case "serve":
            configure_logging(settings.log_level)
            init_sentry(settings)
            if not settings.lucia_config.exists():
                log.warning(
                    msg.CONFIG_FILE_MISSING,
                    extra={"path": str(settings.lucia_config), "hint": CONFIG_HINT},
                )
            try:
                serve(settings, config)
            except ConfigError as exc:  # found while starting: Slack refused the token, say
                _print_problems(exc.problems)
                return 2
            return 0
        case "export":
            configure_logging("WARNING")
            text = asyncio.run(_export(settings, args.number, args.format))
            if text is None:
                print(f"lucia-bot: there is no incident #{args.number}", file=sys.stderr)
                return 1
            if args.out is None:
                sys.stdout.write(text)
                return 0
            try:
                args.out.write_text(text, encoding="utf-8")
            except OSError as exc:
                print(f"lucia-bot export: can't write {args.out}: {exc.strerror}", file=sys.stderr)
                return 1
            print(f"Wrote INC-{args.number}'s postmortem to {args.out}.", file=sys.stderr)
            return 0
        case "gate":
            configure_logging("WARNING")
            return asyncio.run(_gate(settings, config, args.phase, args.format))
        case "shell":
            user = args.user or os.environ.get("USER") or getpass.getuser()
            return run_shell(settings, config, user=user, deliver=args.deliver)
    return 2


def _load(*, config_required: bool) -> tuple[Settings, LuciaConfig]:
    """Settings and config together, so check-config reports every problem at once."""
    problems: list[ConfigProblem] = []
    settings: Settings | None = None
    try:
        settings = load_settings()
    except ConfigError as exc:
        problems += exc.problems
    if settings is not None:
        config_path, explicit = settings.lucia_config, settings.config_path_is_explicit
    else:  # the environment has problems: still check the file LUCIA_CONFIG names
        named = os.environ.get("LUCIA_CONFIG", "").strip()
        config_path, explicit = Path(named or "lucia.yaml"), bool(named)
    required = explicit and config_required
    try:
        config = load_config(config_path, required=required)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    assert settings is not None
    return settings, config


def _summary(settings: Settings, config: LuciaConfig) -> str:
    if settings.lucia_config.exists():
        source = f"{settings.lucia_config} is valid"
    else:
        source = f"no {settings.lucia_config}: the launch-gate table is empty"
    return (
        f"OK: environment is valid; {source} ({len(config.owners)} owner roles, "
        f"{len(config.services)} services). Slack: {settings.slack_mode.value}."
    )


def _print_problems(problems: list[ConfigProblem]) -> None:
    print(f"lucia-bot: {len(problems)} configuration problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


async def _migrate(settings: Settings) -> str:
    engine = create_engine(driver_url(settings.database_url), max_connections=1)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()


async def _export(settings: Settings, number: int, form: str) -> str | None:
    """Read-only: a schema behind this code is reported, never upgraded from here."""
    engine = create_engine(driver_url(settings.database_url), max_connections=1)
    try:
        if await current_revision(engine) != head_revision():
            raise SystemExit(
                "lucia-bot: the database schema isn't current: run `lucia-bot migrate`"
            )
        data = await SqlPostmortemStore(engine).gather(number)
    finally:
        await engine.dispose()
    if data is None:
        return None
    return postmortem_json(data) if form == "json" else postmortem_markdown(data)


async def _gate(settings: Settings, config: LuciaConfig, phase: str | None, form: str) -> int:
    """GO → 0, NO-GO → 1; 2 when there is no verdict (no phases, no database)."""
    try:
        report = await _gate_report(settings, config, phase)
    except UserError as exc:
        print(f"lucia-bot gate: {exc}", file=sys.stderr)
        return 2
    except DATABASE_ERRORS as exc:  # at start or mid-check: no verdict, which is not a NO-GO
        url = driver_url(settings.database_url)
        print(f"lucia-bot gate: {connection_problem(url, exc)}", file=sys.stderr)
        return 2
    if form == "json":
        print(json.dumps(report.evaluation.to_json(), indent=2, ensure_ascii=False))
    else:
        print(reply_text(report))
    return 0 if report.evaluation.verdict == GO else 1


async def _gate_report(settings: Settings, config: LuciaConfig, phase: str | None) -> GateReport:
    runtime = await build_runtime(settings, config, ConsoleChat(lambda _line: None))
    try:
        return await runtime.desk.gate.evaluate(phase, "lucia-bot gate")
    finally:
        await runtime.close()
