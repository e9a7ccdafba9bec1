"""Who a request to the admin view comes from: the port between the admin routes
(`bot.web.admin_api`) and the adapter that checks Clerk's session tokens (`bot.clerk`)."""

from __future__ import annotations

__all__ = ["AdmissionCheck", "Admitted", "Refused"]

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Admitted:
    user: str  # Clerk's `sub` (`user_…`)
    session: str  # `sid` (`sess_…`), for the logs
    email: str | None = None  # a verified e-mail, when the session token carries one


@dataclass(frozen=True)
class Refused:
    status: Literal[401, 403]  # 401: no or bad token; 403: a good token, someone not allowed
    reason: str  # a short code (`token-expired`, `not-allowed`), safe to log and to answer
    detail: str  # one sentence for a person
    user: str | None = None  # `sub`, once the token was good


class AdmissionCheck(Protocol):
    async def admit(self, authorization: str | None) -> Admitted | Refused:
        """The `Authorization` header's value as sent (None: none was sent). Cookies never
        count."""
