"""`/lucia status` in the shell: the page and a draft's preview as plain text, the preview
ending with the two commands that decide it."""

from __future__ import annotations

from bot.console.render import reply_text
from bot.status.model import ComponentState, Phase
from bot.status.replies import StatusNow, StatusPreview
from tests.drivers.status_views import incident, maintenance, page

TYPED = "<b>Checkout</b> & *down*"


def test_the_page_reads_as_plain_text() -> None:
    now = page(
        [
            incident(
                TYPED,
                {"admin": ComponentState.PARTIAL_OUTAGE, "engine": ComponentState.MAJOR_OUTAGE},
                [(Phase.INVESTIGATING, "Looking"), (Phase.IDENTIFIED, f"Found it: {TYPED}")],
            )
        ],
        [maintenance("Database upgrade", "Database upgrade; writes pause")],
    )

    assert reply_text(StatusNow(now)).splitlines() == [
        "Lucia status: Major System Outage (last updated 2026-03-04 10:00 UTC)",
        "Platform",
        "  Engine (API): Major outage · 96.00 % uptime over 90 days",
        "  Admin: Partial outage · 98.80 % uptime over 90 days",
        "Active incidents:",
        f"  {TYPED} — identified since 2026-03-04 10:00 UTC; "
        "affects Engine (API): Major outage; Admin: Partial outage",
        f"    identified, 2026-03-04 10:01 UTC: Found it: {TYPED}",
        "Scheduled maintenance:",
        "  Database upgrade — scheduled, 2026-03-04 12:00 UTC to 2026-03-04 14:00 UTC "
        "(Engine (API), Admin)",
        "    Database upgrade; writes pause",
    ]


def test_a_quiet_page_says_nothing_is_wrong() -> None:
    assert reply_text(StatusNow(page())).splitlines() == [
        "Lucia status: All Systems Operational (last updated 2026-03-04 10:00 UTC)",
        "Platform",
        "  Engine (API): Operational · 100.00 % uptime over 90 days",
        "  Admin: Operational · 100.00 % uptime over 90 days",
        "No active incidents.",
    ]


def test_a_preview_ends_with_the_commands_that_publish_or_cancel_it() -> None:
    preview = StatusPreview(
        3, f"New public incident: {TYPED}", (TYPED, "Engine (API): Major outage")
    )

    text = reply_text(preview)

    assert text.splitlines() == [
        "Preview — nothing is public yet (draft D3)",
        f"New public incident: {TYPED}",
        f"  {TYPED}",
        "  Engine (API): Major outage",
        "Publish: /lucia status confirm D3 · Cancel: /lucia status cancel D3",
    ]
    assert text.endswith("/lucia status cancel D3")
    assert "/lucia status confirm D3" in text.splitlines()[-1]
