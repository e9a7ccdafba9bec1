"""The launch gate's fixtures: the clock the test moves, and the local stand-ins the gate
looks at (web sites, Supabase's Management API, Render's API)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.drivers.core import FakeClock
from tests.drivers.gate import real_now
from tests.fakes.render_api import FakeRenderAPI
from tests.fakes.supabase_api import FakeSupabaseAPI
from tests.fakes.web_sites import FakeWebSites


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(real_now())


@pytest.fixture
async def sites() -> AsyncIterator[FakeWebSites]:
    async with FakeWebSites() as fake:
        yield fake


@pytest.fixture
async def supabase() -> AsyncIterator[FakeSupabaseAPI]:
    async with FakeSupabaseAPI() as fake:
        yield fake


@pytest.fixture
async def render_api() -> AsyncIterator[FakeRenderAPI]:
    async with FakeRenderAPI(rollback_seconds=0.2, deploy_seconds=0.3) as fake:
        yield fake
