"""The `rollback_drill` item: the real `drill` playbook run on a non-production service
against the local Render API, then judged from the stored run: pass with how long it
took and who ran it, stale after 14 days, unknown without a service to drill on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.gate.model import Verdict
from bot.incidents.replies import PlaybookPlan
from bot.store.tables import playbook_runs
from tests.drivers.core import FakeClock
from tests.drivers.gate import (
    ANA,
    DAY,
    gate_runtime,
    health_server,
    item,
    lucia_yaml,
    playbook_folder,
)
from tests.drivers.playbooks import Health
from tests.fakes.render_api import FakeRenderAPI

STAGING = "srv-staging000000000000"
PHASE = """\
gate:
  phases:
    go-live:
      items: [rollback_drill]
"""


async def test_without_a_non_production_service_the_drill_is_unknown(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    cfg = lucia_yaml(
        tmp_path,
        PHASE + "services:\n  engine:\n    render_service_id: srv-engine1\n",  # production
    )
    async with gate_runtime(postgres_url, cfg, clock=clock) as gate:
        result = item(await gate.check(), "rollback_drill")

    assert result.verdict is Verdict.UNKNOWN
    assert result.reason == (
        "lucia.yaml has no non-production service to drill on (`services:` → `production: false`)"
    )


async def test_a_drill_that_passed_passes_with_its_duration_and_who_until_14_days_old(
    tmp_path: Path, postgres_url: str, clock: FakeClock, render_api: FakeRenderAPI
) -> None:
    render_api.add_service(STAGING, "engine-staging")
    render_api.add_deploy(STAGING, "deactivated", message="Good release")
    render_api.add_deploy(STAGING, "live", message="Release under test")
    health = Health()
    health.on_probe = lambda: clock.advance(60)  # each health check takes a minute
    cfg = lucia_yaml(
        tmp_path,
        PHASE + "owners:\n  owner:\n    name: Ana Lucia\n    slack: U01ALICE00\n"
        "services:\n"
        "  engine-staging:\n"
        f"    render_service_id: {STAGING}\n"
        f"    health_url: {health.url}\n"
        "    production: false\n",
    )
    env = {
        "RENDER_API_KEY": render_api.api_key,
        "RENDER_API_URL": render_api.url,
        "LUCIA_PLAYBOOKS": str(playbook_folder(tmp_path / "playbooks")),
    }
    async with health_server(health), gate_runtime(postgres_url, cfg, clock=clock, env=env) as g:
        before = item(await g.check(), "rollback_drill")
        plan = await g.run("playbook run drill engine-staging", actor=ANA)
        assert isinstance(plan, PlaybookPlan), plan
        await g.run(f"playbook confirm R{plan.run_id}", actor=ANA)
        (run,) = await g.rows(playbook_runs)
        passed = item(await g.check(), "rollback_drill")
        clock.advance(15 * DAY)
        fifteen_days_later = item(await g.check(), "rollback_drill")

    assert before.verdict is Verdict.UNKNOWN
    assert before.reason == (
        "no drill has passed on a non-production service: "
        "`/lucia playbook run drill <staging service>`"
    )
    assert (run["state"], run["service"]) == ("done", "engine-staging"), run["result"]
    assert passed.verdict is Verdict.PASS, passed.reason
    assert passed.reason == (
        f"engine-staging: drill run {run['id']} passed in 2 min (live and healthy both ways), "
        "run by Ana Lucia"  # the launch-gate table's name, not the Slack id
    )
    assert passed.expires_at == passed.observed_at + timedelta(days=14)
    assert fifteen_days_later.verdict is Verdict.UNKNOWN
    assert fifteen_days_later.reason == (
        f"engine-staging: stale: last seen 15 days ago ({passed.reason.split(': ', 1)[1]})"
    )
