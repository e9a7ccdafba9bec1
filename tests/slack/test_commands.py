"""`/lucia incident …` through the real Bolt app, with signed requests, against a local
Slack Web API; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa

from bot.config import LuciaConfig
from bot.store.tables import incidents, timeline_events
from tests.drivers.bot import Bot, running_bot
from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.fakes.slack_api import FakeSlackAPI


async def rows(bot: Bot, table: sa.Table) -> list[dict[str, object]]:
    async with bot.runtime.engine.connect() as conn:
        result = await conn.execute(sa.select(table))
        return [dict(r) for r in result.mappings()]


async def events_of(bot: Bot, number: int) -> list[str]:
    async with bot.runtime.engine.connect() as conn:
        result = await conn.execute(
            sa.select(timeline_events.c.kind)
            .where(timeline_events.c.incident_number == number)
            .order_by(timeline_events.c.id)
        )
        return list(result.scalars())


async def open_incident(bot: Bot, text: str = "incident open sev2 Checkout errors spiking") -> str:
    response = await bot.command(text)
    assert response.status == 200
    await bot.settle()
    created = bot.slack.calls_to("conversations.create")[-1]
    channel = bot.slack.channel_by_name(created.args["name"])
    assert channel is not None
    return channel.id


async def test_open_creates_numbered_incident_with_channel_card_and_announcement(bot: Bot) -> None:
    response = await bot.command("incident open sev2 Checkout errors spiking")
    assert response.status == 200
    assert "Checkout errors spiking" in (await response.json())["text"]
    await bot.settle()

    channel = bot.slack.channel_by_name("inc-1-checkout-errors-spiking")
    assert channel is not None
    assert "U01ALICE00" in channel.members
    assert channel.topic == "INC-1 · SEV2 · Checkout errors spiking"
    card = channel.messages[0]
    assert "INC-1" in card["blocks"][0]["text"]["text"]
    buttons = [e["action_id"] for e in card["blocks"][-1]["elements"]]
    assert buttons == ["lucia_ack", "lucia_update", "lucia_resolve"]
    announcement = bot.slack.channels[INCIDENTS_CHANNEL].messages[-1]
    assert "INC-1" in announcement["text"]
    assert f"<#{channel.id}>" in json.dumps(announcement["blocks"])

    (stored,) = await rows(bot, incidents)
    assert stored["number"] == 1
    assert stored["severity"] == "sev2"
    assert stored["status"] == "investigating"
    assert stored["channel_id"] == channel.id
    assert stored["card_ts"] == card["ts"]
    # No lucia.yaml here: nobody can be paged, and the timeline says so.
    assert await events_of(bot, 1) == ["declared", "channel_created", "escalation"]
    assert any("Opened INC-1 (SEV2)" in a for a in await bot.answers())
    assert any(
        "⚠️ Nobody will be paged: lucia.yaml has no escalation" in a for a in await bot.answers()
    )
    assert "⚠️ Nobody will be paged: lucia.yaml has no escalation" in json.dumps(
        card["blocks"], ensure_ascii=False
    )


async def test_twenty_simultaneous_opens_get_distinct_numbers_and_channels(bot: Bot) -> None:
    responses = await asyncio.gather(
        *(bot.command(f"incident open Outage number {i}", response_key=f"k{i}") for i in range(20))
    )
    assert [r.status for r in responses] == [200] * 20
    await bot.settle()

    stored = await rows(bot, incidents)
    assert sorted(r["number"] for r in stored) == list(range(1, 21))
    channel_ids = {r["channel_id"] for r in stored}
    assert len(channel_ids) == 20
    assert None not in channel_ids
    assert len(bot.slack.calls_to("conversations.create")) == 20
    warned = [
        p.body.get("text", "") for p in bot.slack.response_posts if "⚠️" in p.body.get("text", "")
    ]
    # Each says only that nobody is paged (no lucia.yaml here), never that a step failed.
    assert len(warned) == 20
    assert all(t.count("⚠️") == 1 and "⚠️ Nobody will be paged" in t for t in warned)


async def test_taken_channel_name_gets_a_suffix(bot: Bot) -> None:
    bot.slack.add_channel("inc-1-checkout-errors-spiking")
    await open_incident(bot)
    (stored,) = await rows(bot, incidents)
    assert stored["channel_name"] == "inc-1-checkout-errors-spiking-2"


async def test_channel_creation_failure_keeps_the_incident_and_says_what_failed(bot: Bot) -> None:
    bot.slack.fail_next("conversations.create", "missing_scope")
    await bot.command("incident open sev1 Payments down")
    await bot.settle()

    (stored,) = await rows(bot, incidents)
    assert stored["number"] == 1
    assert stored["channel_id"] is None
    assert await events_of(bot, 1) == ["declared", "channel_failed", "escalation"]
    answer = (await bot.answers())[-1]
    assert "Opened INC-1" in answer
    assert "couldn't create the incident channel (missing_scope)" in answer
    # Still announced, so nobody misses it.
    assert "INC-1" in bot.slack.channels[INCIDENTS_CHANNEL].messages[-1]["text"]


async def test_slack_rate_limit_delays_the_card_but_does_not_lose_it(bot: Bot) -> None:
    bot.slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    await open_incident(bot)
    posts = bot.slack.calls_to("chat.postMessage")
    assert len(posts) >= 3  # the refused one, its retry, and the announcement
    (stored,) = await rows(bot, incidents)
    assert stored["card_ts"] is not None


async def test_changes_in_the_incident_channel_update_the_card_and_timeline(bot: Bot) -> None:
    channel = await open_incident(bot)
    for text in [
        "incident ack",
        "incident status identified bad deploy 1234",
        "incident sev 1",
        "incident lead <@U01BOBBY00|bob>",
        "incident update rolled back, watching error rate",
        "incident note customer emails paused",
        "incident mitigated",
        "incident resolve rollback fixed it",
    ]:
        response = await bot.command(text, channel=channel)
        assert response.status == 200
        await bot.settle()

    (stored,) = await rows(bot, incidents)
    assert stored["status"] == "resolved"
    assert stored["severity"] == "sev1"
    assert stored["lead"] == "U01BOBBY00"
    assert stored["acknowledged_by"] == "U01ALICE00"
    assert stored["summary"] == "rollback fixed it"
    assert await events_of(bot, 1) == [
        "declared",
        "channel_created",
        "escalation",  # no lucia.yaml: "Nobody will be paged", said on the timeline
        "acknowledged",
        "status_changed",
        "severity_changed",
        "lead_changed",
        "update",
        "note",
        "mitigated",
        "resolved",
    ]
    card = bot.slack.channels[channel].messages[0]
    assert "resolved" in json.dumps(card["blocks"])
    assert "SEV1" in card["blocks"][0]["text"]["text"]
    assert not [b for b in card["blocks"] if b["type"] == "actions"]  # no buttons when resolved


async def test_illegal_steps_get_a_clear_answer_and_change_nothing(bot: Bot) -> None:
    channel = await open_incident(bot)
    await bot.command("incident ack", channel=channel)
    await bot.settle()
    await bot.command("incident ack", channel=channel, response_key="again")
    await bot.settle()  # answered before the resolve below; commands run after their ack
    await bot.command("incident resolve", channel=channel)
    await bot.settle()
    await bot.command("incident resolve", channel=channel, response_key="twice")
    await bot.settle()

    assert "already acknowledged by <@U01ALICE00>" in (await bot.answers("again"))[-1]
    assert "already resolved" in (await bot.answers("twice"))[-1]
    assert (await events_of(bot, 1)).count("acknowledged") == 1
    assert (await events_of(bot, 1)).count("resolved") == 1


async def test_bad_input_is_answered_at_once_with_the_right_form(bot: Bot) -> None:
    cases = {
        "incident frob": "isn't a command I know",
        "frobnicate": "don't know the command",
        "page": "Page whom?",
        "page nobody": "neither a role",
        "owners set dns bob": "isn't a @mention",
        "incident open sev9 Broken": "`sev9` isn't a severity",
        "incident open sev2": "needs a title",
        "incident open " + "x" * 5000: "5,000 characters",
        "incident lead @nobody": "couldn't find a user for `@nobody`",
        "incident sev 7": "`7` isn't a severity",
    }
    for text, expected in cases.items():
        response = await bot.command(text)
        assert response.status == 200
        body = await response.json()
        assert body["response_type"] == "ephemeral"
        assert expected in body["text"]
        assert "Usage: `/lucia" in body["text"]
    await bot.settle()
    assert await rows(bot, incidents) == []


async def test_a_mention_that_does_not_resolve_is_refused(bot: Bot) -> None:
    channel = await open_incident(bot)
    await bot.command("incident lead <@U0GHOST000>", channel=channel, response_key="lead")
    await bot.settle()
    assert "couldn't find the user <@U0GHOST000>" in (await bot.answers("lead"))[-1]
    (stored,) = await rows(bot, incidents)
    assert stored["lead"] == "U01ALICE00"


async def test_commands_outside_an_incident_channel_need_a_number(bot: Bot) -> None:
    await open_incident(bot)
    await bot.command("incident ack", channel="C01GENERAL", response_key="which")
    await bot.command("incident ack #7", channel="C01GENERAL", response_key="missing")
    await bot.command("incident ack #1", channel="C01GENERAL", response_key="ok")
    await bot.settle()
    assert "Which incident?" in (await bot.answers("which"))[-1]
    assert "There is no incident #7" in (await bot.answers("missing"))[-1]
    assert "Acknowledged" in (await bot.answers("ok"))[-1]


async def test_list_show_and_timeline(bot: Bot) -> None:
    channel = await open_incident(bot)
    await open_incident(bot, "incident open sev4 Slow admin")
    await bot.command("incident resolve #2")
    await bot.settle()

    await bot.command("incident list", response_key="list")
    await bot.command("incident list --all", response_key="all")
    await bot.command("incident timeline", channel=channel, response_key="timeline")
    await bot.settle()
    listing = json.dumps([p.body for p in bot.slack.response_posts if p.key == "list"])
    assert "INC-1" in listing
    assert "INC-2" not in listing
    assert "INC-2" in json.dumps([p.body for p in bot.slack.response_posts if p.key == "all"])
    timeline = json.dumps([p.body for p in bot.slack.response_posts if p.key == "timeline"])
    assert "<@U01ALICE00> declared SEV2: Checkout errors spiking" in timeline
    assert "Lucia channel #inc-1-checkout-errors-spiking created" in timeline


async def test_open_without_title_opens_the_form(bot: Bot) -> None:
    response = await bot.command("incident open")
    assert response.status == 200
    await bot.settle()
    (call,) = bot.slack.calls_to("views.open")
    assert call.args["view"]["callback_id"] == "lucia_declare_incident"
    assert await rows(bot, incidents) == []


async def test_help(bot: Bot) -> None:
    response = await bot.command("help")
    body = await response.json()
    assert "/lucia incident open [sev1-4] <title>" in json.dumps(body)


async def test_missing_announcement_channel_is_reported_not_fatal(
    slack_api: FakeSlackAPI, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'l.db'}"
    async with running_bot(slack_api, database, LUCIA_INCIDENTS_CHANNEL="C0GONE0000") as bot:
        await bot.command("incident open sev2 Checkout errors spiking")
        await bot.settle()
        answer = (await bot.answers())[-1]
    assert "Opened INC-1" in answer
    assert "couldn't announce it in the incidents channel (channel_not_found)" in answer
    assert slack_api.channel_by_name("inc-1-checkout-errors-spiking") is not None


async def test_an_ack_while_the_card_is_being_posted_still_shows_on_the_card(bot: Bot) -> None:
    bot.slack.delay("chat.postMessage", 0.5)  # a slow Slack: the card is in flight
    await bot.command("incident open sev1 Engine down")
    await bot.slack.wait_for("chat.postMessage")
    await bot.command("incident ack #1", user="U01BOBBY00", response_key="ack")
    await bot.settle()

    (stored,) = await rows(bot, incidents)
    card = bot.slack.channels[str(stored["channel_id"])].messages[0]
    assert "<@U01BOBBY00>" in json.dumps(card["blocks"])
    assert "lucia_ack" not in json.dumps(card["blocks"])


async def test_the_ack_does_not_wait_for_slow_work(bot: Bot) -> None:
    """Slack gets its answer before the channel exists: the slow part runs after the ack."""
    bot.slack.delay("conversations.create", 1.0)
    response = await bot.command("incident open sev2 Checkout errors spiking")
    assert response.status == 200
    assert "Opening an incident" in (await response.json())["text"]
    assert bot.slack.channel_by_name("inc-1-checkout-errors-spiking") is None
    await bot.settle()
    assert bot.slack.channel_by_name("inc-1-checkout-errors-spiking") is not None


async def test_a_typed_at_channel_is_shown_but_pings_nobody(bot: Bot) -> None:
    # With should_escape, Slack hands "@channel" to the bot as <!channel>.
    await bot.command("incident open sev1 DB down <!channel> <!subteam^S0ONCALL|@oncall>")
    await bot.settle()
    posted = json.dumps([m for c in bot.slack.channels.values() for m in c.messages])
    assert "DB down @channel @oncall" in posted
    assert "<!channel>" not in posted
    assert "<!subteam" not in posted


async def test_open_with_severity_but_no_title_says_so_and_opens_the_form_preset(bot: Bot) -> None:
    response = await bot.command("incident open sev1")
    assert "needs a title" in (await response.json())["text"]
    await bot.settle()
    (call,) = bot.slack.calls_to("views.open")
    severity = call.args["view"]["blocks"][1]["element"]["initial_option"]["value"]
    assert severity == "sev1"


async def test_slack_escaping_is_undone_before_naming_the_channel(bot: Bot) -> None:
    # What Slack sends for: R&D <api> down @bob
    await bot.command("incident open sev1 R&amp;D &lt;api&gt; down <@U01BOBBY00|bob>")
    await bot.settle()
    (stored,) = await rows(bot, incidents)
    assert stored["title"] == "R&D <api> down @bob"
    channel = bot.slack.channel_by_name("inc-1-r-d-api-down-bob")
    assert channel is not None
    assert channel.topic == "INC-1 · SEV1 · R&D <api> down @bob"
    header = channel.messages[0]["blocks"][0]["text"]
    assert header == {"type": "plain_text", "text": "🔴 INC-1 · SEV1 · R&D <api> down @bob"}
    announcement = bot.slack.channels[INCIDENTS_CHANNEL].messages[-1]
    assert "R&amp;D &lt;api&gt; down @bob" in json.dumps(announcement["blocks"])  # mrkdwn


async def test_retyping_the_same_open_within_a_minute_opens_one_incident(bot: Bot) -> None:
    await bot.command("incident open sev1 Payments down", response_key="first")
    await bot.settle()  # its channel exists: the refusal names it
    await bot.command("incident open sev1 payments  down", response_key="again")
    await bot.command("incident open sev1 Payments down", user="U01BOBBY00", response_key="bob")
    await bot.settle()
    assert len(await rows(bot, incidents)) == 2  # Alice's once, and Bob's own
    (first,) = [r for r in await rows(bot, incidents) if r["opened_by"] == "U01ALICE00"]
    refusal = (await bot.answers("again"))[-1]
    assert refusal.startswith("⚠️ You opened INC-1 “Payments down” ")
    assert f"ago in <#{first['channel_id']}>, so I didn't open a second one" in refusal


async def test_a_long_listing_says_it_shows_only_the_newest(bot: Bot) -> None:
    async with bot.runtime.engine.begin() as conn:
        for number in range(1, 31):
            await conn.execute(
                sa.insert(incidents).values(
                    number=number,
                    title=f"Old {number}",
                    severity="sev4",
                    status="investigating",
                    opened_by="U01ALICE00",
                    created_at=sa.func.now(),
                    updated_at=sa.func.now(),
                )
            )
    await bot.command("incident list", response_key="list")
    await bot.settle()
    listing = json.dumps(bot.slack.response_posts[-1].body)
    assert "the newest 25; older ones exist" in listing
    assert "INC-30" in listing
    assert "INC-5*" not in listing


async def test_an_announcement_channel_given_by_name_is_updated_by_its_id(
    slack_api: FakeSlackAPI, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'l.db'}"
    async with running_bot(slack_api, database, LUCIA_INCIDENTS_CHANNEL="incidents") as bot:
        await bot.command("incident open sev2 Checkout errors spiking")
        await bot.settle()
        await bot.command("incident ack #1", response_key="ack")
        await bot.settle()
        (stored,) = await rows(bot, incidents)
        answer = (await bot.answers("ack"))[-1]
    assert stored["announcement_channel_id"] == INCIDENTS_CHANNEL
    assert "⚠️" not in answer
    assert any(c.args["channel"] == INCIDENTS_CHANNEL for c in slack_api.calls_to("chat.update"))


async def test_a_channel_that_failed_is_made_by_the_next_command(bot: Bot) -> None:
    bot.slack.fail_next("conversations.create", "internal_error")
    await bot.command("incident open sev1 Payments down")
    await bot.settle()
    await bot.command("incident ack #1", user="U01BOBBY00", response_key="ack")
    await bot.settle()

    (stored,) = await rows(bot, incidents)
    channel = bot.slack.channel_by_name("inc-1-payments-down")
    assert channel is not None
    assert stored["channel_id"] == channel.id
    assert {"U01ALICE00", "U01BOBBY00"} <= channel.members
    assert len(channel.messages) >= 1  # the card
    assert "<@U01BOBBY00>" in json.dumps(channel.messages[0]["blocks"])  # shows the ack
    assert await events_of(bot, 1) == [
        "declared",
        "channel_failed",
        "escalation",  # no lucia.yaml: "Nobody will be paged", said on the timeline
        "acknowledged",
        "channel_created",
    ]
    assert len(bot.slack.channels[INCIDENTS_CHANNEL].messages) == 1  # announced once


PAGING = ("escalation", "page")  # what paging writes on its own, as lucia.yaml has it


async def test_an_incident_is_named_as_inc_n_hash_n_or_n_as_the_bot_writes_it(bot: Bot) -> None:
    """What the bot writes ("INC-1") is what it understands, in any case, and so are #1 and
    a bare 1 wherever a number can only be the incident."""
    await open_incident(bot)  # INC-1
    await open_incident(bot, "incident open sev3 Slow admin")  # INC-2
    for key, text in [
        ("ack", "incident ack INC-1"),
        ("show", "incident show inc-2"),
        ("timeline", "incident timeline 1"),
        ("status", "incident status 2 identified bad index"),
        ("sev", "incident sev INC-2 1"),
        ("note", "incident note #2: checked the replica"),
        ("lead", "incident lead <@U01BOBBY00|bob> inc-2"),
        ("resolve", "incident resolve 2"),
        ("reopen", "incident reopen Inc-2"),
    ]:
        response = await bot.command(text, response_key=key)
        assert response.status == 200
        await bot.settle()

    assert (await bot.answers("ack"))[-1] == "✅ INC-1: Acknowledged"
    shown = json.dumps([p.body for p in bot.slack.response_posts if p.key == "show"])
    assert "INC-2" in shown
    assert "Slow admin" in shown
    timeline = json.dumps([p.body for p in bot.slack.response_posts if p.key == "timeline"])
    assert "declared SEV2: Checkout errors spiking" in timeline
    for key in ("status", "sev", "note", "lead", "resolve", "reopen"):
        assert (await bot.answers(key))[-1].startswith("✅ INC-2: "), key
    first, second = sorted(await rows(bot, incidents), key=lambda r: int(str(r["number"])))
    assert first["acknowledged_by"] == "U01ALICE00"
    assert (second["severity"], second["lead"], second["status"]) == (
        "sev1",
        "U01BOBBY00",
        "investigating",  # resolved, then reopened
    )
    assert [e for e in await events_of(bot, 2) if e not in PAGING] == [
        "declared",
        "channel_created",
        "status_changed",
        "severity_changed",
        "note",
        "lead_changed",
        "resolved",
        "reopened",
    ]


async def test_a_bare_number_after_sev_is_the_severity_even_in_another_incidents_channel(
    bot: Bot,
) -> None:
    channel = await open_incident(bot)  # INC-1, SEV2
    await open_incident(bot, "incident open sev3 Slow admin")  # INC-2, SEV3
    await bot.command("incident sev 4", channel=channel, response_key="own")
    await bot.settle()
    await bot.command("incident sev INC-2 1", channel=channel, response_key="other")
    await bot.settle()
    await bot.command("incident sev 2", response_key="general")  # no incident here
    await bot.settle()

    assert (await bot.answers("own"))[-1].startswith("✅ INC-1: ")
    assert (await bot.answers("other"))[-1].startswith("✅ INC-2: ")
    assert "Which incident?" in (await bot.answers("general"))[-1]
    stored = {int(str(r["number"])): r["severity"] for r in await rows(bot, incidents)}
    assert stored == {1: "sev4", 2: "sev1"}


async def test_a_bad_incident_name_is_answered_at_once_with_the_right_form(bot: Bot) -> None:
    await open_incident(bot)
    cases = {
        "incident ack INC-": "`INC-` isn't an incident number: write it as INC-N, for example",
        "incident show INC-x": "`INC-x` isn't an incident number: write it as INC-N",
        "incident ack #0": "`#0` isn't an incident number: they start at #1.",
        "incident resolve 99999999999": "`99999999999` is too big for an incident number",
        "incident sev 2 3": "Which is the incident, 2 or 3? A bare number after sev is",
    }
    for text, expected in cases.items():
        response = await bot.command(text, response_key=text)
        body = await response.json()
        assert body["response_type"] == "ephemeral"
        assert expected in body["text"], text
        name = text.split()[1]
        assert f"Usage: `/lucia incident {name} [#N]" in body["text"], text
    await bot.settle()
    # Nothing happened to the incident.
    assert [e for e in await events_of(bot, 1) if e not in PAGING] == [
        "declared",
        "channel_created",
    ]


async def test_with_nobody_the_owner_a_change_to_the_table_says_the_step_that_works(
    bot: Bot,
) -> None:
    await bot.command("owners set infra <@U01BOBBY00>")
    await bot.settle()
    (answer,) = await bot.answers()
    assert answer.startswith("⚠️ Nobody holds the owner role yet, so nobody may change ")
    assert "put your user id (`U01ALICE00`) under `admins:`" in answer
    assert "`lucia-bot shell --user U01ALICE00`" in answer


async def test_an_address_given_without_smtp_is_named_as_the_gap(
    slack_api: FakeSlackAPI, database_url: str
) -> None:
    config = LuciaConfig(admins=["U01ALICE00"])
    async with running_bot(slack_api, database_url, config) as admin_bot:
        await admin_bot.command("owners set dns <@U01BOBBY00> dns@lucia.example")
        await admin_bot.settle()
        (answer,) = await admin_bot.answers()
    assert answer.startswith("✅ dns is now <@U01BOBBY00>")
    assert (
        "no way to reach them outside Slack (an e-mail address, but e-mail isn't set up: "
        "set SMTP_HOST and SMTP_FROM)"
    ) in answer


async def test_a_page_that_reaches_nobody_gets_no_tick(
    slack_api: FakeSlackAPI, database_url: str
) -> None:
    config = LuciaConfig.model_validate({"owners": {"infra": {"name": "Ivan Infra"}}})
    async with running_bot(slack_api, database_url, config) as paging_bot:
        await paging_bot.command("page infra Disk nearly full")
        await paging_bot.settle()
        (answer,) = await paging_bot.answers()
    assert answer == (
        "⚠️ Ivan Infra can't be reached: no way this bot has fits their contact details, so "
        "the page is recorded as failed. `/lucia owners` shows what is missing."
    )
