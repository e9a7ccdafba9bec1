"""The words every part of the bot shares: who may be paged, what the references are, how a
duration, a severity and an e-mail address are written, who the bot is and who asked.

`lucia.yaml` (`bot.config`), the command parsers and the core all read them from here, so
each is defined once. This module depends on nothing above the standard library and
`bot.types`.
"""

from __future__ import annotations

__all__ = [
    "EMAIL_ADDRESS",
    "REFERENCE_KEYS",
    "ROLES",
    "SYSTEM_ACTOR",
    "Invocation",
    "Role",
    "Severity",
    "parse_duration",
]

import enum
import re
from dataclasses import dataclass
from datetime import timedelta

from bot.types import UserId

SYSTEM_ACTOR: UserId = "lucia"  # the bot itself, in timelines and as the opener of pages


class Role(enum.StrEnum):
    """The launch-gate table's roles."""

    OWNER = "owner"  # founder / owner
    INFRA = "infra"
    DNS = "dns"  # domain / DNS
    BILLING = "billing"
    FALLBACK = "fallback"  # emergency fallback contact


ROLES: tuple[str, ...] = tuple(role.value for role in Role)

# Where things are (lucia.yaml's `references`, `/lucia refs set`): never a secret itself.
REFERENCE_KEYS = (
    "staging_url",
    "staging_api_url",
    "production_app_url",
    "production_api_url",
    "status_page",
    "runbook",
    "rollback_doc",
    "vault_location",
)

EMAIL_ADDRESS = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"

_UNIT = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}


def parse_duration(
    text: str, *, units: str, bare: str | None = None, max_digits: int | None = None
) -> timedelta | None:
    """A whole number and one unit letter of `units` (from `s`, `m`, `h`, `d`; lower case),
    spaces allowed around and between: `90s`, `5 m`, `2h`, `1d`. A bare number counts in
    the unit `bare`, if given; a number of more than `max_digits` digits is no duration.
    None when the text isn't a duration of that form."""
    digits = rf"\d{{1,{max_digits}}}" if max_digits is not None else r"\d+"
    unit = f"[{re.escape(units)}]" + ("?" if bare is not None else "")
    match = re.fullmatch(rf"\s*({digits})\s*({unit})\s*", text)
    if match is None:
        return None
    return int(match.group(1)) * _UNIT[match.group(2) or str(bare)]


class Severity(enum.StrEnum):
    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"

    @property
    def label(self) -> str:
        return self.value.upper()

    @classmethod
    def parse(cls, text: str) -> Severity | None:
        """Read `sev2`, `SEV2` or `2`; None when the text is not a severity."""
        match = re.fullmatch(r"(?:sev)?([1-4])", text.strip().lower())
        return cls(f"sev{match.group(1)}") if match else None


@dataclass(frozen=True)
class Invocation:
    """Who asked, and where: the channel decides the default incident."""

    actor: UserId
    channel_id: str | None = None
