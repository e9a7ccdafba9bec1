"""The shell's stand-in notifiers: what a page would have been, shown, and sent nowhere."""

from __future__ import annotations

import aiohttp
import pytest

from bot.console.pages import NOT_SENT, TerminalNotifier, shown_in_terminal
from bot.errors import DeliveryFailed
from bot.notify.push import PushNotifier
from bot.paging.ports import Contact, PageMessage
from bot.paging.words import Code, Person
from tests.fakes.ntfy import FakeNtfy

BOB = Contact("Bob Infra", "U01BOBBY00", "bob@lucia.example", None, "lucia-bob-93jd")
CARLA = Contact("Carla Billing", None, "carla@lucia.example")  # no push topic
PAGE = PageMessage(
    page_id=7,
    person=Person("Bob Infra", "U01BOBBY00"),
    title=("SEV2 INC-3: Checkout errors",),
    lines=(
        (Person("Ana Lucia", "U01ALICE00"), " paged you: look at ", Code("checkout-api")),
        ("Acknowledge with ", Code("/lucia incident ack #3"), "."),
    ),
    urgent=False,
    incident_number=3,
)


async def test_a_page_is_shown_as_push_would_send_it_and_sent_nowhere() -> None:
    shown: list[str] = []
    async with FakeNtfy() as ntfy, aiohttp.ClientSession() as session:
        push = PushNotifier(session, ntfy.url)
        (stand_in,) = shown_in_terminal([push], shown.append)

        with pytest.raises(DeliveryFailed) as failed:
            await stand_in.send(BOB, PAGE)

    assert str(failed.value) == NOT_SENT  # what the page's timeline event says
    assert ntfy.published == []
    assert shown == [
        f"📟 page to Bob Infra by push ({NOT_SENT})\n"
        "   SEV2 INC-3: Checkout errors\n"
        "   Ana Lucia paged you: look at “checkout-api”\n"
        "   Acknowledge with “/lucia incident ack #3”."
    ]


async def test_a_stand_in_has_its_channels_name_and_reach() -> None:
    async with aiohttp.ClientSession() as session:
        push = PushNotifier(session, "http://127.0.0.1:9")
        stand_in = TerminalNotifier(push, print)

    assert stand_in.channel == "push"
    assert stand_in.reaches(BOB, PAGE) is push.reaches(BOB, PAGE) is True
    assert stand_in.reaches(CARLA, PAGE) is push.reaches(CARLA, PAGE) is False


async def test_an_urgent_page_says_so() -> None:
    shown: list[str] = []
    async with aiohttp.ClientSession() as session:
        (stand_in,) = shown_in_terminal([PushNotifier(session, "http://127.0.0.1:9")], shown.append)
        with pytest.raises(DeliveryFailed):
            await stand_in.send(BOB, PageMessage(1, PAGE.person, ("Page",), (), urgent=True))

    assert shown == [f"📟 urgent page to Bob Infra by push ({NOT_SENT})\n   Page"]
