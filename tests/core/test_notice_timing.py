"""Alert notices on the real services and SQLite, with time moved by hand: alerts of one
project and environment gather for `alerts.group_wait` into one message (another project's
into their own), and what changes after (new alerts, repeats, a resolve) is shown at most
once per `alerts.update_interval`, at once after a quiet spell. A message whose alerts are
all resolved is done: the next alert gathers into a new one. Nothing is re-posted while
nothing changes (there is no Alertmanager `repeat_interval`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import AlertsConfig, LuciaConfig
from tests.drivers.alerts import issue_alert
from tests.drivers.core import Core, Notice, core_bot
from tests.drivers.payloads import sentry_fixture

GROUP_WAIT, UPDATE_INTERVAL = 10, 5  # seconds
CONFIG = LuciaConfig(
    alerts=AlertsConfig(
        group_wait=timedelta(seconds=GROUP_WAIT),
        update_interval=timedelta(seconds=UPDATE_INTERVAL),
    )
)


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    async with core_bot(tmp_path, CONFIG) as running:
        yield running


def metric_alert(*, resolved: bool) -> bytes:
    """One metric alert of Sentry's, firing or resolved (the same rule and project)."""
    if not resolved:
        return sentry_fixture("metric_alert.critical.json")
    payload = json.loads(sentry_fixture("metric_alert.resolved.json"))
    metric = payload["data"]["metric_alert"]
    metric["alert_rule"]["id"] = "7"
    metric["identifier"] = "1"
    metric["projects"] = ["my-proj"]
    return json.dumps(payload).encode()


def shown(core: Core) -> list[Notice]:
    return core.alert_chat.shown


async def test_alerts_within_the_group_wait_share_one_message_posted_once_it_passes(
    core: Core,
) -> None:
    await core.sentry(issue_alert(1), "event_alert")
    await core.tick()
    core.clock.advance(4)
    await core.sentry(issue_alert(2), "event_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT - 4 - 1)
    await core.tick()
    assert shown(core) == []  # a second before the group wait ends: nothing posted

    core.clock.advance(1)
    await core.tick()

    (posted,) = shown(core)
    assert (posted.firing, posted.titles) == (2, ("TypeError number 1", "TypeError number 2"))


async def test_later_changes_are_shown_at_most_once_per_update_interval(core: Core) -> None:
    await core.sentry(issue_alert(1), "event_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT)
    await core.tick()
    assert [n.firing for n in shown(core)] == [1]
    posted_at = core.clock()

    for issue in range(2, UPDATE_INTERVAL + 1):  # a new alert every second
        core.clock.advance(1)
        await core.sentry(issue_alert(issue), "event_alert")
        await core.tick()
    assert len(shown(core)) == 1  # changes keep coming, the message waits its interval

    core.clock.advance(1)
    await core.tick()

    assert [n.firing for n in shown(core)] == [1, UPDATE_INTERVAL]  # every change, in one update
    assert shown(core)[1].at == posted_at + timedelta(seconds=UPDATE_INTERVAL)
    assert {n.message for n in shown(core)} == {"m1"}
    core.clock.advance(UPDATE_INTERVAL * 4)
    await core.tick()
    assert len(shown(core)) == 2  # nothing changed since: no update


async def test_a_resolve_shows_on_the_message_at_the_next_allowed_update(core: Core) -> None:
    await core.sentry(metric_alert(resolved=False), "metric_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT)
    await core.tick()
    core.clock.advance(2)
    await core.sentry(metric_alert(resolved=True), "metric_alert")
    await core.tick()
    core.clock.advance(UPDATE_INTERVAL - 2 - 1)
    await core.tick()
    assert [(n.firing, n.resolved) for n in shown(core)] == [(1, 0)]  # not yet

    core.clock.advance(1)
    await core.tick()

    assert [(n.firing, n.resolved) for n in shown(core)] == [(1, 0), (0, 1)]
    assert shown(core)[1].message == shown(core)[0].message  # the same message, updated


async def test_another_projects_alerts_gather_in_their_own_message_on_their_own_wait(
    core: Core,
) -> None:
    await core.sentry(issue_alert(1, project="front-end"), "event_alert")
    await core.tick()
    core.clock.advance(4)
    await core.sentry(issue_alert(2, project="engine"), "event_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT - 4)
    await core.tick()
    assert [(n.message, n.titles) for n in shown(core)] == [("m1", ("TypeError number 1",))]

    core.clock.advance(4 - 1)
    await core.tick()
    assert len(shown(core)) == 1  # the engine's notice gathers from its own first alert
    core.clock.advance(1)
    await core.tick()

    assert [(n.message, n.titles) for n in shown(core)][1:] == [("m2", ("TypeError number 2",))]


async def test_a_change_after_a_quiet_update_interval_is_shown_at_once(core: Core) -> None:
    await core.sentry(issue_alert(1), "event_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT)
    await core.tick()
    core.clock.advance(UPDATE_INTERVAL * 6)

    await core.sentry(issue_alert(2), "event_alert")
    await core.tick()

    assert [n.firing for n in shown(core)] == [1, 2]  # no new group wait for a shown message
    assert shown(core)[1].at == core.clock()
    assert {n.message for n in shown(core)} == {"m1"}


async def test_repeats_of_a_shown_alert_update_its_count_once_per_update_interval(
    core: Core,
) -> None:
    await core.sentry(issue_alert(1), "event_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT)
    await core.tick()
    assert [n.counts for n in shown(core)] == [(1,)]

    for _ in range(UPDATE_INTERVAL - 1):  # the same issue again, every second
        core.clock.advance(1)
        await core.sentry(issue_alert(1), "event_alert")
        await core.tick()
    assert len(shown(core)) == 1
    core.clock.advance(1)
    await core.tick()

    assert [n.counts for n in shown(core)] == [(1,), (UPDATE_INTERVAL,)]
    assert {n.message for n in shown(core)} == {"m1"}  # one alert group, one message


async def test_an_alert_after_its_message_was_all_resolved_starts_a_new_message_after_the_wait(
    core: Core,
) -> None:
    await core.sentry(metric_alert(resolved=False), "metric_alert")
    await core.tick()
    core.clock.advance(GROUP_WAIT)
    await core.tick()
    core.clock.advance(UPDATE_INTERVAL)
    await core.sentry(metric_alert(resolved=True), "metric_alert")
    await core.tick()
    assert [(n.message, n.firing, n.resolved) for n in shown(core)] == [
        ("m1", 1, 0),
        ("m1", 0, 1),
    ]  # everything in m1 is resolved: it is closed

    core.clock.advance(60)
    await core.sentry(metric_alert(resolved=False), "metric_alert")  # it fires again
    await core.tick()
    core.clock.advance(GROUP_WAIT - 1)
    await core.tick()
    assert len(shown(core)) == 2  # a new notice gathers for its own group wait
    core.clock.advance(1)
    await core.tick()

    assert [(n.message, n.firing, n.resolved) for n in shown(core)][2:] == [("m2", 1, 0)]
