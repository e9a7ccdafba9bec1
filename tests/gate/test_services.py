"""The `services` item: each Render service's latest deploy read from the local Render API,
and its health URL fetched (a local web site)."""

from __future__ import annotations

from pathlib import Path

from bot.gate.model import Verdict
from tests.drivers.core import FakeClock
from tests.drivers.gate import gate_runtime, item, lucia_yaml
from tests.fakes.render_api import FakeRenderAPI
from tests.fakes.web_sites import FakeWebSites

ENGINE = "srv-engine0000000000000"


def config(folder: Path, health_url: str) -> Path:
    return lucia_yaml(
        folder,
        f"""\
        services:
          engine:
            render_service_id: {ENGINE}
            health_url: {health_url}
        gate:
          fetch_timeout: 0.5
          phases:
            staging:
              items: [services]
        """,
    )


def render_env(render_api: FakeRenderAPI) -> dict[str, str]:
    return {"RENDER_API_KEY": render_api.api_key, "RENDER_API_URL": render_api.url}


async def test_a_live_latest_deploy_and_a_healthy_service_pass(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    render_api: FakeRenderAPI,
) -> None:
    render_api.add_service(ENGINE, "engine")
    render_api.add_deploy(ENGINE, "deactivated")
    live = render_api.add_deploy(ENGINE, "live")
    cfg = config(tmp_path, sites.url("/open"))
    async with gate_runtime(postgres_url, cfg, clock=clock, env=render_env(render_api)) as gate:
        evaluation = await gate.check()

    result = item(evaluation, "services")
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason == f"engine: latest deploy {live.id} is live; health answers 200"
    assert evaluation.verdict == "GO"
    assert len(sites.requested("/open")) == 1
    assert render_api.calls_to(f"GET /services/{ENGINE}/deploys")


async def test_a_latest_deploy_that_failed_fails_even_with_a_healthy_service(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    render_api: FakeRenderAPI,
) -> None:
    render_api.add_service(ENGINE, "engine")
    render_api.add_deploy(ENGINE, "live")
    failed = render_api.add_deploy(ENGINE, "update_failed")
    cfg = config(tmp_path, sites.url("/open"))
    async with gate_runtime(postgres_url, cfg, clock=clock, env=render_env(render_api)) as gate:
        evaluation = await gate.check()

    result = item(evaluation, "services")
    assert result.verdict is Verdict.FAIL
    assert result.reason == f"engine: latest deploy {failed.id} is update_failed"
    assert evaluation.verdict == "NO-GO"


async def test_an_unhealthy_service_fails(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    render_api: FakeRenderAPI,
) -> None:
    render_api.add_service(ENGINE, "engine")
    render_api.add_deploy(ENGINE, "live")
    cfg = config(tmp_path, sites.url("/broken"))
    async with gate_runtime(postgres_url, cfg, clock=clock, env=render_env(render_api)) as gate:
        result = item(await gate.check(), "services")

    assert result.verdict is Verdict.FAIL
    assert result.reason == "engine: health answers 500"


async def test_without_a_render_api_key_services_are_unknown(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    async with gate_runtime(postgres_url, config(tmp_path, sites.url("/open")), clock=clock) as g:
        evaluation = await g.check()

    result = item(evaluation, "services")
    assert result.verdict is Verdict.UNKNOWN
    assert result.reason == "engine: Render: RENDER_API_KEY isn't set"
    assert evaluation.verdict == "NO-GO"


async def test_a_health_url_that_redirects_to_a_sign_in_page_does_not_pass(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    render_api: FakeRenderAPI,
) -> None:
    """A health URL behind a sign-in (Cloudflare Access: a 302 to its login page, which
    answers 200) never reached the service: "health answers 200" would be the login
    page's answer, not the service's."""
    render_api.add_service(ENGINE, "engine")
    render_api.add_deploy(ENGINE, "live")
    cfg = config(tmp_path, sites.url("/sign-in-here"))
    async with gate_runtime(postgres_url, cfg, clock=clock, env=render_env(render_api)) as gate:
        result = item(await gate.check(), "services")

    assert result.verdict is not Verdict.PASS, result.reason
    assert "302" in result.reason
    assert sites.requested("/sign-in") == []  # the sign-in page isn't the service's health


async def test_the_deploy_whose_pre_deploy_command_runs_the_gate_does_not_fail_its_service(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    render_api: FakeRenderAPI,
) -> None:
    """README: `lucia-bot gate --phase go-live` is the production app's pre-deploy command.
    While it runs, Render's latest deploy of that service is the one being deployed
    (`pre_deploy_in_progress`); the live deploy still serves, healthy. If that fails the
    item, the gate can never let a deploy through."""
    render_api.add_service(ENGINE, "engine")
    live = render_api.add_deploy(ENGINE, "live")
    render_api.add_deploy(ENGINE, "pre_deploy_in_progress")
    cfg = config(tmp_path, sites.url("/open"))
    async with gate_runtime(postgres_url, cfg, clock=clock, env=render_env(render_api)) as gate:
        evaluation = await gate.check()

    result = item(evaluation, "services")
    assert result.verdict is Verdict.PASS, result.reason
    assert live.id in result.reason
    assert evaluation.verdict == "GO"
