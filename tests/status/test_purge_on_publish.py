"""Every publish tells Cloudflare to drop its copies of the page, so the change shows at
once; when Cloudflare refuses, the publisher hears it, and the page still changes (it
shows within its 30-second max-age)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.incidents.replies import Noted
from bot.status.replies import StatusPreview
from bot.status.service import PAGE_PATHS
from tests.drivers.status_page import StatusDesk, status_desk
from tests.fakes.cloudflare_api import FakeCloudflareAPI

BASE = "https://status.lucia.example"


@pytest.fixture
async def cloudflare() -> AsyncIterator[FakeCloudflareAPI]:
    fake = FakeCloudflareAPI()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def desk(postgres_url: str, cloudflare: FakeCloudflareAPI) -> AsyncIterator[StatusDesk]:
    env = {
        "CLOUDFLARE_API_TOKEN": cloudflare.token,
        "CLOUDFLARE_ZONE_ID": cloudflare.zone_id,
        "CLOUDFLARE_API_URL": cloudflare.url,
        "LUCIA_PUBLIC_URL": BASE,
    }
    async with status_desk(postgres_url, **env) as running:
        await running.say("incident open sev1 Checkout down")
        yield running


async def publish(desk: StatusDesk, text: str) -> str:
    preview = await desk.say(text)
    assert isinstance(preview, StatusPreview)
    done = await desk.say(f"status confirm D{preview.draft_id}")
    assert isinstance(done, Noted)
    return str(done.text)


async def test_a_publish_purges_every_url_of_the_page(
    desk: StatusDesk, cloudflare: FakeCloudflareAPI
) -> None:
    preview = await desk.say("status publish #1 engine=major_outage Checkout is failing")
    assert cloudflare.purged_urls == []  # a preview is not a publish

    assert isinstance(preview, StatusPreview)
    said = await desk.say(f"status confirm D{preview.draft_id}")

    assert isinstance(said, Noted)
    assert str(said.text).endswith("on the status page; Cloudflare's cache purged.")
    assert sorted(cloudflare.purged_urls) == sorted(BASE + path for path in PAGE_PATHS)
    assert "/api/v2/summary.json" in {url.removeprefix(BASE) for url in cloudflare.purged_urls}


async def test_a_refused_purge_is_said_to_the_publisher_and_the_page_changes_anyway(
    desk: StatusDesk, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.fail_next(503)

    said = await publish(desk, "status publish #1 engine=partial_outage Checkout is slow")

    assert "⚠️ Cloudflare's cache wasn't purged (" in said
    assert said.endswith("the page shows it within 30 s, when its cached copy expires.")
    page = await desk.page()
    assert [i.name for i in page.active] == ["Checkout is slow"]
    resolved = await publish(desk, "status resolve #1 Fixed")
    assert resolved.endswith("Cloudflare's cache purged.")  # the next one goes through
