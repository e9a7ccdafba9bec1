"""Slack's Block Kit limits, checked where a message is made: what reaches them is clipped
where the views clip it and still renders; what goes past them is refused before Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.model import AlertGroup, GroupStatus, Notice, NoticeStatus
from bot.command_text import MAX_TEXT
from bot.config import StatusComponent
from bot.errors import ChatError
from bot.gate.model import NO_GO, PhaseResult, Verdict
from bot.gate.replies import GateReport
from bot.incidents.commands import MAX_TITLE
from bot.incidents.model import EventKind, Incident, Status, TimelineEvent
from bot.incidents.replies import Detail, Listing
from bot.paging.ports import PageMessage
from bot.paging.words import Person
from bot.slack.chat import SlackChat
from bot.slack.views.alert_notice import alert_notice
from bot.slack.views.home import home_view
from bot.slack.views.incident_card import incident_card
from bot.slack.views.layout import button
from bot.slack.views.message import Message
from bot.slack.views.modals import update_modal
from bot.slack.views.page_dm import page_dm
from bot.slack.views.replies import reply_message
from bot.status.model import ComponentState, Phase
from bot.status.replies import StatusNow, StatusPreview
from bot.vocabulary import Severity
from tests.drivers.gate_views import evaluation as gate_evaluation
from tests.drivers.gate_views import exception as gate_exception
from tests.drivers.gate_views import item as gate_item
from tests.drivers.status_views import incident as status_incident
from tests.drivers.status_views import maintenance as status_maintenance
from tests.drivers.status_views import page as status_page

AT = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


def _incident(number: int = 7, title: str = "Checkout down", description: str = "") -> Incident:
    return Incident(
        number=number,
        title=title,
        severity=Severity.SEV1,
        status=Status.INVESTIGATING,
        opened_by="U01ALICE00",
        created_at=AT,
        updated_at=AT,
        description=description,
    )


def test_a_title_at_its_maximum_fills_the_card_header_to_slacks_limit() -> None:
    blocks = incident_card(_incident(title="t" * MAX_TITLE)).blocks_json()

    assert blocks is not None
    header = blocks[0]
    assert header["type"] == "header"
    assert len(header["text"]["text"]) == 150  # icon, key and severity first: the title is cut
    assert header["text"]["text"].startswith("🔴 INC-7 · SEV1 · ttt")


def test_a_description_at_its_maximum_renders_in_one_section() -> None:
    blocks = incident_card(_incident(description="d" * MAX_TEXT)).blocks_json()

    assert blocks is not None
    assert {"type": "mrkdwn", "text": "d" * MAX_TEXT} in [b.get("text") for b in blocks]


def test_an_over_long_description_is_cut_to_the_maximum_before_it_is_shown() -> None:
    blocks = incident_card(_incident(description="d" * 10_000)).blocks_json()

    assert blocks is not None
    assert {"type": "mrkdwn", "text": "d" * MAX_TEXT} in [b.get("text") for b in blocks]


def test_a_button_text_past_slacks_limit_is_refused_where_the_message_is_made() -> None:
    message = Message("x", [ActionsBlock(elements=[button("b" * 76, "lucia_x", "1")])])

    with pytest.raises(SlackObjectFormationError, match="75"):
        message.blocks_json()


async def test_a_card_slack_would_refuse_is_a_chat_error_without_a_call_to_slack() -> None:
    # Escaping grows a description of ampersands past the section limit. Nothing listens on
    # port 9: had the card been sent, the error would say the API is unreachable.
    client = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/")
    incident = _incident(description="&" * MAX_TEXT)

    with pytest.raises(ChatError) as refused:
        await SlackChat(client).post_card("C0INC00001", incident, None)

    assert (refused.value.method, refused.value.code) == ("chat.postMessage", "invalid_blocks")


def test_the_update_form_title_is_cut_to_slacks_24_characters() -> None:
    view = update_modal(_incident(number=123_456_789_012_345), "C0ORIGIN01").to_dict()

    assert view["title"] == {"type": "plain_text", "text": "Update INC-1234567890123"}


def test_a_long_listing_stays_within_a_messages_sections_and_the_home_tabs_blocks() -> None:
    many = [_incident(number=n, title="t" * MAX_TITLE) for n in range(1, 1001)]

    listed = reply_message(Listing(many, include_closed=True)).blocks_json()
    home = home_view(Listing(many, include_closed=False)).to_dict()

    assert listed is not None
    assert len(listed) == 45  # the newest that fit; the rest are cut, not refused
    assert all(len(b["text"]["text"]) <= 3000 for b in listed)
    assert len(home["blocks"]) == 46  # the listing and the help


def test_an_incident_in_detail_with_a_long_timeline_stays_within_a_message() -> None:
    incident = _incident(title="t" * MAX_TITLE, description="d" * MAX_TEXT)
    timeline = [
        TimelineEvent(7, AT, EventKind.NOTE, "U01ALICE00", "n" * MAX_TEXT) for _ in range(100)
    ]

    blocks = reply_message(Detail(incident, timeline)).blocks_json()

    assert blocks is not None
    assert len(blocks) <= 50
    assert "the last 40 of 100" in json.dumps(blocks)
    assert all(
        len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b
    )


def test_an_alert_title_is_cut_where_the_notice_is_made() -> None:
    group = AlertGroup(
        id=1,
        key="sentry:1",
        status=GroupStatus.FIRING,
        title="e" * 5000,
        level="error",
        project="web",
        environment="prod",
        rule="",
        url="",
        source="sentry",
        count=3,
        first_seen=AT,
        last_seen=AT,
    )
    notice = Notice(
        id=5,
        group_by="web/prod",
        status=next(iter(NoticeStatus)),
        created_at=AT,
        version=1,
        sent_version=0,
    )

    blocks = alert_notice(notice, [group]).blocks_json()

    assert blocks is not None
    assert "e" * 200 + " · error" in blocks[0]["text"]["text"]
    assert "e" * 201 not in blocks[0]["text"]["text"]


def test_a_page_past_the_section_limit_is_cut_with_an_ellipsis() -> None:
    page = PageMessage(
        page_id=3,
        person=Person("Bob", "U01BOBBY00"),
        title=("Page from Alice",),
        lines=(("x" * 5000,),),
        urgent=True,
    )

    blocks = page_dm(page).blocks_json()

    assert blocks is not None
    body = blocks[1]["text"]["text"]
    assert len(body) == MAX_TEXT
    assert body.endswith("x…")


def test_a_gate_report_of_over_long_names_reasons_and_commands_is_cut_and_still_renders() -> None:
    # Stored evaluations are read back as they were kept: nothing bounds their words.
    long = "&" * 5000
    names = tuple(f"{n}-{'n' * 5000}" for n in range(3))
    phase = PhaseResult(
        "staging",
        NO_GO,
        tuple(gate_item(name, Verdict.FAIL, long, refresh=long) for name in names),
        (gate_exception("staging", *names * 100, reason=long),),
    )

    blocks = reply_message(GateReport(gate_evaluation(phase))).blocks_json()

    assert blocks is not None
    assert len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    assert sum(t.count("❌ *") for t in texts) == 3  # every item, cut, not dropped
    assert " and 290 more: " in texts[0]  # an exception's items past the first ten, counted


def test_a_preview_of_the_longest_public_text_shows_all_of_it_within_slacks_limits() -> None:
    typed = "&" * MAX_TEXT  # five times as long once escaped for mrkdwn
    preview = StatusPreview(
        7,
        f"New public incident: {typed[:120]}",
        (typed, *(f"C{i}: Major outage" for i in range(300))),
    )

    blocks = reply_message(preview).blocks_json()

    assert blocks is not None
    assert len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    assert "".join(texts[1:6]) == "&amp;" * MAX_TEXT  # in five pieces, none cut in an entity
    assert blocks[-2]["type"] == "actions"  # the buttons are always there


def test_a_roll_up_of_many_long_incidents_stays_within_slacks_limits() -> None:
    components = [StatusComponent(id=f"c{i}", name="n" * 60 + str(i)) for i in range(60)]
    incidents = [
        status_incident(
            "i" * 120,
            {c.id: ComponentState.MAJOR_OUTAGE for c in components},
            [(Phase.INVESTIGATING, "<" * MAX_TEXT)],
            number=n,
        )
        for n in range(1, 40)
    ]

    blocks = reply_message(
        StatusNow(
            status_page(incidents, [status_maintenance("m" * 120, "&" * MAX_TEXT)], components)
        )
    ).blocks_json()

    assert blocks is not None
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
