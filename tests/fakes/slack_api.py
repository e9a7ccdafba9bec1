"""A local stand-in for Slack's Web API, served over real HTTP on 127.0.0.1.

Point ``AsyncWebClient(base_url=fake.url)`` at it. It answers like Slack does (HTTP 200 with
``{"ok": false, "error": ...}`` bodies, 429 + ``Retry-After`` when told to), keeps channel,
message, user and view state, records every call (failed ones too) and can be told to fail.
Facts it follows: ``/work/shared/reference/slack.md`` §3 and
``/work/shared/fixtures/slack/web_api_responses.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import multipart as aiohttp_multipart
from aiohttp import web

from tests.fakes.local_server import LocalServer

__all__ = ["FakeChannel", "FakeFile", "FakeSlackAPI", "ResponseUrlPost", "SlackCall"]

DEFAULT_BOT_TOKEN = "xoxb-test-token"
BOT_ID = "B01LUCIABT"
APP_ID = "A01LUCIAPP"
_TS_BASE_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds
_JSON_FORM_FIELDS = ("blocks", "view", "attachments", "metadata")
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_MAX_MESSAGE_BLOCKS = 50
_MAX_VIEW_BLOCKS = 100
_MAX_TOPIC = 250
_MAX_CHANNEL_NAME = 80
_HISTORY_LIMIT = 100  # conversations.history's default page
_REPLIES_LIMIT = 1000  # conversations.replies' default page
_MAX_PAGE = 999
UPLOAD_CALL = "upload_url"  # SlackCall.method of a POST of bytes to an upload_url

Body = dict[str, Any]


@dataclass(frozen=True)
class SlackCall:
    method: str  # e.g. "chat.postMessage"
    args: dict[str, Any]  # query params + form fields + JSON body, merged; 'token' removed
    token: str | None  # bearer token from the Authorization header, else the 'token' arg
    at: float = field(default_factory=time.monotonic)  # when it arrived (benchmarks)


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool = False
    topic: str = ""
    members: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    is_im: bool = False
    created: int = field(default_factory=lambda: int(time.time()))
    creator: str = ""


@dataclass
class FakeFile:
    """A file from files.getUploadURLExternal; `content` once its bytes are POSTed."""

    id: str
    name: str
    length: int  # what getUploadURLExternal was told
    upload_key: str
    title: str = ""
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass(frozen=True)
class ResponseUrlPost:
    key: str
    body: dict[str, Any]


@dataclass
class _Failure:
    error: str
    times: int
    status: int
    retry_after: int | None


def _err(error: str, **extra: Any) -> Body:
    return {"ok": False, "error": error, **extra}


def _invalid_arguments(message: str) -> Body:
    return _err("invalid_arguments", response_metadata={"messages": [message]})


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _ts_key(ts: str) -> tuple[int, int]:
    """A message ts ("1767225600.000200") as a sortable pair; ValueError if it is none."""
    seconds, _, micros = str(ts).partition(".")
    return int(seconds), int(micros.ljust(6, "0")[:6] or 0)


def _in_range(ts: str, oldest: tuple[int, int], latest: tuple[int, int], inclusive: bool) -> bool:
    key = _ts_key(ts)
    if inclusive:
        return oldest <= key <= latest
    return oldest < key < latest


class FakeSlackAPI(LocalServer):
    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        bot_user_id: str = "U01LUCIABT",
        team_id: str = "T01LUCIA00",
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.calls: list[SlackCall] = []
        self.response_posts: list[ResponseUrlPost] = []
        self.channels: dict[str, FakeChannel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view object
        self.files: dict[str, FakeFile] = {}  # file id -> file, from getUploadURLExternal on
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        # Socket Mode: apps.connections.open (app token) hands out a WebSocket on this server.
        self.app_token = "xapp-1-test-app-token"
        self.socket_acks: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._used_triggers: set[str] = set()
        self._counter = 0
        self._recorded: asyncio.Condition | None = None  # notified on every recorded call/post
        self._handlers: dict[str, Callable[[Body], Body]] = {
            "auth.test": self._auth_test,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "conversations.setTopic": self._conversations_set_topic,
            "conversations.info": self._conversations_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "reactions.add": lambda args: {"ok": True},
            "pins.add": self._pins_add,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        self.add_user("U01ALICE00", "alice", email="alice@example.com")
        self.add_user("U01BOBBY00", "bob", email="bob@example.com")
        self.add_user(bot_user_id, "lucia")
        self.users[bot_user_id]["is_bot"] = True
        self.users[bot_user_id]["profile"]["bot_id"] = BOT_ID

    # ----------------------------------------------------------------- lifecycle
    def routes(self, app: web.Application) -> None:
        self._recorded = asyncio.Condition()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/upload/v1/{key}", self._handle_upload)
        app.router.add_get("/files-pri/{file_id}/{name}", self._handle_file_download)

    async def before_close(self) -> None:
        for ws in self._sockets:
            await ws.close()

    @property
    def url(self) -> str:
        return f"{self._base()}/api/"

    def response_url(self, key: str) -> str:
        return f"{self._base()}/response/{key}"

    def _base(self) -> str:
        return self.base

    # ----------------------------------------------------------------- test helpers
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        email: str | None = None,
        display_name: str | None = None,  # the profile's; `name` unless given ("" is allowed)
        real_name: str | None = None,
    ) -> None:
        real_name = name.capitalize() if real_name is None else real_name
        display_name = name if display_name is None else display_name
        profile = {"email": email, "display_name": display_name, "real_name": real_name}
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name,
            "deleted": False,
            "is_bot": False,
            "profile": {k: v for k, v in profile.items() if v is not None},
        }

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> FakeChannel:
        ch = FakeChannel(
            id=channel_id or self._new_id("C0CHN"),
            name=name,
            is_private=is_private,
            members=set(members) | ({self.bot_user_id} if bot_is_member else set()),
        )
        self.channels[ch.id] = ch
        return ch

    def add_message(
        self,
        channel_id: str,
        text: str,
        *,
        user: str,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """Seed a message a person wrote (at `ts`, else now; in the thread of `thread_ts`).

        A message already at `ts` is left as it is and returned."""
        ch = self.channels[channel_id]
        if ts is not None:
            _ts_key(ts)  # a real ts, or ValueError
            existing = next((m for m in ch.messages if m["ts"] == ts), None)
            if existing is not None:
                return existing
        ts = ts or self._new_ts()
        message: Body = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "client_msg_id": f"{self._new_id('msg-')}-fake",
        }
        if thread_ts is not None and thread_ts != ts:
            parent = next((m for m in ch.messages if m["ts"] == thread_ts), None)
            if parent is None:
                raise KeyError(f"no message at {thread_ts} in {channel_id} to reply to")
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = parent.get("user", "")
            replies = [
                m for m in ch.messages if m.get("thread_ts") == thread_ts and m is not parent
            ] + [message]
            repliers = list(dict.fromkeys(str(m.get("user")) for m in replies))
            parent.update(
                thread_ts=thread_ts,
                reply_count=len(replies),
                reply_users=repliers[:5],
                reply_users_count=len(repliers),
                latest_reply=max((str(m["ts"]) for m in replies), key=_ts_key),
            )
        ch.messages.append(message)
        return message

    def channel_by_name(self, name: str) -> FakeChannel | None:
        name = name.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def calls_to(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        self._failures.setdefault(method, []).append(_Failure(error, times, status, retry_after))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every later call to `method` only after `seconds` (a slow Slack)."""
        self._delays[method] = seconds

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the public API takes a timeout
    ) -> list[SlackCall]:
        if not await self._wait_until(lambda: len(self.calls_to(method)) >= count, timeout):
            recorded = [c.method for c in self.calls]
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} call(s) to {method} "
                f"(got {len(self.calls_to(method))}); recorded calls: {recorded}"
            )
        return self.calls_to(method)

    async def wait_for_response_posts(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ResponseUrlPost]:
        if not await self._wait_until(lambda: len(self.response_posts) >= count, timeout):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} response_url post(s); "
                f"got {self.response_posts}"
            )
        return list(self.response_posts)

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        if self._recorded is None:
            raise RuntimeError("FakeSlackAPI is not started; await fake.start() first")
        try:
            async with asyncio.timeout(timeout), self._recorded:
                await self._recorded.wait_for(predicate)
        except TimeoutError:
            return False
        return True

    async def _notify(self) -> None:
        if self._recorded is not None:
            async with self._recorded:
                self._recorded.notify_all()

    # ----------------------------------------------------------------- HTTP layer
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: Body = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items()})
        for key in _JSON_FORM_FIELDS:
            if isinstance(args.get(key), str):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        arg_token = args.pop("token", None)
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else arg_token
        self.calls.append(SlackCall(method=method, args=args, token=token))
        await self._notify()
        if method in self._delays:
            await asyncio.sleep(self._delays[method])

        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            retry_after = failure.retry_after
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return web.json_response(_err(failure.error), status=failure.status, headers=headers)

        handler = self._handlers.get(method)
        if method == "apps.connections.open":  # the one method called with the app token
            body = (
                {"ok": True, "url": f"ws://127.0.0.1:{self._port}/socket"}
                if token == self.app_token
                else _err("invalid_auth")
            )
        elif handler is None:
            body = _err("unknown_method")
        elif not token:
            body = _err("not_authed")
        elif token != self.bot_token:
            body = _err("invalid_auth")
        else:
            body = handler(args)
        return web.json_response(body)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        await self._notify()
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
                await self._notify()
        return ws

    async def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> str:
        """Deliver `payload` over the open Socket Mode connection; return its envelope id."""
        if not await self._wait_until(lambda: bool(self._sockets), timeout):
            raise AssertionError("the bot never opened a Socket Mode connection")
        self._counter += 1
        envelope_id = f"env-{self._counter}"
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        def acked() -> bool:
            return any(a.get("envelope_id") == envelope_id for a in self.socket_acks)

        if not await self._wait_until(acked, timeout):
            raise AssertionError(f"envelope {envelope_id} was never acknowledged")
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """An upload_url: takes the bytes raw, or as the file part of a multipart form."""
        found = next(
            (f for f in self.files.values() if f.upload_key == request.match_info["key"]), None
        )
        if request.content_type.startswith("multipart/"):
            body = b""
            async for part in await request.multipart():
                if isinstance(part, aiohttp_multipart.BodyPartReader) and (
                    part.filename or part.name in ("file", "filename")
                ):
                    body = bytes(await part.read())
                    break
        else:
            body = await request.read()
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        args: Body = {"key": request.match_info["key"], "length": len(body)}
        if found is not None:
            args["file_id"] = found.id
        self.calls.append(SlackCall(method=UPLOAD_CALL, args=args, token=token))
        await self._notify()
        failures = self._failures.get(UPLOAD_CALL)  # fail_next(UPLOAD_CALL, text, status=...)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            return web.Response(status=failure.status, text=failure.error)
        if found is None or found.completed:  # an unknown or already used upload URL
            return web.Response(status=404, text="Not Found")
        found.content = body
        return web.Response(text=f"OK - {len(body)}")

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        """A file's url_private: the bytes, for the bot token only."""
        auth = request.headers.get("Authorization", "")
        found = self.files.get(request.match_info["file_id"])
        if auth != f"Bearer {self.bot_token}":
            return web.Response(status=403, text="Forbidden")
        if found is None or not found.completed or found.content is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found.content, content_type=self._mimetype(found.name))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw}
        self.response_posts.append(ResponseUrlPost(key=request.match_info["key"], body=body))
        await self._notify()
        return web.Response(text="ok")

    # ----------------------------------------------------------------- state helpers
    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:04d}"

    def _new_ts(self) -> str:
        self._counter += 1
        us = _TS_BASE_US + self._counter * 100
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _resolve(self, channel: Any) -> FakeChannel | None:
        """A channel id, a '#name'/name, or a user id (opens a DM on the fly)."""
        channel = str(channel or "")
        if channel in self.channels:
            return self.channels[channel]
        if channel in self.users and channel != self.bot_user_id:
            im_id = "D" + channel[1:]
            if im_id not in self.channels:
                members = {channel, self.bot_user_id}
                self.channels[im_id] = FakeChannel(id=im_id, name="", is_im=True, members=members)
            return self.channels[im_id]
        return self.channel_by_name(channel) if channel else None

    def _channel_obj(self, ch: FakeChannel) -> Body:
        return {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_im and not ch.is_private,
            "is_group": ch.is_private,
            "is_im": ch.is_im,
            "is_mpim": False,
            "is_private": ch.is_private or ch.is_im,
            "created": ch.created,
            "creator": ch.creator,
            "is_archived": False,
            "is_general": False,
            "name_normalized": ch.name,
            "is_member": self.bot_user_id in ch.members,
            "num_members": len(ch.members),
            "topic": {"value": ch.topic, "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _view_obj(self, view_id: str, view: Any) -> Body:
        self._counter += 1
        obj: Body = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{self._counter}.fakehash",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        obj.update(view if isinstance(view, dict) else {})
        obj["id"] = view_id
        self.views[view_id] = obj
        return obj

    # ----------------------------------------------------------------- method handlers
    def _auth_test(self, args: Body) -> Body:
        return {
            "ok": True,
            "url": "https://lucia-demo.slack.com/",
            "team": "Lucia",
            "user": "lucia",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _conversations_create(self, args: Body) -> Body:
        name = str(args.get("name") or "")
        if not name:
            return _err("invalid_name_required")
        if len(name) > _MAX_CHANNEL_NAME:
            return _err("invalid_name_maxlength")
        if not _CHANNEL_NAME.fullmatch(name):
            return _err("invalid_name_specials")
        if not name.strip("-_"):
            return _err("invalid_name_punctuation")
        if self.channel_by_name(name) is not None:
            return _err("name_taken")
        ch = FakeChannel(
            id=self._new_id("C0INC"),
            name=name,
            is_private=_truthy(args.get("is_private")),
            members={self.bot_user_id},
            creator=self.bot_user_id,
        )
        self.channels[ch.id] = ch
        return {"ok": True, "channel": self._channel_obj(ch)}

    def _conversations_invite(self, args: Body) -> Body:
        ch = self.channels.get(str(args.get("channel")))
        if ch is None:
            return _err("channel_not_found")
        if self.bot_user_id not in ch.members:
            return _err("not_in_channel")
        users = args.get("users") or []
        user_ids = [u.strip() for u in (users.split(",") if isinstance(users, str) else users)]
        user_ids = [u for u in user_ids if u]
        if not user_ids:
            return _err("no_user")
        errors: list[Body] = []
        for u in user_ids:
            if u not in self.users or u == self.bot_user_id:
                error = "user_not_found" if u not in self.users else "cant_invite_self"
                errors.append({"user": u, "ok": False, "error": error})
        if errors and not _truthy(args.get("force")):  # force=true skips invalid ids
            return _err(errors[0]["error"], errors=errors)
        new = {u for u in user_ids if u in self.users and u != self.bot_user_id} - ch.members
        if not new:
            return _err("already_in_channel")
        ch.members |= new
        return {"ok": True, "channel": self._channel_obj(ch)}

    def _conversations_set_topic(self, args: Body) -> Body:
        ch = self.channels.get(str(args.get("channel")))
        if ch is None:
            return _err("channel_not_found")
        topic = str(args.get("topic") or "")
        if len(topic) > _MAX_TOPIC:
            return _err("too_long")
        ch.topic = topic
        return {"ok": True, "channel": self._channel_obj(ch)}

    def _conversations_info(self, args: Body) -> Body:
        ch = self.channels.get(str(args.get("channel")))
        if ch is None:
            return _err("channel_not_found")
        return {"ok": True, "channel": self._channel_obj(ch)}

    def _message_error(self, args: Body) -> str | None:
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return "no_text"
        blocks = args.get("blocks")
        if blocks and (not isinstance(blocks, list) or len(blocks) > _MAX_MESSAGE_BLOCKS):
            return "invalid_blocks"
        return None

    def _chat_post_message(self, args: Body) -> Body:
        ch = self._resolve(args.get("channel"))
        if ch is None:
            return _err("channel_not_found")
        if error := self._message_error(args):
            return _err(error)
        ts = self._new_ts()
        message: Body = {
            "type": "message",
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": str(args.get("text") or ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        ch.messages.append(message)
        return {"ok": True, "channel": ch.id, "ts": ts, "message": dict(message)}

    def _chat_update(self, args: Body) -> Body:
        ch = self.channels.get(str(args.get("channel")))
        if ch is None:
            return _err("channel_not_found")
        message = next((m for m in ch.messages if m["ts"] == str(args.get("ts"))), None)
        if message is None:
            return _err("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {
            "ok": True,
            "channel": ch.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": dict(message),
        }

    def _chat_post_ephemeral(self, args: Body) -> Body:
        ch = self._resolve(args.get("channel"))
        if ch is None:
            return _err("channel_not_found")
        if str(args.get("user")) not in ch.members:
            return _err("user_not_in_channel")
        if error := self._message_error(args):
            return _err(error)
        return {"ok": True, "message_ts": self._new_ts()}

    def _view_error(self, view: Any) -> Body | None:
        if not isinstance(view, dict):
            return _invalid_arguments("invalid `view`")
        if len(view.get("blocks") or []) > _MAX_VIEW_BLOCKS:
            return _invalid_arguments(
                f"no more than {_MAX_VIEW_BLOCKS} items allowed [/view/blocks]"
            )
        return None

    def _views_open(self, args: Body) -> Body:
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger_id:
            return _invalid_arguments("invalid `trigger_id`")
        if trigger_id in self._used_triggers:
            return _err("exchanged_trigger_id")
        if error := self._view_error(args.get("view")):
            return error
        self._used_triggers.add(trigger_id)
        return {"ok": True, "view": self._view_obj(self._new_id("V0VIEW"), args["view"])}

    def _views_update(self, args: Body) -> Body:
        if error := self._view_error(args.get("view")):
            return error
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            ext = args["external_id"]
            view_id = next((k for k, v in self.views.items() if v.get("external_id") == ext), None)
        view_id = view_id or self._new_id("V0VIEW")
        return {"ok": True, "view": self._view_obj(str(view_id), args["view"])}

    def _views_publish(self, args: Body) -> Body:
        user_id = args.get("user_id")
        if not user_id:
            return _invalid_arguments("invalid `user_id`")
        if user_id not in self.users:
            return _err("user_not_found")
        if error := self._view_error(args.get("view")):
            return error
        view = {"type": "home", **args["view"]}
        return {"ok": True, "view": self._view_obj(f"V0HOME{user_id}", view)}

    def _users_info(self, args: Body) -> Body:
        user = self.users.get(str(args.get("user")))
        return _err("user_not_found") if user is None else {"ok": True, "user": user}

    def _users_lookup_by_email(self, args: Body) -> Body:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if email and str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        return _err("users_not_found")

    def _pins_add(self, args: Body) -> Body:
        return {"ok": True} if self._resolve(args.get("channel")) else _err("channel_not_found")

    # ----------------------------------------------------------------- reading messages
    def _readable(self, args: Body) -> FakeChannel | Body:
        """The channel a bot may read, or Slack's error body."""
        ch = self.channels.get(str(args.get("channel") or ""))
        if ch is None:
            return _err("channel_not_found")
        if self.bot_user_id not in ch.members:
            return _err("not_in_channel")
        return ch

    @staticmethod
    def _page_limit(args: Body, default: int) -> int:
        try:
            limit = int(args.get("limit") or default)
        except ValueError:
            return default
        return min(limit, _MAX_PAGE) if limit > 0 else default

    @staticmethod
    def _window(args: Body) -> tuple[tuple[int, int], tuple[int, int]] | Body:
        """(oldest, latest) as sort keys, or Slack's error for a ts that is none."""
        bounds: list[tuple[int, int]] = []
        for name, default in (("oldest", "0"), ("latest", str(int(time.time()) + 1))):
            try:
                bounds.append(_ts_key(str(args.get(name) or default)))
            except ValueError:
                return _err(f"invalid_ts_{name}")
        return bounds[0], bounds[1]

    @staticmethod
    def _paged(messages: list[Body], args: Body, limit: int) -> tuple[list[Body], Body] | Body:
        """One page of `messages` from the cursor on (the cursor is an offset)."""
        try:
            start = int(args.get("cursor") or 0)
        except ValueError:
            return _err("invalid_cursor")
        if start < 0 or start > len(messages):
            return _err("invalid_cursor")
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        extra: Body = {"has_more": more}
        if more:
            extra["response_metadata"] = {"next_cursor": str(start + limit)}
        return [dict(m) for m in page], extra

    def _conversations_history(self, args: Body) -> Body:
        """Top-level messages (thread parents, not their replies), newest first."""
        ch = self._readable(args)
        if not isinstance(ch, FakeChannel):
            return ch
        window = self._window(args)
        if not isinstance(window, tuple):
            return window
        inclusive = _truthy(args.get("inclusive"))
        top = [
            m
            for m in ch.messages
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        found = sorted(
            (m for m in top if _in_range(m["ts"], *window, inclusive)),
            key=lambda m: _ts_key(m["ts"]),
            reverse=True,
        )
        paged = self._paged(found, args, self._page_limit(args, _HISTORY_LIMIT))
        if not isinstance(paged, tuple):
            return paged
        page, extra = paged
        return {"ok": True, "messages": page, "pin_count": 0, **extra}

    def _conversations_replies(self, args: Body) -> Body:
        """A thread, oldest first: its parent, then the replies in the window.

        `ts` may be the parent's or any reply's; a message with no replies is a thread of one.
        """
        ch = self._readable(args)
        if not isinstance(ch, FakeChannel):
            return ch
        ts = str(args.get("ts") or "")
        if not ts:
            return _invalid_arguments("missing required field: ts")
        window = self._window(args)
        if not isinstance(window, tuple):
            return window
        message = next((m for m in ch.messages if m["ts"] == ts), None)
        if message is None:
            return _err("thread_not_found")
        root = str(message.get("thread_ts") or message["ts"])
        parent = next((m for m in ch.messages if m["ts"] == root), None)
        inclusive = _truthy(args.get("inclusive"))
        replies = sorted(
            (
                m
                for m in ch.messages
                if m.get("thread_ts") == root
                and m["ts"] != root
                and _in_range(m["ts"], *window, inclusive)
            ),
            key=lambda m: _ts_key(m["ts"]),
        )
        thread = ([parent] if parent is not None else []) + replies
        paged = self._paged(thread, args, self._page_limit(args, _REPLIES_LIMIT))
        if not isinstance(paged, tuple):
            return paged
        page, extra = paged
        return {"ok": True, "messages": page, **extra}

    # ----------------------------------------------------------------- file uploads
    @staticmethod
    def _mimetype(name: str) -> str:
        return mimetypes.guess_type(name)[0] or "application/octet-stream"

    def _file_obj(self, f: FakeFile) -> Body:
        extension = f.name.rpartition(".")[2].lower() if "." in f.name else "binary"
        url = f"{self._base()}/files-pri/{f.id}/{f.name}"
        return {
            "id": f.id,
            "created": f.created,
            "timestamp": f.created,
            "name": f.name,
            "title": f.title or f.name,
            "mimetype": self._mimetype(f.name),
            "filetype": extension,
            "pretty_type": extension.upper(),
            "user": self.bot_user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(f.content or b""),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(f.channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url,
            "url_private_download": f"{url}?download=1",
            "permalink": f"https://lucia-demo.slack.com/files/{self.bot_user_id}/{f.id}/{f.name}",
            "channels": list(f.channels),
            "groups": [],
            "ims": [],
            "comments_count": 0,
        }

    def _files_get_upload_url_external(self, args: Body) -> Body:
        name = str(args.get("filename") or "")
        if not name:
            return _invalid_arguments("[ERROR] missing required field: filename")
        raw_length = args.get("length")
        if raw_length is None or raw_length == "":
            return _invalid_arguments("[ERROR] missing required field: length")
        try:
            length = int(raw_length)
        except (TypeError, ValueError):
            return _invalid_arguments("[ERROR] invalid type for field: length")
        if length < 1:
            return _err("missing_argument")  # Slack's answer to length 0
        f = FakeFile(
            id=self._new_id("F0FILE"), name=name, length=length, upload_key=secrets.token_hex(8)
        )
        self.files[f.id] = f
        return {
            "ok": True,
            "upload_url": f"{self._base()}/upload/v1/{f.upload_key}",
            "file_id": f.id,
        }

    def _files_complete_upload_external(self, args: Body) -> Body:
        """Shares uploaded files: each file's message in the channel, its bytes kept.

        Slack documents `file_not_found` ("Could not find the file from the upload ticket")
        for a file whose bytes never arrived; it documents nothing for bytes of another
        length than announced, which this fake answers with `file_update_failed`."""
        files = args.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                return _invalid_arguments("[ERROR] invalid type for field: files")
        if not isinstance(files, list) or not files:
            return _invalid_arguments("[ERROR] missing required field: files")
        wanted: list[tuple[FakeFile, str | None]] = []
        for entry in files:
            if not isinstance(entry, dict) or not entry.get("id"):
                return _invalid_arguments("[ERROR] missing required field: id")
            found = self.files.get(str(entry["id"]))
            if found is None or found.completed or found.content is None:
                return _err("file_not_found")
            if len(found.content) != found.length:
                return _err("file_update_failed")
            title = entry.get("title")
            wanted.append((found, None if title is None else str(title)))
        targets = [c for c in str(args.get("channels") or "").split(",") if c.strip()]
        if args.get("channel_id"):
            targets.insert(0, str(args["channel_id"]))
        shared: list[FakeChannel] = []
        for target in dict.fromkeys(t.strip() for t in targets):
            ch = self._resolve(target)
            if ch is None:
                return _err("channel_not_found")
            if self.bot_user_id not in ch.members:
                return _err("not_in_channel")
            shared.append(ch)
        thread_ts = args.get("thread_ts")
        if thread_ts and len(shared) != 1:
            return _invalid_arguments("[ERROR] thread_ts needs exactly one channel")
        for f, title in wanted:
            f.completed = True
            f.title = title or f.name
            f.channels = [ch.id for ch in shared]
        for ch in shared:
            message: Body = {
                "type": "message",
                "subtype": "file_share",
                "ts": self._new_ts(),
                "user": self.bot_user_id,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "team": self.team_id,
                "text": str(args.get("initial_comment") or ""),
                "files": [self._file_obj(f) for f, _ in wanted],
                "upload": True,
                "display_as_bot": False,
            }
            if thread_ts:
                message["thread_ts"] = str(thread_ts)
            ch.messages.append(message)
        return {"ok": True, "files": [self._file_obj(f) for f, _ in wanted]}
