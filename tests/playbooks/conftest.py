"""The playbook tests' fixture: a local Render API and health URL (tests/drivers/playbooks.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from tests.drivers.playbooks import SERVICE_ID, Health, Render, fast_copy, shipped_playbooks
from tests.fakes.render_api import FakeRenderAPI


@pytest.fixture
async def render(tmp_path: Path) -> AsyncIterator[Render]:
    health = Health()
    app = web.Application()
    app.router.add_get("/healthz", health.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", health.port).start()
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for name, text in shipped_playbooks().items():
        (folder / name).write_text(fast_copy(text))
    async with FakeRenderAPI(rollback_seconds=0.2, deploy_seconds=0.3) as api:
        api.add_service(SERVICE_ID, "engine", head_commit=("cccc3333" * 5, "The fix"))
        now = datetime.now(UTC)
        old = api.add_deploy(
            SERVICE_ID,
            "deactivated",
            created_at=now - timedelta(hours=2),
            commit_id="aaaa1111" * 5,
            message="Good release",
        )
        live = api.add_deploy(
            SERVICE_ID,
            "live",
            created_at=now - timedelta(hours=1),
            commit_id="bbbb2222" * 5,
            message="Bad release",
        )
        yield Render(api, health, old.id, live.id, folder)
    await runner.cleanup()
