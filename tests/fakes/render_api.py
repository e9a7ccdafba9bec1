"""A local stand-in for Render's REST API v1, served over real HTTP on 127.0.0.1.

Point ``RenderClient(session, fake.url, fake.api_key)`` at it; ``fake.url`` is the base,
``http://127.0.0.1:PORT/v1``. It answers with the shapes of ``/work/shared/fixtures/render/``
(bare ``[{deploy, cursor}]`` pages, ``{"id", "message"}`` error bodies, ``{"message": "not
found: srv-…"}`` 404s, ``Ratelimit-*`` and ``Render-Request-Id`` headers on every answer) and
follows ``/work/shared/reference/render.md`` §1-4.

State lives in `FakeService` and `FakeDeploy`. A deploy's status is a function of time: each
deploy has steps ``(seconds after creation, status)``, so a rollback made by the client goes
``created`` → ``update_in_progress`` → ``live`` over a fraction of a second, and when it goes
live the deploy live before it reads ``deactivated``. `next_rollback` / `next_deploy` choose
how the next one ends (``update_failed``, or ``None``: never finishes) or make Render answer
202 with an empty body. Every request is recorded in `calls` (refused ones too);
`fail_next` and `delay` make the next matching calls fail or answer slowly. A service's
`autoDeploy`/`autoDeployTrigger` follow its `auto_deploy_trigger`; `keeps_auto_deploy`
makes Render answer a PATCH of it with the setting unchanged.

A *target* (for `fail_next`, `delay`, `calls_to`) is ``"*"``, an HTTP method (``"POST"``),
a path or its tail (``"/services/srv-…/rollback"``, ``"rollback"``, ``"deploys"``), or
both (``"POST deploys"``). Wording of refusals Render does not document (rolling back to a
deploy that never went live, an artifact no longer kept) is the fake's own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from tests.fakes.local_server import LocalServer

__all__ = [
    "DEFAULT_API_KEY",
    "FakeDeploy",
    "FakeRenderAPI",
    "FakeService",
    "RenderCall",
    "Step",
]

DEFAULT_API_KEY = "rnd_Fake0RenderTestKey7v2QmKp9WdX3"
OWNER_ID = "tea-cq5l2n2j1k6c73a8hb10"
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"  # the 20 characters after "srv-"/"dep-"
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
_TERMINAL = frozenset(
    {"live", "deactivated", "build_failed", "update_failed", "pre_deploy_failed", "canceled"}
)
_STARTED = frozenset({"created", "queued"})  # statuses before `startedAt` is set
_AUTO_DEPLOY_TRIGGERS = frozenset({"commit", "checksPass", "off"})
# POSTs in the 10/minute/service bucket (rollback assumed, as the reference does)
_DEPLOY_BUCKET = frozenset({"deploys", "rollback", "suspend", "resume", "scale"})
_ERROR_IDS = {
    400: ("bad_request", "The request could not be understood by the server."),
    401: ("unauthorized", "Authorization information is missing or invalid."),
    403: ("forbidden", "You do not have permissions for the requested resource."),
    404: ("not_found", "Unable to find the requested resource."),
    409: ("conflict", "The current state of the resource conflicts with this request."),
    410: ("gone", "The requested resource is no longer available."),
    429: ("rate_limited", "Rate limit has been surpassed."),
    500: ("internal_server_error", "An unexpected server error has occurred."),
    503: ("service_unavailable", "Server currently unavailable."),
}
_SEEDED_DURATION = timedelta(minutes=4)  # how long a deploy added by the test took

Body = dict[str, Any]
Step = tuple[float, str]  # (seconds after the deploy was created, its status from then on)
_Answer = tuple[int, Any]  # (HTTP status, JSON body or None for an empty body)


@dataclass
class RenderCall:
    method: str
    path: str  # below the base, e.g. "/services/srv-…/rollback"
    query: MultiDict[str]
    json: Any  # the parsed body; None when empty; the raw text when not JSON
    headers: CIMultiDict[str]
    at: float = field(default_factory=time.monotonic)  # when it arrived
    status: int | None = None  # what the fake answered (None while it is still answering)


@dataclass
class FakeService:
    id: str
    name: str
    suspended: bool = False
    auto_deploy_trigger: str = "commit"  # commit | checksPass | off
    knows_trigger: bool = True  # False: an API that only speaks legacy `autoDeploy`
    # True: a PATCH of auto-deploy is answered 200 with the service unchanged (Render keeping
    # the setting, as the client must notice).
    keeps_auto_deploy: bool = False
    branch: str = "main"
    head_commit: tuple[str, str] = ("", "")  # (sha, message) a deploy without commitId builds
    restarts: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=90))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=1))


@dataclass
class FakeDeploy:
    id: str
    service_id: str
    commit_id: str
    commit_message: str
    trigger: str
    created_at: datetime  # wall clock, shown as createdAt
    steps: list[Step]  # sorted by offset; the first at 0
    born: float  # time.monotonic() when the fake created it
    took: timedelta = timedelta(0)  # added to wall times (a seeded deploy finished later)
    retained: bool = True  # its build artifact is kept, so it can be rolled back to


@dataclass
class _Plan:
    ends: str | None  # the final status; None: never finishes
    after: float | None  # seconds until the final status (None: the fake's default)
    queued: bool  # answer 202 with an empty body (the deploy still happens)
    steps: list[Step] | None  # explicit steps instead


@dataclass
class _Failure:
    target: str
    status: int
    times: int
    body: Body
    retry_after: float | None
    ratelimit_reset: float | None
    happened: bool  # the call takes effect, then the answer fails


class FakeRenderAPI(LocalServer):
    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        rollback_seconds: float = 0.3,
        deploy_seconds: float = 0.5,
        rate_window: float = 60.0,
        enforce_rate_limits: bool = False,
        newest_first: bool = True,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.rollback_seconds = rollback_seconds  # created → update_in_progress → live
        self.deploy_seconds = deploy_seconds  # created → build_in_progress → … → live
        self.rate_window = rate_window  # seconds per rate-limit window
        self.enforce_rate_limits = enforce_rate_limits  # else the headers only count
        self.newest_first = newest_first  # list order; False tests the client's own sorting
        self.calls: list[RenderCall] = []
        self.services: dict[str, FakeService] = {}
        self.deploys: dict[str, FakeDeploy] = {}
        self._failures: list[_Failure] = []
        self._delays: list[tuple[str, float]] = []
        self._plans: dict[str, list[_Plan]] = {"rollback": [], "deploy": []}
        self._buckets: dict[tuple[str, str], tuple[float, int]] = {}  # → (window start, used)
        self._seed_clock = datetime.now(UTC) - timedelta(days=1)
        self._requests = 0
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., _Answer]]] = [
            ("GET", re.compile(r"/services"), self._list_services),
            ("GET", re.compile(r"/services/(?P<sid>[^/]+)"), self._get_service),
            ("PATCH", re.compile(r"/services/(?P<sid>[^/]+)"), self._patch_service),
            ("GET", re.compile(r"/services/(?P<sid>[^/]+)/deploys"), self._list_deploys),
            ("POST", re.compile(r"/services/(?P<sid>[^/]+)/deploys"), self._trigger_deploy),
            ("GET", re.compile(r"/services/(?P<sid>[^/]+)/deploys/(?P<did>[^/]+)"), self._get),
            (
                "POST",
                re.compile(r"/services/(?P<sid>[^/]+)/deploys/(?P<did>[^/]+)/cancel"),
                self._cancel,
            ),
            ("POST", re.compile(r"/services/(?P<sid>[^/]+)/rollback"), self._rollback),
            ("POST", re.compile(r"/services/(?P<sid>[^/]+)/restart"), self._restart),
            ("POST", re.compile(r"/services/(?P<sid>[^/]+)/suspend"), self._suspend),
            ("POST", re.compile(r"/services/(?P<sid>[^/]+)/resume"), self._resume),
        ]

    # ----------------------------------------------------------------- lifecycle
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    # ----------------------------------------------------------------- test helpers
    def add_service(
        self,
        service_id: str | None = None,
        name: str = "checkout-api",
        *,
        suspended: bool = False,
        auto_deploy_trigger: str = "commit",
        knows_trigger: bool = True,
        head_commit: tuple[str, str] | None = None,
    ) -> FakeService:
        service = FakeService(
            id=service_id or _new_id("srv"),
            name=name,
            suspended=suspended,
            auto_deploy_trigger=auto_deploy_trigger,
            knows_trigger=knows_trigger,
            head_commit=head_commit or (secrets.token_hex(20), "Head of main"),
        )
        self.services[service.id] = service
        return service

    def add_deploy(
        self,
        service_id: str,
        status: str = "live",
        *,
        deploy_id: str | None = None,
        created_at: datetime | None = None,
        commit_id: str | None = None,
        message: str = "",
        trigger: str = "new_commit",
        retained: bool = True,
        steps: Iterable[Step] | None = None,
    ) -> FakeDeploy:
        """A deploy that exists before the test starts (default: each newer than the last).

        `steps` (offsets from now) makes it change over time instead of holding `status`.
        The last deploy to reach ``live`` is the live one: the others read ``deactivated``.
        """
        if service_id not in self.services:
            raise KeyError(f"add_service({service_id!r}) first")
        if created_at is None:
            self._seed_clock += timedelta(minutes=10)
            created_at = self._seed_clock
        deploy = FakeDeploy(
            id=deploy_id or _new_id("dep"),
            service_id=service_id,
            commit_id=commit_id or secrets.token_hex(20),
            commit_message=message or f"Commit {len(self.deploys) + 1}",
            trigger=trigger,
            created_at=created_at,
            steps=sorted(steps) if steps is not None else [(0.0, status)],
            born=time.monotonic(),
            took=_SEEDED_DURATION if steps is None else timedelta(0),
            retained=retained,
        )
        self.deploys[deploy.id] = deploy
        return deploy

    def next_rollback(
        self,
        ends: str | None = "live",
        *,
        after: float | None = None,
        queued: bool = False,
        steps: Iterable[Step] | None = None,
    ) -> None:
        """How the next rollback goes: its final status (None: stays update_in_progress),
        reached `after` seconds; `queued`: Render answers 202 with an empty body."""
        self._plans["rollback"].append(
            _Plan(ends, after, queued, sorted(steps) if steps is not None else None)
        )

    def next_deploy(
        self,
        ends: str | None = "live",
        *,
        after: float | None = None,
        queued: bool = False,
        steps: Iterable[Step] | None = None,
    ) -> None:
        """The same for the next `POST /services/{id}/deploys`."""
        self._plans["deploy"].append(
            _Plan(ends, after, queued, sorted(steps) if steps is not None else None)
        )

    def fail_next(
        self,
        target: str = "*",
        status: int = 500,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
        ratelimit_reset: float | None = None,
        happened: bool = False,
    ) -> None:
        """Answer the next `times` matching calls with `status` and Render's error body.

        `retry_after` sets ``Retry-After``; `ratelimit_reset` overrides ``Ratelimit-Reset``
        (on a 429 ``Ratelimit-Remaining`` is 0). `happened`: the call takes effect first
        (a rollback made, then the answer lost to a 500).
        """
        error_id, default = _ERROR_IDS.get(status, ("error", "Something went wrong."))
        body: Body = {"id": error_id, "message": message or default}
        self._failures.append(
            _Failure(target, status, times, body, retry_after, ratelimit_reset, happened)
        )

    def delay(self, target: str, seconds: float) -> None:
        """Answer every later matching call only after `seconds` (a slow Render)."""
        self._delays.append((target, seconds))

    def calls_to(self, target: str) -> list[RenderCall]:
        return [c for c in self.calls if _matches(target, c.method, c.path)]

    def status_of(self, deploy_id: str) -> str:
        return self._status(self.deploys[deploy_id], time.monotonic())[0]

    def deploys_of(self, service_id: str) -> list[FakeDeploy]:
        """Newest first."""
        found = [d for d in self.deploys.values() if d.service_id == service_id]
        return sorted(found, key=lambda d: (d.created_at, d.born), reverse=True)

    def live_deploy(self, service_id: str) -> FakeDeploy | None:
        now = time.monotonic()
        live = [d for d in self.deploys_of(service_id) if self._status(d, now)[0] == "live"]
        return live[0] if live else None

    def deploy_json(self, deploy_id: str) -> Body:
        return self._deploy_obj(self.deploys[deploy_id], time.monotonic())

    def service_json(self, service_id: str) -> Body:
        return self._service_obj(self.services[service_id])

    # ----------------------------------------------------------------- HTTP layer
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        path = request.path.removeprefix("/v1") if request.path.startswith("/v1/") else ""
        call = RenderCall(
            method=request.method,
            path=path or request.path,
            query=MultiDict(request.query),
            json=body,
            headers=CIMultiDict(request.headers),
        )
        self.calls.append(call)
        for target, seconds in self._delays:
            if _matches(target, call.method, call.path) and self._closing is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), seconds)
                break
        status, answer, extra = self._answer(call, bool(path))
        call.status = status
        headers = self._rate_headers(call) | extra
        self._requests += 1
        headers["Render-Request-Id"] = f"api-fake-{self._requests:06d}/{secrets.token_hex(5)}"
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, call: RenderCall, under_base: bool) -> tuple[int, Any, dict[str, str]]:
        if call.headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, _error(401), {}
        failure = next(
            (f for f in self._failures if _matches(f.target, call.method, call.path)), None
        )
        if failure is not None:
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            if failure.happened:
                self._dispatch(call, under_base)
            extra: dict[str, str] = {}
            if failure.retry_after is not None:
                extra["Retry-After"] = _number(failure.retry_after)
            if failure.ratelimit_reset is not None:
                extra["Ratelimit-Reset"] = _number(failure.ratelimit_reset)
            if failure.status == 429:
                extra["Ratelimit-Remaining"] = "0"
            return failure.status, failure.body, extra
        if self.enforce_rate_limits and self._over_limit(call):
            return 429, _error(429), {"Ratelimit-Remaining": "0"}
        status, answer = self._dispatch(call, under_base)
        return status, answer, {}

    def _dispatch(self, call: RenderCall, under_base: bool) -> _Answer:
        if not under_base:
            return 404, {"message": "not found"}
        path_known = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(call.path)
            if match is None:
                continue
            path_known = True
            if method == call.method:
                return handler(call, **match.groupdict())
        if path_known:
            return 405, {"id": "method_not_allowed", "message": f"{call.method} not allowed"}
        return 404, {"message": "not found"}

    # ----------------------------------------------------------------- rate limits
    def _bucket(self, call: RenderCall) -> tuple[str, str, int]:
        """(bucket, key, limit): render.md §4."""
        parts = call.path.strip("/").split("/")
        service = parts[1] if len(parts) > 1 else ""
        if call.method == "GET":
            return "get", "", 400
        if call.method == "PATCH" and len(parts) == 2:
            return "deploy", service, 10
        if call.method == "POST" and len(parts) == 3 and parts[2] in _DEPLOY_BUCKET:
            return "deploy", service, 10
        return "write", "", 30

    def _use(self, call: RenderCall) -> tuple[int, int, float]:
        """Count the call: (limit, used, seconds until the window resets)."""
        name, key, limit = self._bucket(call)
        now = time.monotonic()
        start, used = self._buckets.get((name, key), (now, 0))
        if now - start >= self.rate_window:
            start, used = now, 0
        used += 1
        self._buckets[(name, key)] = (start, used)
        return limit, used, start + self.rate_window - now

    def _over_limit(self, call: RenderCall) -> bool:
        name, key, limit = self._bucket(call)
        start, used = self._buckets.get((name, key), (time.monotonic(), 0))
        return time.monotonic() - start < self.rate_window and used >= limit

    def _rate_headers(self, call: RenderCall) -> dict[str, str]:
        limit, used, reset = self._use(call)
        return {
            "Ratelimit-Limit": str(limit),
            "Ratelimit-Remaining": str(max(0, limit - used)),
            "Ratelimit-Reset": str(max(0, math.ceil(reset))),
        }

    # ----------------------------------------------------------------- handlers
    def _list_services(self, call: RenderCall) -> _Answer:
        names = {n for v in call.query.getall("name", []) for n in v.split(",") if n}
        found = [s for s in self.services.values() if not names or s.name in names]
        found.sort(key=lambda s: s.created_at, reverse=True)
        return self._page(call, [(s.id, {"service": self._service_obj(s)}) for s in found])

    def _get_service(self, call: RenderCall, sid: str) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        return 200, self._service_obj(service)

    def _patch_service(self, call: RenderCall, sid: str) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        body = call.json
        if not isinstance(body, dict):
            return 400, _error(400)
        trigger, legacy = body.get("autoDeployTrigger"), body.get("autoDeploy")
        if trigger is not None and trigger not in _AUTO_DEPLOY_TRIGGERS:
            return 400, _error(400, f"invalid autoDeployTrigger: {trigger}")
        if legacy is not None and legacy not in ("yes", "no"):
            return 400, _error(400, f"invalid autoDeploy: {legacy}")
        if service.keeps_auto_deploy:
            return 200, self._service_obj(service)
        if trigger is not None and service.knows_trigger:
            service.auto_deploy_trigger = trigger
        if legacy is not None:
            if legacy == "no":
                service.auto_deploy_trigger = "off"
            elif service.auto_deploy_trigger == "off":
                service.auto_deploy_trigger = "commit"
        service.updated_at = datetime.now(UTC)
        return 200, self._service_obj(service)

    def _list_deploys(self, call: RenderCall, sid: str) -> _Answer:
        if sid not in self.services:
            return _not_found(sid)
        now = time.monotonic()
        wanted = set(call.query.getall("status", []))
        ordered = self.deploys_of(sid)
        if not self.newest_first:
            ordered.reverse()
        items = [
            (d.id, {"deploy": self._deploy_obj(d, now)})
            for d in ordered
            if not wanted or self._status(d, now)[0] in wanted
        ]
        return self._page(call, items, order=[d.id for d in ordered])

    def _get(self, call: RenderCall, sid: str, did: str) -> _Answer:
        if sid not in self.services:
            return _not_found(sid)
        deploy = self.deploys.get(did)
        if deploy is None or deploy.service_id != sid:
            return _not_found(did)
        return 200, self._deploy_obj(deploy, time.monotonic())

    def _cancel(self, call: RenderCall, sid: str, did: str) -> _Answer:
        if sid not in self.services:
            return _not_found(sid)
        deploy = self.deploys.get(did)
        if deploy is None or deploy.service_id != sid:
            return _not_found(did)
        now = time.monotonic()
        if self._status(deploy, now)[0] in _TERMINAL:
            return 409, _error(409, f"deploy {did} has already finished")
        offset = now - deploy.born
        deploy.steps = [s for s in deploy.steps if s[0] <= offset] + [(offset, "canceled")]
        return 200, self._deploy_obj(deploy, now)

    def _rollback(self, call: RenderCall, sid: str) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        body = call.json
        target_id = body.get("deployId") if isinstance(body, dict) else None
        if not isinstance(target_id, str) or not target_id:
            return 400, _error(400, "deployId is required")
        target = self.deploys.get(target_id)
        if target is None or target.service_id != sid:
            return _not_found(target_id)
        if self._status(target, time.monotonic())[0] not in ("live", "deactivated"):
            return 400, _error(400, f"cannot roll back to {target_id}: it never went live")
        if not target.retained:
            return 400, _error(
                400, f"cannot roll back to {target_id}: its build artifact is no longer retained"
            )
        plan = self._plan("rollback")
        deploy = self._create(service, target.commit_id, target.commit_message, "rollback", plan)
        return (202, None) if plan.queued else (201, self._deploy_obj(deploy, time.monotonic()))

    def _trigger_deploy(self, call: RenderCall, sid: str) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        body = call.json
        if not isinstance(body, dict):
            return 400, _error(400, "a JSON body is required (send {} for the defaults)")
        if body.get("clearCache", "do_not_clear") not in ("clear", "do_not_clear"):
            return 400, _error(400, f"invalid clearCache: {body['clearCache']}")
        if body.get("deployMode", "build_and_deploy") not in ("build_and_deploy", "deploy_only"):
            return 400, _error(400, f"invalid deployMode: {body['deployMode']}")
        commit_id = body.get("commitId")
        if commit_id is not None and not isinstance(commit_id, str):
            return 400, _error(400, "commitId must be a string")
        if commit_id and body.get("deployMode") == "deploy_only":
            return 400, _error(400, "deployMode deploy_only cannot be combined with commitId")
        if commit_id:
            known = (d.commit_message for d in self.deploys.values() if d.commit_id == commit_id)
            message = next(
                known, service.head_commit[1] if commit_id == service.head_commit[0] else ""
            )
        else:
            commit_id, message = service.head_commit
        plan = self._plan("deploy")
        deploy = self._create(service, commit_id, message, "api", plan)
        return (202, None) if plan.queued else (201, self._deploy_obj(deploy, time.monotonic()))

    def _restart(self, call: RenderCall, sid: str) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        service.restarts += 1
        return 200, None

    def _suspend(self, call: RenderCall, sid: str) -> _Answer:
        return self._set_suspended(sid, True)

    def _resume(self, call: RenderCall, sid: str) -> _Answer:
        answer = self._set_suspended(sid, False)
        service = self.services.get(sid)
        live = self.live_deploy(sid)
        if service is not None and live is not None:  # Render redeploys what was live
            self._create(
                service,
                live.commit_id or "",
                live.commit_message,
                "service_resumed",
                self._plan("deploy"),
            )
        return answer

    def _set_suspended(self, sid: str, suspended: bool) -> _Answer:
        service = self.services.get(sid)
        if service is None:
            return _not_found(sid)
        service.suspended = suspended
        service.updated_at = datetime.now(UTC)
        return 202, None

    # ----------------------------------------------------------------- state
    def _plan(self, kind: str) -> _Plan:
        plans = self._plans[kind]
        return plans.pop(0) if plans else _Plan("live", None, False, None)

    def _create(
        self, service: FakeService, commit_id: str, message: str, trigger: str, plan: _Plan
    ) -> FakeDeploy:
        if plan.steps is not None:
            steps = plan.steps
        else:
            default = self.rollback_seconds if trigger == "rollback" else self.deploy_seconds
            steps = _steps(trigger == "rollback", plan.ends, plan.after or default, plan.queued)
        deploy = FakeDeploy(
            id=_new_id("dep"),
            service_id=service.id,
            commit_id=commit_id,
            commit_message=message,
            trigger=trigger,
            created_at=datetime.now(UTC),
            steps=steps,
            born=time.monotonic(),
        )
        self.deploys[deploy.id] = deploy
        return deploy

    def _step(self, deploy: FakeDeploy, now: float) -> tuple[str, float]:
        """The status its own steps give at `now`, and since when (monotonic)."""
        status, since = deploy.steps[0][1], deploy.born
        for offset, step_status in deploy.steps:
            if now - deploy.born >= offset:
                status, since = step_status, deploy.born + offset
        return status, since

    def _went_live(self, deploy: FakeDeploy, now: float) -> float | None:
        for offset, step_status in deploy.steps:
            if step_status == "live" and now - deploy.born >= offset:
                return deploy.born + offset
        return None

    def _status(self, deploy: FakeDeploy, now: float) -> tuple[str, float]:
        """Its status at `now` (a live deploy superseded by a later one is deactivated)."""
        status, since = self._step(deploy, now)
        if status != "live":
            return status, since
        order = list(self.deploys)  # insertion order breaks ties (seeded deploys)
        mine = order.index(deploy.id)
        superseding = [
            went_live
            for other in self.deploys.values()
            if other.service_id == deploy.service_id
            and other is not deploy
            and (went_live := self._went_live(other, now)) is not None
            and (went_live > since or (went_live == since and order.index(other.id) > mine))
        ]
        return ("deactivated", min(superseding)) if superseding else (status, since)

    def _wall(self, deploy: FakeDeploy, moment: float) -> datetime:
        return deploy.created_at + deploy.took + timedelta(seconds=moment - deploy.born)

    def _deploy_obj(self, deploy: FakeDeploy, now: float) -> Body:
        status, since = self._status(deploy, now)
        commit_created = deploy.created_at - timedelta(seconds=15)
        obj: Body = {
            "id": deploy.id,
            "commit": {
                "id": deploy.commit_id,
                "message": deploy.commit_message,
                "createdAt": _stamp(commit_created),
            },
            "status": status,
            "trigger": deploy.trigger,
            "createdAt": _stamp(deploy.created_at),
            "updatedAt": _stamp(self._wall(deploy, since)),
            "finishedAt": None,
        }
        started = next((deploy.born + o for o, s in deploy.steps if s not in _STARTED), None)
        if started is not None and now >= started:
            obj["startedAt"] = _stamp(self._wall(deploy, started) - deploy.took)
        finished = next((deploy.born + o for o, s in deploy.steps if s in _TERMINAL), None)
        if finished is not None and now >= finished:
            obj["finishedAt"] = _stamp(self._wall(deploy, finished))
        return obj

    def _service_obj(self, service: FakeService) -> Body:
        trigger = service.auto_deploy_trigger
        obj: Body = {
            "autoDeploy": "no" if trigger == "off" else "yes",
            "autoDeployTrigger": trigger,
            "branch": service.branch,
            "buildFilter": {"ignoredPaths": [], "paths": []},
            "createdAt": _stamp(service.created_at),
            "dashboardUrl": f"https://dashboard.render.com/web/{service.id}",
            "id": service.id,
            "name": service.name,
            "notifyOnFail": "default",
            "ownerId": OWNER_ID,
            "repo": f"https://github.com/acme/{service.name}",
            "rootDir": "",
            "serviceDetails": {
                "buildPlan": "starter",
                "env": "python",
                "envSpecificDetails": {
                    "buildCommand": "pip install -r requirements.txt",
                    "preDeployCommand": "python manage.py migrate --noinput",
                    "startCommand": "gunicorn app.wsgi:application --bind 0.0.0.0:$PORT",
                },
                "healthCheckPath": "/healthz",
                "maintenanceMode": {"enabled": False, "uri": ""},
                "maxShutdownDelaySeconds": 30,
                "numInstances": 2,
                "openPorts": [{"port": 10000, "protocol": "TCP"}],
                "plan": "standard",
                "previews": {"generation": "off"},
                "pullRequestPreviewsEnabled": "no",
                "region": "oregon",
                "runtime": "python",
                "url": f"https://{service.name}.onrender.com",
            },
            "slug": service.name,
            "suspended": "suspended" if service.suspended else "not_suspended",
            "suspenders": ["user"] if service.suspended else [],
            "type": "web_service",
            "updatedAt": _stamp(service.updated_at),
        }
        if not service.knows_trigger:
            del obj["autoDeployTrigger"]
        return obj

    def _page(
        self, call: RenderCall, items: list[tuple[str, Body]], *, order: list[str] | None = None
    ) -> _Answer:
        """One page of `items` ((id, item) in list order) by `limit` and `cursor`."""
        try:
            limit = int(call.query.get("limit", "20"))
        except ValueError:
            return 400, _error(400, "limit must be an integer")
        if not 1 <= limit <= 100:
            return 400, _error(400, "limit must be between 1 and 100")
        start = 0
        if "cursor" in call.query:
            after = _uncursor(call.query["cursor"])
            ids = order if order is not None else [i for i, _ in items]
            if after not in ids:
                return 400, _error(400, "invalid cursor")
            position = ids.index(after)
            rank = {i: n for n, i in enumerate(ids)}
            start = next((n for n, (i, _) in enumerate(items) if rank[i] > position), len(items))
        return 200, [item | {"cursor": _cursor(i)} for i, item in items[start : start + limit]]


def _steps(rollback: bool, ends: str | None, after: float, queued: bool) -> list[Step]:
    path = ["queued" if queued else "created"]
    if not rollback:
        path.append("build_in_progress")
    if ends == "pre_deploy_failed":
        path.append("pre_deploy_in_progress")
    elif ends not in ("build_failed", "canceled"):
        path.append("update_in_progress")
    steps = [(after * n / len(path), status) for n, status in enumerate(path)]
    return steps + ([(after, ends)] if ends is not None else [])


def _matches(target: str, method: str, path: str) -> bool:
    if target == "*":
        return True
    want_method, _, want_path = target.partition(" ")
    if want_method.upper() not in _METHODS:
        want_method, want_path = "", target
    if want_method and want_method.upper() != method:
        return False
    if not want_path:
        return True
    if want_path.startswith("/"):
        return path == want_path or path.endswith(want_path)
    return path.endswith("/" + want_path)


def _number(value: float) -> str:
    """A header value: "30", "0.05", or a whole epoch ("1787305200.25"), never "1.8e+09"."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0")


def _new_id(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _cursor(item_id: str) -> str:
    return base64.urlsafe_b64encode(f"fake:{item_id}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        return ""
    return raw.removeprefix("fake:")


def _error(status: int, message: str | None = None) -> Body:
    error_id, default = _ERROR_IDS.get(status, ("error", "Something went wrong."))
    return {"id": error_id, "message": message or default}


def _not_found(item_id: str) -> _Answer:
    return 404, {"message": f"not found: {item_id}"}  # as recorded: only `message`
