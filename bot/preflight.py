"""What `lucia-bot check-config` finds beyond a valid environment and file: settings that
`serve` accepts but that would work badly, found now rather than at 3 a.m."""

from __future__ import annotations

__all__ = ["preflight"]

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot.config import LuciaConfig
from bot.errors import ConfigProblem
from bot.settings import Settings, SlackMode

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def preflight(settings: Settings, config: LuciaConfig) -> list[ConfigProblem]:
    found: list[ConfigProblem] = []
    for var, value in (
        ("LUCIA_INCIDENTS_CHANNEL", settings.lucia_incidents_channel),
        ("LUCIA_ALERTS_CHANNEL", settings.lucia_alerts_channel),
    ):
        if value and not _CHANNEL_ID.fullmatch(value):
            found.append(
                ConfigProblem(
                    f"env {var}",
                    f"`{value}` looks like a channel name: give the channel's id, like "
                    "C012ABCDEF (in Slack: the channel's name → About → Channel ID), "
                    "which stays right when the channel is renamed",
                )
            )
    if settings.slack_mode is not SlackMode.OFF and not any(
        owner is not None
        and (owner.slack or owner.push_topic or (owner.email and settings.smtp_host))
        for owner in config.owners.values()
    ):
        found.append(
            ConfigProblem(
                str(settings.lucia_config),
                "nobody can be paged: no role under `owners:` has a Slack user id, a push "
                "topic, or an e-mail address with SMTP_HOST set",
            )
        )
    for ca_file in parse_qs(urlsplit(settings.database_url).query).get("sslrootcert", []):
        if not Path(ca_file).is_file():
            found.append(
                ConfigProblem(
                    "env DATABASE_URL",
                    f"sslrootcert={ca_file} is not a file here: on Render add the CA "
                    "certificate as a Secret File (it is then /etc/secrets/<name>)",
                )
            )
    view = config.admin_view
    if settings.admin_view_on and not view.users and view.organization is None:
        found.append(
            ConfigProblem(
                str(settings.lucia_config),
                "nobody may enter /admin: CLERK_* is set, but `admin_view:` lists no users "
                "and no organization",
            )
        )
    if view.organization is not None and not view.roles:
        found.append(
            ConfigProblem(
                str(settings.lucia_config),
                "admin_view.organization is set with no roles: no member may enter /admin",
            )
        )
    return found
