"""People in pages, as each reader sees them: a live mention in Slack, a name in the e-mail
and the push. The real bot, the local Slack Web API, a real SMTP server and a local ntfy."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Runtime
from bot.config import LuciaConfig, Owner
from bot.grammar import parse
from bot.server import RUNTIME, build_server_app
from bot.settings import load_settings
from bot.slack.paging import SlackProfiles
from bot.vocabulary import Invocation, Role
from tests.drivers.bot import running_bot
from tests.drivers.ports import free_port
from tests.drivers.waiting import until
from tests.fakes.ntfy import FakeNtfy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp import Mailbox, smtp_server

ANA, BOB = "U003", "U01BOBBY00"  # Ana Lima owns the launch gate; Bob is on infra
BEA, CARLA = "U005", "U006"  # in Slack, not in the launch-gate table
HOW = "You are paged as infra. Acknowledge with the button in Slack."

OWNERS: dict[Role, Owner | None] = {
    Role.OWNER: Owner(name="Ana Lima", slack=ANA, email="ana@lucia.example", push_topic="ana-7f"),
    Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example", push_topic="bob-93"),
    Role.DNS: None,
    Role.BILLING: None,
    Role.FALLBACK: None,
}
CONFIG = LuciaConfig(owners=OWNERS)  # no escalation policy: only pages sent by hand go out


@dataclass
class Reach:
    slack: FakeSlackAPI
    mailbox: Mailbox
    ntfy: FakeNtfy
    env: dict[str, str]

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mailbox.messages() if m["To"].addresses[0].addr_spec == address]

    def pushes_to(self, topic: str) -> list[dict[str, Any]]:
        return [p.json() for p in self.ntfy.delivered if p.topic == topic]

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        channel = self.slack.channels.get("D" + user[1:])
        return channel.messages if channel else []


@pytest.fixture
async def reach(slack_api: FakeSlackAPI) -> AsyncIterator[Reach]:
    slack_api.add_user(ANA, "ana")  # her profile says "ana"; the launch-gate table says more
    slack_api.add_user(BEA, "bea", display_name="", real_name="Bea Souza")
    slack_api.add_user(CARLA, "carla", display_name="Carla Dias")
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        async with FakeNtfy() as ntfy:
            env = {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
                "SMTP_FROM": "Lucia on-call <oncall@lucia.example>",
                "SMTP_TLS": "none",
                "NTFY_URL": ntfy.url,
            }
            yield Reach(slack_api, mailbox, ntfy, env)


def body(mail: EmailMessage) -> str:
    """The text as a mail reader shows it."""
    return str(mail.get_content()).replace("\r\n", "\n")


def dm_texts(message: dict[str, Any]) -> list[str]:
    """What the DM shows: its notification text, then each section."""
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    return [message["text"], *sections]


async def test_a_page_names_its_sender_for_where_it_goes(reach: Reach, database_url: str) -> None:
    async with running_bot(reach.slack, database_url, CONFIG, **reach.env) as bot:
        await bot.command("page infra Disk nearly full", user=ANA)
        await bot.settle()
        await until(lambda: _arrived(reach, "bob@lucia.example", "bob-93", BOB))
        reply = (await bot.answers())[-1]

    assert reply == "✅ Paging Bob Infra by Slack DM, e-mail, push. Their answer stops it."
    # Slack: a real mention, which Slack shows as @ana and links to her profile.
    [dm] = reach.dms_to(BOB)
    assert dm_texts(dm) == [
        "🚨 Page from <@U003>",
        "🚨 *Page from <@U003>*",
        f"Disk nearly full\n{HOW}",
    ]
    assert "&lt;" not in str(dm)
    # E-mail: her name from the launch-gate table (not her Slack handle, not markup).
    [mail] = reach.mails_to("bob@lucia.example")
    assert mail["Subject"] == "Page from Ana Lima"
    assert mail["To"] == "Bob Infra <bob@lucia.example>"
    assert body(mail) == f"Page from Ana Lima\n\nDisk nearly full\n{HOW}\n"
    # Push: the same words a phone shows.
    [push] = reach.pushes_to("bob-93")
    assert push["title"] == "Page from Ana Lima"
    assert push["message"] == f"Disk nearly full\n{HOW}"
    assert not reach.slack.calls_to("users.info")  # the table knew her: Slack wasn't asked


async def test_people_outside_the_table_get_their_slack_profile_name(
    reach: Reach, database_url: str
) -> None:
    typed = (  # as Slack sends it: markup for people, channels and links; `&<>` escaped
        "Disk nearly full: ask <@U003> or <@U006|carla> in <#C01OPS0000|ops> &amp; see "
        "<https://status.lucia.example|status> &lt;3"
    )
    async with running_bot(reach.slack, database_url, CONFIG, **reach.env) as bot:
        await bot.command(f"page infra {typed}", user=BEA)
        await bot.settle()
        await until(lambda: _arrived(reach, "bob@lucia.example", "bob-93", BOB))
        await bot.command("page infra still filling up", user=BEA)
        await bot.settle()
        await until(lambda: _mailed(reach, "bob@lucia.example", 2))

    said = (
        "Disk nearly full: ask Ana Lima or Carla Dias in #ops & see "
        "status (https://status.lucia.example) <3"
    )
    first, second = reach.mails_to("bob@lucia.example")
    assert first["Subject"] == "Page from Bea Souza"  # her profile's real name (no display name)
    assert body(first) == f"Page from Bea Souza\n\n{said}\n{HOW}\n"
    assert second["Subject"] == "Page from Bea Souza"
    push = reach.pushes_to("bob-93")[0]
    assert push["title"] == "Page from Bea Souza"
    assert push["message"] == f"{said}\n{HOW}"
    # In Slack the words stay as she typed them: live mentions and links, escaped once.
    dm = reach.dms_to(BOB)[0]
    assert dm_texts(dm)[1] == "🚨 *Page from <@U005>*"
    assert dm_texts(dm)[2] == (
        "Disk nearly full: ask <@U003> or <@U006> in <#C01OPS0000|ops> &amp; see "
        f"<https://status.lucia.example|status> &lt;3\n{HOW}"
    )
    assert "&amp;amp;" not in str(dm)
    assert "&amp;lt;" not in str(dm)
    # Each profile was read once, then kept; Ana's name came from the table.
    asked = [c.args["user"] for c in reach.slack.calls_to("users.info")]
    assert sorted(asked) == [BEA, CARLA]


async def test_when_slack_cannot_be_asked_a_page_shows_the_id_not_markup(
    reach: Reach, database_url: str
) -> None:
    reach.slack.fail_next("users.info", "internal_error", status=500, times=10)
    async with running_bot(reach.slack, database_url, CONFIG, **reach.env) as bot:
        await bot.command("page infra Disk nearly full, ask <@U006>", user=BEA)
        await bot.settle()
        await until(lambda: _arrived(reach, "bob@lucia.example", "bob-93", BOB))

    [mail] = reach.mails_to("bob@lucia.example")
    assert mail["Subject"] == "Page from U005"
    assert body(mail) == f"Page from U005\n\nDisk nearly full, ask U006\n{HOW}\n"
    assert reach.pushes_to("bob-93")[0]["title"] == "Page from U005"
    # Slack itself still takes the DM, with the mentions it resolves itself.
    assert dm_texts(reach.dms_to(BOB)[0])[1] == "🚨 *Page from <@U005>*"


async def test_a_page_by_hand_in_an_incident_says_who_sent_it(
    reach: Reach, database_url: str
) -> None:
    async with running_bot(reach.slack, database_url, CONFIG, **reach.env) as bot:
        await bot.command("incident open sev3 Disk filling up", user=BOB)
        await bot.settle()
        channel = next(c for c in reach.slack.channels.values() if c.name.startswith("inc-1"))
        await bot.command("page owner need a second pair of eyes", user=BOB, channel=channel.id)
        await bot.settle()
        await until(lambda: _arrived(reach, "ana@lucia.example", "ana-7f", ANA))

    [mail] = reach.mails_to("ana@lucia.example")
    assert mail["Subject"] == "SEV3 INC-1: Disk filling up"
    assert body(mail) == (
        "SEV3 INC-1: Disk filling up\n\n"
        "Bob Infra paged you: need a second pair of eyes\n"
        "You are paged as owner. Acknowledge with the button in Slack or "
        "“/lucia incident ack #1”.\n\n"
        f"https://slack.com/app_redirect?channel={channel.id}\n"
    )
    dm = reach.dms_to(ANA)[0]
    assert dm_texts(dm)[2] == (
        f"<@{BOB}> paged you: need a second pair of eyes\n"
        "You are paged as owner. Acknowledge with the button in Slack or "
        "`/lucia incident ack #1`."
    )
    mention = next(m for m in channel.messages if "you are paged" in m["text"])
    assert mention["text"] == f"<@{ANA}> you are paged: SEV3 INC-1: Disk filling up"


async def test_without_slack_pages_name_people_from_the_table_or_by_id(
    reach: Reach, database_url: str
) -> None:
    settings = load_settings({"DATABASE_URL": database_url, **reach.env})
    app = await build_server_app(settings, CONFIG)
    async with TestClient(TestServer(app)) as client:
        runtime: Runtime = client.app[RUNTIME]
        for count, actor in enumerate((ANA, BEA), start=1):
            await runtime.desk.run(parse("page infra Disk nearly full"), Invocation(actor))
            await until(lambda n=count: _mailed(reach, "bob@lucia.example", n))

    subjects = [str(m["Subject"]) for m in reach.mails_to("bob@lucia.example")]
    assert subjects == ["Page from Ana Lima", "Page from U005"]
    assert [p["title"] for p in reach.pushes_to("bob-93")] == subjects
    assert not reach.slack.calls  # no Slack here at all


async def test_slack_profiles_read_display_then_real_name_and_keep_them(
    slack_api: FakeSlackAPI,
) -> None:
    slack_api.add_user(BEA, "bea", display_name="", real_name="Bea Souza")
    slack_api.add_user(CARLA, "carla", display_name="Carla Dias")
    profiles = SlackProfiles(AsyncWebClient(token=slack_api.bot_token, base_url=slack_api.url))

    assert await profiles.name_of(CARLA) == "Carla Dias"
    assert await profiles.name_of(BEA) == "Bea Souza"
    assert await profiles.name_of(BEA) == "Bea Souza"
    assert await profiles.name_of("U0NOBODY00") is None

    assert [c.args["user"] for c in slack_api.calls_to("users.info")] == [
        CARLA,
        BEA,
        "U0NOBODY00",
    ]


async def test_an_unreachable_slack_answers_no_name_and_quickly() -> None:
    dead = AsyncWebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{free_port()}/api/")
    profiles = SlackProfiles(dead)

    started = time.monotonic()
    assert await profiles.name_of(BEA) is None
    assert await profiles.name_of(BEA) is None
    assert time.monotonic() - started < 3


async def test_a_failed_look_up_is_asked_again_after_a_minute_not_before(
    slack_api: FakeSlackAPI,
) -> None:
    slack_api.add_user(BEA, "bea", display_name="", real_name="Bea Souza")
    slack_api.fail_next("users.info", "internal_error", status=500)
    now = [0.0]
    client = AsyncWebClient(token=slack_api.bot_token, base_url=slack_api.url)
    profiles = SlackProfiles(client, retry=60, clock=lambda: now[0])

    assert await profiles.name_of(BEA) is None
    now[0] = 59.0
    assert await profiles.name_of(BEA) is None  # still within the minute: not asked
    now[0] = 61.0
    assert await profiles.name_of(BEA) == "Bea Souza"
    assert len(slack_api.calls_to("users.info")) == 2


async def _arrived(reach: Reach, address: str, topic: str, user: str) -> bool:
    return bool(reach.mails_to(address) and reach.pushes_to(topic) and reach.dms_to(user))


async def _mailed(reach: Reach, address: str, count: int) -> bool:
    return len(reach.mails_to(address)) == count
