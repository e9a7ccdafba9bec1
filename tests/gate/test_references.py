"""The `references` item: each URL looked at anonymously by the real probe, against local
web sites (tests/fakes/web_sites.py): staging must be private, production public, the
runbook and rollback doc must exist, and the vault location is never fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.gate.model import ItemResult, Verdict
from tests.drivers.core import FakeClock
from tests.drivers.gate import evidence, gate_runtime, item, lucia_yaml
from tests.fakes.certificates import make_ca_and_server_cert, make_self_signed_cert
from tests.fakes.web_sites import FakeWebSites

VAULT = "/vault/lucia-ops"  # a path the site would answer, were it ever asked


def references(sites: FakeWebSites, **urls: str) -> dict[str, str]:
    """Every reference answering as it must, but for those given (path or full URL)."""
    paths = {
        "staging_url": "/access",
        "staging_api_url": "/forbidden",
        "production_app_url": "/open",
        "production_api_url": "/open",
        "status_page": "/open",
        "runbook": "/open",
        "rollback_doc": "/sign-in-here",
        "vault_location": VAULT,
    } | urls
    return {
        key: value if value.startswith(("https://", "http://")) or not value else sites.url(value)
        for key, value in paths.items()
    }


def config(folder: Path, refs: dict[str, str]) -> Path:
    lines = "".join(f"  {key}: '{value}'\n" for key, value in refs.items() if value)
    return lucia_yaml(
        folder,
        "gate:\n"
        "  fetch_timeout: 0.5\n"
        "  phases:\n"
        "    staging:\n"
        "      items: [references]\n"
        "references:\n" + lines,
    )


async def looked(
    folder: Path, postgres_url: str, clock: FakeClock, refs: dict[str, str]
) -> ItemResult:
    async with gate_runtime(postgres_url, config(folder, refs), clock=clock) as gate:
        return item(await gate.check(), "references")


async def test_every_reference_answering_as_it_must_passes_and_the_vault_is_never_fetched(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    async with gate_runtime(postgres_url, config(tmp_path, references(sites)), clock=clock) as g:
        evaluation = await g.check()

    result = item(evaluation, "references")
    assert result.verdict is Verdict.PASS, result.reason
    assert evaluation.verdict == "GO"
    assert evidence(result, "staging_url").reason.startswith(
        "sends anonymous requests to sign in (302 to https://lucia.cloudflareaccess.com/"
    )
    assert evidence(result, "staging_api_url").reason == "refuses anonymous requests (403)"
    assert evidence(result, "production_app_url").reason == "answers 200 to anyone"
    assert evidence(result, "rollback_doc").reason.startswith("exists behind a sign-in (302 to ")
    vault = evidence(result, "vault_location")
    assert vault.reason == "filled in (a pointer: never fetched)"
    assert sites.requested(VAULT) == []
    assert len(sites.requests) == 7  # one anonymous look at each other reference
    sent = [r.headers for r in sites.requests]
    assert not [h for h in sent if "Authorization" in h or "Cookie" in h]  # anonymous looks


async def test_staging_answering_200_to_anyone_fails_as_publicly_reachable(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    result = await looked(tmp_path, postgres_url, clock, references(sites, staging_url="/open"))

    assert result.verdict is Verdict.FAIL
    assert result.reason == "staging_url: answers 200 to anyone: staging is publicly reachable"


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (
            "/access",
            "sends anonymous requests to sign in (302 to https://lucia.cloudflareaccess.com",
        ),
        ("/forbidden", "refuses anonymous requests (403)"),
        ("/password", "refuses anonymous requests (401)"),
    ],
)
async def test_staging_behind_access_or_refusing_passes(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites, path: str, said: str
) -> None:
    async with gate_runtime(
        postgres_url, config(tmp_path, references(sites, staging_url=path)), clock=clock
    ) as gate:
        result = item(await gate.check(), "references")

    assert result.verdict is Verdict.PASS, result.reason
    assert evidence(result, "staging_url").reason.startswith(said)
    assert evidence(result, "staging_url").seen["status"] == int(said.split("(")[1][:3])


async def test_a_production_app_answering_500_fails(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    result = await looked(
        tmp_path, postgres_url, clock, references(sites, production_app_url="/broken")
    )

    assert result.verdict is Verdict.FAIL
    assert result.reason == "production_app_url: answers 500: it must answer 2xx publicly"


async def test_a_url_that_never_answers_is_unknown_never_pass(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    result = await looked(tmp_path, postgres_url, clock, references(sites, status_page="/hang"))

    assert result.verdict is Verdict.UNKNOWN
    assert result.reason == "status_page: no answer: timed out after 0.5 s"
    assert len(sites.requested("/hang")) == 1


async def test_an_untrusted_certificate_is_unknown_saying_so_and_a_trusted_one_passes(
    tmp_path: Path,
    postgres_url: str,
    clock: FakeClock,
    sites: FakeWebSites,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca, trusted_crt, trusted_key = make_ca_and_server_cert(tmp_path)
    self_crt, self_key = make_self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the probe trusts the test CA, as a system root
    async with (
        FakeWebSites(certificate=(trusted_crt, trusted_key)) as trusted,
        FakeWebSites(certificate=(self_crt, self_key)) as self_signed,
    ):
        refs = references(
            sites, production_app_url=trusted.url("/open"), runbook=self_signed.url("/open")
        )
        result = await looked(tmp_path, postgres_url, clock, refs)
        asked = (len(trusted.requested("/open")), len(self_signed.requested("/open")))

    assert result.verdict is Verdict.UNKNOWN
    assert evidence(result, "production_app_url").verdict is Verdict.PASS
    assert result.reason == "runbook: no answer: certificate verify failed: self-signed certificate"
    assert asked == (1, 0)  # the self-signed site never got a request: the handshake stopped


async def test_an_empty_reference_fails_naming_refs_set(
    tmp_path: Path, postgres_url: str, clock: FakeClock, sites: FakeWebSites
) -> None:
    result = await looked(tmp_path, postgres_url, clock, references(sites, rollback_doc=""))

    assert result.verdict is Verdict.FAIL
    assert result.reason == "rollback_doc: not filled in: `/lucia refs set rollback_doc <value>`"
