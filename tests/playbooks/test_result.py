"""The result every shipped playbook posts and stores — on success, and with each step
failing in turn — against the local Render: the exact text, worded from the stored steps
and from what Render reports at the end of the run. The texts are in results.txt, one
scenario each, with the ids the run made filled in here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.slack.views.ids import RUN_ACTIONS
from tests.drivers.bot import Bot
from tests.drivers.playbooks import (
    ANA,
    BOB,
    GENERAL,
    SERVICE_ID,
    SHIPPED,
    Render,
    approve_value,
    channel_question,
    confirm,
    playbook_bot,
    result,
    said,
    stored_result,
)
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI

Arrange = Callable[[Render], None]
RESULTS = Path(__file__).with_name("results.txt")


def _expected() -> dict[str, tuple[str, str]]:
    """scenario → (stored state, the message with {placeholders})."""
    found: dict[str, tuple[str, str]] = {}
    name, state, lines = "", "", []
    for line in [*RESULTS.read_text().splitlines(), "== end: -"]:
        if line.startswith("== "):
            if name:
                found[name] = (state, "\n".join(lines).strip())
            name, _, state = line.removeprefix("== ").partition(": ")
            lines = []
        elif not line.startswith("#"):
            lines.append(line)
    return found


EXPECTED = _expected()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The wording, once: both databases store runs in test_playbooks.py and test_lease.py."""
    return f"sqlite:///{tmp_path / 'lucia.db'}"


def nothing(_r: Render) -> None:
    return None


def not_retained(r: Render) -> None:
    """The target deploy's build artifact is gone: Render refuses to roll back to it."""
    r.api.deploys[r.old].retained = False


def unhealthy(r: Render) -> None:
    r.health.status = 503


def auto_deploy_kept(r: Render) -> None:
    r.api.services[SERVICE_ID].keeps_auto_deploy = True
    r.api.next_rollback(steps=[(0.0, "update_in_progress")])  # still going at the end


def healthy_once(r: Render) -> None:
    """Healthy after a drill's rollback, not after its deploy forward."""
    r.health.answers = [200]
    r.health.status = 503


def after_the_last_check(change: Arrange) -> Arrange:
    """`change` Render once the run's last health check has looked, before its final read."""

    def arrange(r: Render) -> None:
        def once() -> None:
            r.health.on_probe = None
            change(r)

        r.health.on_probe = once

    return arrange


def render_stops_answering(r: Render) -> None:
    r.api.fail_next("GET", 503, times=50, retry_after=0)


def auto_deploy_back_on(r: Render) -> None:
    r.api.services[SERVICE_ID].auto_deploy_trigger = "commit"


ROLLBACK, RESTART, REDEPLOY = (
    "rollback engine",
    "playbook run restart engine",
    ("playbook run redeploy engine"),
)
SUSPEND, RESUME, DRILL = (
    "playbook run suspend engine",
    "playbook run resume engine",
    "playbook run drill engine",
)
SCENARIOS: dict[str, tuple[str, Arrange]] = {
    "rollback-ok": (ROLLBACK, nothing),
    "rollback-1": (ROLLBACK, not_retained),
    "rollback-2": (ROLLBACK, auto_deploy_kept),
    "rollback-3-failed": (ROLLBACK, lambda r: r.api.next_rollback("update_failed")),
    "rollback-3-never": (ROLLBACK, lambda r: r.api.next_rollback(None)),
    "rollback-4": (ROLLBACK, unhealthy),
    "rollback-unknown": (ROLLBACK, after_the_last_check(render_stops_answering)),
    "rollback-back-on": (ROLLBACK, after_the_last_check(auto_deploy_back_on)),
    "restart-ok": (RESTART, nothing),
    "restart-1": (RESTART, lambda r: r.api.fail_next("POST restart", 503)),
    "restart-3": (RESTART, unhealthy),
    "redeploy-ok": (REDEPLOY, nothing),
    "redeploy-1": (REDEPLOY, lambda r: r.api.fail_next("POST deploys", 409)),
    "redeploy-2": (REDEPLOY, lambda r: r.api.next_deploy("build_failed")),
    "redeploy-3": (REDEPLOY, unhealthy),
    "suspend-ok": (SUSPEND, nothing),
    "suspend-1": (SUSPEND, lambda r: r.api.fail_next("POST suspend", 503)),
    "resume-ok": (RESUME, nothing),
    "resume-1": (RESUME, lambda r: r.api.fail_next("POST resume", 503)),
    "resume-2": (RESUME, lambda r: r.api.next_deploy("update_failed")),
    "resume-3": (RESUME, unhealthy),
    "drill-ok": (DRILL, nothing),
    "drill-1": (DRILL, not_retained),
    "drill-2": (DRILL, lambda r: r.api.next_rollback("update_failed")),
    "drill-3": (DRILL, unhealthy),
    "drill-4": (DRILL, lambda r: r.api.fail_next("POST deploys", 409)),
    "drill-5": (DRILL, lambda r: r.api.next_deploy("build_failed")),
    "drill-6": (DRILL, healthy_once),
}


def test_every_shipped_playbook_has_its_success_and_each_failing_step_here() -> None:
    """A playbook shipped later, or a step added to one, needs its scenario (a pause
    can't fail: it only waits)."""
    wanted = set()
    for path in SHIPPED.glob("*.yaml"):
        playbook = yaml.safe_load(path.read_text())
        wanted.add(f"{playbook['name']}-ok")
        for index, step in enumerate(playbook["steps"], start=1):
            if step["kind"] != "pause":
                wanted.add(f"{playbook['name']}-{index}")
    covered = {"-".join(name.split("-")[:2]) for name in SCENARIOS}  # rollback-3-failed
    assert wanted <= covered
    assert set(SCENARIOS) == set(EXPECTED)


async def run_to_the_end(bot: Bot, command: str) -> str:
    await bot.command(command, user=ANA, channel=GENERAL)
    await said(bot, "cmd")
    await confirm(bot)
    if command == SUSPEND:  # `approval: always`: Bob approves in the channel

        async def asked() -> bool:
            return channel_question(bot) is not None

        await until(asked)
        question = channel_question(bot)
        assert question is not None
        await bot.click(RUN_ACTIONS["approve"], approve_value(question), user=BOB, channel=GENERAL)
    return await result(bot)


def made_ids(render: Render) -> dict[str, str]:
    ids = {
        "old": render.old,
        "live": render.live,
        "url": render.health.url,
        "sid": SERVICE_ID,
    }
    for deploy in render.api.deploys.values():
        ids.setdefault(deploy.trigger, deploy.id)  # rollback, api, service_resumed
    return ids


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_the_result_says_what_the_steps_and_render_show(
    slack_api: FakeSlackAPI, database_url: str, render: Render, scenario: str
) -> None:
    command, arrange = SCENARIOS[scenario]
    if command == RESUME:
        render.api.services[SERVICE_ID].suspended = True
    arrange(render)
    async with playbook_bot(slack_api, database_url, render) as bot:
        said_in_channel = await run_to_the_end(bot, command)
        stored = await stored_result(bot)
    state, text = EXPECTED[scenario]
    assert said_in_channel == text.format(**made_ids(render))
    assert stored == (state, said_in_channel)  # said is what is stored


async def test_only_rollbacks_speak_of_auto_deploy_and_never_claim_it_unread(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    """The drill used to be told "Auto-deploy is off" though it never turned it off."""
    async with playbook_bot(slack_api, database_url, render) as bot:
        drill = await run_to_the_end(bot, DRILL)
    assert "uto-deploy" not in drill
    assert drill.splitlines()[1].startswith("Render now: engine is on ")
    assert render.api.services[SERVICE_ID].auto_deploy_trigger == "commit"
