"""Settings from the environment (the contract in DESIGN.md), validated at start."""

from __future__ import annotations

__all__ = ["Settings", "SlackMode", "frontend_api_of", "load_settings"]

import base64
import contextlib
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sentry_sdk.utils import BadDsn, Dsn

from bot.database_url import url_problem
from bot.errors import ConfigError, ConfigProblem

_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SlackMode(enum.StrEnum):
    OFF = "off"  # console front only
    HTTP = "http"  # Bolt at POST /slack/events
    SOCKET = "socket"  # Socket Mode with SLACK_APP_TOKEN


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    port: int = 3000
    # URLs carry the database password and the Upstash token: kept out of repr and logs.
    database_url: str = Field(default="sqlite:///lucia.db", repr=False)
    # The most connections one instance opens. During a Render deploy the old and the new
    # instance overlap and the pre-deploy migrate adds one: 2 × this + 1 must stay under
    # the Supabase project's pooler Pool Size.
    database_pool_size: int = 10
    redis_url: str | None = Field(default=None, repr=False)
    # The namespace of this bot's Redis keys (`lucia:<it>:…`); unset, the random id its
    # database was given at its first migration, so two databases never share keys.
    lucia_redis_namespace: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Read only to refuse them: with both set, Bolt switches to multi-workspace OAuth and
    # ignores SLACK_BOT_TOKEN, so every command would go unanswered.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    lucia_incidents_channel: str | None = None
    lucia_alerts_channel: str | None = None
    sentry_client_secret: SecretStr | None = None
    # Sentry's legacy WebHooks plugin signs nothing: it must post to
    # /webhooks/sentry?token=<this>, compared in constant time.
    sentry_webhook_token: SecretStr | None = None
    sentry_dsn: str | None = None
    sentry_environment: str | None = None
    render_api_key: SecretStr | None = None
    render_api_url: str = "https://api.render.com/v1"
    render_git_commit: str | None = None
    render_service_id: str | None = None  # set by Render: this bot's own service
    # Paging outside Slack: e-mail over SMTP, push through an ntfy-compatible server.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: str = "starttls"  # starttls (587), tls (implicit, 465) or none (a local relay)
    ntfy_url: str = "https://ntfy.sh"
    ntfy_token: SecretStr | None = None
    # The launch gate's backup evidence: Supabase's Management API.
    supabase_access_token: SecretStr | None = None
    supabase_project_ref: str | None = None
    supabase_api_url: str = "https://api.supabase.com"
    # The status page: purge Cloudflare's cache on every publish.
    cloudflare_api_token: SecretStr | None = None
    cloudflare_zone_id: str | None = None
    cloudflare_api_url: str = "https://api.cloudflare.com/client/v4"
    lucia_config: Path = Path("lucia.yaml")
    lucia_playbooks: Path = Path("playbooks")  # a folder of playbook YAML files
    # Signed postmortem links: the bot's public base URL (Render sets RENDER_EXTERNAL_URL)
    # and the key that signs them (else one derived from SLACK_SIGNING_SECRET).
    lucia_public_url: str | None = None
    render_external_url: str | None = None
    lucia_link_secret: SecretStr | None = None
    # The admin view (/admin): Clerk's publishable key (pk_test_/pk_live_, which names the
    # Frontend API host), the PEM "JWKS Public Key" for networkless checks, the issuer
    # (else https:// + that host) and, for tests, where ClerkJS is loaded from.
    clerk_publishable_key: str | None = None
    clerk_jwt_key: str | None = Field(default=None, repr=False)
    clerk_issuer: str | None = None
    clerk_js_url: str | None = None
    log_level: str = "INFO"

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        # Render and .env files often carry `NAME=` for "not set".
        if not (isinstance(value, str) and not value.strip()):
            return value
        if cls.model_fields[str(info.field_name)].default is not None:
            raise ValueError("is set but empty: unset it to use the default")
        return None

    @property
    def slack_mode(self) -> SlackMode:
        if self.slack_bot_token is None:
            return SlackMode.OFF
        return SlackMode.SOCKET if self.slack_app_token else SlackMode.HTTP

    @property
    def link_secret(self) -> bytes | None:
        if self.lucia_link_secret is not None:
            return self.lucia_link_secret.get_secret_value().encode()
        if self.slack_signing_secret is not None:
            key = self.slack_signing_secret.get_secret_value().encode()
            return hmac.new(key, b"lucia postmortem links", hashlib.sha256).digest()
        return None

    @property
    def public_url(self) -> str | None:
        base = self.lucia_public_url or self.render_external_url
        return base.rstrip("/") if base else None

    @property
    def clerk_frontend_api(self) -> str | None:
        """The Clerk Frontend API host the publishable key names (`clerk.<domain>`)."""
        return frontend_api_of(self.clerk_publishable_key) if self.clerk_publishable_key else None

    @property
    def admin_view_on(self) -> bool:
        return bool(self.clerk_publishable_key and self.clerk_jwt_key)

    @property
    def clerk_issuer_url(self) -> str | None:
        if self.clerk_issuer:
            return self.clerk_issuer.rstrip("/")
        host = self.clerk_frontend_api
        return f"https://{host}" if host else None

    @property
    def config_path_is_explicit(self) -> bool:
        """LUCIA_CONFIG was set: then the file must exist."""
        return "lucia_config" in self.model_fields_set

    def problems(self) -> list[ConfigProblem]:
        """Combinations that would leave the bot half working."""
        found: list[ConfigProblem] = []

        def problem(var: str, message: str) -> None:
            found.append(ConfigProblem(f"env {var}", message))

        token, secret, app = self.slack_bot_token, self.slack_signing_secret, self.slack_app_token
        if token is None and (secret or app):
            set_vars = " and ".join(
                n for n, v in (("SLACK_SIGNING_SECRET", secret), ("SLACK_APP_TOKEN", app)) if v
            )
            problem(
                "SLACK_BOT_TOKEN",
                f"is missing, but {set_vars} is set: "
                "set the bot token (xoxb-…) too, or unset them for console-only mode",
            )
        if token is not None:
            if not token.get_secret_value().startswith("xoxb-"):
                problem("SLACK_BOT_TOKEN", "must be a bot token starting with xoxb-")
            if app is None and secret is None:
                problem(
                    "SLACK_SIGNING_SECRET",
                    "is missing: requests to /slack/events can't be "
                    "verified without it (or set SLACK_APP_TOKEN for Socket Mode)",
                )
        if app is not None and not app.get_secret_value().startswith("xapp-"):
            problem("SLACK_APP_TOKEN", "must be an app-level token starting with xapp-")
        if not self.database_url.startswith(
            (
                "postgresql://",
                "postgres://",
                "sqlite:///",
                "postgresql+asyncpg://",
                "sqlite+aiosqlite:///",
            )
        ):
            problem("DATABASE_URL", "must start with postgresql:// or sqlite:///")
        elif reason := url_problem(self.database_url):
            problem("DATABASE_URL", reason)
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://")):
            problem("REDIS_URL", "must start with redis:// or rediss:// (Upstash)")

        def both_or_neither(first: str, second: str, needs: str, without: str) -> None:
            """Two variables that only work together: name the one missing."""
            have = {var: getattr(self, var.lower()) is not None for var in (first, second)}
            if have[first] != have[second]:
                missing = second if have[first] else first
                problem(
                    missing,
                    f"is missing: {needs} needs both {first} and {second} (or neither: "
                    f"then {without})",
                )

        both_or_neither(
            "CLOUDFLARE_API_TOKEN",
            "CLOUDFLARE_ZONE_ID",
            "purging the status page",
            "it updates when the cache expires",
        )
        both_or_neither(
            "SUPABASE_ACCESS_TOKEN",
            "SUPABASE_PROJECT_REF",
            "the gate's backup evidence",
            "backups are unknown",
        )
        if self.lucia_redis_namespace is not None and not _NAMESPACE.fullmatch(
            self.lucia_redis_namespace
        ):
            problem(
                "LUCIA_REDIS_NAMESPACE",
                "must be 1 to 32 letters, digits, `-` or `_` (for example `staging`)",
            )
        if self.slack_client_id or self.slack_client_secret:
            for var, value in (
                ("SLACK_CLIENT_ID", self.slack_client_id),
                ("SLACK_CLIENT_SECRET", self.slack_client_secret),
            ):
                if value:
                    problem(
                        var,
                        "must not be set: this is a single-workspace bot using "
                        "SLACK_BOT_TOKEN, and Slack's OAuth settings would replace it",
                    )
        token = self.sentry_webhook_token
        if token is not None and len(token.get_secret_value()) < 16:
            problem(
                "SENTRY_WEBHOOK_TOKEN", "is too short to be a secret: use 16+ random characters"
            )
        found += self._clerk_problems()
        if self.log_level.upper() not in _LOG_LEVELS:
            problem("LOG_LEVEL", f"`{self.log_level}` isn't one of {', '.join(_LOG_LEVELS)}")
        if self.sentry_dsn is not None:
            try:
                Dsn(self.sentry_dsn)
            except BadDsn as exc:
                problem(
                    "SENTRY_DSN",
                    f"isn't a Sentry DSN ({exc}): copy it from Sentry's project settings → "
                    "Client Keys (DSN), like https://<key>@o<org>.ingest.sentry.io/<project>",
                )
        if not 1 <= self.database_pool_size <= 100:
            problem("DATABASE_POOL_SIZE", f"{self.database_pool_size} isn't between 1 and 100")
        if not 0 < self.port < 65536:
            problem("PORT", f"{self.port} is not a TCP port")
        if self.smtp_tls not in ("starttls", "tls", "none"):
            problem("SMTP_TLS", f"`{self.smtp_tls}` isn't one of starttls, tls, none")
        if self.smtp_tls == "none" and self.smtp_password is not None:
            problem(
                "SMTP_TLS",
                "is none, which would send SMTP_PASSWORD unencrypted: use starttls or tls",
            )
        if self.smtp_host and not self.smtp_from:
            problem("SMTP_FROM", "is missing: pages by e-mail need a sender address")
        if not self.ntfy_url.startswith(("https://", "http://")):
            problem("NTFY_URL", "must be an http(s) URL of an ntfy server")
        return found

    def _clerk_problems(self) -> list[ConfigProblem]:
        found: list[ConfigProblem] = []
        key, pem = self.clerk_publishable_key, self.clerk_jwt_key
        if not (key or pem or self.clerk_issuer or self.clerk_js_url):
            return found
        half = "the admin view needs CLERK_PUBLISHABLE_KEY and CLERK_JWT_KEY (or none of CLERK_*)"
        if not key:
            found.append(ConfigProblem("env CLERK_PUBLISHABLE_KEY", f"is missing: {half}"))
        elif self.clerk_frontend_api is None:
            found.append(
                ConfigProblem(
                    "env CLERK_PUBLISHABLE_KEY",
                    "isn't a Clerk publishable key (pk_test_… or pk_live_…): copy it from "
                    "Clerk's dashboard → API keys",
                )
            )
        if not pem:
            found.append(ConfigProblem("env CLERK_JWT_KEY", f"is missing: {half}"))
        elif "-----BEGIN PUBLIC KEY-----" not in pem:
            found.append(
                ConfigProblem(
                    "env CLERK_JWT_KEY",
                    "isn't a PEM public key: copy the JWKS Public Key (PEM) from Clerk's "
                    "dashboard → API keys → Show JWT public key",
                )
            )
        for var, url in (("CLERK_ISSUER", self.clerk_issuer), ("CLERK_JS_URL", self.clerk_js_url)):
            if url and not url.startswith(("https://", "http://")):
                found.append(ConfigProblem(f"env {var}", "must be an http(s) URL"))
        if key and pem and self.public_url is None:
            found.append(
                ConfigProblem(
                    "env LUCIA_PUBLIC_URL",
                    "is missing: the admin view accepts only tokens minted for its own "
                    "origin (Clerk's azp), so it needs the bot's public URL",
                )
            )
        return found


def frontend_api_of(publishable_key: str) -> str | None:
    """`pk_live_<base64("clerk.example.com$")>` → `clerk.example.com`; None if it isn't one."""
    for prefix in ("pk_test_", "pk_live_"):
        if publishable_key.startswith(prefix):
            encoded = publishable_key.removeprefix(prefix)
            try:
                decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            host = decoded.removesuffix("$")
            if decoded.endswith("$") and re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", host):
                return host
    return None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment; raise `ConfigError` listing every problem at once."""
    given = _lowercase(environ) if environ is not None else {}
    try:
        settings = Settings.model_validate(given)
    except ValidationError as exc:
        problems = [
            ConfigProblem(
                f"env {str(err['loc'][0]).upper()}", err["msg"].removeprefix("Value error, ")
            )
            for err in exc.errors()
        ]
        # Check the rest too, with the broken values at their defaults, so one bad
        # variable doesn't hide the others.
        broken = {
            str(err["loc"][0]): Settings.model_fields[str(err["loc"][0])].default
            for err in exc.errors()
        }
        with contextlib.suppress(ValidationError):
            problems += Settings.model_validate(given | broken).problems()
        raise ConfigError(problems) from None
    problems = settings.problems()
    if problems:
        raise ConfigError(problems)
    return settings


def _lowercase(environ: Mapping[str, str]) -> dict[str, str]:
    fields = Settings.model_fields
    return {k.lower(): v for k, v in environ.items() if k.lower() in fields}
