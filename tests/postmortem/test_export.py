"""The postmortem of an incident with a history: acknowledged, mitigated, resolved, reopened
and resolved again, paged twice (the first page failed). The bot's own runtime runs on a
clock the test moves, against a real SMTP server and real SQLite/PostgreSQL, and the
postmortem is read the way people get it: `lucia-bot export`, Markdown and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime
from bot.config import LuciaConfig, Owner
from bot.console.chat import ConsoleChat
from bot.grammar import parse
from bot.incidents.replies import Reply
from bot.settings import load_settings
from bot.store.incident_store import SqlIncidentStore
from bot.vocabulary import Invocation, Role
from tests.fakes.smtp import Mailbox, smtp_server

ANA, BOB = "U01ANALUC1", "U01BOBBY00"
T0 = datetime(2026, 3, 14, 9, 0, 0, tzinfo=UTC)
OWNERS: dict[Role, Owner | None] = {
    Role.OWNER: Owner(name="Ana Lucia", slack=ANA, email="ana@lucia.example"),
    Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example"),
    # Dan's only way in is an address the mail server refuses: his page fails.
    Role.DNS: Owner(name="Dan Dns", email="dan@lucia.example"),
}


@dataclass
class Desk:
    """The bot's runtime on a clock that moves only when told to."""

    runtime: Runtime
    now: list[datetime]
    database_url: str
    cwd: Path

    def at(self, after: timedelta) -> None:
        self.now[0] = T0 + after

    async def say(self, text: str, user: str, channel: str | None = None) -> Reply:
        reply = await self.runtime.desk.run(parse(text), Invocation(user, channel))
        await self.runtime.background.wait_idle()  # the pages it started, sent at `now`
        return reply

    def export(self, *extra: str) -> str:
        env = {
            "PATH": os.environ["PATH"],
            "DATABASE_URL": self.database_url,
            "LOG_LEVEL": "WARNING",
        }
        done = subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot", "export", "1", *extra],
            env=env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
async def desk(database_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    mailbox = Mailbox(refuse=frozenset({"dan@lucia.example"}))
    with smtp_server(mailbox) as port:
        settings = load_settings(
            {
                "DATABASE_URL": database_url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
                "SMTP_FROM": "Lucia on-call <oncall@lucia.example>",
                "SMTP_TLS": "none",
            }
        )
        now = [T0]
        clock: Callable[[], datetime] = lambda: now[0]  # noqa: E731
        runtime = await build_runtime(
            settings, LuciaConfig(owners=OWNERS), ConsoleChat(lambda _line: None), clock=clock
        )
        try:
            yield Desk(runtime, now, database_url, tmp_path)
        finally:
            await runtime.close()


async def reopened_twice_paged(desk: Desk, *, resolve_again: bool) -> None:
    """Opened by Ana; Dan paged (fails), Bob paged (works); Bob acknowledges, mitigates,
    resolves; Ana reopens; Bob acknowledges again and, maybe, resolves it for good."""
    await desk.say("incident open sev3 Checkout crashes on submit", ANA)
    incident = await SqlIncidentStore(desk.runtime.engine).get(1)
    assert incident is not None
    channel = incident.channel_id
    steps: list[tuple[timedelta, str, str]] = [
        (timedelta(seconds=5), "page dns", ANA),
        (timedelta(seconds=9), f"page <@{BOB}> checkout is down, can you look?", ANA),
        (timedelta(seconds=13), "incident ack", BOB),
        (timedelta(seconds=20), f"incident note Rolled back, <@{ANA}> watches the rate", BOB),
        (timedelta(minutes=4, seconds=10), "incident mitigated", BOB),
        (timedelta(hours=1), "incident resolve Bad deploy; rolled back", BOB),
        (timedelta(hours=1, minutes=30), "incident reopen", ANA),
        (timedelta(hours=1, minutes=31), "incident ack", BOB),
        (timedelta(hours=1, minutes=40), f"followup add Add a canary for checkout <@{BOB}>", ANA),
    ]
    if resolve_again:
        steps.append((timedelta(hours=2, minutes=5), "incident resolve Cache stampede", BOB))
    for after, text, user in steps:
        desk.at(after)
        await desk.say(text, user, channel)


def section(markdown: str, title: str) -> str:
    return markdown.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].strip()


async def test_key_times_come_from_the_history_of_a_reopened_incident(desk: Desk) -> None:
    await reopened_twice_paged(desk, resolve_again=True)

    markdown = desk.export()

    assert section(markdown, "Key times (UTC)") == (
        "| moment | when |\n"
        "|---|---|\n"
        "| Declared | 2026-03-14 09:00:00 UTC |\n"
        "| First alert | — |\n"
        "| First page | 2026-03-14 09:00:05 UTC |\n"
        "| Acknowledged | 2026-03-14 09:00:13 UTC |\n"
        "| Mitigated | 2026-03-14 09:04:10 UTC |\n"
        "| Resolved | 2026-03-14 10:00:00 UTC |\n"
        "| Reopened | 2026-03-14 10:30:00 UTC |\n"
        "| Resolved again | 2026-03-14 11:05:00 UTC |\n"
        "\n"
        "| duration | |\n"
        "|---|---|\n"
        "| Time to acknowledge | 13 s |\n"
        "| Time to mitigate | 4 min 10 s |\n"
        "| Time to resolve | 2 h 5 min |"
    )
    # The reopening is in the timeline too, between the two resolutions.
    timeline = section(markdown, "Timeline (UTC)")
    assert timeline.index("resolved: Resolved: Bad deploy") < timeline.index("reopened: Reopened")
    assert timeline.index("reopened: Reopened") < timeline.index("resolved: Resolved: Cache")
    assert section(markdown, "Summary") == "Cache stampede"
    assert desk.export() == markdown  # byte-identical, every time


async def test_a_reopened_incident_still_open_shows_its_earlier_resolution(desk: Desk) -> None:
    await reopened_twice_paged(desk, resolve_again=False)

    markdown = desk.export()
    data = json.loads(desk.export("--format", "json"))

    times = section(markdown, "Key times (UTC)")
    assert "| Acknowledged | 2026-03-14 09:00:13 UTC |" in times  # the first, not the second
    assert "| Mitigated | 2026-03-14 09:04:10 UTC |" in times
    assert "| Resolved | 2026-03-14 10:00:00 UTC |\n| Reopened | 2026-03-14 10:30:00 UTC |" in times
    assert "| Resolved again | — |" in times
    assert "| Time to acknowledge | 13 s |" in times
    assert "| Time to resolve | — |" in times
    assert "| Status | investigating |" in markdown
    assert data["times"] == {
        "declared": "2026-03-14 09:00:00 UTC",
        "first_alert": None,
        "first_page": "2026-03-14 09:00:05 UTC",
        "acknowledged": "2026-03-14 09:00:13 UTC",
        "mitigated": "2026-03-14 09:04:10 UTC",
        "resolved": None,
        "reopenings": [
            {"resolved": "2026-03-14 10:00:00 UTC", "reopened": "2026-03-14 10:30:00 UTC"}
        ],
    }
    assert data["durations"] == {
        "to_acknowledge": "13 s",
        "to_mitigate": "4 min 10 s",
        "to_resolve": None,
    }


async def test_the_first_page_is_the_first_tried_even_when_it_failed(desk: Desk) -> None:
    await reopened_twice_paged(desk, resolve_again=True)

    markdown = desk.export()
    data = json.loads(desk.export("--format", "json"))

    paging = section(markdown, "Paging").splitlines()
    assert paging[0].startswith("- 2026-03-14 09:00:05 UTC · Dan Dns (dns): failed — email ✗ ")
    assert "refused" in paging[0] or "unavailable" in paging[0]
    assert paging[1].startswith("- 2026-03-14 09:00:09 UTC · Bob Infra (Bob Infra): sent — ")
    assert "email ✓" in paging[1]
    assert "| First page | 2026-03-14 09:00:05 UTC |" in section(markdown, "Key times (UTC)")
    assert [(p["person"], p["status"], p["attempted_at"]) for p in data["pages"]] == [
        ("Dan Dns", "failed", "2026-03-14 09:00:05 UTC"),
        ("Bob Infra", "sent", "2026-03-14 09:00:09 UTC"),
    ]


async def test_people_appear_by_name_never_as_markup(desk: Desk) -> None:
    await reopened_twice_paged(desk, resolve_again=True)

    markdown = desk.export()
    raw_json = desk.export("--format", "json")
    data = json.loads(raw_json)

    for text in (markdown, raw_json):
        assert "<@" not in text
        assert ANA not in text
        assert BOB not in text
    head = markdown.split("\n## ", 1)[0]
    assert "| Lead | Ana Lucia |" in head
    assert "| Participants | Ana Lucia, Bob Infra |" in head
    timeline = section(markdown, "Timeline (UTC)")
    assert "| 2026-03-14 09:00:13 UTC | Bob Infra | acknowledged: Acknowledged |" in timeline
    # A mention typed in Slack is kept as `@U…`: the reader sees the name.
    assert "| Bob Infra | note: Rolled back, @Ana Lucia watches the rate |" in timeline
    assert "| Ana Lucia | followup: Follow-up for Bob Infra: Add a canary for checkout |" in (
        timeline
    )
    followups = section(markdown, "Follow-ups")
    assert followups == "- [ ] F1 Add a canary for checkout — Bob Infra"
    assert data["incident"]["lead"] == "Ana Lucia"
    assert data["incident"]["opened_by"] == "Ana Lucia"
    assert data["participants"] == ["Ana Lucia", "Bob Infra"]
    assert data["followups"][0]["owner"] == "Bob Infra"
    assert {e["actor"] for e in data["timeline"]} == {"Ana Lucia", "Bob Infra", "lucia"}


async def test_a_person_the_table_does_not_name_appears_by_id(desk: Desk) -> None:
    stranger = "U01STRANGE"
    await desk.say("incident open sev3 Search is slow", stranger)
    desk.at(timedelta(seconds=30))
    await desk.say("incident ack #1", BOB)

    markdown = desk.export()

    assert f"| Lead | {stranger} |" in markdown
    assert f"| Participants | Bob Infra, {stranger} |" in markdown
    assert "<@" not in markdown
    assert "| Time to acknowledge | 30 s |" in markdown
