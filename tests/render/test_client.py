"""RenderClient against FakeRenderAPI, a local Render REST API v1 on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from bot.errors import RenderError
from bot.outbound import render_client
from bot.playbooks.ports import DeployStatus, RenderAPI, RenderDeploy, RenderService
from bot.render.client import RenderClient
from bot.settings import load_settings
from tests.drivers.payloads import FIXTURES
from tests.drivers.ports import free_port
from tests.fakes.render_api import FakeRenderAPI

SERVICE = "srv-cr9v1ubtq21c73d4kq0g"  # the fixtures' "checkout-api"
LIVE = "dep-d2h7k1btq21c73b8p3k0"  # live, and bad
GOOD = "dep-d2g1q8jtq21c73e0m9ag"  # deactivated: the rollback target
FAILED_FIX = "dep-d2h9m4btq21c73b8q6rg"  # update_failed
BUILD_FAILED = "dep-d2g0a3rtq21c73e0k1q0"


@asynccontextmanager
async def raw_get(
    render: FakeRenderAPI, path: str, *, key: bool = True
) -> AsyncIterator[aiohttp.ClientResponse]:
    """A GET on the fake outside the client, to look at its own JSON (it is recorded too)."""
    headers = {"Authorization": f"Bearer {render.api_key}"} if key else {}
    async with aiohttp.ClientSession() as raw, raw.get(render.url + path, headers=headers) as got:
        yield got


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / "render" / name).read_text())


def fixture_deploys() -> list[dict[str, Any]]:
    """The deploys of deploys_list_page1.json and page2.json, newest first."""
    pages = fixture("deploys_list_page1.json") + fixture("deploys_list_page2.json")
    return [item["deploy"] for item in pages]


def seed(render: FakeRenderAPI, deploys: list[dict[str, Any]] | None = None) -> None:
    """The fixtures' story on the fake: LIVE is live, GOOD deactivated, two failures."""
    for deploy in reversed(deploys or fixture_deploys()):  # oldest first, as they happened
        render.add_deploy(
            SERVICE,
            deploy["status"],
            deploy_id=deploy["id"],
            created_at=datetime.fromisoformat(deploy["createdAt"]),
            commit_id=deploy["commit"]["id"],
            message=deploy["commit"]["message"],
            trigger=deploy["trigger"],
        )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def render() -> AsyncIterator[FakeRenderAPI]:
    async with FakeRenderAPI(rollback_seconds=0.6, deploy_seconds=0.4) as fake:
        fake.add_service(SERVICE, "checkout-api")
        yield fake


def client_for(
    render: FakeRenderAPI, session: aiohttp.ClientSession, **options: Any
) -> RenderClient:
    options = {"timeout": 2.0, "backoff": 0.01} | options
    return RenderClient(session, render.url, render.api_key, **options)


@pytest.fixture
def client(render: FakeRenderAPI, session: aiohttp.ClientSession) -> RenderClient:
    return client_for(render, session)


async def until_finished(client: RenderClient, deploy_id: str) -> list[DeployStatus]:
    """Poll the deploy until it finishes; every status seen, in order."""
    seen: list[DeployStatus] = []
    async with asyncio.timeout(5):
        while True:
            status = (await client.deploy(SERVICE, deploy_id)).status
            if not seen or seen[-1] != status:
                seen.append(status)
            if status.finished:
                return seen
            await asyncio.sleep(0.03)


def test_client_satisfies_the_port(client: RenderClient) -> None:
    port: RenderAPI = client
    assert port is client


# --------------------------------------------------------------------- mapping
async def test_service_is_mapped_from_renders_shape(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    real = fixture("service.json")
    assert render.service_json(SERVICE).keys() == real.keys()  # the fake speaks the fixture shape
    assert render.service_json(SERVICE)["serviceDetails"].keys() == real["serviceDetails"].keys()

    service = await client.service(SERVICE)

    assert service == RenderService(
        id=SERVICE,
        name="checkout-api",
        suspended=False,
        auto_deploy=True,  # autoDeployTrigger "commit"
        dashboard_url=real["dashboardUrl"],
    )


async def test_suspended_and_auto_deploy_off_are_mapped(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    render.add_service("srv-d0ff0000000000000000", "reports", suspended=True)
    render.add_service("srv-d0ff0000000000000001", "worker", auto_deploy_trigger="off")
    legacy = render.add_service("srv-d0ff0000000000000002", "legacy", knows_trigger=False)
    legacy.auto_deploy_trigger = "off"  # shown only as the legacy autoDeploy: "no"

    reports = await client.service("srv-d0ff0000000000000000")
    worker = await client.service("srv-d0ff0000000000000001")
    old = await client.service("srv-d0ff0000000000000002")

    assert (reports.suspended, reports.auto_deploy) == (True, True)
    assert (worker.suspended, worker.auto_deploy) == (False, False)
    assert "autoDeployTrigger" not in render.service_json(legacy.id)
    assert old.auto_deploy is False


async def test_deploys_are_mapped_from_the_fixture_pages(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    page = fixture("deploys_list_page1.json")

    deploys = await client.deploys(SERVICE)

    [call] = render.calls
    assert (call.method, call.path, dict(call.query)) == (
        "GET",
        f"/services/{SERVICE}/deploys",
        {"limit": "20"},
    )
    async with raw_get(render, f"/services/{SERVICE}/deploys?limit=3") as answer:
        fake_page = await answer.json()  # the fake's page has the fixtures' keys
    assert [item.keys() for item in fake_page] == [item.keys() for item in page]
    assert [i["deploy"].keys() for i in fake_page] == [i["deploy"].keys() for i in page]
    expected = [
        RenderDeploy(
            id=d["id"],
            status=DeployStatus(d["status"]),
            trigger=d["trigger"],
            commit_id=d["commit"]["id"],
            commit_message=d["commit"]["message"],
            created_at=datetime.fromisoformat(d["createdAt"]),
        )
        for d in fixture_deploys()
    ]
    assert [(d.id, d.status, d.trigger, d.commit_id, d.commit_message) for d in deploys] == [
        (d.id, d.status, d.trigger, d.commit_id, d.commit_message) for d in expected
    ]
    assert [d.created_at for d in deploys] == [d.created_at for d in expected]
    for deploy in deploys:
        assert deploy.created_at is not None
        assert deploy.finished_at is not None
        assert deploy.created_at < deploy.finished_at


@pytest.mark.parametrize(
    ("existing", "limit", "pages", "got"),
    [
        (130, 150, 2, 130),  # 100, then a short page of 30: stop
        (200, 500, 3, 200),  # 100, 100, then an empty page: stop
        (300, 120, 2, 120),  # 100, 100: enough
        (5, 3, 1, 3),  # one page of `limit`
    ],
)
async def test_pagination_follows_the_last_items_cursor(
    render: FakeRenderAPI,
    client: RenderClient,
    existing: int,
    limit: int,
    pages: int,
    got: int,
) -> None:
    made = [render.add_deploy(SERVICE, "deactivated") for _ in range(existing)]
    newest = [d.id for d in reversed(made)]

    deploys = await client.deploys(SERVICE, limit=limit)

    assert [d.id for d in deploys] == newest[:got]
    calls = render.calls_to("GET deploys")
    assert len(calls) == pages
    assert {c.query["limit"] for c in calls} == {str(min(limit, 100))}
    assert "cursor" not in calls[0].query
    for n, call in enumerate(calls[1:], start=1):
        # The cursor of the last item on the page before, as Render handed it out.
        async with raw_get(render, f"/services/{SERVICE}/deploys?{_query(calls[n - 1])}") as a:
            previous = await a.json()
        assert call.query["cursor"] == previous[-1]["cursor"]


def _query(call: Any) -> str:
    return "&".join(f"{k}={v}" for k, v in call.query.items())


async def test_deploys_are_sorted_newest_first_whatever_order_render_lists(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeRenderAPI(newest_first=False) as render:
        render.add_service(SERVICE, "checkout-api")
        seed(render)
        deploys = await client_for(render, session).deploys(SERVICE)
        async with raw_get(render, f"/services/{SERVICE}/deploys") as answer:
            as_listed = [item["deploy"]["id"] for item in await answer.json()]

    assert as_listed == [BUILD_FAILED, GOOD, LIVE, FAILED_FIX]  # oldest first
    assert [d.id for d in deploys] == [FAILED_FIX, LIVE, GOOD, BUILD_FAILED]


# --------------------------------------------------------------------- actions
async def test_rollback_returns_the_new_deploy_which_goes_live(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)

    new = await client.rollback(SERVICE, GOOD)

    assert new is not None
    assert new.id != GOOD
    assert new.id.startswith("dep-")
    assert new.trigger == "rollback"
    assert new.commit_id == fixture("rollback_response_201.json")["commit"]["id"]  # GOOD's
    assert not new.status.finished
    [call] = render.calls_to("POST rollback")
    assert call.path == f"/services/{SERVICE}/rollback"
    assert call.json == fixture("rollback_request.json") == {"deployId": GOOD}
    assert call.headers["Authorization"] == f"Bearer {render.api_key}"
    assert call.headers["Accept"] == "application/json"
    assert call.headers["Content-Type"] == "application/json"
    assert render.deploy_json(new.id).keys() == fixture("rollback_response_201.json").keys()

    seen = await until_finished(client, new.id)

    assert seen[-2:] == [DeployStatus.UPDATE_IN_PROGRESS, DeployStatus.LIVE]
    assert render.deploy_json(new.id).keys() == fixture("deploy_rollback_live.json").keys()
    assert (await client.deploy(SERVICE, LIVE)).status is DeployStatus.DEACTIVATED
    assert (await client.deploys(SERVICE, limit=1))[0].id == new.id


async def test_a_rollback_that_fails_leaves_the_old_deploy_live(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.next_rollback("update_failed", after=0.2)

    new = await client.rollback(SERVICE, GOOD)

    assert new is not None
    assert (await until_finished(client, new.id))[-1] is DeployStatus.UPDATE_FAILED
    assert (await client.deploy(SERVICE, LIVE)).status is DeployStatus.LIVE


async def test_a_rollback_that_never_finishes_stays_in_progress(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.next_rollback(None, after=0.1)

    new = await client.rollback(SERVICE, GOOD)
    await asyncio.sleep(0.3)

    assert new is not None
    assert (await client.deploy(SERVICE, new.id)).status is DeployStatus.UPDATE_IN_PROGRESS


async def test_queued_rollback_and_deploy_answer_202_empty_and_give_none(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.next_rollback(queued=True)
    render.next_deploy(queued=True)

    assert await client.rollback(SERVICE, GOOD) is None
    assert await client.trigger_deploy(SERVICE) is None
    assert [c.status for c in render.calls] == [202, 202]
    queued = [d for d in render.deploys_of(SERVICE) if render.status_of(d.id) == "queued"]
    assert len(queued) == 2  # Render made them; it only didn't say which


async def test_trigger_deploy_sends_the_commit_and_builds(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    sha = fixture("trigger_deploy_request_commit.json")["commitId"]

    head = await client.trigger_deploy(SERVICE)
    pinned = await client.trigger_deploy(SERVICE, sha)

    assert [c.json for c in render.calls_to("POST deploys")] == [{}, {"commitId": sha}]
    assert head is not None
    assert pinned is not None
    assert (head.trigger, pinned.trigger, pinned.commit_id) == ("api", "api", sha)
    assert DeployStatus.BUILD_IN_PROGRESS in await until_finished(client, pinned.id)


async def test_restart_suspend_resume_and_disable_auto_deploy(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    await client.restart(SERVICE)
    await client.suspend(SERVICE)
    suspended = await client.service(SERVICE)
    await client.resume(SERVICE)
    service = await client.disable_auto_deploy(SERVICE)

    assert render.services[SERVICE].restarts == 1
    assert suspended.suspended is True
    assert service.suspended is False
    assert service.auto_deploy is False
    assert [(c.method, c.path.rpartition("/")[2], c.status) for c in render.calls] == [
        ("POST", "restart", 200),
        ("POST", "suspend", 202),
        ("GET", SERVICE, 200),
        ("POST", "resume", 202),
        ("PATCH", SERVICE, 200),
    ]
    assert render.calls[-1].json == fixture("update_service_disable_autodeploy_request.json")


async def test_disable_auto_deploy_falls_back_to_the_legacy_field(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    render.add_service("srv-01d0000000000000000a", "legacy", knows_trigger=False)

    service = await client.disable_auto_deploy("srv-01d0000000000000000a")

    assert service.auto_deploy is False
    assert [c.json for c in render.calls_to("PATCH")] == [
        {"autoDeployTrigger": "off"},
        fixture("update_service_disable_autodeploy_legacy_request.json"),
    ]


# --------------------------------------------------------------------- retries
async def test_get_rate_limited_waits_retry_after_then_succeeds(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    render.fail_next("GET", 429, retry_after=0.3)

    started = time.monotonic()
    service = await client.service(SERVICE)

    assert service.id == SERVICE
    assert [c.status for c in render.calls] == [429, 200]
    assert render.calls[1].at - render.calls[0].at >= 0.3  # Retry-After, not the 0.01 backoff
    assert time.monotonic() - started < 2


async def test_ratelimit_reset_is_used_without_retry_after_in_both_meanings(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    render.fail_next("GET", 429, ratelimit_reset=0.3)  # seconds until the reset
    render.fail_next("GET", 429, ratelimit_reset=time.time() + 0.7)  # a UTC epoch

    await client.service(SERVICE)

    first, second, third = render.calls
    assert [c.status for c in render.calls] == [429, 429, 200]
    assert second.at - first.at >= 0.25
    assert third.at - second.at >= 0.2  # the epoch is ~0.4 s away by then


async def test_rollback_is_retried_on_429_and_made_once(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.fail_next("POST rollback", 429, retry_after=0.05)

    new = await client.rollback(SERVICE, GOOD)

    assert new is not None
    assert [c.status for c in render.calls_to("rollback")] == [429, 201]
    rollbacks = [d for d in render.deploys_of(SERVICE) if d.trigger == "rollback"]
    assert [d.id for d in rollbacks] == [new.id]


async def test_rate_limit_that_outlasts_the_attempts_says_when_to_retry(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    render.fail_next("GET", 429, retry_after=0.02, times=3)
    render.fail_next("POST rollback", 429, retry_after=42)

    with pytest.raises(RenderError) as limited:
        await client_for(render, session, max_attempts=3).service(SERVICE)
    with pytest.raises(RenderError) as at_once:
        await client_for(render, session, max_attempts=1).rollback(SERVICE, GOOD)

    assert str(limited.value) == "Render rate limit: try again in 1 s"
    assert (limited.value.status, limited.value.retry_after) == (429, 0.02)
    assert str(at_once.value) == "Render rate limit: try again in 42 s"
    assert at_once.value.retry_after == 42
    assert [c.status for c in render.calls] == [429, 429, 429, 429]


async def test_server_errors_on_get_are_retried(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    render.fail_next("GET", 500, times=2)

    assert (await client.service(SERVICE)).id == SERVICE
    assert [c.status for c in render.calls] == [500, 500, 200]


async def test_server_errors_on_get_give_up_after_max_attempts(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    render.fail_next("GET", 503, times=5)

    with pytest.raises(RenderError) as failed:
        await client_for(render, session, max_attempts=3).deploys(SERVICE)

    assert str(failed.value) == "Render failed (503): Server currently unavailable."
    assert failed.value.status == 503
    assert len(render.calls) == 3


async def test_server_error_on_rollback_is_not_retried(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.fail_next("POST rollback", 500, happened=True)  # made, then the answer was lost

    with pytest.raises(RenderError) as failed:
        await client.rollback(SERVICE, GOOD)

    assert len(render.calls_to("POST rollback")) == 1
    assert failed.value.status == 500
    reason = str(failed.value)
    assert reason.startswith("Render failed (500): An unexpected server error has occurred.")
    assert f"the rollback may have happened: look at {SERVICE}" in reason
    assert len([d for d in render.deploys_of(SERVICE) if d.trigger == "rollback"]) == 1


async def test_rollback_timeout_is_not_retried(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    seed(render)
    render.delay("rollback", 2.0)

    started = time.monotonic()
    with pytest.raises(RenderError) as failed:
        await client_for(render, session, timeout=0.2).rollback(SERVICE, GOOD)

    assert time.monotonic() - started < 1.5
    assert len(render.calls_to("rollback")) == 1
    assert failed.value.status == 0
    assert str(failed.value).startswith(
        "Render unreachable: timed out after 0.2 s; the rollback may have happened"
    )


async def test_get_timeouts_are_retried_then_reported(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    render.delay("GET", 2.0)

    with pytest.raises(RenderError) as failed:
        await client_for(render, session, timeout=0.1, max_attempts=2).service(SERVICE)

    assert str(failed.value) == "Render unreachable: timed out after 0.1 s"
    assert len(render.calls) == 2


# --------------------------------------------------------------------- refusals
async def test_wrong_key_is_refused_with_a_reason_naming_the_setting(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    wrong = RenderClient(session, render.url, "rnd_NotTheRightKey123456", backoff=0.01)

    with pytest.raises(RenderError) as refused:
        await wrong.service(SERVICE)

    assert str(refused.value) == "Render refused the API key (401): check RENDER_API_KEY"
    assert refused.value.status == 401
    assert len(render.calls) == 1  # not retried
    async with raw_get(render, "/services") as answer:  # with the right key: fine
        assert answer.status == 200
    async with raw_get(render, f"/services/{SERVICE}", key=False) as anonymous:
        assert anonymous.status == 401
        assert await anonymous.json() == fixture("error_401.json")


async def test_forbidden_names_the_setting_too(render: FakeRenderAPI, client: RenderClient) -> None:
    render.fail_next("GET", 403)

    with pytest.raises(RenderError) as refused:
        await client.service(SERVICE)

    assert str(refused.value).startswith("Render refused the API key (403)")
    assert "RENDER_API_KEY" in str(refused.value)


async def test_not_found_names_what_is_missing(render: FakeRenderAPI, client: RenderClient) -> None:
    seed(render)
    missing = "srv-d0e5n0tex1st0000000"

    errors = [
        await _error(client.service(missing)),
        await _error(client.deploy(SERVICE, "dep-d0e5n0tex1st0000000")),
        await _error(client.rollback(SERVICE, "dep-d0e5n0tex1st0000000")),
    ]

    assert [str(e) for e in errors] == [
        f"Render has no service {missing} (404): not found: {missing}",
        f"Render has no deploy dep-d0e5n0tex1st0000000 on service {SERVICE} (404): "
        "not found: dep-d0e5n0tex1st0000000",
        f"Render has no deploy dep-d0e5n0tex1st0000000 on service {SERVICE} (404): "
        "not found: dep-d0e5n0tex1st0000000",
    ]
    assert {e.status for e in errors} == {404}
    async with raw_get(render, f"/services/{missing}") as answer:
        assert (await answer.json()).keys() == fixture("error_404.json").keys()


async def test_client_errors_carry_renders_message(
    render: FakeRenderAPI, client: RenderClient
) -> None:
    seed(render)
    render.add_deploy(SERVICE, "deactivated", deploy_id="dep-01d000000000000000ex", retained=False)
    render.fail_next("POST deploys", 409)

    too_old = await _error(client.rollback(SERVICE, "dep-01d000000000000000ex"))
    conflict = await _error(client.trigger_deploy(SERVICE))

    assert str(too_old) == (
        "Render refused the rollback (400): cannot roll back to dep-01d000000000000000ex: "
        "its build artifact is no longer retained"
    )
    assert str(conflict) == (
        "Render refused the deploy (409): "
        "The current state of the resource conflicts with this request."
    )
    assert (too_old.status, conflict.status) == (400, 409)
    assert len(render.calls_to("POST deploys")) == 1


async def test_unreachable_render_fails_fast(session: aiohttp.ClientSession) -> None:
    closed = RenderClient(
        session, f"http://127.0.0.1:{free_port()}/v1", "rnd_Key0000000000", backoff=0.01
    )

    started = time.monotonic()
    refused = await _error(closed.service(SERVICE))
    refused_post = await _error(closed.rollback(SERVICE, GOOD))  # never sent: safe to retry

    assert time.monotonic() - started < 2
    assert str(refused) == str(refused_post) == "Render unreachable: connection refused"
    assert refused.status == 0


async def test_the_api_key_never_appears_in_errors_or_repr(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    key = render.api_key
    seed(render)
    client = client_for(render, session, max_attempts=1, timeout=0.2)
    wrong = RenderClient(session, render.url, key + "x", backoff=0.01)
    render.fail_next("GET", 500, message=f"bad header: Bearer {key}")  # Render echoing it
    render.fail_next("POST rollback", 400, message=f"token {key} is not allowed")
    render.fail_next("GET", 429, retry_after=5)

    errors = [
        await _error(client.service(SERVICE)),
        await _error(client.rollback(SERVICE, GOOD)),
        await _error(client.deploys(SERVICE)),
        await _error(wrong.service(SERVICE)),
        await _error(client.service("srv-d0e5n0tex1st0000000")),
    ]
    render.delay("restart", 1.0)
    errors.append(await _error(client.restart(SERVICE)))
    closed = RenderClient(session, f"http://127.0.0.1:{free_port()}/v1", key, backoff=0.01)
    errors.append(await _error(closed.deploy(SERVICE, GOOD)))

    assert [e.status for e in errors] == [500, 400, 429, 401, 404, 0, 0]
    assert "[RENDER_API_KEY]" in str(errors[0])
    for error in errors:
        told = "".join(traceback.format_exception(error)) + repr(error)
        assert key not in told
        assert error.__cause__ is None
        assert error.__context__ is None
    assert key not in repr(client)
    assert key not in str(client)
    assert repr(client) == f"RenderClient({render.url})"


async def _error(call: Awaitable[Any]) -> RenderError:
    with pytest.raises(RenderError) as caught:
        await call
    return caught.value


# --------------------------------------------------------------------- settings
async def test_settings_make_a_client_only_with_an_api_key(
    render: FakeRenderAPI, session: aiohttp.ClientSession
) -> None:
    assert render_client(load_settings({}), session) is None

    settings = load_settings({"RENDER_API_KEY": render.api_key, "RENDER_API_URL": render.url})
    client = render_client(settings, session)

    assert client is not None
    assert (await client.service(SERVICE)).name == "checkout-api"
    assert render.api_key not in repr(client)
    default = render_client(load_settings({"RENDER_API_KEY": "rnd_x1"}), session)
    assert repr(default) == "RenderClient(https://api.render.com/v1)"
