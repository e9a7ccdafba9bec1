"""The admin shell in headless Chromium, against the real server app and a stand-in for
ClerkJS on 127.0.0.1 that hands the page a token the test minted: the incident list, an
incident's timeline, the postmortem download; signed out, only the sign-in shows and no
/admin/api call succeeds. Screenshots go to $LUCIA_SCREENSHOTS (else the test's tmp dir)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import AdminViewConfig, GateConfig, GatePhase, LuciaConfig, Owner
from bot.vocabulary import Role
from tests.drivers.admin import AdminBot, running_admin
from tests.drivers.devtools import Browser, chromium
from tests.fakes.clerk_js import FakeClerkJS

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        shutil.which("chromium") is None and not os.environ.get("CI"),
        reason="chromium is not installed (apt-get install -y chromium)",
    ),
]

CONFIG = LuciaConfig(
    owners={Role.OWNER: Owner(name="Ana Lucia", slack="U01ANALUC1")},
    admin_view=AdminViewConfig(users=["user_alice"]),
    gate=GateConfig(phases={"staging": GatePhase(items=["owners", "references"])}),
)


@dataclass
class Scene:
    admin: AdminBot
    clerk: FakeClerkJS
    browser: Browser
    shots: Path

    @property
    def shell(self) -> str:
        return f"{self.admin.origin}/admin"


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    shots = Path(os.environ.get("LUCIA_SCREENSHOTS") or tmp_path)
    downloads = tmp_path / "downloads"
    for folder in (shots, downloads):
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    async with (
        FakeClerkJS() as clerk,
        running_admin(f"sqlite:///{tmp_path / 'lucia.db'}", CONFIG, clerk.script_url) as admin,
        chromium(downloads) as browser,
    ):
        await admin.say("incident open sev1 Payments are failing at checkout")
        await admin.say("incident note #1 Stripe answers 502 for every charge")
        await admin.say("incident lead #1 <@U01ANALUC1>")
        await admin.say("followup add #1 Alert on Stripe 5xx before customers do")
        await admin.say("incident open sev3 Slow admin dashboard")
        yield Scene(admin, clerk, browser, shots)


async def test_signed_in_the_list_the_timeline_and_the_postmortem_download(scene: Scene) -> None:
    scene.clerk.mint = scene.admin.token
    browser = scene.browser
    await browser.goto(scene.shell)
    keys = await browser.wait_for(
        "document.querySelectorAll('a.incident').length === 2 && "
        "[...document.querySelectorAll('a.incident')].map(a => a.textContent)"
    )
    assert sorted(keys) == ["INC-1", "INC-2"]
    page = await browser.js("document.getElementById('view').innerText")
    assert "Payments are failing at checkout" in page
    assert "SEV1" in page
    assert "Ana Lucia" in page  # the lead, by the launch-gate table's name
    assert await browser.js("document.getElementById('sign-in').hidden") is True
    await browser.screenshot(scene.shots / "admin-incidents.png")

    await browser.js(
        "[...document.querySelectorAll('a.incident')].find(a => a.textContent === 'INC-1').click()"
    )
    timeline = await browser.wait_for(
        "document.querySelector('h1')?.textContent.startsWith('INC-1')"
        " && document.getElementById('view').innerText"
    )
    assert "Stripe answers 502 for every charge" in timeline
    assert "Alert on Stripe 5xx before customers do" in timeline
    await browser.screenshot(scene.shots / "admin-incident.png")

    await browser.js("document.getElementById('download-md').click()")
    saved = browser.downloads / "INC-1-postmortem.md"
    for _ in range(100):
        if saved.exists():
            break
        await asyncio.sleep(0.1)
    text = saved.read_text()
    assert "Payments are failing at checkout" in text
    assert "Stripe answers 502" in text

    api = [(url, status) for url, status in browser.responses if "/admin/api/" in url]
    assert api
    assert all(status == 200 for _, status in api), api


async def test_signed_out_only_the_sign_in_shows(scene: Scene) -> None:
    scene.clerk.mint = None
    browser = scene.browser
    await browser.goto(scene.shell)
    await browser.wait_for("document.getElementById('fake-clerk-sign-in') !== null")
    assert await browser.js("document.getElementById('view').hidden") is True
    assert await browser.js("document.getElementById('nav').hidden") is True
    assert "Payments" not in await browser.js("document.body.innerText")
    await browser.screenshot(scene.shots / "admin-signed-out.png")
    # Even asked directly, from the page, with the browser's cookies: refused.
    status = await browser.js(
        "fetch('/admin/api/incidents', {credentials: 'include'}).then(r => r.status)"
    )
    assert status == 401
    succeeded = [url for url, code in browser.responses if "/admin/api/" in url and code < 400]
    assert succeeded == []


async def test_the_pages_for_alerts_owners_gate_and_status_render(scene: Scene) -> None:
    scene.clerk.mint = scene.admin.token
    browser = scene.browser
    for view, words in (
        ("alerts", "Nothing is firing."),
        ("owners", "Ana Lucia"),
        ("gate", "staging: not evaluated yet"),
        ("status", "status page"),
    ):
        await browser.goto(f"{scene.shell}#/{view}")
        await browser.wait_for(
            f"document.getElementById('view').innerText.includes({words!r})", within=10
        )
    await browser.goto(f"{scene.shell}#/owners")
    await browser.wait_for("document.getElementById('view').innerText.includes('nobody holds')")
    await browser.screenshot(scene.shots / "admin-owners.png")
    await scene.admin.say("gate staging")
    await browser.goto(f"{scene.shell}#/gate")
    gate = await browser.wait_for(
        "document.getElementById('view').innerText.includes('Evaluated')"
        " && document.getElementById('view').innerText"
    )
    assert "staging: NO-GO" in gate
    assert "references" in gate
    await browser.screenshot(scene.shots / "admin-gate.png")
