"""The launch gate driven as the bot runs it: `bot.app.build_runtime` from `Settings` read
from environment variables and a `lucia.yaml` written by the test, on real PostgreSQL, with
a clock the test moves (`FakeClock`) and a recording gate chat; with Slack on, the real
Bolt app in front of it (for Acknowledge clicks). Also `lucia-bot gate` as a process, and
ways to read an evaluation the way an operator reads it: an item's verdict and reason."""

from __future__ import annotations

__all__ = [
    "ANA",
    "BOB",
    "CARLA",
    "DAY",
    "INCIDENTS",
    "Announcements",
    "Gate",
    "dumped",
    "evidence",
    "gate_cli",
    "gate_runtime",
    "health_server",
    "item",
    "json_contract",
    "lucia_yaml",
    "playbook_folder",
    "real_now",
]

import asyncio
import json
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Runtime, build_runtime
from bot.config import load_config
from bot.console.chat import ConsoleChat
from bot.desk import Answer
from bot.gate.model import Evaluation, Evidence, ItemResult
from bot.gate.replies import GateReport
from bot.gate.service import GateService
from bot.grammar import parse
from bot.server import build_web_app
from bot.settings import load_settings
from bot.slack.app import build_bolt_app, build_web_client
from bot.slack.chat import SlackChat
from bot.slack.dispatch import SlackDeps
from bot.slack.identity import SlackIdentity
from bot.slack.paging import SlackProfiles
from bot.vocabulary import Invocation
from tests.drivers.bot import Bot
from tests.drivers.core import FakeClock
from tests.drivers.playbooks import Health, fast_copy, shipped_playbooks
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlackAPI

ANA, BOB, CARLA = "U01ALICE00", "U01BOBBY00", "U01CARLA00"
_GENERAL = "C01GENERAL"  # where commands are typed
INCIDENTS = INCIDENTS_CHANNEL
DAY = 86_400  # seconds, for FakeClock.advance
_LUCIA_BOT = Path(sys.executable).with_name("lucia-bot")
# Nothing listens on the discard port: a push a test didn't mean to send goes nowhere
# (never to ntfy.sh).
_NOWHERE = "http://127.0.0.1:9"


def real_now() -> datetime:
    """Now, to the second: TLS certificates and Slack signatures live in real time."""
    return datetime.now(UTC).replace(microsecond=0)


def lucia_yaml(folder: Path, text: str) -> Path:
    """`text` (dedented) as the lucia.yaml in `folder`."""
    path = folder / "lucia.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@dataclass
class Announcements:
    """The gate chat: what the bot announced, to which channel (`GateChat.post_gate`)."""

    posted: list[tuple[str, GateReport]] = field(default_factory=list)

    async def post_gate(self, channel: str, report: GateReport) -> None:
        self.posted.append((channel, report))

    def verdicts(self) -> list[tuple[str, str, str | None]]:
        """(phase, verdict, what it was before) of each announcement, in order."""
        return [(r.evaluation.phase, r.evaluation.verdict, r.changed_from) for _, r in self.posted]


@dataclass
class Gate:
    runtime: Runtime
    clock: FakeClock
    announced: Announcements
    console: list[str]  # what the console chat printed (incidents, when Slack is off)
    bot: Bot | None = None  # the real Bolt app in front, when Slack is on

    @property
    def service(self) -> GateService:
        return self.runtime.desk.gate

    async def run(self, text: str, actor: str = ANA, channel: str | None = _GENERAL) -> Answer:
        """`/lucia <text>` as `actor` typed it, through the grammar and the desk."""
        reply = await self.runtime.desk.run(parse(text), Invocation(actor, channel))
        await self.runtime.background.wait_idle()
        return reply

    async def check(self, phase: str | None = None, actor: str = ANA) -> Evaluation:
        """`/lucia gate [phase]`: the evaluation the operator is shown."""
        reply = await self.run(f"gate {phase}" if phase else "gate", actor)
        assert isinstance(reply, GateReport), reply
        return reply.evaluation

    async def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        async with self.runtime.engine.connect() as conn:
            found = await conn.execute(sa.select(table).order_by(table.c.id))
            return [dict(r) for r in found.mappings()]


def item(evaluation: Evaluation, name: str) -> ItemResult:
    """The item `name` of any phase of the evaluation."""
    for phase in evaluation.phases:
        for result in phase.items:
            if result.item == name:
                return result
    raise AssertionError(f"no item {name} in {[p.name for p in evaluation.phases]}")


def evidence(result: ItemResult, subject: str) -> Evidence:
    """What the item's check saw of one subject (a reference, a role, a service)."""
    (found,) = [e for e in result.evidence if e.subject == subject]
    return found


@asynccontextmanager
async def gate_runtime(
    database_url: str,
    config: Path,
    *,
    clock: FakeClock | None = None,
    slack: FakeSlackAPI | None = None,
    env: dict[str, str] | None = None,
    console_announces: bool = False,
) -> AsyncIterator[Gate]:
    """The runtime `lucia-bot serve` builds, from `env` and the lucia.yaml at `config`,
    with `clock` and a recording gate chat (`console_announces`: the console chat itself,
    as the shell would give it); with `slack`, behind the real Bolt app."""
    clock = clock or FakeClock(real_now())
    environ = {
        "DATABASE_URL": database_url,
        "LUCIA_CONFIG": str(config),
        "LUCIA_INCIDENTS_CHANNEL": INCIDENTS,
        "NTFY_URL": _NOWHERE,
        **(env or {}),
    }
    if slack is not None:
        environ |= {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
        }
    settings = load_settings(environ)
    lucia = load_config(settings.lucia_config, required=True)
    announced = Announcements()
    lines: list[str] = []
    if slack is None:
        console = ConsoleChat(lines.append)
        gate_chat: Any = console if console_announces else announced
        runtime = await build_runtime(settings, lucia, console, clock=clock, gate_chat=gate_chat)
        try:
            yield Gate(runtime, clock, announced, lines)
        finally:
            await runtime.close()
        return
    # As `bot.server.build_server_app` puts it together, with the test's clock.
    client = build_web_client(settings)
    identity = SlackIdentity(client)
    await identity.check_at_start()
    chat = SlackChat(client)
    runtime = await build_runtime(
        settings,
        lucia,
        chat,
        clock=clock,
        alert_chat=chat,
        slack=chat,
        profiles=SlackProfiles(client),
        gate_chat=announced,
    )
    deps = SlackDeps(runtime.desk, runtime.incidents, runtime.background, runtime.dedupe)
    app = build_web_app(runtime, build_bolt_app(settings, deps, identity), identity)
    async with TestClient(TestServer(app)) as test_client:  # closes the runtime
        yield Gate(runtime, clock, announced, lines, Bot(test_client, slack))


@asynccontextmanager
async def health_server(health: Health) -> AsyncIterator[Health]:
    """`health` (tests/drivers/playbooks.py) answering on its local port."""
    app = web.Application()
    app.router.add_get("/healthz", health.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", health.port).start()
    try:
        yield health
    finally:
        await runner.cleanup()


def playbook_folder(folder: Path) -> Path:
    """The shipped playbooks, with their waits made short, where LUCIA_PLAYBOOKS points."""
    folder.mkdir(exist_ok=True)
    for name, text in shipped_playbooks().items():
        (folder / name).write_text(fast_copy(text))
    return folder


async def gate_cli(
    folder: Path, database_url: str, config: Path | None, *args: str
) -> tuple[int, str, str]:
    """`lucia-bot gate <args>` as a process in `folder`: (exit code, stdout, stderr)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "DATABASE_URL": database_url,
        "NTFY_URL": _NOWHERE,
    }
    if config is not None:
        env["LUCIA_CONFIG"] = str(config)
    process = await asyncio.create_subprocess_exec(
        str(_LUCIA_BOT),
        "gate",
        *args,
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(45):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def json_contract(doc: dict[str, Any]) -> None:
    """`--format json` has exactly the documented shape (README, "Going live with the gate")."""
    assert set(doc) == {"phase", "verdict", "evaluated_at", "exceptions", "phases"}, doc
    assert doc["verdict"] in ("GO", "NO-GO")
    datetime.fromisoformat(doc["evaluated_at"])
    assert isinstance(doc["exceptions"], list)
    assert doc["phases"][-1]["name"] == doc["phase"]
    assert doc["phases"][-1]["verdict"] == doc["verdict"]
    for phase in doc["phases"]:
        assert set(phase) == {"name", "verdict", "items"}, phase
        assert phase["verdict"] in ("GO", "NO-GO")
        for one in phase["items"]:
            assert set(one) == {
                "item",
                "verdict",
                "reason",
                "observed_at",
                "expires_at",
                "refresh",
            }, one
            assert one["verdict"] in ("pass", "fail", "unknown")
            assert one["reason"]
            assert one["refresh"].startswith("/lucia ")


def dumped(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as `--format json` prints it."""
    return dict(json.loads(json.dumps(evaluation.to_json())))
