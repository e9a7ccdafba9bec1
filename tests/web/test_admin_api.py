"""`/admin/api/*` through the real server app: Bearer tokens only, 401/403 with a JSON body
that says which, every answer `no-store`, and the data an incident's page shows."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import AdminViewConfig, GateConfig, GatePhase, LuciaConfig, Owner
from bot.server import build_server_app
from bot.settings import load_settings
from bot.vocabulary import Role
from tests.drivers.admin import AdminBot, running_admin

CONFIG = LuciaConfig(
    owners={Role.OWNER: Owner(name="Ana Lucia", slack="U01ANALUC1"), Role.DNS: None},
    admin_view=AdminViewConfig(users=["user_alice"]),
    gate=GateConfig(phases={"staging": GatePhase(items=["owners"])}),
)


@pytest.fixture
async def admin(database_url: str) -> AsyncIterator[AdminBot]:
    async with running_admin(database_url, CONFIG) as running:
        await running.say("incident open sev2 Payments are failing")
        await running.say("incident note #1 Stripe answers 502")
        await running.say("followup add #1 Alert on Stripe 5xx")
        yield running


async def test_me_names_the_signed_in_user(admin: AdminBot) -> None:
    answer = await admin.get("/admin/api/me", admin.token())
    assert answer.status == 200
    assert await answer.json() == {"user": "user_alice", "session": "sess_alice", "email": None}
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in answer.headers


async def test_no_token_is_401_and_says_so(
    admin: AdminBot, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await admin.get("/admin/api/incidents")
    assert answer.status == 401
    assert (await answer.json())["reason"] == "session-token-missing"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_session_cookie_authorises_nothing(admin: AdminBot) -> None:
    answer = await admin.get("/admin/api/me", Cookie=f"__session={admin.token()}")
    assert answer.status == 401


async def test_a_bad_token_is_401_and_logged_without_the_token(
    admin: AdminBot, caplog: pytest.LogCaptureFixture
) -> None:
    token = admin.token(iss="https://clerk.other.test")
    with caplog.at_level(logging.WARNING):
        answer = await admin.get("/admin/api/me", token)
    assert answer.status == 401
    assert await answer.json() == {
        "error": "unauthorized",
        "reason": "token-invalid-issuer",
        "detail": "The session token comes from another Clerk instance (iss).",
    }
    refused = [r for r in caplog.records if r.getMessage() == "admin_request_refused"]
    assert [(r.__dict__["status"], r.__dict__["reason"]) for r in refused] == [
        (401, "token-invalid-issuer")
    ]
    assert all(
        token not in str(r.__dict__) and token[-20:] not in r.getMessage() for r in caplog.records
    )


async def test_someone_not_allowed_is_403(
    admin: AdminBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        answer = await admin.get("/admin/api/incidents", admin.token(sub="user_mallory"))
    assert answer.status == 403
    body = await answer.json()
    assert (body["error"], body["reason"]) == ("forbidden", "not-allowed")
    refused = [r for r in caplog.records if r.getMessage() == "admin_request_refused"]
    assert refused[0].__dict__["user"] == "user_mallory"


async def test_open_and_all_incidents(admin: AdminBot) -> None:
    answer = await admin.get("/admin/api/incidents?status=open", admin.token())
    [incident] = (await answer.json())["incidents"]
    assert (incident["key"], incident["title"], incident["severity"], incident["status"]) == (
        "INC-1",
        "Payments are failing",
        "SEV2",
        "investigating",
    )
    assert incident["created_at"]
    await admin.say("incident lead #1 <@U01ANALUC1>")
    [incident] = (await (await admin.get("/admin/api/incidents", admin.token())).json())[
        "incidents"
    ]
    assert (incident["lead"], incident["lead_name"]) == ("U01ANALUC1", "Ana Lucia")
    await admin.say("incident resolve #1 Stripe recovered")
    assert (await (await admin.get("/admin/api/incidents", admin.token())).json())[
        "incidents"
    ] == []
    every = await (await admin.get("/admin/api/incidents?status=all", admin.token())).json()
    assert [i["status"] for i in every["incidents"]] == ["resolved"]
    bad = await admin.get("/admin/api/incidents?status=closed", admin.token())
    assert bad.status == 400


async def test_an_incident_with_its_timeline_and_followups(admin: AdminBot) -> None:
    answer = await admin.get("/admin/api/incidents/1", admin.token())
    body = await answer.json()
    assert body["incident"]["key"] == "INC-1"
    assert any("Stripe answers 502" in e["text"] for e in body["timeline"])
    assert [f["text"] for f in body["followups"]] == ["Alert on Stripe 5xx"]
    assert body["pages"] == []
    assert body["runs"] == []


async def test_an_unknown_incident_is_404_json(admin: AdminBot) -> None:
    for path in ("/admin/api/incidents/99", "/admin/api/incidents/99/postmortem.md"):
        answer = await admin.get(path, admin.token())
        assert answer.status == 404
        assert (await answer.json())["detail"] == "there is no incident #99"
    nowhere = await admin.get("/admin/api/nowhere", admin.token())
    assert (nowhere.status, (await nowhere.json())["error"]) == (
        404,
        "there is no /admin/api/nowhere",
    )


async def test_the_postmortem_downloads(admin: AdminBot) -> None:
    md = await admin.get("/admin/api/incidents/1/postmortem.md", admin.token())
    assert md.content_type == "text/markdown"
    assert md.headers["Content-Disposition"] == 'attachment; filename="INC-1-postmortem.md"'
    assert "Payments are failing" in await md.text()
    js = await admin.get("/admin/api/incidents/1/postmortem.json", admin.token())
    assert (await js.json())["incident"]["key"] == "INC-1"
    assert js.headers["Cache-Control"] == "no-store"


async def test_owners_references_gate_alerts_and_status(admin: AdminBot) -> None:
    owners = await (await admin.get("/admin/api/owners", admin.token())).json()
    by_role = {o["role"]: o for o in owners["owners"]}
    assert by_role["owner"]["name"] == "Ana Lucia"
    assert by_role["dns"]["gaps"] == ["nobody holds this role"]
    assert {r["key"]: r["gap"] for r in owners["references"]}["runbook"] == "not set"
    gate = await (await admin.get("/admin/api/gate", admin.token())).json()
    assert gate == {"phases": [{"phase": "staging", "evaluation": None}]}
    await admin.say("gate staging")
    gate = await (await admin.get("/admin/api/gate", admin.token())).json()
    evaluation = gate["phases"][0]["evaluation"]
    assert evaluation["verdict"] in ("GO", "NO-GO")
    assert [i["item"] for i in evaluation["phases"][0]["items"]] == ["owners"]
    alerts = await (await admin.get("/admin/api/alerts", admin.token())).json()
    assert alerts == {"alerts": []}
    status = await (await admin.get("/admin/api/status", admin.token())).json()
    assert status["name"] == "Lucia"
    assert "components" in status


async def test_it_is_read_only(admin: AdminBot) -> None:
    answer = await admin.client.post(
        "/admin/api/incidents", headers={"Authorization": f"Bearer {admin.token()}"}
    )
    assert answer.status in (404, 405)


async def test_the_shell_holds_no_data_and_sets_its_headers(admin: AdminBot) -> None:
    answer = await admin.get("/admin")
    page = await answer.text()
    assert answer.status == 200
    assert 'data-clerk-publishable-key="pk_test_' in page
    assert "https://clerk.lucia.test/npm/@clerk/clerk-js@5/dist/clerk.browser.js" in page
    assert "Payments" not in page
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self' https://clerk.lucia.test;" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_without_clerk_the_view_says_it_is_off(tmp_path: Path) -> None:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'off.db'}"})
    app = await build_server_app(settings, LuciaConfig())
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/admin")
        text = await page.text()
        assert "The admin view is off" in text
        assert "CLERK_PUBLISHABLE_KEY" in text
        api = await client.get("/admin/api/me")
        assert (api.status, await api.json()) == (404, {"error": "the admin view is off"})
