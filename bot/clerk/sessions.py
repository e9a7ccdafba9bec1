"""`ClerkSessions`: is this `Authorization: Bearer <session token>` someone allowed into
the admin view?

`clerk-backend-api` checks the signature against the PEM key (networkless; RS256 only),
`exp`/`nbf` with its 5 s skew and `azp` against the admin view's origin. It skips the
rest, which is checked here: `iss` equal to the instance's, `exp`, `iat`, `sub` and `sid`
present, `sts` not `pending`, and a header alg of RS256 (see docs/reference clerk.md §1.4).
Only the header is read: a `__session` cookie never authorises anything.
"""

from __future__ import annotations

__all__ = ["ClerkSessions"]

import base64
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from clerk_backend_api.security import authenticate_request_async
from clerk_backend_api.security.types import AuthenticateRequestOptions, AuthStatus

from bot.admission import Admitted, Refused

_DETAIL = {
    "session-token-missing": "Sign in: this needs an Authorization: Bearer <session token> header.",
    "token-expired": "The session token has expired: sign in again.",
    "token-not-active-yet": "The session token isn't valid yet (nbf in the future).",
    "token-invalid-authorized-parties": "The session token was made for another origin (azp).",
    "token-invalid-issuer": "The session token comes from another Clerk instance (iss).",
    "token-missing-claims": "The session token lacks a claim it must have.",
    "session-pending": "The session is pending: finish signing in first.",
    "token-invalid-algorithm": "The session token isn't signed with RS256.",
}


@dataclass(frozen=True)
class _Headers:
    """What the SDK reads a request through: its headers, and here only Authorization."""

    headers: Mapping[str, str] = field(default_factory=dict)


class ClerkSessions:
    def __init__(
        self,
        jwt_key: str,
        issuer: str,
        origins: Collection[str],
        *,
        users: Collection[str] = (),
        organization: str | None = None,
        roles: Collection[str] = (),
    ) -> None:
        self._options = AuthenticateRequestOptions(
            jwt_key=jwt_key,
            authorized_parties=list(origins),
            accepts_token=["session_token"],
        )
        self._issuer = issuer.rstrip("/")
        self._users = {u.strip().lower() for u in users}
        self._organization = organization
        self._roles = {r.removeprefix("org:") for r in roles}

    async def admit(self, authorization: str | None) -> Admitted | Refused:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if not token.strip():
            return _unauthorized("session-token-missing")
        if scheme.lower() != "bearer":  # the scheme is case-insensitive (RFC 9110 §11.1)
            return _unauthorized("session-token-missing")
        token = token.strip()
        if _algorithm(token) != "RS256":
            return _unauthorized("token-invalid-algorithm")
        state = await authenticate_request_async(
            _Headers({"Authorization": f"Bearer {token}"}), self._options
        )
        if state.status is not AuthStatus.SIGNED_IN or state.payload is None:
            return _unauthorized(_reason_code(state.reason))
        claims: dict[str, Any] = state.payload
        if str(claims.get("iss", "")).rstrip("/") != self._issuer:
            return _unauthorized("token-invalid-issuer")
        if any(not claims.get(name) for name in ("exp", "iat", "sub", "sid")):
            return _unauthorized("token-missing-claims")
        if claims.get("sts") == "pending":
            return _unauthorized("session-pending")
        user, session = str(claims["sub"]), str(claims["sid"])
        email = _verified_email(claims)
        if self._allowed(user, email, claims):
            return Admitted(user, session, email)
        return Refused(
            403,
            "not-allowed",
            "You are signed in, but not allowed into Lucia's admin view: ask to be added "
            "to admin_view in lucia.yaml.",
            user=user,
        )

    def _allowed(self, user: str, email: str | None, claims: Mapping[str, Any]) -> bool:
        if user.lower() in self._users or (email is not None and email.lower() in self._users):
            return True
        if self._organization is None or claims.get("org_id") != self._organization:
            return False
        role = str(claims.get("org_role") or "").removeprefix("org:")
        return role in self._roles


def _reason_code(reason: object) -> str:
    """The SDK's reasons are enums whose values are (code, sentence) pairs."""
    value = getattr(reason, "value", reason)
    if isinstance(value, tuple) and value:
        return str(value[0])
    return str(value) if value else "token-invalid"


def _unauthorized(reason: str) -> Refused:
    return Refused(401, reason, _DETAIL.get(reason, "The session token isn't valid."))


def _algorithm(token: str) -> str | None:
    """The token's header `alg`, read before the SDK does: only RS256 is ever accepted."""
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except ValueError:
        return None
    return header.get("alg") if isinstance(header, dict) else None


def _verified_email(claims: Mapping[str, Any]) -> str | None:
    """An e-mail counts only if the session token says it is verified: Clerk's session
    token carries it only when the instance adds it as custom claims (see README)."""
    email = claims.get("email")
    if isinstance(email, str) and claims.get("email_verified") is True:
        return email
    return None
