"""`/status` in a real headless Chromium, as a reader meets it during an outage: the real
bot with 60 days of stored history, an active incident published from an internal one,
and a maintenance in progress. What is read is what Chromium renders (innerText, the
accessibility tree's roles and names, computed colours), at a desktop's size and on a
phone's screen; both are saved as screenshots."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from bot.status.model import ComponentState
from tests.drivers.bot import running_bot
from tests.drivers.browser import look
from tests.drivers.contrast import contrast
from tests.drivers.status_site import (
    ENGINE,
    INTERNAL_TITLE,
    publish,
    say,
    seed_history,
    status_config,
)
from tests.fakes.slack_api import FakeSlackAPI

PUBLIC = "Checkout is failing for some customers"
FOUND = "We found a bad deploy and are rolling it back"
MAINTENANCE = "Admin database upgrade"
MAJOR, PARTIAL = ComponentState.MAJOR_OUTAGE, ComponentState.PARTIAL_OUTAGE
DEGRADED = ComponentState.DEGRADED_PERFORMANCE


async def test_a_reader_sees_the_outage_the_maintenance_and_the_uptime(
    slack_api: FakeSlackAPI, postgres_url: str, tmp_path: Path
) -> None:
    today = datetime.combine(datetime.now(UTC).date(), time.min, UTC)
    await seed_history(
        postgres_url,
        today - timedelta(days=59),
        [
            (today - timedelta(days=30, hours=-9), timedelta(hours=3), {ENGINE: PARTIAL}),
            (today - timedelta(days=12, hours=-14), timedelta(hours=1), {ENGINE: MAJOR}),
            (today - timedelta(days=4), timedelta(hours=5), {ENGINE: DEGRADED}),
        ],
    )
    async with running_bot(slack_api, postgres_url, status_config()) as bot:
        await say(bot, f"incident open sev1 {INTERNAL_TITLE}")
        await publish(bot, f"status publish #1 engine=major_outage {PUBLIC}")
        await publish(bot, f"status update #1 identified {FOUND}")
        await publish(bot, f"status maintenance admin now 2h {MAINTENANCE}")
        seen = await asyncio.to_thread(look, str(bot.client.make_url("/status")), tmp_path)

    text = seen.text
    print(f"screenshots: {seen.screenshots}")  # kept by pytest's tmp_path (the last 3 runs)
    assert seen.title == "Lucia status: Major System Outage"
    assert "Major System Outage" in text
    assert PUBLIC in text
    assert FOUND in text
    assert text.index(FOUND) < text.index(f"Investigating — {PUBLIC}")  # newest first
    assert "Affects: Engine (API) (Major outage)" in text
    assert MAINTENANCE in text
    assert re.search(r"In progress: \d+ \w+ \d{4}, \d\d:\d\d UTC to", text)
    assert re.search(r"Engine \(API\)\s+Major outage", text)
    assert re.search(r"Admin\s+Under maintenance", text)
    assert re.search(r"Platform\s+Major outage", text)
    assert len(re.findall(r"\d+\.\d\d % uptime", text)) == 2
    assert "Uptime counts major outage minutes as down in full" in text
    assert INTERNAL_TITLE not in text
    assert not re.search(r"sev ?1", text, re.IGNORECASE)

    assert seen.landmarks == [("header", "banner"), ("main", "main"), ("footer", "contentinfo")]
    levels = [level for level, _ in seen.headings]
    assert levels.count(1) == 1
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), seen.headings
    assert [words for level, words in seen.headings if level == 2] == [
        "Major System Outage",
        "Active incidents",
        "Scheduled maintenance",
        "Components",
        "Past incidents",
    ]
    assert (3, PUBLIC) in seen.headings
    assert (3, MAINTENANCE) in seen.headings

    engine, admin = seen.bars
    assert {engine[0], admin[0]} <= {"img", "image"}  # ARIA 1.3 calls img "image"
    assert re.fullmatch(
        r"Engine \(API\), last 90 days: \d+\.\d\d % uptime\. 2 days with a major outage, "
        r"1 day with a partial outage, 1 day with degraded performance, \d+ days operational, "
        r"30 days without data\.",
        engine[1],
    ), engine[1]
    assert "30 days without data" in admin[1]

    assert seen.colours, "no state shown"
    for words, colour, background in seen.colours:
        assert contrast(colour, background) >= 4.5, (words, colour, background)
    assert ("Major System Outage", "rgb(255, 255, 255)", "rgb(185, 28, 28)") in seen.colours

    assert seen.phone_width == 390  # laid out for the phone's screen, by the viewport meta
    assert seen.phone_overflow == 0  # and nothing scrolls sideways
    for shot in seen.screenshots.values():
        assert shot.read_bytes().startswith(b"\x89PNG")
