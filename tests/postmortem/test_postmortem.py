"""The postmortem: gathered from a real incident (a routed Sentry alert, pages, follow-ups),
rendered section by section, uploaded into the incident channel, served behind a signed
expiring link, and exported from the command line — byte-identically each time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bot.config import AlertMatch, AlertRoute, EscalationPolicy, EscalationStep, LuciaConfig, Owner
from bot.incidents.model import EventKind, Incident, Status, TimelineEvent
from bot.postmortem.export import postmortem_markdown
from bot.postmortem.links import link_query
from bot.postmortem.model import PostmortemData, RunLine
from bot.vocabulary import Role, Severity
from tests.drivers.alerts import fatal_alert
from tests.drivers.bot import Bot, running_bot
from tests.drivers.reach import Reach
from tests.drivers.sentry import SECRET, deliver
from tests.drivers.slack import SIGNING_SECRET
from tests.drivers.waiting import until

BOB = "U01BOBBY00"
CONFIG = LuciaConfig(
    owners={Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example")},
    routing=[
        AlertRoute(match=AlertMatch(level=["fatal"]), action="incident", severity=Severity.SEV1)
    ],
    escalation={
        Severity.SEV1: EscalationPolicy(
            steps=[EscalationStep(roles=[Role.INFRA], wait=timedelta(minutes=5))],
            close_with_fallback=False,
        )
    },
)


@pytest.fixture
async def incident_bot(reach: Reach, database_url: str) -> AsyncIterator[Bot]:
    env = reach.env | {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_PUBLIC_URL": "https://bot.example"}
    async with running_bot(reach.slack, database_url, CONFIG, **env) as bot:
        assert (await deliver(bot, fatal_alert(), "event_alert")).status == 200

        async def paged() -> bool:
            return bool(reach.mails_to("bob@lucia.example"))

        await until(paged)
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1"))
        for text in (
            "incident ack",
            "incident note Rolled back to the previous deploy",
            f"followup add Add a canary for checkout <@{BOB}>",
            "followup add Alert on the error rate, not the count",
            "followup done F2",
            "incident resolve Bad deploy; rolled back",
        ):
            await bot.command(text, user=BOB, channel=channel.id)
            await bot.settle()
        await bot.command("postmortem", user=BOB, channel=channel.id, response_key="pm")
        await bot.settle()
        yield bot


def link_from(bot: Bot) -> str:
    answer = [p.body["text"] for p in bot.slack.response_posts if p.key == "pm"][-1]
    return next(w for w in answer.split() if w.startswith("https://bot.example/"))


async def fetch(bot: Bot, url: str) -> tuple[int, str]:
    parsed = urlparse(url)
    response = await bot.client.get(f"{parsed.path}?{parsed.query}")
    return response.status, await response.text()


async def test_the_export_tells_the_whole_story_section_by_section(incident_bot: Bot) -> None:
    status, text = await fetch(incident_bot, link_from(incident_bot))
    assert status == 200
    sections = {s.split("\n", 1)[0]: s.split("\n", 1)[1] for s in text.split("\n## ")[1:]}
    head = text.split("\n## ")[0]
    assert head.startswith("# Postmortem: INC-1 — Checkout crashes on submit")
    assert "| Severity | SEV1 |" in head
    assert "| Status | resolved |" in head
    assert "| Lead | Bob Infra |" in head
    assert "| Participants | Bob Infra |" in head
    assert sections["Summary"].strip() == "Bad deploy; rolled back"
    times = sections["Key times (UTC)"]
    for moment in ("Declared", "First alert", "First page", "Acknowledged", "Resolved"):
        row = next(line for line in times.splitlines() if line.startswith(f"| {moment} |"))
        assert row.endswith(" UTC |"), row
    assert "| Mitigated | — |" in times
    assert re.search(r"\| Time to acknowledge \| \d+ s \|", times), times
    alerts = sections["Alerts"]
    assert "Checkout crashes on submit (sentry:issue:777, " in alerts
    assert ": 1 events, not shown in Slack (silenced or no alerts channel)" in alerts
    assert "Bob Infra (infra): sent — email ✓" in sections["Paging"]
    assert "No playbook was run." in sections["Playbook runs"]
    timeline = sections["Timeline (UTC)"]
    assert "| lucia | declared: Declared SEV1: Checkout crashes on submit |" in timeline
    assert "| Bob Infra | note: Rolled back to the previous deploy |" in timeline
    assert "escalation: Escalation started" in timeline
    followups = sections["Follow-ups"]
    assert "- [ ] F1 Add a canary for checkout — Bob Infra" in followups
    # People by name, never Slack's markup or a bare id the launch-gate table names.
    assert "<@" not in text
    assert BOB not in text
    assert "- [x] F2 Alert on the error rate, not the count (done " in followups


async def test_it_is_uploaded_into_the_incident_channel(incident_bot: Bot) -> None:
    channel = next(c for c in incident_bot.slack.channels.values() if c.name.startswith("inc-1"))
    uploads = [f for f in incident_bot.slack.files.values() if channel.id in f.channels]
    _status, text = await fetch(incident_bot, link_from(incident_bot))
    assert [u.name for u in uploads] == ["INC-1-postmortem.md"]
    assert uploads[0].content is not None
    assert uploads[0].content.decode() == text


async def test_the_link_is_signed_and_expires(incident_bot: Bot) -> None:
    link = link_from(incident_bot)
    query = parse_qs(urlparse(link).query)
    good = (await fetch(incident_bot, link))[0]
    as_json = await incident_bot.client.get(
        urlparse(link).path + "?" + urlparse(link).query + "&format=json"
    )
    tampered = (await fetch(incident_bot, link.replace("/incidents/1/", "/incidents/2/")))[0]
    bad_sig = (await fetch(incident_bot, link[:-4] + "0000"))[0]
    unsigned = (await incident_bot.client.get("/incidents/1/postmortem.md")).status
    garbage = (await incident_bot.client.get("/incidents/1/postmortem.md?expires=²&sig=é")).status
    key = incident_bot.runtime.settings.link_secret
    assert key is not None
    past = int(time.time()) - 10
    expired = await incident_bot.client.get(
        f"/incidents/1/postmortem.md?{link_query(1, past, key)}"
    )
    assert good == 200
    assert as_json.status == 200
    data = await as_json.json()
    assert data["incident"]["key"] == "INC-1"
    assert data["incident"]["lead"] == "Bob Infra"
    assert "<@" not in json.dumps(data, ensure_ascii=False)
    assert tampered == bad_sig == unsigned == garbage == 403
    assert expired.status == 403
    assert "expired" in (await expired.json())["error"]
    assert int(query["expires"][0]) > time.time() + 23 * 3600


async def test_the_cli_exports_the_same_bytes_every_time(
    incident_bot: Bot, database_url: str, tmp_path: Path
) -> None:
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}

    def export(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "bot", "export", *extra],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    first, second = export("1"), export("1")
    as_json = export("1", "--format", "json", "--out", str(tmp_path / "inc-1.json"))
    missing = export("99")
    _status, served = await fetch(incident_bot, link_from(incident_bot))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout == served
    assert json.loads((tmp_path / "inc-1.json").read_text())["incident"]["number"] == 1
    assert as_json.returncode == 0
    assert missing.returncode == 1
    assert "there is no incident #99" in missing.stderr


def test_playbook_runs_render_with_each_steps_result() -> None:
    at = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    incident = Incident(
        number=7,
        title="Engine down",
        severity=Severity.SEV1,
        status=Status.RESOLVED,
        opened_by="U01ALICE00",
        created_at=at,
        updated_at=at,
    )
    run = RunLine(
        id=3,
        playbook="rollback",
        service="engine",
        state="not_confirmed",
        requested_by="U01ALICE00",
        approved_by=BOB,
        result="⚠️ R3 rollback on engine: NOT CONFIRMED at step 4 (health_check)",
        steps=(
            (0, "rollback", "succeeded", "Render started rollback deploy dep-b to dep-a", 0.4),
            (1, "wait_live", "succeeded", "dep-b is live", 61.0),
            (2, "health_check", "failed", "not confirmed: answered 503 | after 6 tries", 50.0),
        ),
    )
    event = TimelineEvent(7, at, EventKind.DECLARED, "U01ALICE00", "Declared SEV1: Engine down")
    names = {BOB: "Bob Infra"}  # the launch-gate table names Bob, not Alice
    text = postmortem_markdown(PostmortemData(incident, [event], [], [], [run], [], names))
    section = text.split("## Playbook runs")[1].split("## Timeline")[0]
    assert "### R3 rollback on engine: not_confirmed" in section
    assert "Asked by U01ALICE00, approved by Bob Infra." in section
    assert "| 1 | rollback | succeeded | 0 s | Render started rollback" in section
    assert "| 2 | wait_live | succeeded | 1 min 1 s | dep-b is live |" in section
    # A table cell keeps its row: a "|" in a detail is escaped.
    assert "| 3 | health_check | failed | 50 s | not confirmed: answered 503 \\| after" in section
    assert "_None yet: `/lucia followup add #7 <text> [@owner]`._" in text
    assert SIGNING_SECRET not in text


async def test_only_responders_get_a_postmortem_link(incident_bot: Bot) -> None:
    channel = next(c for c in incident_bot.slack.channels.values() if c.name.startswith("inc-1"))
    await incident_bot.command(
        "postmortem", user="U01ALICE00", channel=channel.id, response_key="a"
    )
    await incident_bot.settle()
    answer = [p.body["text"] for p in incident_bot.slack.response_posts if p.key == "a"][-1]
    assert "Only responders" in answer
    assert "https://bot.example/" not in answer
