"""PushNotifier against FakeNtfy, a local ntfy-compatible server."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.errors import DeliveryFailed
from bot.notify.push import MESSAGE_LIMIT_BYTES, PushNotifier
from bot.outbound import push_notifier
from bot.paging.ports import Contact, PageMessage
from bot.paging.words import Link, Person
from bot.settings import load_settings
from tests.fakes.ntfy import FakeNtfy

TOPIC = "lucia-ana-8f3k2"
TOKEN = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
ANA = Contact(name="Ana Ruiz", push_topic=TOPIC)
URGENT = PageMessage(
    page_id=8,
    person=Person("Ana Ruiz"),
    title=("SEV1 INC-13: Checkout crashes",),
    lines=(("Checkout fails on submit. Acknowledge in Slack.",),),
    urgent=True,
    incident_channel="C01INC13",
)
MINOR = PageMessage(
    page_id=9,
    person=Person("Ana Ruiz"),
    title=("SEV3 INC-14: Admin slow",),
    lines=(("Latency up.",),),
    urgent=False,
)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def ntfy() -> AsyncIterator[FakeNtfy]:
    async with FakeNtfy() as fake:
        yield fake


async def test_urgent_page_is_published_as_json_to_the_root_url(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    receipt = await PushNotifier(session, ntfy.url + "/").send(ANA, URGENT)

    [published] = ntfy.delivered
    assert published.path == "/"
    assert published.headers["Content-Type"].startswith("application/json")
    assert "Authorization" not in published.headers
    assert published.json() == {
        "topic": TOPIC,
        "title": "SEV1 INC-13: Checkout crashes",
        "message": "Checkout fails on submit. Acknowledge in Slack.",
        "priority": 5,
        "tags": ["rotating_light"],
        "click": "https://slack.com/app_redirect?channel=C01INC13",
    }
    assert published.message is not None
    assert receipt == published.message["id"]


async def test_minor_page_is_high_but_not_max_priority(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    await PushNotifier(session, ntfy.url).send(ANA, MINOR)

    body = ntfy.delivered[0].json()
    assert (body["priority"], body["tags"]) == (4, ["warning"])
    assert "click" not in body


async def test_token_is_sent_as_bearer(session: aiohttp.ClientSession) -> None:
    async with FakeNtfy(require_token=TOKEN) as ntfy:
        await PushNotifier(session, ntfy.url, token=TOKEN).send(ANA, URGENT)

    assert ntfy.delivered[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("tk_wrong", "ntfy 401: unauthorized: NTFY_TOKEN is wrong"),
        (None, "ntfy 403: forbidden: the topic needs a token and NTFY_TOKEN is not set"),
    ],
)
async def test_refused_token_says_so(
    session: aiohttp.ClientSession, token: str | None, expected: str
) -> None:
    async with FakeNtfy(require_token=TOKEN) as ntfy:
        with pytest.raises(DeliveryFailed, match=expected) as failed:
            await PushNotifier(session, ntfy.url, token=token).send(ANA, URGENT)

    assert "tk_" not in str(failed.value)
    assert ntfy.delivered == []


async def test_rate_limit_is_a_failed_delivery_naming_ntfys_error(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    ntfy.fail_next(429)
    notifier = PushNotifier(session, ntfy.url)

    with pytest.raises(DeliveryFailed) as failed:
        await notifier.send(ANA, URGENT)
    assert str(failed.value) == "ntfy 429: limit reached: too many requests"
    assert TOPIC not in str(failed.value)  # on ntfy.sh the topic is the password

    await notifier.send(ANA, URGENT)  # the next step of the escalation gets through
    assert len(ntfy.delivered) == 1


async def test_slow_server_fails_at_the_timeout(session: aiohttp.ClientSession) -> None:
    async with FakeNtfy(delay=10) as ntfy:
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"timed out after 0\.3 s"):
            await PushNotifier(session, ntfy.url, timeout=0.3).send(ANA, URGENT)

    assert time.monotonic() - started < 3


async def test_unreachable_server(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(DeliveryFailed, match="unreachable: connection refused"):
        await PushNotifier(session, f"http://127.0.0.1:{port}").send(ANA, URGENT)


async def test_long_text_is_cut_to_ntfys_limit_not_turned_into_a_file(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    text = "Stack trace: " + "ü€" * 2000  # multi-byte characters straddle the cut
    page = PageMessage(
        page_id=10,
        person=Person("Ana Ruiz"),
        title=("SEV2 INC-15: Errors",),
        lines=((text,),),
        urgent=True,
    )

    await PushNotifier(session, ntfy.url).send(ANA, page)

    assert ntfy.delivered[0].message is not None
    shown = ntfy.delivered[0].message["message"]
    assert len(shown.encode()) <= MESSAGE_LIMIT_BYTES
    assert shown.endswith("…")
    assert text.startswith(shown.removesuffix("…"))
    assert "attachment" not in ntfy.delivered[0].message


async def test_fake_takes_the_header_form_like_ntfy(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    headers = {"X-Title": "Hi", "X-Priority": "urgent", "X-Tags": "warning,skull"}
    async with session.post(f"{ntfy.url}/{TOPIC}", data="Hello", headers=headers) as response:
        assert response.status == 200
        stored = await response.json()

    assert stored["event"] == "message"
    assert (stored["topic"], stored["title"], stored["message"]) == (TOPIC, "Hi", "Hello")
    assert (stored["priority"], stored["tags"]) == (5, ["warning", "skull"])


async def test_settings_give_push_the_token_and_reaches_push_topics(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    settings = load_settings({"NTFY_URL": ntfy.url, "NTFY_TOKEN": TOKEN})
    notifier = push_notifier(settings, session)

    await notifier.send(ANA, MINOR)

    assert ntfy.delivered[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert notifier.reaches(ANA, MINOR)
    assert not notifier.reaches(Contact(name="Bo", email="bo@lucia.example"), MINOR)


async def test_people_and_links_in_a_push_read_as_names_not_markup(
    ntfy: FakeNtfy, session: aiohttp.ClientSession
) -> None:
    page = PageMessage(
        page_id=11,
        person=Person("Ana Ruiz", "U01ANA0000"),
        title=("Page from ", Person("Bea Souza", "U005")),
        lines=(
            ("Ask ", Person("Carla Dias", "U006"), ", see ",
             Link("https://status.lucia.example", "the status page")),
            ("You are paged as infra.",),
        ),
        urgent=True,
    )  # fmt: skip

    await PushNotifier(session, ntfy.url).send(ANA, page)

    shown = ntfy.delivered[0].message
    assert shown is not None
    assert shown["title"] == "Page from Bea Souza"
    assert shown["message"] == (
        "Ask Carla Dias, see the status page (https://status.lucia.example)\n"
        "You are paged as infra."
    )
