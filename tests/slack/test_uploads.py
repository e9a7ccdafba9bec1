"""Sharing a file with Slack's upload flow: files.getUploadURLExternal, the bytes POSTed to
the upload_url it gives, files.completeUploadExternal (files.upload is retired)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ChatError
from bot.slack.chat import UPLOAD_STEP, SlackChat
from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.fakes.slack_api import UPLOAD_CALL, FakeSlackAPI

FLOW = ["files.getUploadURLExternal", UPLOAD_CALL, "files.completeUploadExternal"]
CONTENT = bytes(range(256)) * 40 + "\n— café ☕ postmortem\r\n".encode() + b"\x00\xff\xfe"


def client_for(fake: FakeSlackAPI, **extra: Any) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.url, timeout=5, **extra)


@pytest.fixture
def chat(slack_api: FakeSlackAPI) -> SlackChat:
    return SlackChat(client_for(slack_api))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def flow(fake: FakeSlackAPI) -> list[str]:
    return [c.method for c in fake.calls if c.method in FLOW]


async def test_upload_shares_the_bytes_in_the_channel(
    slack_api: FakeSlackAPI, chat: SlackChat, http: aiohttp.ClientSession
) -> None:
    file_id = await chat.upload_file(
        INCIDENTS_CHANNEL, "inc-1-timeline.txt", CONTENT, "INC-1 timeline", "Here is the timeline"
    )

    assert flow(slack_api) == FLOW  # the three steps, in order
    ticket, upload, complete = (slack_api.calls_to(m)[0] for m in FLOW)
    assert ticket.args["filename"] == "inc-1-timeline.txt"
    assert ticket.args["length"] == str(len(CONTENT))
    assert upload.args == {"key": upload.args["key"], "length": len(CONTENT), "file_id": file_id}
    assert json.loads(complete.args["files"]) == [{"id": file_id, "title": "INC-1 timeline"}]
    assert complete.args["channel_id"] == INCIDENTS_CHANNEL
    assert complete.args["initial_comment"] == "Here is the timeline"

    stored = slack_api.files[file_id]
    assert stored.content == CONTENT  # byte for byte
    assert stored.channels == [INCIDENTS_CHANNEL]
    message = slack_api.channels[INCIDENTS_CHANNEL].messages[-1]
    assert message["text"] == "Here is the timeline"
    assert message["subtype"] == "file_share"
    (shared,) = message["files"]
    assert (shared["id"], shared["name"], shared["title"]) == (
        file_id,
        "inc-1-timeline.txt",
        "INC-1 timeline",
    )
    assert shared["size"] == len(CONTENT)
    assert shared["mimetype"] == "text/plain"

    headers = {"Authorization": f"Bearer {slack_api.bot_token}"}
    async with http.get(shared["url_private"], headers=headers) as response:
        assert response.status == 200
        assert await response.read() == CONTENT


async def test_upload_uses_the_clients_own_session(
    slack_api: FakeSlackAPI, http: aiohttp.ClientSession
) -> None:
    chat = SlackChat(client_for(slack_api, session=http))
    file_id = await chat.upload_file(INCIDENTS_CHANNEL, "a.bin", b"\x00\x01", "a", "bytes")
    assert slack_api.files[file_id].content == b"\x00\x01"


async def test_complete_without_the_upload_step_fails(
    slack_api: FakeSlackAPI, chat: SlackChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def skip(self: SlackChat, upload_url: str, content: bytes) -> None:
        return None

    monkeypatch.setattr(SlackChat, "_send_bytes", skip)
    with pytest.raises(ChatError) as caught:
        await chat.upload_file(INCIDENTS_CHANNEL, "notes.txt", b"notes", "Notes", "notes")

    assert (caught.value.method, caught.value.code) == (
        "files.completeUploadExternal",
        "file_not_found",
    )
    assert flow(slack_api) == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert slack_api.channels[INCIDENTS_CHANNEL].messages == []


@pytest.mark.parametrize("status", [404, 500])
async def test_an_upload_url_that_refuses_the_bytes_is_a_chat_error(
    slack_api: FakeSlackAPI, chat: SlackChat, status: int
) -> None:
    slack_api.fail_next(UPLOAD_CALL, "refused", status=status)
    with pytest.raises(ChatError) as caught:
        await chat.upload_file(INCIDENTS_CHANNEL, "notes.txt", b"notes", "Notes", "notes")

    assert (caught.value.method, caught.value.code) == (UPLOAD_STEP, f"http_{status}")
    assert flow(slack_api) == ["files.getUploadURLExternal", UPLOAD_CALL]  # never completed


@pytest.mark.parametrize(
    ("channel", "code"),
    [("C0NOSUCH00", "channel_not_found"), ("C0OUTSIDE0", "not_in_channel")],
)
async def test_a_channel_slack_refuses_is_a_chat_error(
    slack_api: FakeSlackAPI, chat: SlackChat, channel: str, code: str
) -> None:
    slack_api.add_channel("outside", channel_id="C0OUTSIDE0", bot_is_member=False)
    with pytest.raises(ChatError) as caught:
        await chat.upload_file(channel, "notes.txt", b"notes", "Notes", "notes")

    assert (caught.value.method, caught.value.code) == ("files.completeUploadExternal", code)
    assert flow(slack_api) == FLOW
    file_id = slack_api.calls_to(UPLOAD_CALL)[0].args["file_id"]
    assert slack_api.files[file_id].completed is False


async def test_an_empty_file_is_refused_as_slack_does(
    slack_api: FakeSlackAPI, chat: SlackChat
) -> None:
    with pytest.raises(ChatError) as caught:
        await chat.upload_file(INCIDENTS_CHANNEL, "empty.txt", b"", "Empty", "nothing")
    assert (caught.value.method, caught.value.code) == (
        "files.getUploadURLExternal",
        "missing_argument",
    )
    assert flow(slack_api) == ["files.getUploadURLExternal"]


async def test_slack_unreachable_is_a_chat_error(slack_api: FakeSlackAPI) -> None:
    chat = SlackChat(AsyncWebClient(token=slack_api.bot_token, base_url="http://127.0.0.1:9/api/"))
    with pytest.raises(ChatError) as caught:
        await chat.upload_file(INCIDENTS_CHANNEL, "notes.txt", b"notes", "Notes", "notes")
    assert caught.value.method == "files.getUploadURLExternal"
    assert caught.value.code.startswith("unreachable")


# --- the fake's upload endpoint and checks, as Slack answers them ---------------------------


async def ticket(fake: FakeSlackAPI, **args: Any) -> tuple[AsyncWebClient, dict[str, Any]]:
    client = client_for(fake)
    response = await client.files_getUploadURLExternal(**args)
    return client, dict(response.data)  # type: ignore[arg-type]


async def test_fake_takes_the_bytes_as_multipart_too(
    slack_api: FakeSlackAPI, http: aiohttp.ClientSession
) -> None:
    client, got = await ticket(slack_api, filename="a.txt", length=len(CONTENT))
    form = aiohttp.FormData()
    form.add_field("filename", CONTENT, filename="a.txt")
    async with http.post(got["upload_url"], data=form) as response:
        assert response.status == 200
        assert await response.text() == f"OK - {len(CONTENT)}"
    await client.files_completeUploadExternal(
        files=[{"id": got["file_id"], "title": "A"}], channel_id=INCIDENTS_CHANNEL
    )
    assert slack_api.files[got["file_id"]].content == CONTENT


async def test_fake_refuses_an_unknown_or_used_upload_url(
    slack_api: FakeSlackAPI, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{slack_api.url.removesuffix('/api/')}/upload/v1/nope", data=b"x") as r:
        assert r.status == 404
    client, got = await ticket(slack_api, filename="a.txt", length=1)
    async with http.post(got["upload_url"], data=b"x") as response:
        assert response.status == 200
    await client.files_completeUploadExternal(files=[{"id": got["file_id"]}])  # kept private
    async with http.post(got["upload_url"], data=b"x") as response:
        assert response.status == 404
    assert slack_api.files[got["file_id"]].channels == []


async def test_fake_checks_the_length_and_the_arguments(
    slack_api: FakeSlackAPI, http: aiohttp.ClientSession
) -> None:
    _, got = await ticket(slack_api, filename="a.txt", length=5)
    async with http.post(got["upload_url"], data=b"abc") as response:
        assert response.status == 200
    answers: list[str] = []
    for params in (
        {"files": json.dumps([{"id": got["file_id"]}]), "channel_id": INCIDENTS_CHANNEL},
        {"files": json.dumps([{"id": "F0NOSUCH00"}])},
    ):
        async with http.post(
            f"{slack_api.url}files.completeUploadExternal",
            data=params,
            headers={"Authorization": f"Bearer {slack_api.bot_token}"},
        ) as response:
            answers.append((await response.json())["error"])
    assert answers == ["file_update_failed", "file_not_found"]

    errors: list[str] = []
    for params in ({"length": "3"}, {"filename": "a.txt"}, {"filename": "a.txt", "length": "x"}):
        async with http.post(
            f"{slack_api.url}files.getUploadURLExternal",
            data=params,
            headers={"Authorization": f"Bearer {slack_api.bot_token}"},
        ) as response:
            errors.append((await response.json())["error"])
    assert errors == ["invalid_arguments"] * 3
