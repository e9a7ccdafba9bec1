"""`/lucia status …` and a draft's Publish / Cancel buttons through the real Bolt app, with
signed requests, against a local Slack Web API, on PostgreSQL: nothing reaches the page
before Publish, a draft goes out once, and only responders change the page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.slack.views.ids import STATUS_CANCEL_ACTION, STATUS_PUBLISH_ACTION
from bot.status.model import ComponentState
from bot.store.tables import status_updates
from tests.drivers.bot import Bot, running_bot
from tests.drivers.status_page import ANA, BOB, EVE, buttons, said, status_config, status_events
from tests.fakes.slack_api import FakeSlackAPI

GENERAL = "C01GENERAL"
DRAFT = "status publish #1 engine=major_outage Payments fail for some customers"


@pytest.fixture
async def status_bot(slack_api: FakeSlackAPI, postgres_url: str) -> AsyncIterator[Bot]:
    async with running_bot(slack_api, postgres_url, status_config()) as running:
        await running.command("incident open sev1 Stripe webhook secret rotated wrong", user=ANA)
        await running.settle()
        yield running


async def draft(bot: Bot, text: str = DRAFT, user: str = ANA, key: str = "draft") -> str:
    """Sends a draft command; the draft id its preview's Publish button carries."""
    await bot.command(text, user=user, channel=GENERAL, response_key=key)
    await said(bot, key)
    return buttons(bot, key)[STATUS_PUBLISH_ACTION]


async def click(bot: Bot, action: str, draft_id: str, key: str, user: str = ANA) -> str:
    await bot.click(action, draft_id, user=user, channel=GENERAL, response_key=key)
    return await said(bot, key)


async def published_updates(bot: Bot) -> int:
    async with bot.runtime.engine.connect() as conn:
        return int(
            (
                await conn.execute(sa.select(sa.func.count()).select_from(status_updates))
            ).scalar_one()
        )


async def test_a_preview_changes_nothing_until_publish_is_clicked(status_bot: Bot) -> None:
    draft_id = await draft(status_bot)
    preview = [p for p in status_bot.slack.response_posts if p.key == "draft"][-1].body
    shown = "\n".join(b["text"]["text"] for b in preview["blocks"] if b["type"] == "section")

    assert preview["text"].startswith("Preview — nothing is public yet")
    assert "Payments fail for some customers" in shown
    assert "• Engine (API): Major outage" in shown
    assert buttons(status_bot, "draft") == {
        STATUS_PUBLISH_ACTION: draft_id,
        STATUS_CANCEL_ACTION: draft_id,
    }
    assert draft_id == "1"
    page = await status_bot.runtime.desk.status.view()
    assert not page.active
    assert page.components[0].state is ComponentState.OPERATIONAL
    assert await status_events(status_bot.runtime) == []

    answer = await click(status_bot, STATUS_PUBLISH_ACTION, draft_id, "publish")

    assert answer == "✅ Published “Payments fail for some customers” on the status page."
    replaced = [p for p in status_bot.slack.response_posts if p.key == "publish"][-1].body
    assert replaced["replace_original"] is True  # the preview, and its buttons, are gone
    page = await status_bot.runtime.desk.status.view()
    (incident,) = page.active
    assert incident.name == "Payments fail for some customers"
    assert page.components[0].state is ComponentState.MAJOR_OUTAGE
    assert page.description == "Major System Outage"

    await status_bot.command("status", user=EVE, channel=GENERAL, response_key="now")
    now = await said(status_bot, "now")
    assert now == "Lucia status: Major System Outage"  # anyone may look


async def test_the_incident_channel_shows_who_published_what_once(status_bot: Bot) -> None:
    draft_id = await draft(status_bot)
    await click(status_bot, STATUS_PUBLISH_ACTION, draft_id, "publish")
    await status_bot.settle()

    channel = status_bot.slack.channel_by_name("inc-1-stripe-webhook-secret-rotated-wrong")
    assert channel is not None
    (line,) = [m["text"] for m in channel.messages if "status page" in m["text"]]
    assert line.endswith(
        f"<@{ANA}> published to the status page (investigating): Payments fail for some "
        "customers (Engine (API): Major outage)"
    )
    assert "&lt;@" not in line  # the actor once, as a live mention


async def test_publish_clicked_twice_publishes_once(status_bot: Bot) -> None:
    draft_id = await draft(status_bot)

    await asyncio.gather(
        *(
            status_bot.click(
                STATUS_PUBLISH_ACTION, draft_id, user=ANA, channel=GENERAL, response_key=key
            )
            for key in ("one", "two")
        )
    )
    answers = sorted([await said(status_bot, "one"), await said(status_bot, "two")])

    assert answers == [
        "⚠️ Draft D1 was already decided, or doesn't exist.",
        "✅ Published “Payments fail for some customers” on the status page.",
    ]
    page = await status_bot.runtime.desk.status.view()
    assert len(page.active) == 1
    assert len(page.active[0].updates) == 1
    assert await published_updates(status_bot) == 1
    assert len(await status_events(status_bot.runtime)) == 1


async def test_cancel_publishes_nothing_and_the_draft_cannot_be_published_after(
    status_bot: Bot,
) -> None:
    draft_id = await draft(status_bot)

    cancelled = await click(status_bot, STATUS_CANCEL_ACTION, draft_id, "cancel")
    late = await click(status_bot, STATUS_PUBLISH_ACTION, draft_id, "late")

    assert cancelled == "✅ Cancelled: nothing from D1 went to the status page."
    assert late == "⚠️ Draft D1 was already decided, or doesn't exist."
    page = await status_bot.runtime.desk.status.view()
    assert not page.history
    assert page.worst is ComponentState.OPERATIONAL
    assert await published_updates(status_bot) == 0
    assert await status_events(status_bot.runtime) == []


async def test_a_non_responder_can_neither_draft_nor_publish(status_bot: Bot) -> None:
    refusal = (
        "⚠️ Only responders (the launch-gate owners, admins and `playbooks.responders`) "
        "change the public status page."
    )
    await status_bot.command(DRAFT, user=EVE, channel=GENERAL, response_key="eve-draft")
    assert await said(status_bot, "eve-draft") == refusal

    draft_id = await draft(status_bot)  # Ana's
    assert await click(status_bot, STATUS_PUBLISH_ACTION, draft_id, "eve", user=EVE) == refusal
    assert await click(status_bot, STATUS_CANCEL_ACTION, draft_id, "eve-c", user=EVE) == refusal
    assert not (await status_bot.runtime.desk.status.view()).history

    # Bob is an admin (`admins:`): he may publish Ana's draft.
    published = await click(status_bot, STATUS_PUBLISH_ACTION, draft_id, "bob", user=BOB)
    assert published.startswith("✅ Published")
    assert [actor for actor, _text in await status_events(status_bot.runtime)] == [BOB]


async def test_bad_input_says_what_was_wrong_and_the_form(status_bot: Bot) -> None:
    form = "Usage: `/lucia status | publish [#N] <component>=<state>… <public text> |"

    async def acked(text: str) -> str:
        """A parse error: answered in the ack itself."""
        response = await status_bot.command(text, user=ANA, channel=GENERAL)
        return str((await response.json())["text"])

    async def answered(text: str, key: str) -> str:
        """The service's refusal: answered through the response_url."""
        await status_bot.command(text, user=ANA, channel=GENERAL, response_key=key)
        return await said(status_bot, key)

    unknown_state = await acked("status publish #1 engine=wobbly Payments fail")
    no_text = await acked("status publish #1 engine=major_outage")
    no_components = await acked("status publish #1 Payments fail")
    no_draft = await acked("status confirm")
    unknown_component = await answered("status publish #1 billing=major_outage Down", "c")
    not_on_page = await answered("status update #1 identified We found it", "u")
    past = await answered("status maintenance engine 2020-01-01T02:00 2h Database upgrade", "m")
    not_a_draft = await answered("status confirm D99", "d")

    assert unknown_state.startswith(
        "⚠️ `wobbly` isn't a state: use operational, under_maintenance, degraded_performance, "
        "partial_outage, major_outage."
    )
    assert no_text.startswith("⚠️ What should the page say?")
    assert no_components.startswith("⚠️ Say which components are affected and how")
    assert no_draft.startswith("⚠️ Which draft? (D3)")
    assert unknown_component.startswith(
        "⚠️ No component billing on the status page: the components are engine, admin."
    )
    assert not_on_page == (
        "⚠️ INC-1 isn't on the status page: "
        "`/lucia status publish #1 <component>=<state> <text>` first."
    )
    assert past.startswith("⚠️ That maintenance would be over already (it ends 2020-01-01 04:00")
    assert not_a_draft == "⚠️ Draft D99 was already decided, or doesn't exist."
    for answer in (unknown_state, no_text, no_components, no_draft, unknown_component, past):
        assert form in answer
    assert not (await status_bot.runtime.desk.status.view()).history
