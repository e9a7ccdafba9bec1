"""The status page through the real runtime's desk (as `build_runtime` wires it) on
PostgreSQL, with a clock the test moves: what a publish records, updates with a phase and
component changes, resolving, maintenance that starts and ends by itself, and drafts the
page has moved past."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.errors import UserError
from bot.incidents.replies import Noted
from bot.status.model import ComponentState, MaintenanceStatus, Phase
from bot.status.replies import StatusNow, StatusPreview
from tests.drivers.status_page import (
    ANA,
    BOB,
    StatusDesk,
    page_texts,
    status_desk,
    status_events,
)

INTERNAL = "Webhook secret wrong"  # the console names its channel by it: 32 characters at most


@pytest.fixture
async def desk(postgres_url: str) -> AsyncIterator[StatusDesk]:
    async with status_desk(postgres_url) as running:
        await running.say(f"incident open sev1 {INTERNAL}")
        yield running


async def publish(desk: StatusDesk, text: str, user: str = ANA) -> str:
    """Drafts `text`, confirms the draft; what the confirmation said."""
    preview = await desk.say(text, user)
    assert isinstance(preview, StatusPreview)
    done = await desk.say(f"status confirm D{preview.draft_id}", user)
    assert isinstance(done, Noted)
    return str(done.text)


def states(page: StatusNow | object) -> dict[str, ComponentState]:
    assert isinstance(page, StatusNow)
    return {c.id: c.state for c in page.page.components}


async def test_the_timeline_records_who_published_what_and_the_page_keeps_internal_words_out(
    desk: StatusDesk,
) -> None:
    desk.clock.advance(60)
    await publish(desk, "status publish #1 engine=major_outage Payments fail for some customers")
    desk.clock.advance(300)
    await publish(desk, "status update #1 identified We found the cause", BOB)

    events = await status_events(desk.runtime)
    page = await desk.page()

    assert events == [
        (
            ANA,
            "Published to the status page (investigating): Payments fail for some customers "
            "(Engine (API): Major outage)",
        ),
        (BOB, "Published to the status page (identified): We found the cause"),
    ]
    public = page_texts(page)
    assert public == [
        "Payments fail for some customers",
        "critical",  # from the component states published, not from SEV1
        "We found the cause",
        "Payments fail for some customers",
    ]
    assert not any(INTERNAL.lower() in t.lower() or "sev" in t.lower() for t in public)
    assert page.active[0].updates[0].created_by == BOB


async def test_an_update_moves_the_phase_and_the_components_it_names(desk: StatusDesk) -> None:
    await publish(desk, "status publish #1 engine=major_outage Payments fail")
    desk.clock.advance(600)

    preview = await desk.say("status update #1 identified engine=degraded admin=partial Found it")
    assert isinstance(preview, StatusPreview)
    assert preview.title == "Update to “Payments fail” (identified)"
    assert preview.lines == (
        "Found it",
        "Engine (API): Degraded performance",
        "Admin: Partial outage",
    )
    assert states(await desk.say("status")) == {
        "engine": ComponentState.MAJOR_OUTAGE,
        "admin": ComponentState.OPERATIONAL,
    }  # the preview changed nothing
    await desk.say(f"status confirm D{preview.draft_id}")

    page = await desk.page()
    (incident,) = page.active
    assert incident.status is Phase.IDENTIFIED
    assert [u.status for u in incident.updates] == [Phase.IDENTIFIED, Phase.INVESTIGATING]
    assert [u.body for u in incident.updates] == ["Found it", "Payments fail"]  # newest first
    assert incident.impact == "major"
    assert {c.id: c.state for c in page.components} == {
        "engine": ComponentState.DEGRADED_PERFORMANCE,
        "admin": ComponentState.PARTIAL_OUTAGE,
    }
    # Without a phase an update keeps the incident's.
    desk.clock.advance(60)
    await publish(desk, "status update #1 Still watching it")
    assert (await desk.page()).active[0].status is Phase.IDENTIFIED


async def test_resolve_returns_the_components_to_operational(desk: StatusDesk) -> None:
    await publish(desk, "status publish #1 engine=major_outage admin=degraded Payments fail")
    desk.clock.advance(3600)

    preview = await desk.say("status resolve #1 Fixed: payments work again")
    assert isinstance(preview, StatusPreview)
    assert preview.lines == (
        "Fixed: payments work again",
        "Engine (API): Operational",
        "Admin: Operational",
    )
    said = await desk.say(f"status confirm D{preview.draft_id}")

    page = await desk.page()
    assert said == Noted("Resolved “Payments fail” on the status page.")
    assert not page.active
    assert page.history[0].status is Phase.RESOLVED
    assert page.history[0].resolved_at == desk.clock.now
    assert page.description == "All Systems Operational"
    assert all(c.state is ComponentState.OPERATIONAL for c in page.components)
    with pytest.raises(UserError, match="INC-1 isn't on the status page"):
        await desk.say("status update #1 monitoring Looks fine")


async def test_a_maintenance_starts_and_ends_on_time_by_itself(desk: StatusDesk) -> None:
    # 10:00 now; the window is 12:00 to 14:00 UTC.
    said = await publish(
        desk, "status maintenance engine admin 2026-03-04T12:00 2h Database upgrade"
    )
    assert said == "Maintenance “Database upgrade” is on the status page."

    before = await desk.page()
    desk.clock.move_to(2 * 3600)
    during = await desk.page()
    desk.clock.move_to(4 * 3600 - 1)
    last_second = await desk.page()
    desk.clock.move_to(4 * 3600)
    after = await desk.page()

    assert before.worst is ComponentState.OPERATIONAL
    assert [m.status(before.now) for m in before.maintenances] == [MaintenanceStatus.SCHEDULED]
    assert {c.state for c in during.components} == {ComponentState.UNDER_MAINTENANCE}
    assert during.indicator == "maintenance"
    assert during.description == "Service Under Maintenance"
    assert last_second.worst is ComponentState.UNDER_MAINTENANCE
    assert {c.state for c in after.components} == {ComponentState.OPERATIONAL}
    assert after.indicator == "none"
    assert after.maintenances == ()


async def test_a_maintenance_starting_now_covers_only_what_it_names(desk: StatusDesk) -> None:
    preview = await desk.say("status maintenance engine now 30m Restarting the API")
    assert preview == StatusPreview(
        1,
        "Scheduled maintenance: Restarting the API",
        (
            "Restarting the API",
            "When: 2026-03-04 10:00 to 2026-03-04 10:30 UTC",
            "Engine (API): Under maintenance",
        ),
    )
    await desk.say("status confirm D1")

    page = await desk.page()

    assert {c.id: c.state for c in page.components} == {
        "engine": ComponentState.UNDER_MAINTENANCE,
        "admin": ComponentState.OPERATIONAL,
    }


async def test_a_second_publish_draft_for_the_same_incident_is_not_published(
    desk: StatusDesk,
) -> None:
    first = await desk.say("status publish #1 engine=major_outage Payments fail")
    second = await desk.say("status publish #1 engine=partial_outage Payments are slow")
    assert isinstance(first, StatusPreview)
    assert isinstance(second, StatusPreview)
    await desk.say(f"status confirm D{first.draft_id}")

    refused = await desk.say(f"status confirm D{second.draft_id}")
    again = await desk.say(f"status confirm D{second.draft_id}")

    assert refused == Noted(
        "D2 wasn't published, and is cancelled: INC-1 went on the status page since "
        "(“Payments fail”): `/lucia status update #1 …` adds to it.",
        True,
    )
    assert again == Noted("Draft D2 was already decided, or doesn't exist.", True)
    page = await desk.page()
    assert [i.name for i in page.history] == ["Payments fail"]
    assert page.components[0].state is ComponentState.MAJOR_OUTAGE


async def test_an_update_drafted_before_the_incident_was_resolved_does_not_reopen_it(
    desk: StatusDesk,
) -> None:
    await publish(desk, "status publish #1 engine=major_outage Payments fail")
    update = await desk.say("status update #1 monitoring engine=degraded Recovering")
    assert isinstance(update, StatusPreview)
    await publish(desk, "status resolve #1 Fixed")

    refused = await desk.say(f"status confirm D{update.draft_id}")

    assert isinstance(refused, Noted)
    assert refused.warning
    assert "INC-1's public incident was resolved since" in str(refused.text)
    page = await desk.page()
    assert not page.active
    assert page.components[0].state is ComponentState.OPERATIONAL


async def test_a_maintenance_confirmed_after_its_window_is_not_published(
    desk: StatusDesk,
) -> None:
    preview = await desk.say("status maintenance engine now 30m Restarting the API")
    assert isinstance(preview, StatusPreview)
    desk.clock.advance(1800)

    refused = await desk.say(f"status confirm D{preview.draft_id}")

    assert refused == Noted(
        "D1 wasn't published, and is cancelled: that maintenance was over at 2026-03-04 10:30 UTC.",
        True,
    )
    assert (await desk.page()).maintenances == ()
