"""The `owners` item: every role held, each holder reachable, and each one's acknowledgement
of a test page within 7 days. The test page goes out through the local Slack, a real SMTP
server and a local ntfy; Acknowledge is a signed click through the real Bolt app."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.gate.model import Verdict
from bot.slack.views.ids import PAGE_ACK_ACTION
from bot.store.tables import pages
from tests.drivers.core import FakeClock
from tests.drivers.gate import ANA, BOB, CARLA, DAY, Gate, gate_runtime, item, lucia_yaml
from tests.drivers.reach import Reach
from tests.drivers.waiting import until

PHASE = """\
gate:
  phases:
    staging:
      items: [owners]
"""


def holder(name: str, slack: str | None, topic: str, email: str | None = None) -> str:
    lines = [f"    name: {name}", f"    push_topic: {topic}"]
    if slack:
        lines.append(f"    slack: {slack}")
    if email:
        lines.append(f"    email: {email}")
    return "\n".join(lines) + "\n"


def owners_yaml(**roles: str | None) -> str:
    """The `owners:` section: each role's holder (from `holder`), or None for nobody."""
    return "owners:\n" + "".join(f"  {role}:\n{held or ''}" for role, held in roles.items())


async def test_a_role_nobody_holds_fails_naming_owners_set(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    owners = owners_yaml(
        owner=holder("Ana Lucia", ANA, "ana-7f"),
        infra=holder("Bob Infra", BOB, "bob-93"),
        dns=None,
        billing=holder("Carla Billing", CARLA, "carla-11"),
        fallback=holder("Dan Fallback", None, "dan-55"),
    )
    async with gate_runtime(postgres_url, lucia_yaml(tmp_path, PHASE + owners), clock=clock) as g:
        evaluation = await g.check()

    result = item(evaluation, "owners")
    assert result.verdict is Verdict.FAIL
    assert result.reason == "dns: nobody holds dns: `/lucia owners set dns @user`"
    assert evaluation.verdict == "NO-GO"


async def test_a_holder_who_has_had_no_test_page_is_unknown(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    people = {
        "owner": ("Ana Lucia", ANA),
        "infra": ("Bob Infra", BOB),
        "dns": ("Carla Dns", CARLA),
        "billing": ("Dee Billing", "U01DEE0000"),
        "fallback": ("Eve Fallback", "U01EVE0000"),
    }
    owners = owners_yaml(
        **{role: holder(name, slack, f"{role}-topic") for role, (name, slack) in people.items()}
    )
    async with gate_runtime(
        postgres_url, lucia_yaml(tmp_path, PHASE + owners), clock=clock
    ) as gate:
        result = item(await gate.check(), "owners")

    assert result.verdict is Verdict.UNKNOWN
    assert result.reason.split("; ") == [
        f"{role}: {name} has had no test page: `/lucia gate test-page {role}`"
        for role, (name, _) in people.items()
    ]


def ack_button(message: dict[str, Any]) -> str:
    """The page id on a DM's Acknowledge button."""
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == PAGE_ACK_ACTION:
                return str(element["value"])
    raise AssertionError(f"no Acknowledge button in {message}")


async def sent(gate: Gate) -> None:
    async def finished() -> bool:
        found = await gate.rows(pages)
        return bool(found) and all(p["status"] in ("sent", "failed") for p in found)

    await until(finished)


async def test_an_acknowledged_test_page_passes_with_each_channel_until_it_is_8_days_old(
    tmp_path: Path, postgres_url: str, clock: FakeClock, reach: Reach
) -> None:
    bob = holder("Bob Infra", BOB, "bob-93", "bob@lucia.example")
    owners = "".join(
        f"  {role}:\n{bob}" for role in ("owner", "infra", "dns", "billing", "fallback")
    )
    cfg = lucia_yaml(tmp_path, PHASE + "owners:\n" + owners)
    async with gate_runtime(postgres_url, cfg, clock=clock, slack=reach.slack, env=reach.env) as g:
        assert g.bot is not None
        await g.run("gate test-page all", actor=BOB)
        await sent(g)
        unanswered = item(await g.check(), "owners")
        (dm,) = [m for m in reach.dms_to(BOB) if "TEST page" in m["text"]]
        await g.bot.click(PAGE_ACK_ACTION, ack_button(dm), user=BOB, channel="D" + BOB[1:])
        await g.bot.settle()
        acknowledged = await g.check()
        clock.advance(8 * DAY)
        eight_days_later = await g.check()
        (page,) = await g.rows(pages)

    channels = "e-mail sent, push sent, Slack DM sent"
    assert unanswered.verdict is Verdict.UNKNOWN
    assert unanswered.reason.startswith(
        f"owner: Bob Infra hasn't acknowledged the test page sent 0 seconds ago ({channels})"
    )
    result = item(acknowledged, "owners")
    assert result.verdict is Verdict.PASS, result.reason
    assert result.reason.split("; ")[1] == (
        f"infra: Bob Infra acknowledged a test page ({channels})"
    )
    assert acknowledged.verdict == "GO"
    assert result.expires_at == clock.start + timedelta(days=7)  # clicked at the start
    assert page["acknowledged_by"] == BOB
    stale = item(eight_days_later, "owners")
    assert stale.verdict is Verdict.UNKNOWN
    assert stale.reason.split("; ")[1] == (
        f"infra: stale: last seen 8 days ago (Bob Infra acknowledged a test page ({channels}))"
    )
    assert eight_days_later.verdict == "NO-GO"
