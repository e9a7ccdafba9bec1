"""HttpUrlProbe against FakeWebSites, local sites on 127.0.0.1 over HTTP and TLS: what the
gate is told about a URL, in the words an operator reads."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.gate.ports import UrlProbe
from bot.probe.url import HttpUrlProbe
from tests.drivers.ports import free_port
from tests.fakes.certificates import make_ca_and_server_cert, make_self_signed_cert
from tests.fakes.web_sites import ACCESS_LOGIN, FakeWebSites


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("certificates")
    ca, crt, key = make_ca_and_server_cert(folder)
    self_crt, self_key = make_self_signed_cert(folder)
    return {"ca": ca, "crt": crt, "key": key, "self_crt": self_crt, "self_key": self_key}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        yield client


@pytest.fixture
async def site() -> AsyncIterator[FakeWebSites]:
    async with FakeWebSites() as fake:
        yield fake


@pytest.fixture
async def ca_site(certificates: dict[str, Path]) -> AsyncIterator[FakeWebSites]:
    async with FakeWebSites(certificate=(certificates["crt"], certificates["key"])) as fake:
        yield fake


@pytest.fixture
async def self_signed_site(certificates: dict[str, Path]) -> AsyncIterator[FakeWebSites]:
    pair = (certificates["self_crt"], certificates["self_key"])
    async with FakeWebSites(certificate=pair) as fake:
        yield fake


def probe(session: aiohttp.ClientSession, ca_file: Path | None = None) -> UrlProbe:
    return HttpUrlProbe(session, ca_file=ca_file)


# --------------------------------------------------------------------- HTTP answers
async def test_an_open_page_is_its_200_with_the_time_it_took(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    seen = await probe(session).look(site.url("/open"), within=5)

    assert (seen.url, seen.status, seen.location, seen.problem) == (
        site.url("/open"),
        200,
        None,
        None,
    )
    assert 0 < seen.elapsed_ms < 5000


async def test_cloudflare_access_shows_as_its_302_to_the_sign_in_page_not_followed(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    seen = await probe(session).look(site.url("/access"), within=5)

    assert (seen.status, seen.location, seen.problem) == (302, ACCESS_LOGIN, None)


async def test_a_relative_redirect_is_made_absolute_and_its_target_never_asked(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    seen = await probe(session).look(site.url("/sign-in-here"), within=5)

    assert seen.status == 302
    assert seen.location == site.url("/sign-in?next=%2Fsign-in-here")
    assert site.requested("/sign-in") == []  # the sign-in page's 200 would hide the gate


@pytest.mark.parametrize(
    ("path", "status"), [("/forbidden", 403), ("/password", 401), ("/broken", 500)]
)
async def test_a_refusal_or_a_failure_is_the_status_the_site_answered(
    session: aiohttp.ClientSession, site: FakeWebSites, path: str, status: int
) -> None:
    seen = await probe(session).look(site.url(path), within=5)

    assert (seen.status, seen.location, seen.problem) == (status, None, None)


async def test_the_look_is_one_get_without_credentials(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    await probe(session).look(site.url("/password"), within=5)

    assert [(r.method, r.path) for r in site.requests] == [("GET", "/password")]
    sent = site.requests[0].headers
    assert "Authorization" not in sent
    assert "Cookie" not in sent


async def test_a_page_whose_body_never_ends_still_reads_as_its_status_in_time(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    seen = await probe(session).look(site.url("/endless"), within=2)

    assert (seen.status, seen.problem) == (200, None)
    assert seen.elapsed_ms < 2000


# --------------------------------------------------------------------- no answer
async def test_a_site_that_never_answers_is_a_time_out_after_the_limit(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    seen = await probe(session).look(site.url("/hang"), within=0.4)

    assert (seen.status, seen.problem) == (None, "timed out after 0.4 s")
    assert 350 <= seen.elapsed_ms < 2000
    assert len(site.requested("/hang")) == 1


async def test_nothing_listening_is_a_refused_connection(session: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/healthz"

    seen = await probe(session).look(url, within=5)

    assert (seen.url, seen.status, seen.problem) == (url, None, "connection refused")


async def test_an_unknown_host_is_named(session: aiohttp.ClientSession) -> None:
    seen = await probe(session).look("https://lucia-staging.invalid/", within=5)

    assert seen.status is None
    # .invalid never resolves; with no DNS server at all the resolver says so instead
    assert seen.problem == "host not found: lucia-staging.invalid" or (
        seen.problem or ""
    ).startswith("DNS lookup failed for lucia-staging.invalid: ")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("staging.lucia.example", "not a URL: 'staging.lucia.example'"),
        ("https://", "not a URL: 'https://'"),
        ("https://127.0.0.1:99999/", "not a URL: 'https://127.0.0.1:99999/'"),
        (
            "ftp://staging.lucia.example/",
            "not an http or https URL: 'ftp://staging.lucia.example/'",
        ),
    ],
)
async def test_a_string_that_is_not_a_web_url_is_said_to_be_one(
    session: aiohttp.ClientSession, url: str, problem: str
) -> None:
    seen = await probe(session).look(url, within=5)

    assert (seen.url, seen.status, seen.problem) == (url, None, problem)


# --------------------------------------------------------------------- TLS
async def test_a_self_signed_certificate_is_refused_with_the_reason(
    session: aiohttp.ClientSession, self_signed_site: FakeWebSites
) -> None:
    seen = await probe(session).look(self_signed_site.url("/open"), within=5)

    assert (seen.status, seen.problem) == (
        None,
        "certificate verify failed: self-signed certificate",
    )
    assert self_signed_site.requests == []  # no request went over the untrusted connection


async def test_a_certificate_from_an_unknown_ca_is_refused_with_the_reason(
    session: aiohttp.ClientSession, ca_site: FakeWebSites
) -> None:
    seen = await probe(session).look(ca_site.url("/open"), within=5)

    assert (seen.status, seen.problem) == (
        None,
        "certificate verify failed: unable to get local issuer certificate",
    )


async def test_a_certificate_from_the_trusted_ca_passes_and_the_page_is_seen(
    session: aiohttp.ClientSession, ca_site: FakeWebSites, certificates: dict[str, Path]
) -> None:
    trusting = probe(session, ca_file=certificates["ca"])

    open_page = await trusting.look(ca_site.url("/open"), within=5)
    access = await trusting.look(ca_site.url("/access"), within=5)

    assert (open_page.status, open_page.problem) == (200, None)
    assert ca_site.url("/open").startswith("https://")
    assert (access.status, access.location) == (302, ACCESS_LOGIN)


async def test_a_trusted_certificate_for_another_name_is_refused(
    session: aiohttp.ClientSession, ca_site: FakeWebSites, certificates: dict[str, Path]
) -> None:
    if not _resolves_to_loopback_v4("localhost"):
        pytest.fail("this test needs localhost to resolve to 127.0.0.1")
    url = ca_site.url("/open").replace("127.0.0.1", "localhost")  # the certificate names the IP

    seen = await probe(session, ca_file=certificates["ca"]).look(url, within=5)

    assert seen.status is None
    assert seen.problem == (
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'."
    )


async def test_https_to_a_plain_http_port_is_a_failed_handshake(
    session: aiohttp.ClientSession, site: FakeWebSites
) -> None:
    url = site.url("/open").replace("http://", "https://")

    seen = await probe(session).look(url, within=5)

    assert (seen.status, seen.problem) == (None, "TLS handshake failed: wrong version number")


def _resolves_to_loopback_v4(host: str) -> bool:
    return any(info[4][0] == "127.0.0.1" for info in socket.getaddrinfo(host, None))
