"""Clerk session tokens minted here, with an RSA key made for the test run: the claims of
a v2 session token (clerk.md §2), any of them overridden or dropped."""

from __future__ import annotations

__all__ = ["ISSUER", "ClerkKeys", "session_claims"]

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://clerk.lucia.test"


@dataclass(frozen=True)
class ClerkKeys:
    private_pem: bytes
    public_pem: str

    @classmethod
    def generate(cls) -> ClerkKeys:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(private, public.decode())

    def mint(self, claims: dict[str, Any], alg: str = "RS256") -> str:
        return jwt.encode(claims, self.private_pem, alg, headers={"kid": "ins_test"})


def session_claims(origin: str, **changes: Any) -> dict[str, Any]:
    """A valid session token's claims for `origin`; a change to None drops that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "azp": origin,
        "sub": "user_alice",
        "sid": "sess_alice",
        "iat": now - 5,
        "nbf": now - 10,
        "exp": now + 55,
        "v": 2,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token with any header and no real signature (alg none, say)."""

    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."
