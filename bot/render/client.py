"""`RenderClient`: Render's REST API v1 over aiohttp, the adapter behind `RenderAPI`.

Facts it follows: ``/work/shared/reference/render.md`` §1-4 (auth, pagination, endpoints,
rate limits, error bodies). Retries are careful about what may already have happened:

- GET (and the one PATCH, which only sets a field to a fixed value) is retried on 429, on
  5xx, on timeouts and when the connection breaks.
- POST (rollback, deploy, restart, suspend, resume) is retried on 429, which Render answers
  before doing anything, and when the connection could not even be opened. It is never
  retried on 5xx or a timeout: the rollback may have started, and a second one is worse
  than an error that says "check the deploys first".

Every `RenderError` reason is written for the on-call engineer; the API key never appears
in one (nor in `repr`). Nothing is logged here.
"""

from __future__ import annotations

__all__ = ["MAX_WAIT_SECONDS", "PAGE_LIMIT", "RenderClient"]

import asyncio
import json
import math
import random
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.errors import RenderError
from bot.playbooks.ports import RenderDeploy, RenderService
from bot.render.bodies import deploy_from_body, json_of, message_of, service_from_body
from bot.render.waits import rate_limit_wait, retry_after

MAX_WAIT_SECONDS = 30.0  # the longest single wait between two attempts
PAGE_LIMIT = 100  # Render's largest `limit`
_OLDEST = datetime.min.replace(tzinfo=UTC)
_API_HINT = "is RENDER_API_URL the API base, e.g. https://api.render.com/v1?"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any  # parsed JSON; None when empty or not JSON
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _NoAnswer:
    """No HTTP answer. `maybe_sent`: the request may have reached Render."""

    what: str
    maybe_sent: bool
    retryable: bool = True


class RenderClient:
    """Render's REST API v1 (`bot.playbooks.ports.RenderAPI`)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._session = session
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._timeout_seconds = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._backoff = backoff

    def __repr__(self) -> str:
        return f"RenderClient({self._base})"

    # ----------------------------------------------------------------- RenderAPI
    async def service(self, service_id: str) -> RenderService:
        answer = await self._request(
            "GET",
            f"/services/{_seg(service_id)}",
            action="service lookup",
            subject=f"service {service_id}",
        )
        return self._service_from(answer, service_id)

    async def deploys(self, service_id: str, *, limit: int = 20) -> Sequence[RenderDeploy]:
        """The most recent `limit` deploys, newest first (sorted here, not trusted from Render)."""
        if limit < 1:
            return []
        page_size = min(limit, PAGE_LIMIT)
        found: dict[str, RenderDeploy] = {}
        cursor: str | None = None
        used: set[str] = set()
        while len(found) < limit:
            params = {"limit": str(page_size)} | ({"cursor": cursor} if cursor else {})
            answer = await self._request(
                "GET",
                f"/services/{_seg(service_id)}/deploys",
                params=params,
                action="deploy list",
                subject=f"service {service_id}",
            )
            page = answer.body
            if not isinstance(page, list):
                raise self._unexpected(answer, "list of deploys")
            for item in page:
                deploy = deploy_from_body(item.get("deploy")) if isinstance(item, dict) else None
                if deploy is None:
                    raise self._unexpected(answer, "list of deploys")
                found.setdefault(deploy.id, deploy)
            last = page[-1].get("cursor") if page else None
            if len(page) < page_size or not isinstance(last, str) or not last or last in used:
                break
            used.add(last)
            cursor = last
        newest_first = sorted(found.values(), key=lambda d: d.created_at or _OLDEST, reverse=True)
        return newest_first[:limit]

    async def deploy(self, service_id: str, deploy_id: str) -> RenderDeploy:
        answer = await self._request(
            "GET",
            f"/services/{_seg(service_id)}/deploys/{_seg(deploy_id)}",
            action="deploy lookup",
            subject=f"deploy {deploy_id} on service {service_id}",
        )
        deploy = deploy_from_body(answer.body)
        if deploy is None:
            raise self._unexpected(answer, "deploy")
        return deploy

    async def rollback(self, service_id: str, deploy_id: str) -> RenderDeploy | None:
        """Roll back TO `deploy_id`: the new deploy, or None when Render only queued it."""
        answer = await self._request(
            "POST",
            f"/services/{_seg(service_id)}/rollback",
            body={"deployId": deploy_id},
            action="rollback",
            subject=f"deploy {deploy_id} on service {service_id}",
        )
        return self._created_deploy(answer)

    async def trigger_deploy(
        self, service_id: str, commit_id: str | None = None
    ) -> RenderDeploy | None:
        """Deploy `commit_id` (default: the branch head): the new deploy, or None if queued."""
        answer = await self._request(
            "POST",
            f"/services/{_seg(service_id)}/deploys",
            body={} if commit_id is None else {"commitId": commit_id},
            action="deploy",
            subject=f"service {service_id}",
        )
        return self._created_deploy(answer)

    async def restart(self, service_id: str) -> None:
        await self._post_action(service_id, "restart")

    async def suspend(self, service_id: str) -> None:
        await self._post_action(service_id, "suspend")

    async def resume(self, service_id: str) -> None:
        await self._post_action(service_id, "resume")

    async def disable_auto_deploy(self, service_id: str) -> RenderService:
        """Stop the next push from undoing a rollback (an API rollback leaves it on)."""
        service = await self._patch_service(service_id, {"autoDeployTrigger": "off"})
        if service.auto_deploy:  # an API that only knows the legacy field
            service = await self._patch_service(service_id, {"autoDeploy": "no"})
        if service.auto_deploy:
            raise self._error(
                f"Render kept auto-deploy on for service {service_id}: "
                "turn it off in the dashboard (Settings → Auto-Deploy)",
                status=200,
            )
        return service

    # ----------------------------------------------------------------- helpers
    async def _post_action(self, service_id: str, action: str) -> None:
        await self._request(
            "POST",
            f"/services/{_seg(service_id)}/{action}",
            action=action,
            subject=f"service {service_id}",
        )

    async def _patch_service(self, service_id: str, body: dict[str, Any]) -> RenderService:
        answer = await self._request(
            "PATCH",
            f"/services/{_seg(service_id)}",
            body=body,
            action="auto-deploy change",
            subject=f"service {service_id}",
            idempotent=True,  # it sets one field to a fixed value: twice is the same as once
        )
        return self._service_from(answer, service_id)

    def _service_from(self, answer: _Answer, service_id: str) -> RenderService:
        service = service_from_body(answer.body)
        if service is None:
            raise self._unexpected(answer, f"service {service_id}")
        return service

    def _created_deploy(self, answer: _Answer) -> RenderDeploy | None:
        deploy = deploy_from_body(answer.body)
        if deploy is None and answer.status != 202:
            raise self._unexpected(answer, "new deploy")
        return deploy  # 202 "Queued" has an empty body: Render has not made the deploy yet

    async def _request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        subject: str,
        params: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> _Answer:
        """The 2xx answer, after the retries this call allows; else `RenderError`."""
        repeatable = method == "GET" if idempotent is None else idempotent
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._max_attempts
            # _send returns failures rather than raising them, so no RenderError carries
            # aiohttp's exception (and its request headers) as __context__.
            answer = await self._send(method, path, params, body)
            if isinstance(answer, _NoAnswer):
                if answer.maybe_sent and not repeatable:
                    raise self._error(
                        f"Render unreachable: {answer.what}; {_caution(action, path)}"
                    )
                if last or not answer.retryable:
                    raise self._error(f"Render unreachable: {answer.what}")
                await asyncio.sleep(self._backoff_wait(attempt))
                continue
            status = answer.status
            if 200 <= status < 300:
                return answer
            if status == 429:
                advised = rate_limit_wait(answer.headers)
                wait = advised if advised is not None else self._backoff_wait(attempt)
                if last:
                    raise self._error(
                        f"Render rate limit: try again in {max(1, math.ceil(wait))} s",
                        status=429,
                        retry_after=wait,
                    )
                await asyncio.sleep(min(wait, MAX_WAIT_SECONDS))
                continue
            if status >= 500 and repeatable and not last:
                advised = retry_after(answer.headers)
                wait = advised if advised is not None else self._backoff_wait(attempt)
                await asyncio.sleep(min(wait, MAX_WAIT_SECONDS))
                continue
            raise self._refusal(
                answer, action=action, subject=subject, path=path, repeatable=repeatable
            )

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: dict[str, Any] | None,
    ) -> _Answer | _NoAnswer:
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method,
                self._base + path,
                params=params,
                data=None if body is None else json.dumps(body),
                headers=headers,
                timeout=self._timeout,
                # A redirect would carry the key elsewhere (and turn a POST into a GET).
                allow_redirects=False,
            ) as response:
                raw = await response.read()
                return _Answer(response.status, json_of(raw), response.headers.copy())
        except aiohttp.ClientSSLError as exc:
            return _NoAnswer(_tls_problem(exc), maybe_sent=False, retryable=False)
        except aiohttp.ClientConnectorError as exc:
            return _NoAnswer(_os_error(exc.os_error), maybe_sent=False)
        except aiohttp.ConnectionTimeoutError:
            return _NoAnswer(self._timed_out("connecting"), maybe_sent=False)
        except TimeoutError:
            return _NoAnswer(self._timed_out(), maybe_sent=True)
        except aiohttp.InvalidURL:
            return _NoAnswer("RENDER_API_URL is not a URL", maybe_sent=False, retryable=False)
        except aiohttp.ClientError as exc:
            what = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
            return _NoAnswer(what, maybe_sent=True)

    def _timed_out(self, doing: str = "") -> str:
        return f"timed out{' ' + doing if doing else ''} after {self._timeout_seconds:g} s"

    def _backoff_wait(self, attempt: int) -> float:
        base = self._backoff * 2.0 ** (attempt - 1)
        jittered = base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        return min(jittered, MAX_WAIT_SECONDS)

    def _refusal(
        self, answer: _Answer, *, action: str, subject: str, path: str, repeatable: bool
    ) -> RenderError:
        status = answer.status
        message = message_of(answer.body)
        detail = f": {message}" if message else ""
        if status == 401:
            reason = "Render refused the API key (401): check RENDER_API_KEY"
        elif status == 403:
            reason = (
                f"Render refused the API key (403) for {subject}: check that RENDER_API_KEY "
                "belongs to a member of the service's workspace"
            )
        elif status == 404:
            reason = f"Render has no {subject} (404){detail}"
        elif 300 <= status < 400:
            location = answer.headers.get("Location", "elsewhere")
            reason = f"Render redirected the {action} ({status}) to {location}: {_API_HINT}"
        elif status >= 500:
            reason = f"Render failed ({status}){detail}"
            if not repeatable:
                reason += f"; {_caution(action, path)}"
        else:
            reason = f"Render refused the {action} ({status}){detail}"
        return self._error(reason, status=status, retry_after=retry_after(answer.headers))

    def _unexpected(self, answer: _Answer, wanted: str) -> RenderError:
        return self._error(
            f"Render answered {answer.status} without a {wanted}: {_API_HINT}",
            status=answer.status,
        )

    def _error(
        self, reason: str, *, status: int = 0, retry_after: float | None = None
    ) -> RenderError:
        if len(self._key) >= 4:  # Render might echo what it was sent; never pass the key on
            reason = reason.replace(self._key, "[RENDER_API_KEY]")
        return RenderError(reason, status=status, retry_after=retry_after)


def _caution(action: str, path: str) -> str:
    """For a call that must not be repeated blindly: what to check first."""
    service_id = path.split("/")[2] if path.count("/") >= 2 else "the service"
    return (
        f"the {action} may have happened: look at {service_id} in the Render dashboard "
        "before trying again"
    )


def _seg(value: str) -> str:
    """One path segment: an id can't reach another endpoint."""
    return quote(value, safe="")


# --------------------------------------------------------------------- no answer
def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    return exc.strerror or str(exc) or type(exc).__name__


def _tls_problem(exc: aiohttp.ClientSSLError) -> str:
    cause = exc.os_error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({cause.verify_message})"
    return f"TLS failed ({cause.strerror or cause})"
