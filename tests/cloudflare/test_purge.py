"""CloudflarePurge against FakeCloudflareAPI, a local API v4 on 127.0.0.1: the status
page's URLs purged in batches Cloudflare takes, and the reasons given when they aren't."""

from __future__ import annotations

import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.cloudflare.purge import DEFAULT_TIMEOUT, MAX_URLS_PER_REQUEST, CloudflarePurge
from bot.errors import CachePurgeFailed
from bot.status.ports import CachePurge
from tests.drivers.ports import free_port
from tests.fakes.cloudflare_api import DEFAULT_ZONE_ID, FakeCloudflareAPI

PAGE = "https://status.lucia.example"
URLS = [f"{PAGE}/status", f"{PAGE}/status/history", f"{PAGE}/api/v2/summary.json"]
TOKEN_REFUSED = "it needs the Cache Purge permission on the zone"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def cloudflare() -> AsyncIterator[FakeCloudflareAPI]:
    async with FakeCloudflareAPI() as fake:
        yield fake


def purge_for(
    session: aiohttp.ClientSession,
    cloudflare: FakeCloudflareAPI,
    *,
    token: str | None = None,
    zone: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    batch_size: int = MAX_URLS_PER_REQUEST,
) -> CachePurge:
    return CloudflarePurge(
        session,
        cloudflare.token if token is None else token,
        cloudflare.zone_id if zone is None else zone,
        cloudflare.url,
        timeout=timeout,
        batch_size=batch_size,
    )


async def failure(purge: CachePurge, urls: list[str] = URLS) -> CachePurgeFailed:
    with pytest.raises(CachePurgeFailed) as caught:
        await purge.purge(urls)
    return caught.value


def many(n: int) -> list[str]:
    return [f"{PAGE}/status/incidents/{i}" for i in range(1, n + 1)]


# --------------------------------------------------------------------- what it sends
async def test_a_purge_sends_every_url_to_the_zone_with_the_token(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    await purge_for(session, cloudflare).purge(URLS)

    assert cloudflare.purged == [URLS]
    [call] = cloudflare.calls
    assert (call.method, call.path, call.status) == (
        "POST",
        f"/client/v4/zones/{DEFAULT_ZONE_ID}/purge_cache",
        200,
    )
    assert call.headers["Authorization"] == f"Bearer {cloudflare.token}"
    assert call.headers["Content-Type"] == "application/json"
    assert call.body == {"files": URLS}


async def test_more_urls_than_one_call_takes_go_in_batches_of_30(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    urls = many(65)

    await purge_for(session, cloudflare).purge(urls)

    assert [len(batch) for batch in cloudflare.purged] == [30, 30, 5]
    assert cloudflare.purged_urls == urls
    assert MAX_URLS_PER_REQUEST == 30  # Free, Pro and Business plans


async def test_exactly_the_limit_is_one_call(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    await purge_for(session, cloudflare).purge(many(30))

    assert [len(batch) for batch in cloudflare.purged] == [30]


async def test_a_url_given_twice_is_purged_once(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    await purge_for(session, cloudflare).purge([*URLS, URLS[0]])

    assert cloudflare.purged == [URLS]


async def test_no_urls_is_no_call(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    await purge_for(session, cloudflare).purge([])

    assert cloudflare.calls == []


async def test_a_batch_over_cloudflare_s_limit_is_refused_with_its_words(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    error = await failure(purge_for(session, cloudflare, batch_size=31), many(31))

    assert str(error) == (
        "Cloudflare refused the purge (400): You may purge up to 30 files in one API call (1015)"
    )
    assert cloudflare.purged == []


async def test_a_failure_after_the_first_batch_says_how_many_were_purged(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    purge = purge_for(session, cloudflare)
    cloudflare.answer_next(200, {"success": True, "errors": [], "result": {"id": "a"}})
    cloudflare.fail_next(502, html=True)

    error = await failure(purge, many(45))

    assert str(error) == "Cloudflare failed (502) — 30 of 45 URLs were purged before that"
    assert [c.status for c in cloudflare.calls] == [200, 502]


# --------------------------------------------------------------------- refusals
async def test_a_wrong_token_names_the_setting_and_the_permission_it_needs(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    wrong = "Zz9" * 13 + "q"

    error = await failure(purge_for(session, cloudflare, token=wrong))

    assert str(error) == f"Cloudflare refused CLOUDFLARE_API_TOKEN (401): {TOKEN_REFUSED}"
    assert cloudflare.calls[0].status == 401


async def test_a_token_without_cache_purge_is_refused_the_same_way(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.permitted = False

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == f"Cloudflare refused CLOUDFLARE_API_TOKEN (403): {TOKEN_REFUSED}"
    assert cloudflare.purged == []


async def test_a_token_cloudflare_cannot_read_as_a_header_says_how_to_set_it(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    error = await failure(purge_for(session, cloudflare, token="Bearer=" + "x" * 8 + "=y"))

    assert str(error) == (
        "Cloudflare couldn't read CLOUDFLARE_API_TOKEN (400): Invalid request headers (6003); "
        "Invalid format for Authorization header (6111): "
        "set it to the API token alone, without `Bearer`"
    )


@pytest.mark.parametrize("token", ["", f"{'a' * 40}\n", "Bearer abc123", "abc 123"])
async def test_a_token_with_spaces_or_a_line_break_is_not_sent(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI, token: str
) -> None:
    error = await failure(purge_for(session, cloudflare, token=token))

    assert str(error) == (
        "CLOUDFLARE_API_TOKEN is empty or has spaces or a line break in it: "
        "set it to the API token alone"
    )
    assert cloudflare.calls == []


async def test_an_unknown_zone_names_cloudflare_zone_id(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    other = "f" * 32

    error = await failure(purge_for(session, cloudflare, zone=other))

    assert str(error) == (
        f"Cloudflare knows no zone {other} (404): check CLOUDFLARE_ZONE_ID "
        "(the Zone ID on the domain's Overview page)"
    )


async def test_an_identifier_that_routes_nowhere_names_the_zone_whatever_the_status(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.answer_next(
        400,
        {
            "success": False,
            "errors": [{"code": 7003, "message": "Could not route to /zones/x/purge_cache"}],
        },
    )

    error = await failure(purge_for(session, cloudflare))

    assert "check CLOUDFLARE_ZONE_ID" in str(error)
    assert str(error).startswith(f"Cloudflare knows no zone {DEFAULT_ZONE_ID} (400)")


async def test_a_path_that_is_no_endpoint_names_cloudflare_api_url(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    without_version = cloudflare.base  # CLOUDFLARE_API_URL without /client/v4
    purge = CloudflarePurge(session, cloudflare.token, cloudflare.zone_id, without_version)

    error = await failure(purge)

    assert str(error) == (
        f"Cloudflare has no purge endpoint at {without_version} (404): is CLOUDFLARE_API_URL "
        "the API base, e.g. https://api.cloudflare.com/client/v4?"
    )


async def test_a_bare_404_names_both_settings_it_could_be(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.answer_next(404, raw=b"<html>Not Found</html>")

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == (
        f"Cloudflare found no zone {DEFAULT_ZONE_ID} at {cloudflare.url} (404): check "
        "CLOUDFLARE_ZONE_ID (the Zone ID on the domain's Overview page) and CLOUDFLARE_API_URL"
    )


async def test_a_200_that_says_success_false_is_a_failure_with_cloudflare_s_words(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.refuse_next(1134, "Purge request failed")

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == (
        "Cloudflare didn't purge (200, success: false): Purge request failed (1134)"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [], "result": {"id": "a"}},  # no `success` at all
        {"success": "true", "errors": []},  # not a boolean
        [{"success": True}],  # not the envelope
    ],
)
async def test_a_200_that_does_not_say_success_true_is_not_taken_for_a_purge(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI, body: Any
) -> None:
    cloudflare.answer_next(200, body)

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == "Cloudflare's answer (200) doesn't say the purge succeeded"


async def test_a_short_rate_limit_wait_is_waited_once_and_the_purge_goes_through(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.rate_limit_next(retry_after=0.3)
    started = time.monotonic()

    await purge_for(session, cloudflare).purge(URLS)

    assert [c.status for c in cloudflare.calls] == [429, 200]
    assert cloudflare.calls[1].at - cloudflare.calls[0].at >= 0.3
    assert time.monotonic() - started < 2
    assert cloudflare.purged == [URLS]


async def test_a_second_rate_limit_after_the_retry_says_the_wait(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.rate_limit_next(retry_after=0.2)
    cloudflare.rate_limit_next(retry_after=1)

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == "Cloudflare's purge rate limit: try again in 1 s"
    assert [c.status for c in cloudflare.calls] == [429, 429]  # one retry, no more


@pytest.mark.parametrize(
    ("retry_after", "said"),
    [
        (30.0, "try again in 30 s"),
        (2.5, "try again in 3 s"),  # over the 2 s worth waiting; rounded up
        (None, "try again in a minute"),
    ],
)
async def test_a_longer_or_unknown_rate_limit_wait_is_said_not_waited(
    session: aiohttp.ClientSession,
    cloudflare: FakeCloudflareAPI,
    retry_after: float | None,
    said: str,
) -> None:
    cloudflare.rate_limit_next(retry_after=retry_after)

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == f"Cloudflare's purge rate limit: {said}"
    assert len(cloudflare.calls) == 1


@pytest.mark.parametrize(
    ("status", "html", "said"),
    [
        (500, False, "Cloudflare failed (500): Internal error (10001)"),
        (502, True, "Cloudflare failed (502)"),
        (503, True, "Cloudflare failed (503)"),
    ],
)
async def test_cloudflare_failing_is_said_with_its_status_and_is_not_repeated(
    session: aiohttp.ClientSession,
    cloudflare: FakeCloudflareAPI,
    status: int,
    html: bool,
    said: str,
) -> None:
    cloudflare.fail_next(status, html=html)

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == said
    assert len(cloudflare.calls) == 1


async def test_a_200_whose_body_is_not_json_is_said_to_be_so(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.answer_next(200, raw=b"<html>Just a moment...</html>")

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == "Cloudflare answered 200 with a body that is not JSON"


async def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    elsewhere = cloudflare.base + "/elsewhere"
    cloudflare.answer_next(301, headers={"Location": elsewhere})

    error = await failure(purge_for(session, cloudflare))

    assert str(error) == (
        f"Cloudflare redirected the purge (301) to {elsewhere}: is CLOUDFLARE_API_URL "
        "the API base, e.g. https://api.cloudflare.com/client/v4?"
    )
    assert len(cloudflare.calls) == 1


# --------------------------------------------------------------------- no answer
async def test_a_cloudflare_that_never_answers_is_a_time_out(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.hang()

    error = await failure(purge_for(session, cloudflare, timeout=0.3))

    assert str(error) == "Cloudflare didn't answer within 0.3 s"
    assert DEFAULT_TIMEOUT == 5.0  # short: someone is waiting for the publish


async def test_nothing_listening_is_a_refused_connection(session: aiohttp.ClientSession) -> None:
    purge = CloudflarePurge(session, "t" * 40, DEFAULT_ZONE_ID, f"http://127.0.0.1:{free_port()}")

    error = await failure(purge)

    assert str(error) == "Cloudflare unreachable: connection refused"


async def test_an_unknown_host_is_named(session: aiohttp.ClientSession) -> None:
    purge = CloudflarePurge(session, "t" * 40, DEFAULT_ZONE_ID, "https://api.cloudflare.invalid")

    error = await failure(purge)

    # .invalid never resolves; with no DNS server at all the resolver says so instead
    assert str(error) == "Cloudflare unreachable: host not found: api.cloudflare.invalid" or str(
        error
    ).startswith("Cloudflare unreachable: DNS lookup failed for api.cloudflare.invalid: ")


async def test_an_api_address_that_is_not_a_url_names_the_setting(
    session: aiohttp.ClientSession,
) -> None:
    purge = CloudflarePurge(session, "t" * 40, DEFAULT_ZONE_ID, "api.cloudflare.com/client/v4")

    error = await failure(purge)

    assert str(error) == ("CLOUDFLARE_API_URL 'api.cloudflare.com/client/v4' is not an http(s) URL")


# --------------------------------------------------------------------- the token
async def test_the_token_is_never_in_a_reason_even_when_cloudflare_echoes_it(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI
) -> None:
    cloudflare.answer_next(
        400, {"success": False, "errors": [{"code": 1, "message": f"bad {cloudflare.token}"}]}
    )

    error = await failure(purge_for(session, cloudflare))

    assert cloudflare.token not in str(error)
    assert str(error) == "Cloudflare refused the purge (400): bad [CLOUDFLARE_API_TOKEN] (1)"


@pytest.mark.parametrize("trouble", ["timeout", "refused", "401", "403", "429", "500"])
async def test_the_token_is_not_in_the_error_its_traceback_or_the_purge_s_repr(
    session: aiohttp.ClientSession, cloudflare: FakeCloudflareAPI, trouble: str
) -> None:
    base = cloudflare.url if trouble != "refused" else f"http://127.0.0.1:{free_port()}"
    token = cloudflare.token
    if trouble == "timeout":
        cloudflare.hang()
    elif trouble == "401":
        token = "Q" * 40
    elif trouble == "403":
        cloudflare.permitted = False
    elif trouble == "429":
        cloudflare.rate_limit_next(retry_after=60)
    elif trouble == "500":
        cloudflare.fail_next(500)
    purge = CloudflarePurge(session, token, cloudflare.zone_id, base, timeout=0.3)

    error = await failure(purge)

    shown = "".join(traceback.format_exception(error))
    assert "Cloudflare" in shown
    assert token not in shown
    assert token not in repr(purge)
