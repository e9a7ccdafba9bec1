"""The public status page, end to end: the real bot (SQLite and Postgres) with two
components in one group, data made only through `/lucia status …` (drafts confirmed) after
an internal incident, and every route read as its readers read it — the JSON validated
against Statuspage's documented shape, the feed parsed by feedparser, the summary read by a
third-party Statuspage client — with the caching headers Cloudflare relies on."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import LuciaConfig
from bot.errors import UserError
from bot.server import build_server_app
from bot.settings import load_settings
from bot.status.model import ComponentState
from bot.status.uptime import RULE
from bot.web.status_page import CACHE_CONTROL
from tests.drivers.bot import Bot, running_bot
from tests.drivers.services import proxy_url
from tests.drivers.status_site import (
    ENGINE,
    INTERNAL_TITLE,
    PAGE_URL,
    ROUTES,
    fetch,
    publish,
    say,
    seed_history,
    status_config,
)
from tests.drivers.statuspage_schema import validate
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy

TYPES = {
    "/status": "text/html; charset=utf-8",
    "/status/history": "text/html; charset=utf-8",
    "/history.atom": "application/atom+xml; charset=utf-8",
}
PUBLIC_TEXT = "Checkout is failing for some customers"
MAJOR, PARTIAL = ComponentState.MAJOR_OUTAGE, ComponentState.PARTIAL_OUTAGE
DEGRADED = ComponentState.DEGRADED_PERFORMANCE


def status_bot(
    slack: FakeSlackAPI, database_url: str, config: LuciaConfig | None = None
) -> AbstractAsyncContextManager[Bot]:
    return running_bot(slack, database_url, config or status_config())


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, postgres_url: str) -> AsyncIterator[Bot]:
    async with status_bot(slack_api, postgres_url) as running:
        yield running


async def documents(bot: Bot) -> dict[str, Any]:
    """Every JSON route, each validated against Statuspage's shape."""
    found = {}
    for path in ROUTES:
        if path.startswith("/api/v2/"):
            fetched = await fetch(bot, path)
            assert fetched.status == 200, path
            name = path.removeprefix("/api/v2/")
            validate(name, json.loads(fetched.body))
            found[name] = json.loads(fetched.body)
    return found


async def everything(bot: Bot) -> str:
    return "\n".join([(await fetch(bot, path)).text for path in ROUTES])


# --- an empty page ---------------------------------------------------------------------


async def test_a_new_page_is_operational_cacheable_and_always_says_incidents(bot: Bot) -> None:
    for path in ROUTES:
        fetched = await fetch(bot, path)
        assert fetched.status == 200, path
        assert fetched.headers["Content-Type"] == TYPES.get(path, "application/json"), path
        assert fetched.headers["Cache-Control"] == CACHE_CONTROL, path
        assert re.fullmatch(r'"[0-9a-f]{32}"', fetched.headers["ETag"]), path

    docs = await documents(bot)
    summary = docs["summary.json"]
    assert summary["incidents"] == []  # present and empty: readers take a missing key as unknown
    assert summary["scheduled_maintenances"] == []
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["page"]["id"] == "lucia"
    assert summary["page"]["url"] == f"{PAGE_URL}/status"
    assert docs["incidents/unresolved.json"]["incidents"] == []

    group, engine, admin = summary["components"]
    assert (group["name"], group["group"], group["components"]) == (
        "Platform",
        True,
        ["engine", "admin"],
    )
    assert group["group_id"] is None
    assert [engine["id"], engine["group_id"], engine["group"]] == ["engine", group["id"], False]
    assert [admin["id"], admin["group_id"]] == ["admin", group["id"]]
    assert [c["position"] for c in summary["components"]] == [1, 2, 3]
    assert engine["description"] == "The API behind the app"
    assert admin["description"] is None
    assert {c["status"] for c in summary["components"]} == {"operational"}
    assert docs["components.json"]["components"] == summary["components"]

    page = (await fetch(bot, "/status")).text
    assert "All Systems Operational" in page
    assert RULE in page
    head = page.split("</head>")[0]
    assert '<link rel="alternate" type="application/atom+xml"' in head
    assert 'href="/history.atom"' in head
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in head


async def test_a_bot_without_slack_serves_the_page_too(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'lucia.db'}"})
    app = await build_server_app(settings, status_config())
    async with TestClient(TestServer(app)) as client:
        for path in ("/status", "/api/v2/summary.json", "/history.atom"):
            async with client.get(path) as response:
                assert response.status == 200, path
                assert response.headers["Cache-Control"] == CACHE_CONTROL


# --- publishing ------------------------------------------------------------------------


async def test_only_what_was_published_reaches_the_page(
    slack_api: FakeSlackAPI, database_url: str
) -> None:
    async with status_bot(slack_api, database_url) as bot:
        await say(bot, f"incident open sev1 {INTERNAL_TITLE}")
        await bot.settle()
        before = await everything(bot)
        assert INTERNAL_TITLE not in before
        assert not re.search(r"sev ?1", before, re.IGNORECASE)

        # A draft is not published: the page is byte for byte what it was.
        preview = await say(bot, f"status publish #1 engine=major_outage {PUBLIC_TEXT}")
        assert await everything(bot) == before

        await say(bot, f"status confirm D{preview.draft_id}")  # type: ignore[union-attr]
        docs = await documents(bot)
        (incident,) = docs["summary.json"]["incidents"]
        assert incident["name"] == PUBLIC_TEXT
        assert (incident["status"], incident["impact"]) == ("investigating", "critical")
        assert incident["shortlink"] == f"{PAGE_URL}/status/history#incident-{incident['id']}"
        assert [c["id"] for c in incident["components"]] == [ENGINE]
        (update,) = incident["incident_updates"]
        assert (update["status"], update["body"]) == ("investigating", PUBLIC_TEXT)
        assert update["incident_id"] == incident["id"]
        assert update["affected_components"] == [
            {
                "code": "engine",
                "name": "Engine (API)",
                "new_status": "major_outage",
                "old_status": "operational",
            }
        ]
        assert docs["summary.json"]["status"] == {
            "indicator": "critical",
            "description": "Major System Outage",
        }
        group, engine, admin = docs["summary.json"]["components"]
        assert (group["status"], engine["status"], admin["status"]) == (
            "major_outage",
            "major_outage",
            "operational",
        )
        assert docs["incidents/unresolved.json"]["incidents"] == [incident]

        await publish(bot, "status update #1 identified engine=partial_outage Bad deploy found")
        await publish(bot, "status update #1 monitoring A fix is out; watching error rates")
        docs = await documents(bot)
        (incident,) = docs["summary.json"]["incidents"]
        assert [u["status"] for u in incident["incident_updates"]] == [
            "monitoring",
            "identified",
            "investigating",
        ]  # newest first
        assert incident["monitoring_at"] == incident["incident_updates"][0]["created_at"]
        assert incident["incident_updates"][1]["affected_components"][0]["old_status"] == (
            "major_outage"
        )
        assert incident["incident_updates"][0]["affected_components"] is None
        assert incident["impact"] == "major"

        await publish(bot, "status resolve #1 Checkout works again")
        docs = await documents(bot)
        assert docs["summary.json"]["incidents"] == []
        assert docs["incidents/unresolved.json"]["incidents"] == []
        (past,) = docs["incidents.json"]["incidents"]
        assert past["status"] == "resolved"
        assert past["resolved_at"] == past["incident_updates"][0]["created_at"]
        assert docs["summary.json"]["status"]["indicator"] == "none"

        after = await everything(bot)
        for said in (PUBLIC_TEXT, "Bad deploy found", "Checkout works again"):
            assert said in after
        assert INTERNAL_TITLE not in after
        assert not re.search(r"sev ?1", after, re.IGNORECASE)
        history = (await fetch(bot, "/status/history")).text
        assert "Checkout works again" in history
        assert f'id="incident-{past["id"]}"' in history


async def test_maintenance_in_progress_puts_its_components_under_maintenance(bot: Bot) -> None:
    await publish(bot, "status maintenance engine now 2h Database upgrade to Postgres 17")
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    await publish(bot, f"status maintenance admin {later} 30m Admin moves region")
    docs = await documents(bot)
    summary = docs["summary.json"]
    assert summary["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    now, coming = summary["scheduled_maintenances"]
    assert (now["name"], now["status"], now["impact"]) == (
        "Database upgrade to Postgres 17",
        "in_progress",
        "maintenance",
    )
    assert [u["status"] for u in now["incident_updates"]] == ["in_progress", "scheduled"]
    assert [c["id"] for c in now["components"]] == ["engine"]
    assert (coming["status"], coming["id"]) == ("scheduled", "m2")
    assert coming["scheduled_for"].startswith(later)
    _group, engine, admin = summary["components"]
    assert (engine["status"], admin["status"]) == ("under_maintenance", "operational")
    page = (await fetch(bot, "/status")).text
    assert "Service Under Maintenance" in page
    assert "Database upgrade to Postgres 17" in page
    assert "In progress" in page


# --- caching ---------------------------------------------------------------------------


async def test_a_matching_etag_is_a_304_until_something_is_published(bot: Bot) -> None:
    first = {path: await fetch(bot, path) for path in ROUTES}
    for path, fetched in first.items():
        etag = fetched.headers["ETag"]
        again = await fetch(bot, path)
        assert again.headers["ETag"] == etag, path  # the same body, the same tag
        for sent in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
            cached = await fetch(bot, path, **{"If-None-Match": sent})
            assert cached.status == 304, (path, sent)
            assert cached.body == b""
            assert cached.headers["ETag"] == etag
            assert cached.headers["Cache-Control"] == CACHE_CONTROL
        assert (await fetch(bot, path, **{"If-None-Match": '"other"'})).status == 200

    await say(bot, "incident open sev2 Checkout errors")
    await publish(bot, f"status publish #1 engine=degraded_performance {PUBLIC_TEXT}")
    for path, fetched in first.items():  # each says when the page was last updated
        now = await fetch(bot, path, **{"If-None-Match": fetched.headers["ETag"]})
        assert now.status == 200, path
        assert now.headers["ETag"] != fetched.headers["ETag"], path


async def test_a_database_it_cannot_read_is_a_503_no_cache_keeps(
    slack_api: FakeSlackAPI, postgres_proxy: TcpProxy
) -> None:
    async with status_bot(slack_api, proxy_url(postgres_proxy)) as bot:
        assert (await fetch(bot, "/api/v2/summary.json")).status == 200
        await postgres_proxy.refuse()
        for path in ("/status", "/api/v2/summary.json"):
            down = await fetch(bot, path)
            assert down.status == 503, path
            assert down.headers["Cache-Control"] == "no-store"
            assert "ETag" not in down.headers
        await postgres_proxy.resume()


# --- the feed --------------------------------------------------------------------------


async def test_the_feed_has_an_entry_per_update_with_ids_that_never_change(bot: Bot) -> None:
    empty = feedparser.parse((await fetch(bot, "/history.atom")).body)
    assert not empty.bozo, empty.bozo_exception
    assert empty.entries == []
    assert empty.feed.title == "Lucia status history"

    await say(bot, "incident open sev2 Checkout errors")
    await publish(bot, f"status publish #1 engine=major_outage {PUBLIC_TEXT}")
    await publish(bot, "status update #1 identified Bad deploy found")
    await publish(bot, "status maintenance admin now 1h Admin database upgrade")
    first = feedparser.parse((await fetch(bot, "/history.atom")).body)
    assert not first.bozo, first.bozo_exception
    titles = [e.title for e in first.entries]
    assert titles == [
        "Scheduled maintenance: Admin database upgrade",
        f"{PUBLIC_TEXT}: Identified",
        f"{PUBLIC_TEXT}: Investigating",
    ]
    incident_entry = first.entries[2]
    assert incident_entry.link == f"{PAGE_URL}/status/history#incident-1"
    tag = r"tag:status\.lucia\.example,\d{4}-\d{2}-\d{2}:incident/1/update/1"
    assert re.fullmatch(tag, incident_entry.id)
    assert first.entries[0].link == f"{PAGE_URL}/status/history#maintenance-1"
    assert "Engine (API): Major outage" in incident_entry.summary
    assert incident_entry.updated_parsed is not None

    again = feedparser.parse((await fetch(bot, "/history.atom")).body)
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    assert len({e.id for e in first.entries}) == len(first.entries)


@pytest.mark.parametrize("command", ["status update #9 Nothing", "status update Nothing"])
async def test_an_update_to_nothing_published_changes_no_feed(bot: Bot, command: str) -> None:
    before = (await fetch(bot, "/history.atom")).body
    with pytest.raises(UserError, match="incident"):
        await say(bot, command)
    assert (await fetch(bot, "/history.atom")).body == before


# --- a third-party reader --------------------------------------------------------------


async def test_a_packaged_statuspage_client_reads_the_summary(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """statuspage-prometheus-exporter (PyPI) polls Atlassian pages' summary.json."""
    await say(bot, f"incident open sev1 {INTERNAL_TITLE}")
    await publish(bot, f"status publish #1 engine=partial_outage {PUBLIC_TEXT}")
    await publish(bot, "status maintenance admin now 1h Admin database upgrade")
    services = tmp_path / "services.json"
    url = str(bot.client.make_url("/api/v2/summary.json"))
    services.write_text(json.dumps({"lucia": {"name": "Lucia", "type": "status_page", "url": url}}))
    monkeypatch.setenv("SERVICES_JSON_PATH", str(services))
    monkeypatch.chdir(tmp_path)  # it keeps its cache in ./cache
    from statuspage_prometheus_exporter import service_checker

    seen = await asyncio.to_thread(service_checker.check_service_status, "lucia", {"url": url})
    assert seen["success"], seen
    assert seen["raw_status"] == "major"  # the worst open incident's impact
    (incident,) = seen["incident_metadata"]
    assert incident["name"] == PUBLIC_TEXT
    assert incident["affected_components"] == ["Engine (API)"]
    assert incident["shortlink"] == f"{PAGE_URL}/status/history#incident-1"
    (maintenance,) = seen["maintenance_metadata"]
    assert (maintenance["name"], maintenance["status"]) == (
        "Admin database upgrade",
        "in_progress",
    )
    assert maintenance["affected_components"] == ["Admin"]
    statuses = {c["name"]: c["status"] for c in seen["component_metadata"]}
    assert statuses["Engine (API)"] == "partial_outage"
    assert statuses["Admin"] == "under_maintenance"
    assert INTERNAL_TITLE not in json.dumps(seen)


# --- uptime from the stored history ----------------------------------------------------


async def test_uptime_comes_from_the_stored_history(
    slack_api: FakeSlackAPI, postgres_url: str
) -> None:
    """Watched 60 days ago; a major outage of 144 min 10 days ago, a partial one of 240 min
    20 days ago (30 %: 72 min), a degraded day (up). The 30 days before: no data."""
    today = datetime.combine(datetime.now(UTC).date(), time.min, UTC)
    watched = today - timedelta(days=59)
    await seed_history(
        postgres_url,
        watched,
        [
            (today - timedelta(days=20, hours=-8), timedelta(minutes=240), {ENGINE: PARTIAL}),
            (today - timedelta(days=10, hours=-10), timedelta(minutes=144), {ENGINE: MAJOR}),
            (today - timedelta(days=5), timedelta(hours=6), {ENGINE: DEGRADED}),
        ],
    )
    async with status_bot(slack_api, postgres_url) as bot:
        page = (await fetch(bot, "/status")).text
        observed = (datetime.now(UTC) - watched).total_seconds() / 60
        expected = 100 * (1 - (144 + 0.3 * 240) / observed)
        engine = page.split('id="component-engine"')[1].split("</li>")[0]
        shown = float(re.search(r"([\d.]+) % uptime", engine).group(1))  # type: ignore[union-attr]
        assert expected - 0.011 < shown <= expected
        label = re.search(r'role="img" aria-label="([^"]+)"', engine).group(1)  # type: ignore[union-attr]
        assert label.startswith("Engine (API), last 90 days: ")
        assert label.endswith(
            "1 day with a major outage, 1 day with a partial outage, "
            "1 day with degraded performance, 57 days operational, 30 days without data."
        )
        assert engine.count('class="day s-no_data"') == 30
        assert engine.count('class="day s-major_outage"') == 1
        admin = page.split('id="component-admin"')[1].split("</li>")[0]
        assert "100.00 % uptime" in admin

        components = json.loads((await fetch(bot, "/api/v2/components.json")).body)
        engine_json = components["components"][1]
        assert engine_json["start_date"] == watched.date().isoformat()
        assert engine_json["created_at"].startswith(watched.date().isoformat())
        past = json.loads((await fetch(bot, "/api/v2/incidents.json")).body)["incidents"]
        assert [i["name"] for i in past] == ["Past outage 3", "Past outage 2", "Past outage 1"]
