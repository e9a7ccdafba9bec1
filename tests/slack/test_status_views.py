"""The status page's Slack views: the roll-up and a draft's preview, with what people typed
shown exactly as the public page will say it — Slack formats none of it."""

from __future__ import annotations

from typing import Any

from bot.slack.views.ids import STATUS_CANCEL_ACTION, STATUS_PUBLISH_ACTION
from bot.slack.views.replies import reply_message
from bot.status.model import ComponentState, Phase
from bot.status.replies import StatusNow, StatusPreview
from tests.drivers.status_views import AT, incident, maintenance, page

TYPED = "<!channel> Checkout & <https://evil.example|login> *down* _now_ ~ `x`"
SHOWN = (
    "&lt;!channel&gt; Checkout &amp; &lt;https://evil.example|login&gt; "
    "\u2217down\u2217 \u02cdnow\u02cd \u223c \u02cbx\u02cb"
)


def sections(blocks: list[dict[str, Any]] | None) -> list[str]:
    assert blocks is not None
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_the_preview_shows_the_public_text_as_typed_and_publish_and_cancel() -> None:
    preview = StatusPreview(
        3, f"New public incident: {TYPED}", (TYPED, "Engine (API): Major outage")
    )

    message = reply_message(preview)
    blocks = message.blocks_json()
    shown = sections(blocks)

    assert shown == [
        f"👀 *Preview — nothing is public yet* · draft `D3`\n*New public incident: {SHOWN}*",
        SHOWN,
        "• Engine (API): Major outage",
    ]
    assert message.text.startswith("Preview — nothing is public yet: New public incident:")
    assert blocks is not None
    actions = next(b for b in blocks if b["type"] == "actions")
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in actions["elements"]] == [
        (STATUS_PUBLISH_ACTION, "3", "Publish"),
        (STATUS_CANCEL_ACTION, "3", "Cancel"),
    ]
    assert blocks[-1]["elements"][0]["text"] == (
        "Or type `/lucia status confirm D3` or `/lucia status cancel D3`."
    )


def test_the_roll_up_shows_each_component_the_open_incidents_and_maintenance() -> None:
    now = page(
        [
            incident(
                TYPED,
                {
                    "admin": ComponentState.PARTIAL_OUTAGE,
                    "engine": ComponentState.DEGRADED_PERFORMANCE,
                },
                [(Phase.INVESTIGATING, "Looking"), (Phase.IDENTIFIED, TYPED)],
            )
        ],
        [maintenance(f"Upgrade {TYPED}")],
    )

    message = reply_message(StatusNow(now))
    (text,) = sections(message.blocks_json())
    lines = text.split("\n")

    assert message.text == "Lucia status: Partial System Outage"
    assert lines[0] == "🟠 *Lucia status: Partial System Outage*"
    assert lines[1].startswith(f"Last updated <!date^{int(AT.timestamp())}^")
    assert lines[3:6] == [
        "*Platform*",
        "🟡 Engine (API) — Degraded performance · 100.00 % uptime over 90 days",
        "🟠 Admin — Partial outage · 98.80 % uptime over 90 days",  # 1 h of 25 at 30 %
    ]
    assert lines[7] == "*Active incidents (1)*"
    assert lines[8].startswith(f"🟠 *{SHOWN}* — Identified · since <!date^")
    # In the page's order, whatever order the stored states came in.
    assert lines[9] == "Affects Engine (API): Degraded performance; Admin: Partial outage"
    assert lines[10].startswith("> _Identified_ <!date^")  # the latest update only
    assert lines[10].endswith(f": {SHOWN}")
    assert "Looking" not in text
    assert lines[12] == "*Scheduled maintenance*"
    assert lines[13].startswith(f"🔧 *Upgrade {SHOWN}* — from <!date^")
    assert lines[13].endswith(" · Engine (API), Admin")
    for markup in ("*down*", "_now_", "`x`", "<!channel>", "<https://evil"):
        assert markup not in text


def test_a_page_with_nothing_wrong_says_so() -> None:
    (text,) = sections(reply_message(StatusNow(page())).blocks_json())

    assert text.startswith("🟢 *Lucia status: All Systems Operational*")
    assert "*No active incidents.*" in text
    assert "Scheduled maintenance" not in text


def test_a_maintenance_in_progress_says_until_when_and_its_components_read_so() -> None:
    now = page(maintenances=[maintenance(starts_in=0.5)])

    (text,) = sections(reply_message(StatusNow(now)).blocks_json())

    assert text.startswith("🔧 *Lucia status: Service Under Maintenance*")
    assert "🔧 Engine (API) — Under maintenance" in text
    assert "🔧 *Database upgrade* — in progress, until <!date^" in text
