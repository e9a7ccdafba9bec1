"""The outbound adapters this deployment has, from `Settings`: Render, e-mail, push, and
the Slack notifiers. The adapters take values; only this module and `bot.app` read
settings for them."""

from __future__ import annotations

__all__ = [
    "admission_check",
    "email_notifier",
    "notifiers",
    "push_notifier",
    "render_client",
]

from typing import cast
from urllib.parse import urlsplit

import aiohttp

from bot.clerk.sessions import ClerkSessions
from bot.cloudflare.purge import CloudflarePurge
from bot.config import AdminViewConfig
from bot.notify.email import EmailNotifier, TlsMode
from bot.notify.push import PushNotifier
from bot.paging.ports import Notifier
from bot.render.client import RenderClient
from bot.settings import Settings
from bot.slack.chat import SlackChat
from bot.slack.paging import SlackChannelMention, SlackDirectMessage
from bot.supabase.backups import SupabaseBackups


def render_client(settings: Settings, session: aiohttp.ClientSession) -> RenderClient | None:
    """None when RENDER_API_KEY is not set (the bot then runs no Render playbooks)."""
    key = settings.render_api_key
    if key is None:
        return None
    return RenderClient(session, settings.render_api_url, key.get_secret_value())


def backups_api(settings: Settings, session: aiohttp.ClientSession) -> SupabaseBackups | None:
    """None unless SUPABASE_ACCESS_TOKEN and SUPABASE_PROJECT_REF are set: the gate's
    backup evidence is then unknown, saying how to set them."""
    token, ref = settings.supabase_access_token, settings.supabase_project_ref
    if token is None or not ref:
        return None
    return SupabaseBackups(session, token.get_secret_value(), ref, settings.supabase_api_url)


def cache_purge(settings: Settings, session: aiohttp.ClientSession) -> CloudflarePurge | None:
    """None unless CLOUDFLARE_API_TOKEN and CLOUDFLARE_ZONE_ID are set: then the status
    page updates only when Cloudflare's cached copy expires (30 s)."""
    token, zone = settings.cloudflare_api_token, settings.cloudflare_zone_id
    if token is None or not zone:
        return None
    return CloudflarePurge(session, token.get_secret_value(), zone, settings.cloudflare_api_url)


def email_notifier(settings: Settings) -> EmailNotifier | None:
    """None when SMTP_HOST is unset: e-mail paging is off. `Settings` has already refused
    a host without SMTP_FROM and an unknown SMTP_TLS."""
    if not settings.smtp_host or not settings.smtp_from:
        return None
    password = settings.smtp_password
    return EmailNotifier(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        tls=cast(TlsMode, settings.smtp_tls),  # Settings refused any other value
    )


def push_notifier(settings: Settings, session: aiohttp.ClientSession) -> PushNotifier:
    token = settings.ntfy_token
    return PushNotifier(
        session, settings.ntfy_url, token=token.get_secret_value() if token is not None else None
    )


def notifiers(
    settings: Settings, slack: SlackChat | None, session: aiohttp.ClientSession
) -> list[Notifier]:
    """Every way this deployment can page someone, Slack first."""
    found: list[Notifier] = []
    if slack is not None:
        found += [SlackDirectMessage(slack), SlackChannelMention(slack)]
    if email := email_notifier(settings):
        found.append(email)
    found.append(push_notifier(settings, session))
    return found


def admission_check(settings: Settings, who: AdminViewConfig) -> ClerkSessions | None:
    """None unless CLERK_PUBLISHABLE_KEY and CLERK_JWT_KEY are set (and so, by `Settings`,
    LUCIA_PUBLIC_URL): then the admin view is off. Tokens are accepted only when minted
    for the bot's own origin (azp) by the configured instance (iss)."""
    issuer, origin = settings.clerk_issuer_url, settings.public_url
    if not settings.admin_view_on or settings.clerk_jwt_key is None or not issuer or not origin:
        return None
    return ClerkSessions(
        settings.clerk_jwt_key,
        issuer,
        [_origin(origin)],
        users=who.users,
        organization=who.organization,
        roles=who.roles,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
