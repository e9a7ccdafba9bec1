"""Certificates made at test time with the `openssl` command line (the `cryptography`
package is not installed): a test CA and a server certificate it signed, or a server
certificate that signed itself. Each lasts two days and names `host` as an IP address."""

from __future__ import annotations

__all__ = ["make_ca_and_server_cert", "make_self_signed_cert"]

import subprocess
from pathlib import Path


def make_ca_and_server_cert(folder: Path, *, host: str = "127.0.0.1") -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signed for `host`: (ca.crt, server.crt, server.key)."""
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "san.ext"
    ext.write_text(f"subjectAltName=IP:{host}\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=Test Root CA", "-keyout", str(ca_key), "-out", str(ca_crt))  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(crt))  # fmt: skip
    return ca_crt, crt, key


def make_self_signed_cert(folder: Path, *, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A server certificate for `host` that signed itself: (self.crt, self.key)."""
    key, crt = folder / "self.key", folder / "self.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
             "-keyout", str(key), "-out", str(crt))  # fmt: skip
    return crt, key


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: S603,S607
