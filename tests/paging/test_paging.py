"""Paging end to end: the real bot with real Postgres (and SQLite), a real SMTP server,
a local ntfy server and the local Slack Web API; escalation waits of a second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner, PagingConfig
from bot.slack.views.ids import PAGE_ACK_ACTION
from bot.store.tables import audit_log, page_deliveries, pages, timeline_events
from bot.vocabulary import Role, Severity
from tests.drivers.bot import Bot, running_bot
from tests.drivers.reach import Reach
from tests.drivers.waiting import until

ANA, BOB = "U01ALICE00", "U01BOBBY00"
SECOND = timedelta(seconds=1)

OWNERS: dict[Role, Owner | None] = {
    Role.OWNER: Owner(name="Ana Lucia", slack=ANA, email="ana@lucia.example", push_topic="ana-7f"),
    Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example", push_topic="bob-93"),
    Role.DNS: None,
    Role.BILLING: Owner(name="Carla Billing", slack="U01CARLA00"),
    Role.FALLBACK: Owner(name="Dan Fallback", email="dan@lucia.example", phone="+351 900 000 009"),
}


def config(wait: timedelta = SECOND, **extra: Any) -> LuciaConfig:
    steps = [
        EscalationStep(roles=[Role.INFRA], wait=wait),
        EscalationStep(roles=[Role.OWNER], wait=wait),
    ]
    return LuciaConfig(
        owners=OWNERS,
        escalation={Severity.SEV1: EscalationPolicy(steps=steps)},
        **extra,
    )


@asynccontextmanager
async def paging_bot(
    reach: Reach, database_url: str, cfg: LuciaConfig | None = None
) -> AsyncIterator[Bot]:
    async with running_bot(reach.slack, database_url, cfg or config(), **reach.env) as bot:
        yield bot


async def rows(bot: Bot, query: sa.Select[Any]) -> list[dict[str, Any]]:
    async with bot.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def timeline(bot: Bot, number: int = 1) -> list[str]:
    query = (
        sa.select(timeline_events.c.kind, timeline_events.c.text)
        .where(timeline_events.c.incident_number == number)
        .order_by(timeline_events.c.id)
    )
    return [f"{r['kind']}: {r['text']}" for r in await rows(bot, query)]


async def open_sev1(bot: Bot, title: str = "Checkout crashes") -> None:
    response = await bot.command(f"incident open sev1 {title}")
    assert response.status == 200
    await bot.settle()


def ack_button(message: dict[str, Any]) -> str:
    """The page id on a DM's Acknowledge button."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == PAGE_ACK_ACTION:
                return str(element["value"])
    raise AssertionError(f"no Acknowledge button in {message}")


async def test_a_sev1_pages_each_step_in_turn_until_the_chain_is_exhausted(
    reach: Reach, database_url: str
) -> None:
    async with paging_bot(reach, database_url) as bot:
        await open_sev1(bot)

        async def exhausted() -> bool:
            return any("exhausted" in line for line in await timeline(bot))

        await until(exhausted, limit=15)
        lines = await timeline(bot)

    steps = [line for line in lines if line.startswith("escalation:")]
    assert steps[0] == "escalation: Escalation started: infra (1 s) → owner (1 s) → fallback (1 s)"
    assert steps[1].startswith("escalation: Escalation step 1/3: paging Bob Infra (infra)")
    assert steps[2].startswith("escalation: Escalation step 2/3: paging Ana Lucia (owner)")
    assert steps[3].startswith("escalation: Escalation step 3/3: paging Dan Fallback (fallback)")
    assert steps[4].startswith("escalation: Escalation exhausted: nobody acknowledged")
    # Every contact each person has, once.
    subject = "SEV1 INC-1: Checkout crashes"
    assert reach.mails_to("bob@lucia.example") == [subject]
    assert reach.mails_to("ana@lucia.example") == [subject]
    assert reach.mails_to("dan@lucia.example") == [subject]
    assert reach.pushes_to("bob-93") == [subject]
    assert reach.pushes_to("ana-7f") == [subject]
    assert len(reach.dms_to(BOB)) == 1
    assert len(reach.dms_to(ANA)) == 1
    paged = [line for line in lines if line.startswith("page:")]
    assert paged[0] == (
        "page: Paged Bob Infra (infra): Slack DM ✓, mention in the channel ✓, e-mail ✓, push ✓"
    )
    assert paged[2] == "page: Paged Dan Fallback (fallback): e-mail ✓"
    incident_channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1"))
    mentions = [m["text"] for m in incident_channel.messages if "you are paged" in m["text"]]
    assert mentions[:2] == [
        f"<@{BOB}> you are paged: {subject}",
        f"<@{ANA}> you are paged: {subject}",
    ]


async def test_the_dm_button_acknowledges_and_stops_the_chain(
    reach: Reach, database_url: str
) -> None:
    async with paging_bot(reach, database_url) as bot:
        await open_sev1(bot)

        async def bob_paged() -> bool:
            return bool(reach.dms_to(BOB))

        await until(bob_paged)
        page_id = ack_button(reach.dms_to(BOB)[0])
        await bot.click(PAGE_ACK_ACTION, page_id, user=BOB, channel="D" + BOB[1:])
        await bot.settle()

        async def stopped() -> bool:
            return any("Escalation stopped" in line for line in await timeline(bot))

        await until(stopped)
        await asyncio.sleep(2.5)  # past the owner's step: nobody else is paged
        await bot.settle()
        # A later acknowledgement is harmless and says who was first.
        await bot.click(
            PAGE_ACK_ACTION, page_id, user=ANA, channel="D" + ANA[1:], response_key="late"
        )
        await bot.settle()
        lines = await timeline(bot)
        late = await bot.answers("late")

    assert sum(line.startswith("acknowledged") for line in lines) == 1
    stop = next(line for line in lines if "Escalation stopped" in line)
    assert f"<@{BOB}> acknowledged" in stop
    assert "after the incident opened" in stop
    assert not reach.mails_to("ana@lucia.example")
    assert not reach.dms_to(ANA)
    assert not any("step 2/3" in line for line in lines)
    assert "already acknowledged" in late[-1]
    card = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1")).messages[0]
    assert "acknowledged" in str(card["blocks"]).lower()
    assert "Nobody will be paged" not in str(card["blocks"])  # its chain reaches people


async def test_one_channel_failing_does_not_stop_the_others(
    reach: Reach, database_url: str
) -> None:
    reach.ntfy.fail_next(status=429)
    reach.mailbox.refuse = frozenset({"bob@lucia.example"})
    async with paging_bot(reach, database_url, config(wait=timedelta(minutes=5))) as bot:
        await open_sev1(bot)

        async def paged() -> bool:
            return any(line.startswith("page:") for line in await timeline(bot))

        await until(paged)
        lines = await timeline(bot)
        results = await rows(bot, sa.select(page_deliveries).order_by(page_deliveries.c.id))
        (page,) = await rows(bot, sa.select(pages))

    line = next(line for line in lines if line.startswith("page:"))
    assert line.startswith("page: Paged Bob Infra (infra): Slack DM ✓, mention in the channel ✓")
    assert "e-mail ✗ (smtp 127.0.0.1" in line
    assert "refused the recipient bob@lucia.example" in line
    assert "push ✗ (ntfy 429: limit reached: too many requests)" in line
    assert {(r["channel"], r["ok"]) for r in results} == {
        ("slack_dm", True),
        ("slack_mention", True),
        ("email", False),
        ("push", False),
    }
    assert page["status"] == "sent"
    assert len(reach.dms_to(BOB)) == 1


async def test_a_step_due_while_the_bot_was_down_fires_when_it_is_back(
    reach: Reach, database_url: str
) -> None:
    async with paging_bot(reach, database_url, config(wait=2 * SECOND)) as bot:
        await open_sev1(bot)

        async def bob_paged() -> bool:
            return bool(reach.mails_to("bob@lucia.example"))

        await until(bob_paged)
    await asyncio.sleep(3)  # the owner's step falls due while nothing runs
    # The new process has another policy: the running chain keeps the one it was copied.
    changed = config(wait=SECOND).model_copy(update={"escalation": {}})
    async with paging_bot(reach, database_url, changed) as bot:

        async def ana_paged() -> bool:
            return bool(reach.mails_to("ana@lucia.example"))

        await until(ana_paged, limit=5)
        lines = await timeline(bot)
    assert reach.mails_to("bob@lucia.example") == ["SEV1 INC-1: Checkout crashes"]
    assert any(line.startswith("escalation: Escalation step 2/3") for line in lines)


async def test_two_bots_on_one_database_send_each_page_once(
    reach: Reach, postgres_url: str, redis_url: str
) -> None:
    reach.env["REDIS_URL"] = redis_url  # as on Render: one Postgres, one Redis, two processes
    async with paging_bot(reach, postgres_url) as first, paging_bot(reach, postgres_url) as second:
        await open_sev1(first)

        async def exhausted() -> bool:
            return any("exhausted" in line for line in await timeline(second))

        await until(exhausted, limit=15)
        await asyncio.sleep(1.5)  # both keep ticking: nothing more goes out
        lines = await timeline(first)

    assert reach.mails_to("bob@lucia.example") == ["SEV1 INC-1: Checkout crashes"]
    assert reach.mails_to("ana@lucia.example") == ["SEV1 INC-1: Checkout crashes"]
    assert reach.mails_to("dan@lucia.example") == ["SEV1 INC-1: Checkout crashes"]
    assert len(reach.pushes_to("bob-93")) == 1
    assert len(reach.dms_to(BOB)) == 1
    assert sum(line.startswith("escalation: Escalation step") for line in lines) == 3
    assert sum(line.startswith("page:") for line in lines) == 3


async def test_resolving_stops_the_chain_too(reach: Reach, database_url: str) -> None:
    async with paging_bot(reach, database_url) as bot:
        await open_sev1(bot)

        async def bob_paged() -> bool:
            return bool(reach.mails_to("bob@lucia.example"))

        await until(bob_paged)
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1")).id
        await bot.command("incident resolve false alarm", channel=channel)
        await bot.settle()
        await asyncio.sleep(2.5)  # past the owner's step
        lines = await timeline(bot)
    assert "escalation: Escalation stopped: the incident was resolved" in lines
    assert not reach.mails_to("ana@lucia.example")


async def test_two_people_acknowledging_at_once_make_one_acknowledgement(
    reach: Reach, database_url: str
) -> None:
    async with paging_bot(reach, database_url, config(wait=timedelta(minutes=5))) as bot:
        await open_sev1(bot)
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1")).id
        await asyncio.gather(
            bot.command("incident ack", user=ANA, channel=channel, response_key="ana"),
            bot.command("incident ack", user=BOB, channel=channel, response_key="bob"),
        )
        await bot.settle()

        async def stopped() -> bool:
            return any("Escalation stopped" in line for line in await timeline(bot))

        await until(stopped)
        lines = await timeline(bot)
        answers = [*(await bot.answers("ana")), *(await bot.answers("bob"))]
    assert sum(line.startswith("acknowledged") for line in lines) == 1
    assert sum(line.startswith("escalation: Escalation stopped") for line in lines) == 1
    assert sum("already acknowledged" in a for a in answers) == 1


async def test_a_flapping_alert_does_not_page_the_same_person_every_minute(
    reach: Reach, database_url: str
) -> None:
    cfg = config(wait=timedelta(minutes=5), paging=PagingConfig(throttle=timedelta(minutes=2)))
    async with paging_bot(reach, database_url, cfg) as bot:
        await open_sev1(bot, "Checkout crashes")
        await open_sev1(bot, "Checkout crashes again")

        async def both_started() -> bool:
            return any("step 1/3" in line for line in await timeline(bot, 2))

        await until(both_started)
        await asyncio.sleep(0.5)
        await bot.settle()
        second = await timeline(bot, 2)
        waiting = await rows(bot, sa.select(pages).where(pages.c.incident_number == 2))
    # The second page waits for the end of the throttle window: delayed, not dropped.
    assert reach.mails_to("bob@lucia.example") == ["SEV1 INC-1: Checkout crashes"]
    step = next(line for line in second if "step 1/3" in line)
    assert "Bob Infra (infra) was paged at" in step
    assert "this page waits until" in step
    assert [p["status"] for p in waiting] == ["pending"]


async def test_a_page_by_hand_goes_out_even_in_an_acknowledged_incident(
    reach: Reach, database_url: str
) -> None:
    async with paging_bot(reach, database_url, config(wait=timedelta(minutes=5))) as bot:
        await open_sev1(bot)
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1")).id
        await bot.command("incident ack", user=BOB, channel=channel)
        await bot.settle()
        await bot.command("page owner need a second pair of eyes", user=BOB, channel=channel)
        await bot.settle()

        async def ana_paged() -> bool:
            return bool(reach.mails_to("ana@lucia.example"))

        await until(ana_paged)
        lines = await timeline(bot)
    assert f"page: <@{BOB}> paged Ana Lucia (owner): need a second pair of eyes" in lines


async def test_reopening_pages_again_from_the_start(reach: Reach, database_url: str) -> None:
    cfg = config(paging=PagingConfig(throttle=timedelta(0)))  # Bob is paged twice in seconds
    async with paging_bot(reach, database_url, cfg) as bot:
        await open_sev1(bot)

        async def bob_paged(times: int) -> bool:
            return len(reach.mails_to("bob@lucia.example")) == times

        await until(lambda: bob_paged(1))
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1")).id
        for text in ("incident ack", "incident resolve"):
            await bot.command(text, user=BOB, channel=channel)
            await bot.settle()

        async def stopped() -> bool:
            return any("Escalation stopped" in line for line in await timeline(bot))

        await until(stopped)
        await bot.command("incident reopen", user=BOB, channel=channel)
        await bot.settle()
        await until(lambda: bob_paged(2))
        lines = await timeline(bot)
    assert any(line.startswith("escalation: Escalation started again (reopened)") for line in lines)


async def test_page_reaches_a_role_or_a_person_on_demand(reach: Reach, database_url: str) -> None:
    async with paging_bot(reach, database_url) as bot:
        await bot.command("page infra the staging DNS looks wrong", response_key="role")
        await bot.command(f"page <@{ANA}>", response_key="person")
        await bot.command("page dns", response_key="gap")
        await bot.settle()

        async def delivered() -> bool:
            return len(reach.mailbox.envelopes) == 2

        await until(delivered)
        replies = [*(await bot.answers("role")), *(await bot.answers("person"))]
        gap = await bot.answers("gap")
    assert replies[0].startswith("✅ Paging Bob Infra by Slack DM, e-mail, push")
    assert replies[1].startswith("✅ Paging Ana Lucia by Slack DM, e-mail, push")
    assert "Nobody holds dns" in gap[-1]
    bob_dm = reach.dms_to(BOB)[0]
    assert "the staging DNS looks wrong" in str(bob_dm["blocks"])
    ack_button(bob_dm)


async def test_owners_shows_every_gap(reach: Reach, database_url: str) -> None:
    async with paging_bot(reach, database_url) as bot:
        await bot.command("owners")
        await bot.settle()
        table = (await bot.answers())[-1]
    assert "*dns*: ⚠️ nobody" in table
    carla = table.split("*billing*")[1].split("•")[0]
    assert "no way to reach them outside Slack" in carla
    dan = table.split("*fallback*")[1]
    assert "no Slack user" in dan
    assert "*owner*: Ana Lucia" in table


async def test_only_the_owner_or_an_admin_changes_the_table_and_it_is_audited(
    reach: Reach, database_url: str
) -> None:
    cfg = config(admins=["U01CARLA00"])
    commands = [
        (BOB, "owners set dns <@U01BOBBY00> dns@lucia.example", "bob"),
        (ANA, "owners set dns <@U01BOBBY00> dns@lucia.example +351 900 000 003", "ana"),
        ("U01CARLA00", "refs set runbook https://docs.lucia.example/rb2", "carla"),
        (ANA, "refs set vault_location xoxb-1234-abcd", "secret"),
        (ANA, "owners", "table"),
    ]
    async with paging_bot(reach, database_url, cfg) as bot:
        for user, text, key in commands:  # one after the other: each answer reflects the last
            await bot.command(text, user=user, response_key=key)
            await bot.settle()
        refused, done, carla, secret, table = [
            (await bot.answers(k))[-1] for k in ("bob", "ana", "carla", "secret", "table")
        ]
        audit = await rows(bot, sa.select(audit_log).order_by(audit_log.c.id))
    assert "Only the owner (<@U01ALICE00>) or an admin" in refused
    assert done.startswith("✅ dns is now <@U01BOBBY00>")
    assert carla.startswith("✅ Reference `runbook` is now https://docs.lucia.example/rb2")
    assert "looks like a secret" in secret
    # Bob holds infra too: the table's name for him, never his id as markup.
    assert "*dns*: Bob Infra — <@U01BOBBY00>, dns@lucia.example, +351 900 000 003" in table
    changes = [(a["actor"], a["action"], a["subject"]) for a in audit if a["actor"] != "lucia.yaml"]
    assert changes == [(ANA, "owner.set", "dns"), ("U01CARLA00", "ref.set", "runbook")]


async def test_the_file_wins_only_where_it_changed(reach: Reach, database_url: str) -> None:
    async with paging_bot(reach, database_url) as bot:
        await bot.command("owners set dns <@U01BOBBY00> dns@lucia.example", user=ANA)
        await bot.settle()
    edited = dict(OWNERS) | {Role.BILLING: Owner(name="Carla B", email="carla@lucia.example")}
    async with paging_bot(
        reach, database_url, config().model_copy(update={"owners": edited})
    ) as bot:
        await bot.command("owners")
        await bot.settle()
        table = (await bot.answers())[-1]
    assert "*dns*: Bob Infra — <@U01BOBBY00>" in table  # set in Slack, unchanged in the file
    assert "*billing*: Carla B — carla@lucia.example" in table  # edited in the file: loaded
