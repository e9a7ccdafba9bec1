"""Every way a session token can be wrong, through the real SDK and a locally made key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.admission import Admitted, Refused
from bot.clerk.sessions import ClerkSessions
from tests.fakes.clerk_tokens import ISSUER, ClerkKeys, session_claims, unsigned

ORIGIN = "http://127.0.0.1:8080"
KEYS = ClerkKeys.generate()
OTHER = ClerkKeys.generate()


def _hs256_with_public_key(claims: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the public PEM."""
    head = unsigned(claims, {"alg": "HS256", "typ": "JWT"}).rsplit(".", 1)[0]
    sig = hmac.new(KEYS.public_pem.encode(), head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


def _now() -> int:
    return int(time.time())


Case = tuple[str, Callable[[], str | None], int | None, str]

CASES: list[Case] = [
    ("valid", lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN)), None, ""),
    (
        "lowercase bearer",
        lambda: "bearer " + KEYS.mint(session_claims(ORIGIN)),
        None,
        "",
    ),
    ("no header", lambda: None, 401, "session-token-missing"),
    ("empty bearer", lambda: "Bearer ", 401, "session-token-missing"),
    ("basic scheme", lambda: "Basic dXNlcjpwYXNz", 401, "session-token-missing"),
    (
        "expired",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, exp=_now() - 30)),
        401,
        "token-expired",
    ),
    (
        "exp inside the 5 s skew",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, exp=_now() - 2)),
        None,
        "",
    ),
    (
        "nbf in the future",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, nbf=_now() + 60)),
        401,
        "token-not-active-yet",
    ),
    (
        "wrong azp",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, azp="https://evil.example")),
        401,
        "token-invalid-authorized-parties",
    ),
    (
        "missing azp",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, azp=None)),
        401,
        "token-invalid-authorized-parties",
    ),
    (
        "wrong iss",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, iss="https://clerk.other.test")),
        401,
        "token-invalid-issuer",
    ),
    (
        "missing iss",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, iss=None)),
        401,
        "token-invalid-issuer",
    ),
    (
        "missing exp",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, exp=None)),
        401,
        "token-missing-claims",
    ),
    (
        "missing iat",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, iat=None)),
        401,
        "token-missing-claims",
    ),
    (
        "missing sub",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, sub=None)),
        401,
        "token-missing-claims",
    ),
    (
        "missing sid",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, sid=None)),
        401,
        "token-missing-claims",
    ),
    (
        "HS256 signed with the public key",
        lambda: "Bearer " + _hs256_with_public_key(session_claims(ORIGIN)),
        401,
        "token-invalid-algorithm",
    ),
    (
        "alg none",
        lambda: "Bearer " + unsigned(session_claims(ORIGIN), {"alg": "none", "typ": "JWT"}),
        401,
        "token-invalid-algorithm",
    ),
    (
        "another key",
        lambda: "Bearer " + OTHER.mint(session_claims(ORIGIN)),
        401,
        "token-invalid-signature",
    ),
    ("garbage", lambda: "Bearer not.a.token", 401, "token-invalid-algorithm"),
    (
        "sts pending",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, sts="pending")),
        401,
        "session-pending",
    ),
    (
        "a user not listed",
        lambda: "Bearer " + KEYS.mint(session_claims(ORIGIN, sub="user_mallory")),
        403,
        "not-allowed",
    ),
    (
        "an e-mail listed but not verified",
        lambda: (
            "Bearer " + KEYS.mint(session_claims(ORIGIN, sub="user_eve", email="ops@lucia.test"))
        ),
        403,
        "not-allowed",
    ),
    (
        "a verified e-mail listed",
        lambda: (
            "Bearer "
            + KEYS.mint(
                session_claims(ORIGIN, sub="user_eve", email="OPS@lucia.test", email_verified=True)
            )
        ),
        None,
        "",
    ),
    (
        "a member with the role (v2 o.rol)",
        lambda: (
            "Bearer "
            + KEYS.mint(
                session_claims(ORIGIN, sub="user_bob", o={"id": "org_lucia", "rol": "oncall"})
            )
        ),
        None,
        "",
    ),
    (
        "a member with the role (v1 org:oncall)",
        lambda: (
            "Bearer "
            + KEYS.mint(
                session_claims(
                    ORIGIN, sub="user_bob", v=None, org_id="org_lucia", org_role="org:oncall"
                )
            )
        ),
        None,
        "",
    ),
    (
        "a member without the role",
        lambda: (
            "Bearer "
            + KEYS.mint(
                session_claims(ORIGIN, sub="user_bob", o={"id": "org_lucia", "rol": "member"})
            )
        ),
        403,
        "not-allowed",
    ),
    (
        "the role in another organization",
        lambda: (
            "Bearer "
            + KEYS.mint(
                session_claims(ORIGIN, sub="user_bob", o={"id": "org_other", "rol": "admin"})
            )
        ),
        403,
        "not-allowed",
    ),
]


@pytest.fixture(scope="module")
def sessions() -> ClerkSessions:
    return ClerkSessions(
        KEYS.public_pem,
        ISSUER,
        [ORIGIN],
        users=["user_alice", "ops@lucia.test"],
        organization="org_lucia",
        roles=["admin", "org:oncall"],
    )


@pytest.mark.parametrize(
    ("authorization", "status", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_session_token(
    sessions: ClerkSessions,
    authorization: Callable[[], str | None],
    status: int | None,
    reason: str,
) -> None:
    result = await sessions.admit(authorization())
    if status is None:
        assert isinstance(result, Admitted), result
    else:
        assert isinstance(result, Refused), result
        assert (result.status, result.reason) == (status, reason)
        assert result.detail


async def test_admitted_names_the_user_and_session(sessions: ClerkSessions) -> None:
    token = KEYS.mint(session_claims(ORIGIN))
    assert await sessions.admit(f"Bearer {token}") == Admitted("user_alice", "sess_alice")
