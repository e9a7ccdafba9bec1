"""Drive FakeSlackAPI with the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from .slack_api import FakeSlackAPI, ResponseUrlPost

TOKEN = "xoxb-test-token"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlackAPI]:
    api = FakeSlackAPI(bot_token=TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.fixture
def client(fake: FakeSlackAPI) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.url)


@pytest.mark.asyncio
async def test_url_is_ephemeral_localhost(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert fake.url.endswith("/api/")
    resp = await client.auth_test()
    assert resp["user_id"] == "U01LUCIABT"
    assert resp["team_id"] == "T01LUCIA00"
    assert fake.calls_to("auth.test")[0].token == TOKEN


@pytest.mark.asyncio
async def test_create_then_name_taken(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    resp = await client.conversations_create(name="inc-42-db-down", is_private=False)
    channel = resp["channel"]
    assert channel["id"].startswith("C0INC")
    assert channel["name"] == "inc-42-db-down"
    assert channel["is_private"] is False
    assert channel["is_member"] is True
    assert set(channel) >= {"created", "creator", "topic", "purpose"}
    stored = fake.channel_by_name("inc-42-db-down")
    assert stored is not None
    assert stored.id == channel["id"]
    assert fake.bot_user_id in stored.members

    with pytest.raises(SlackApiError) as exc:
        await client.conversations_create(name="inc-42-db-down")
    assert exc.value.response["error"] == "name_taken"
    assert len(fake.calls_to("conversations.create")) == 2  # failed calls are recorded too

    private = await client.conversations_create(name="inc-43-secret", is_private=True)
    assert private["channel"]["is_private"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("INC-42", "invalid_name_specials"),
        ("inc 42", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
        ("x" * 81, "invalid_name_maxlength"),
    ],
)
async def test_create_invalid_names(client: AsyncWebClient, name: str, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_create(name=name)
    assert exc.value.response["error"] == error


@pytest.mark.asyncio
async def test_ratelimit_surfaces_as_429_with_retry_after(
    fake: FakeSlackAPI, client: AsyncWebClient
) -> None:
    fake.add_channel("announcements", channel_id="C0ANNOUNCE")
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C0ANNOUNCE", text="hi")
    assert exc.value.response.status_code == 429
    assert exc.value.response["error"] == "ratelimited"
    assert exc.value.response.headers["Retry-After"] == "1"
    # The injected failure is used up: the next call goes through.
    ok = await client.chat_postMessage(channel="C0ANNOUNCE", text="hi")
    assert ok["ok"] is True


@pytest.mark.asyncio
async def test_ratelimit_retry_handler_succeeds(fake: FakeSlackAPI) -> None:
    fake.add_channel("announcements", channel_id="C0ANNOUNCE")
    fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=0)
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = await client.chat_postMessage(channel="C0ANNOUNCE", text="after the storm")
    assert resp["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in fake.channels["C0ANNOUNCE"].messages] == ["after the storm"]


@pytest.mark.asyncio
async def test_post_then_update(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="inc-7")
    channel_id = created["channel"]["id"]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* open"}}]
    first = await client.chat_postMessage(channel=channel_id, text="open", blocks=blocks)
    second = await client.chat_postMessage(channel=channel_id, text="second")
    assert float(second["ts"]) > float(first["ts"])
    assert fake.calls_to("chat.postMessage")[0].args["blocks"] == blocks

    await client.chat_update(channel=channel_id, ts=first["ts"], text="resolved")
    stored = fake.channels[channel_id].messages[0]
    assert stored["text"] == "resolved"
    assert stored["blocks"] == blocks

    with pytest.raises(SlackApiError) as exc:
        await client.chat_update(channel=channel_id, ts="1.000000", text="x")
    assert exc.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as exc:
        # api_call directly: chat_postMessage() would warn client-side about the missing text.
        await client.api_call("chat.postMessage", json={"channel": channel_id})
    assert exc.value.response["error"] == "no_text"


@pytest.mark.asyncio
async def test_dm_by_user_id(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(channel="U01ALICE00", text="you are on call")
    assert resp["channel"].startswith("D")
    assert fake.channels[resp["channel"]].messages[0]["text"] == "you are on call"
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C0NOPE", text="x")
    assert exc.value.response["error"] == "channel_not_found"


@pytest.mark.asyncio
async def test_post_ephemeral(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    fake.add_channel("ops", channel_id="C0OPS", members=["U01ALICE00"])
    resp = await client.chat_postEphemeral(channel="C0OPS", user="U01ALICE00", text="only you")
    assert resp["message_ts"]
    assert fake.channels["C0OPS"].messages == []  # ephemeral messages are not stored
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postEphemeral(channel="C0OPS", user="U01BOBBY00", text="x")
    assert exc.value.response["error"] == "user_not_in_channel"


@pytest.mark.asyncio
async def test_invite_errors(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    channel_id = (await client.conversations_create(name="inc-9"))["channel"]["id"]
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_invite(channel=channel_id, users=["U01ALICE00", "U0GHOST"])
    assert exc.value.response["error"] == "user_not_found"
    assert exc.value.response["errors"] == [
        {"user": "U0GHOST", "ok": False, "error": "user_not_found"}
    ]
    await client.conversations_invite(channel=channel_id, users=["U01ALICE00", "U01BOBBY00"])
    assert fake.channels[channel_id].members >= {"U01ALICE00", "U01BOBBY00"}
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_invite(channel=channel_id, users="U01ALICE00")
    assert exc.value.response["error"] == "already_in_channel"
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_invite(channel=channel_id, users=fake.bot_user_id)
    assert exc.value.response["error"] == "cant_invite_self"
    outside = fake.add_channel("private-ops", bot_is_member=False)
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_invite(channel=outside.id, users="U01ALICE00")
    assert exc.value.response["error"] == "not_in_channel"


@pytest.mark.asyncio
async def test_set_topic_too_long(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    channel_id = (await client.conversations_create(name="inc-10"))["channel"]["id"]
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_setTopic(channel=channel_id, topic="x" * 251)
    assert exc.value.response["error"] == "too_long"
    await client.conversations_setTopic(channel=channel_id, topic="SEV1 | IC: alice")
    info = await client.conversations_info(channel=channel_id)
    assert info["channel"]["topic"]["value"] == "SEV1 | IC: alice"


@pytest.mark.asyncio
async def test_users(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        await client.users_info(user="U0NOBODY")
    assert exc.value.response["error"] == "user_not_found"
    alice = (await client.users_info(user="U01ALICE00"))["user"]
    assert alice["name"] == "alice"
    assert alice["is_bot"] is False
    found = await client.users_lookupByEmail(email="bob@example.com")
    assert found["user"]["id"] == "U01BOBBY00"
    with pytest.raises(SlackApiError) as exc:
        await client.users_lookupByEmail(email="nobody@example.com")
    assert exc.value.response["error"] == "users_not_found"


@pytest.mark.asyncio
async def test_views_open_trigger_is_single_use(client: AsyncWebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Declare"}, "blocks": []}
    resp = await client.views_open(trigger_id="123.456.abc", view=view)
    assert resp["view"]["id"].startswith("V")
    assert resp["view"]["title"]["text"] == "Declare"
    with pytest.raises(SlackApiError) as exc:
        await client.views_open(trigger_id="123.456.abc", view=view)
    assert exc.value.response["error"] == "exchanged_trigger_id"
    too_big = {**view, "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError) as exc:
        await client.views_open(trigger_id="789.abc", view=too_big)
    assert exc.value.response["error"] == "invalid_arguments"


@pytest.mark.asyncio
async def test_auth_and_unknown_method(fake: FakeSlackAPI) -> None:
    with pytest.raises(SlackApiError) as exc:
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.url).auth_test()
    assert exc.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as exc:
        await AsyncWebClient(base_url=fake.url).auth_test()
    assert exc.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as exc:
        await AsyncWebClient(token=TOKEN, base_url=fake.url).api_call("nope.nothing")
    assert exc.value.response["error"] == "unknown_method"


@pytest.mark.asyncio
async def test_form_encoded_blocks_are_decoded(fake: FakeSlackAPI, client: AsyncWebClient) -> None:
    fake.add_channel("general", channel_id="C0GENERAL")
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0GENERAL", "blocks": '[{"type": "divider"}]'},
    )
    call = fake.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == [{"type": "divider"}]
    assert call.token == TOKEN
    assert "token" not in call.args


@pytest.mark.asyncio
async def test_response_url_posts(fake: FakeSlackAPI) -> None:
    url = fake.response_url("cmd-1")
    async with aiohttp.ClientSession() as session, session.post(url, json={"text": "done"}) as resp:
        assert resp.status == 200
        assert await resp.text() == "ok"
    posts = await fake.wait_for_response_posts(1, timeout=1)
    assert posts == [ResponseUrlPost(key="cmd-1", body={"text": "done"})]


@pytest.mark.asyncio
async def test_wait_for_times_out_with_recorded_methods(
    fake: FakeSlackAPI, client: AsyncWebClient
) -> None:
    await client.auth_test()
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"chat\.postMessage.*auth\.test"):
        await fake.wait_for("chat.postMessage", timeout=0.2)
    assert time.monotonic() - started < 2
    assert len(await fake.wait_for("auth.test")) == 1


@pytest.mark.asyncio
async def test_instances_are_independent() -> None:
    async with FakeSlackAPI() as one, FakeSlackAPI() as two:
        assert one.url != two.url
        one.add_channel("only-in-one")
        assert two.channel_by_name("only-in-one") is None
