"""Test pages for the launch gate, end to end: the real bot (SQLite and Postgres), a real
SMTP server, a local ntfy and the local Slack Web API. The page is sent through
`PagingService.test_pages` (the gate's command calls it); the Acknowledge click is a
signed Slack request through the real Bolt app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner, PlaybooksConfig
from bot.errors import UserError
from bot.incidents.replies import ItemList, Noted, Reply
from bot.paging.test_pages import TestPages
from bot.slack.views.ids import PAGE_ACK_ACTION
from bot.store.tables import escalations, incidents, pages, timeline_events
from bot.text import plain
from bot.vocabulary import Invocation, Role, Severity
from tests.drivers.bot import Bot, running_bot
from tests.drivers.reach import Reach
from tests.drivers.waiting import until

ANA, BOB, CARLA, ERIN = "U01ALICE00", "U01BOBBY00", "U01CARLA00", "U01ERIN000"
STRANGER = "U01NOBODY0"
TITLE = "TEST page from Lucia's launch gate"
BOB_MAIL = "bob@lucia.example"
BOB_INFRA = Owner(name="Bob Infra", slack=BOB, email=BOB_MAIL, push_topic="bob-93")

OWNERS: dict[Role, Owner | None] = {
    Role.OWNER: Owner(name="Ana Lucia", slack=ANA, email="ana@lucia.example", push_topic="ana-7f"),
    Role.INFRA: BOB_INFRA,
    Role.DNS: None,
    Role.BILLING: Owner(name="Carla Billing", phone="+351 900 000 007"),  # no way to page her
    Role.FALLBACK: Owner(name="Dan Fallback", email="dan@lucia.example"),  # no Slack user
}


def config(**owners: Owner | None) -> LuciaConfig:
    """A SEV1 would page infra at once: nothing here may make it happen."""
    steps = [EscalationStep(roles=[Role.INFRA], wait=timedelta(minutes=5))]
    return LuciaConfig(
        owners=OWNERS | {Role(role): owner for role, owner in owners.items()},
        escalation={Severity.SEV1: EscalationPolicy(steps=steps)},
        playbooks=PlaybooksConfig(responders=[ERIN]),
    )


@asynccontextmanager
async def gate_bot(
    reach: Reach, database_url: str, cfg: LuciaConfig | None = None
) -> AsyncIterator[Bot]:
    async with running_bot(reach.slack, database_url, cfg or config(), **reach.env) as bot:
        yield bot


def gate_pages(bot: Bot) -> TestPages:
    return bot.runtime.desk.paging.test_pages


async def rows(bot: Bot, query: sa.Select[Any]) -> list[dict[str, Any]]:
    async with bot.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def sent(bot: Bot, count: int = 1) -> None:
    """Until `count` test pages are finished (every channel answered)."""

    async def done() -> bool:
        found = await rows(bot, sa.select(pages.c.status).where(pages.c.test.is_(True)))
        return len(found) == count and all(p["status"] in ("sent", "failed") for p in found)

    await until(done)


def shown(reply: Reply) -> list[str]:
    """The reply's lines as words."""
    if isinstance(reply, ItemList):
        return [plain(reply.title), *map(plain, reply.items), *map(plain, reply.notes)]
    assert isinstance(reply, Noted)
    return [plain(reply.text)]


def ack_button(message: dict[str, Any]) -> str:
    """The page id on a DM's Acknowledge button."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == PAGE_ACK_ACTION:
                return str(element["value"])
    raise AssertionError(f"no Acknowledge button in {message}")


def dm_of_test_page(reach: Reach, user: str) -> dict[str, Any]:
    (dm,) = [m for m in reach.dms_to(user) if TITLE in m["text"]]
    return dm


async def test_a_test_page_reaches_dm_email_and_push_marked_test_and_opens_nothing(
    reach: Reach, database_url: str
) -> None:
    async with gate_bot(reach, database_url) as bot:
        reply = await gate_pages(bot).send("infra", Invocation(ANA, "C01GENERAL"))
        await sent(bot)
        await bot.settle()
        opened = await rows(bot, sa.select(incidents))
        chains = await rows(bot, sa.select(escalations))
        events = await rows(bot, sa.select(timeline_events))
        (page,) = await rows(bot, sa.select(pages))

    assert shown(reply)[:2] == ["Test pages sent", "infra: Bob Infra by Slack DM, e-mail, push"]
    assert "No incident is opened and nothing escalates" in shown(reply)[-1]
    (mail,) = [m for m in reach.mailbox.messages() if m["To"].addresses[0].addr_spec == BOB_MAIL]
    assert mail["Subject"] == TITLE
    assert mail["X-Priority"] is None  # not urgent: a test, not an alarm
    body = mail.get_content()
    assert "This is a test: no incident is open and nothing is escalating." in body
    assert "Ana Lucia sent it to check that every way Lucia has to reach you works." in body
    assert "You hold infra in the launch-gate table." in body
    assert "Acknowledge with the button in Slack to record that you can be reached" in body
    (push,) = [p.json() for p in reach.ntfy.delivered if p.topic == "bob-93"]
    assert push["title"] == TITLE
    assert "This is a test" in push["message"]
    assert (push["priority"], push["tags"]) == (4, ["test_tube"])
    dm = dm_of_test_page(reach, BOB)
    assert dm["text"] == f"🧪 {TITLE}"
    assert "This is a test: no incident is open" in str(dm["blocks"])
    assert ack_button(dm) == str(page["id"])
    # Nobody else is paged, nothing is opened, nothing escalates, no channel is mentioned.
    assert not reach.dms_to(ANA)
    assert len(reach.mailbox.envelopes) == 1
    assert (opened, chains, events) == ([], [], [])
    assert page["incident_number"] is None
    assert (page["test"], page["urgent"], page["created_by"]) == (True, False, ANA)
    assert [c.id for c in reach.slack.channels.values() if c.messages] == ["D" + BOB[1:]]


async def test_the_acknowledge_click_is_recorded_for_the_gate_and_acknowledges_no_incident(
    reach: Reach, database_url: str
) -> None:
    async with gate_bot(reach, database_url) as bot:
        # A real incident is paging Bob meanwhile: his test page's button must not touch it.
        await bot.command("incident open sev1 Checkout crashes")
        await bot.settle()
        await until(lambda: dm_titled(reach, BOB, "SEV1 INC-1"))
        await gate_pages(bot).send("infra", Invocation(ANA))
        await sent(bot)
        before = await gate_pages(bot).latest()
        page_id = ack_button(dm_of_test_page(reach, BOB))
        channel = "D" + BOB[1:]
        await bot.click(PAGE_ACK_ACTION, page_id, user=ANA, channel=channel, response_key="ana")
        await bot.settle()
        await bot.click(PAGE_ACK_ACTION, page_id, user=BOB, channel=channel, response_key="bob")
        await bot.settle()
        await bot.click(PAGE_ACK_ACTION, page_id, user=BOB, channel=channel, response_key="again")
        await bot.settle()
        latest = await gate_pages(bot).latest()
        (incident,) = await rows(bot, sa.select(incidents))
        (chain,) = await rows(bot, sa.select(escalations))
        ana, bob, again = [(await bot.answers(k))[-1] for k in ("ana", "bob", "again")]

    assert before["infra"].acknowledged_at is None
    assert "only they can acknowledge it" in ana
    assert bob.startswith("✅ Test page acknowledged: it shows that Lucia can reach you")
    assert "counts for the launch gate" in bob
    assert "no incident was opened or acknowledged" in bob
    assert f"already acknowledged by <@{BOB}>" in again
    record = latest["infra"]
    assert (record.role, record.name, record.page_id) == ("infra", "Bob Infra", int(page_id))
    assert (record.sent_by, record.acknowledged_by) == (ANA, BOB)  # Ana's click changed nothing
    assert record.acknowledged_at is not None
    assert record.acknowledged_at >= record.sent_at
    assert dict(record.deliveries) == {"slack_dm": "sent", "email": "sent", "push": "sent"}
    assert set(latest) == {"infra"}  # nobody else had a test page
    # The incident is still unacknowledged and its chain still runs.
    assert (incident["acknowledged_at"], chain["status"]) == (None, "active")


async def dm_titled(reach: Reach, user: str, title: str) -> bool:
    return any(title in m["text"] for m in reach.dms_to(user))


async def test_a_failing_channel_is_failed_for_that_channel_while_the_others_are_sent(
    reach: Reach, database_url: str
) -> None:
    async with gate_bot(reach, database_url) as bot:
        reach.slack.fail_next("chat.postMessage", "channel_not_found")
        reach.ntfy.fail_next(status=503)
        await gate_pages(bot).send("infra", Invocation(ANA))
        await sent(bot)
        latest = await gate_pages(bot).latest()

    assert dict(latest["infra"].deliveries) == {
        "slack_dm": "failed: Slack DM: channel_not_found",
        "email": "sent",
        "push": "failed: ntfy 503: failed",
    }
    assert [m["Subject"] for m in reach.mailbox.messages()] == [TITLE]
    assert not reach.dms_to(BOB)
    assert latest["infra"].acknowledged_at is None


async def test_every_role_is_tested_once_per_person_and_gaps_are_said(
    reach: Reach, database_url: str
) -> None:
    cfg = config(dns=BOB_INFRA)  # Bob holds infra and dns under the same details
    async with gate_bot(reach, database_url, cfg) as bot:
        reply = await gate_pages(bot).send(None, Invocation(ERIN))  # a playbook responder
        await sent(bot, count=4)
        latest = await gate_pages(bot).latest()
        written = await rows(bot, sa.select(pages).order_by(pages.c.id))

    lines = shown(reply)
    assert lines[1:5] == [
        "owner: Ana Lucia by Slack DM, e-mail, push",
        "infra, dns: Bob Infra by Slack DM, e-mail, push",
        "billing: ⚠️ Carla Billing can't be reached: no way this bot has fits their contact "
        "details, so the page is recorded as failed (`/lucia owners` shows what is missing).",
        "fallback: Dan Fallback by e-mail ⚠️ no Slack user, so no Acknowledge button: it can't "
        "count for the gate (`/lucia owners set fallback @user`)",
    ]
    assert [p["target"] for p in written] == ["owner", "infra", "billing", "fallback"]
    assert len([m for m in reach.dms_to(BOB) if TITLE in m["text"]]) == 1
    assert latest["infra"].page_id == latest["dns"].page_id
    assert latest["billing"].deliveries == {}
    assert dict(latest["fallback"].deliveries) == {"email": "sent"}
    dan = next(m for m in reach.mailbox.messages() if "dan@" in str(m["To"]))
    assert "You have no Slack user in the launch-gate table" in dan.get_content()
    assert "“/lucia owners set fallback @you”" in dan.get_content()
    bob = next(m for m in reach.mailbox.messages() if "bob@" in str(m["To"]))
    assert "You hold infra and dns in the launch-gate table." in bob.get_content()


async def test_a_role_nobody_holds_is_answered_plainly_and_pages_nobody(
    reach: Reach, database_url: str
) -> None:
    async with gate_bot(reach, database_url) as bot:
        with pytest.raises(UserError) as refused:
            await gate_pages(bot).send("dns", Invocation(ANA))
        written = await rows(bot, sa.select(pages))

    assert str(refused.value) == (
        "Nobody holds dns, so there is nobody to test: `/lucia owners set dns @user`."
    )
    assert written == []


async def test_someone_who_is_not_a_responder_is_refused(reach: Reach, database_url: str) -> None:
    async with gate_bot(reach, database_url) as bot:
        with pytest.raises(UserError) as refused:
            await gate_pages(bot).send(None, Invocation(STRANGER))
        await bot.settle()
        written = await rows(bot, sa.select(pages))

    assert str(refused.value).startswith("Only responders (the launch-gate owners, admins")
    assert written == []
    assert reach.mailbox.messages() == []
    assert not reach.dms_to(BOB)


async def test_a_new_e_mail_address_needs_a_new_test_page(reach: Reach, database_url: str) -> None:
    async with gate_bot(reach, database_url) as bot:
        await gate_pages(bot).send("owner", Invocation(ANA))
        await sent(bot)
        before = await gate_pages(bot).latest()
        await bot.command(f"owners set owner <@{ANA}> ana.new@lucia.example", user=ANA)
        await bot.settle()
        after = await gate_pages(bot).latest()

    assert dict(before["owner"].deliveries)["email"] == "sent"
    assert "owner" not in after  # the page went to the old address: it proves nothing now


async def test_a_channel_still_sending_shows_as_pending(reach: Reach, database_url: str) -> None:
    reach.ntfy.delay = 1.5  # a slow push server: e-mail and the DM are answered first
    async with gate_bot(reach, database_url) as bot:
        await gate_pages(bot).send("infra", Invocation(ANA))

        async def mailed() -> bool:
            return bool(reach.mailbox.envelopes)

        await until(mailed)
        await until(lambda: dm_titled(reach, BOB, TITLE))
        while_sending = await gate_pages(bot).latest()
        await sent(bot)
        finished = await gate_pages(bot).latest()

    assert dict(while_sending["infra"].deliveries)["push"] == "pending"
    assert dict(finished["infra"].deliveries) == {
        "slack_dm": "sent",
        "email": "sent",
        "push": "sent",
    }
