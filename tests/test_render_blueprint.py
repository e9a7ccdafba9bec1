"""`render.yaml` as Render reads it: every setting the bot reads is declared (a Blueprint
keeps what it leaves out, so a missing one is silently never set), secrets are prompted,
never written, and the deploy steps are the bot's own commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Set by Render itself, or right at their defaults on Render (and so never declared).
NOT_DECLARED = {
    "port",  # Render sets PORT
    "render_external_url",
    "render_git_commit",
    "render_service_id",
    "slack_api_url",
    "render_api_url",
    "supabase_api_url",  # for tests: the Management API's own address is the default
    "cloudflare_api_url",
    "clerk_js_url",  # for tests: ClerkJS comes from the instance's Frontend API
    "lucia_playbooks",
    "slack_client_id",  # refused if set: they switch Bolt to OAuth
    "slack_client_secret",
}
SECRETS = {
    "DATABASE_URL",
    "REDIS_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SENTRY_CLIENT_SECRET",
    "SENTRY_WEBHOOK_TOKEN",
    "SENTRY_DSN",
    "SMTP_PASSWORD",
    "NTFY_TOKEN",
    "RENDER_API_KEY",
    "SUPABASE_ACCESS_TOKEN",
    "CLOUDFLARE_API_TOKEN",
    # Not secrets (both are public keys), but each instance has its own: asked for.
    "CLERK_PUBLISHABLE_KEY",
    "CLERK_JWT_KEY",
}


def _service() -> dict[str, Any]:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    (service,) = blueprint["services"]
    return dict(service)


def test_every_setting_the_bot_reads_is_declared() -> None:
    declared = {env["key"] for env in _service()["envVars"]}
    wanted = {name.upper() for name in Settings.model_fields} - {
        name.upper() for name in NOT_DECLARED
    }
    assert wanted - declared == set()
    assert declared - wanted == {"PYTHON_VERSION"}


def test_secrets_are_asked_for_and_the_link_key_is_generated() -> None:
    variables = {env["key"]: env for env in _service()["envVars"]}
    for name in SECRETS:
        assert variables[name] == {"key": name, "sync": False}, name
    assert variables["LUCIA_LINK_SECRET"] == {"key": "LUCIA_LINK_SECRET", "generateValue": True}


def test_the_deploy_migrates_first_and_serves_with_a_health_check_in_a_fixed_region() -> None:
    service = _service()
    assert service["preDeployCommand"] == "lucia-bot migrate"
    assert service["startCommand"] == "lucia-bot serve"
    assert service["healthCheckPath"] == "/healthz"
    assert service["region"] in {"oregon", "ohio", "virginia", "frankfurt", "singapore"}
