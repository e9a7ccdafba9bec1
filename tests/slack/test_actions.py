"""The incident card's buttons and the forms, as Slack sends them."""

from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa

from bot.store.tables import incidents, timeline_events
from tests.drivers.bot import Bot
from tests.drivers.payloads import slack_fixture


async def _incident(bot: Bot, number: int = 1) -> dict[str, object]:
    async with bot.runtime.engine.connect() as conn:
        row = await conn.execute(sa.select(incidents).where(incidents.c.number == number))
        return dict(row.mappings().one())


async def _kinds(bot: Bot) -> list[str]:
    async with bot.runtime.engine.connect() as conn:
        query = sa.select(timeline_events.c.kind).order_by(timeline_events.c.id)
        return list((await conn.execute(query)).scalars())


async def _open(bot: Bot) -> str:
    await bot.command("incident open sev2 Checkout errors spiking")
    await bot.settle()
    return str((await _incident(bot))["channel_id"])


async def test_acknowledge_button_acks_and_rerenders_the_card(bot: Bot) -> None:
    channel = await _open(bot)
    response = await bot.click("lucia_ack", "1", user="U01BOBBY00", channel=channel)
    assert response.status == 200
    await bot.settle()

    stored = await _incident(bot)
    assert stored["acknowledged_by"] == "U01BOBBY00"
    card = bot.slack.channels[channel].messages[0]
    assert "<@U01BOBBY00>" in json.dumps(card["blocks"])
    assert "lucia_ack" not in json.dumps(card["blocks"])  # nothing left to acknowledge
    assert bot.slack.calls_to("chat.update")


async def test_double_click_acknowledges_once(bot: Bot) -> None:
    channel = await _open(bot)
    first, second = await asyncio.gather(
        bot.click("lucia_ack", "1", user="U01BOBBY00", channel=channel, response_key="a"),
        bot.click("lucia_ack", "1", user="U01BOBBY00", channel=channel, response_key="b"),
    )
    assert first.status == second.status == 200
    await bot.settle()
    assert (await _kinds(bot)).count("acknowledged") == 1
    answers = [p.body["text"] for p in bot.slack.response_posts if p.key in ("a", "b")]
    assert len(answers) == 2
    assert sum("already acknowledged" in a for a in answers) == 1


async def test_fixture_button_value_inc_42_names_the_incident(bot: Bot) -> None:
    """Slack's sample payload carries "INC-42": the number is read from it."""
    await bot.click("lucia_ack", "INC-42", response_key="ghost")
    await bot.settle()
    assert "There is no incident #42" in bot.slack.response_posts[-1].body["text"]


async def test_resolve_button_resolves(bot: Bot) -> None:
    channel = await _open(bot)
    await bot.click("lucia_resolve", "1", channel=channel)
    await bot.settle()
    assert (await _incident(bot))["status"] == "resolved"
    await bot.click("lucia_resolve", "1", channel=channel, response_key="again")
    await bot.settle()
    assert "already resolved" in bot.slack.response_posts[-1].body["text"]
    assert (await _kinds(bot)).count("resolved") == 1


async def test_update_button_opens_a_form_whose_submission_changes_status(bot: Bot) -> None:
    channel = await _open(bot)
    await bot.click("lucia_update", "1", channel=channel)
    await bot.settle()
    (opened,) = bot.slack.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "lucia_update_incident"

    submission = slack_fixture("view_submission.json")
    submission["view"] = view | {
        "id": "V01UPDATE1",
        "state": {
            "values": {
                "status_block": {
                    "status_select": {
                        "type": "static_select",
                        "selected_option": {"value": "identified"},
                    }
                },
                "text_block": {
                    "text_input": {
                        "type": "plain_text_input",
                        "value": "bad deploy <!channel> found",
                    }
                },
            }
        },
    }
    response = await bot.interact(submission)
    assert response.status == 200
    await bot.settle()
    assert (await _incident(bot))["status"] == "identified"
    assert (await _kinds(bot))[-1] == "status_changed"
    posted = json.dumps(bot.slack.channels[channel].messages)
    assert "&lt;!channel&gt;" in posted
    assert "<!channel>" not in posted


async def test_declare_form_opens_an_incident_and_invites_responders(bot: Bot) -> None:
    bot.slack.add_user("U01CAROL00", "carol")
    submission = slack_fixture("view_submission.json")
    response = await bot.interact(submission)
    assert response.status == 200
    await bot.settle()

    stored = await _incident(bot)
    assert stored["title"] == "Payments API returning 5xx"
    assert stored["severity"] == "sev2"
    channel = bot.slack.channels[str(stored["channel_id"])]
    responders = submission["view"]["state"]["values"]["responders_block"]["responders_select"]
    assert set(responders["selected_users"]) <= channel.members
    assert "U01ALICE00" in channel.members
    (told,) = bot.slack.calls_to("chat.postEphemeral")
    assert "Opened INC-1" in told.args["text"]


async def test_declare_form_without_title_shows_the_error_in_the_form(bot: Bot) -> None:
    submission = slack_fixture("view_submission.json")
    submission["view"]["state"]["values"]["title_block"]["title_input"]["value"] = "   "
    response = await bot.interact(submission)
    body = await response.json()
    assert body["response_action"] == "errors"
    assert "title" in body["errors"]["title_block"]
    await bot.settle()
    assert bot.slack.calls_to("conversations.create") == []


async def test_an_update_the_incident_refuses_is_given_back_to_copy(bot: Bot) -> None:
    channel = await _open(bot)
    await bot.click("lucia_update", "1", channel=channel)
    await bot.settle()
    (opened,) = bot.slack.calls_to("views.open")
    await bot.command("incident resolve #1")  # resolved while the form was open
    await bot.settle()

    submission = slack_fixture("view_submission.json")
    submission["view"] = opened.args["view"] | {
        "id": "V01UPDATE2",
        "state": {
            "values": {
                "status_block": {
                    "status_select": {"type": "static_select", "selected_option": {"value": "keep"}}
                },
                "text_block": {
                    "text_input": {"type": "plain_text_input", "value": "error rate back to 0.1%"}
                },
            }
        },
    }
    await bot.interact(submission)
    await bot.settle()
    (told,) = bot.slack.calls_to("chat.postEphemeral")
    assert told.args["channel"] == channel
    assert "is resolved" in told.args["text"]
    assert "error rate back to 0.1%" in told.args["text"]
