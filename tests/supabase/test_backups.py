"""SupabaseBackups against FakeSupabaseAPI, a local Management API on 127.0.0.1: the backup
list the gate reads, and the reasons it gives when it can't read one."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.errors import EvidenceUnavailable
from bot.gate.ports import Backup, BackupList, BackupsAPI
from bot.supabase.backups import SupabaseBackups
from tests.drivers.ports import free_port
from tests.fakes.supabase_api import DEFAULT_PROJECT_REF, FakeSupabaseAPI

TOKEN_HELP = "create a personal access token under Account → Access Tokens"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def supabase() -> AsyncIterator[FakeSupabaseAPI]:
    async with FakeSupabaseAPI() as fake:
        yield fake


def client_for(
    session: aiohttp.ClientSession,
    supabase: FakeSupabaseAPI,
    *,
    token: str | None = None,
    ref: str | None = None,
    timeout: float = 10.0,
) -> BackupsAPI:
    return SupabaseBackups(
        session,
        supabase.token if token is None else token,
        supabase.project_ref if ref is None else ref,
        supabase.url,
        timeout=timeout,
    )


async def refusal(api: BackupsAPI) -> EvidenceUnavailable:
    with pytest.raises(EvidenceUnavailable) as caught:
        await api.backups()
    return caught.value


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --------------------------------------------------------------------- what it reads
async def test_daily_backups_are_read_with_their_times_and_statuses(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.serve("backups_daily_completed.json")

    found = await client_for(session, supabase).backups()

    assert found == BackupList(
        region="eu-central-1",
        pitr_enabled=False,
        walg_enabled=True,
        backups=(
            Backup("4211", utc(2026, 11, 30, 3, 12, 45, 123000), "COMPLETED", True),
            Backup("4198", utc(2026, 11, 29, 3, 11, 2, 987000), "COMPLETED", True),
            Backup("4187", utc(2026, 11, 28, 3, 13, 30, 441000), "FAILED", True),
        ),
        earliest_physical_backup=None,
        latest_physical_backup=None,
    )


async def test_it_asks_for_this_project_s_backups_with_the_token(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    await client_for(session, supabase).backups()

    assert [(c.method, c.path, c.status) for c in supabase.calls] == [
        ("GET", f"/v1/projects/{supabase.project_ref}/database/backups", 200)
    ]
    assert supabase.calls[0].headers["Authorization"] == f"Bearer {supabase.token}"


async def test_with_pitr_the_recoverable_window_comes_from_the_unix_dates(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.serve("backups_pitr.json")

    found = await client_for(session, supabase).backups()

    assert (found.pitr_enabled, found.backups) == (True, ())
    assert found.earliest_physical_backup == utc(2025, 11, 26, 0, 0)
    assert found.latest_physical_backup == utc(2025, 11, 30, 22, 0)


async def test_the_recorded_answer_is_a_project_with_no_backups_yet(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    found = await client_for(session, supabase).backups()

    assert (found.region, found.pitr_enabled, found.walg_enabled) == ("us-east-1", False, True)
    assert found.backups == ()
    assert found.latest_physical_backup is None


async def test_a_status_supabase_adds_later_is_kept_upper_cased(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.add_backup(utc(2026, 11, 29, 3, 0), "completed")
    supabase.add_backup(utc(2026, 11, 30, 3, 0), "restoring")

    found = await client_for(session, supabase).backups()

    assert [b.status for b in found.backups] == ["RESTORING", "COMPLETED"]


async def test_every_time_becomes_utc_whatever_offset_it_was_written_with(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.backups = [
        {"id": 1, "inserted_at": "2026-11-30T04:12:45+01:00", "status": "COMPLETED"},
        {"id": 2, "inserted_at": "2026-11-29T03:12:45", "status": "COMPLETED"},
    ]

    found = await client_for(session, supabase).backups()

    assert [b.inserted_at for b in found.backups] == [
        utc(2026, 11, 30, 3, 12, 45),
        utc(2026, 11, 29, 3, 12, 45),
    ]
    assert [b.inserted_at.isoformat() for b in found.backups] == [
        "2026-11-30T03:12:45+00:00",
        "2026-11-29T03:12:45+00:00",
    ]
    assert [b.is_physical_backup for b in found.backups] == [False, False]  # not said: not one


async def test_a_physical_backup_date_that_is_not_a_number_is_not_known(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.serve("backups_pitr.json")
    supabase.physical_backup_data["earliest_physical_backup_date_unix"] = "last week"

    found = await client_for(session, supabase).backups()

    assert found.earliest_physical_backup is None
    assert found.latest_physical_backup == utc(2025, 11, 30, 22, 0)


# --------------------------------------------------------------------- refusals
async def test_a_wrong_token_is_refused_with_how_to_make_a_right_one(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    wrong = "sbp_ffffffffffffffffffffffffffffffffffffffff"

    error = await refusal(client_for(session, supabase, token=wrong))

    assert str(error) == f"Supabase refused SUPABASE_ACCESS_TOKEN (401): {TOKEN_HELP}"
    assert supabase.calls[0].status == 401


async def test_a_token_without_access_is_refused_the_same_way(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.answer_next(403, {"message": "Forbidden resource"})

    error = await refusal(client_for(session, supabase))

    assert str(error) == f"Supabase refused SUPABASE_ACCESS_TOKEN (403): {TOKEN_HELP}"


async def test_an_unknown_project_is_named_with_the_setting_to_check(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    error = await refusal(client_for(session, supabase, ref="zyxwvutsrqponmlkjihg"))

    assert str(error) == "no Supabase project zyxwvutsrqponmlkjihg: check SUPABASE_PROJECT_REF"


@pytest.mark.parametrize(
    ("retry_after", "reset", "said"),
    [
        (30.0, None, "try again in 30 s"),
        (2.2, 50.0, "try again in 3 s"),  # Retry-After wins, rounded up
        (None, 17.0, "try again in 17 s"),  # only x-ratelimit-reset
    ],
)
async def test_the_rate_limit_says_how_long_to_wait(
    session: aiohttp.ClientSession,
    supabase: FakeSupabaseAPI,
    retry_after: float | None,
    reset: float | None,
    said: str,
) -> None:
    supabase.rate_limit_next(retry_after=retry_after, reset=reset)

    error = await refusal(client_for(session, supabase))

    assert str(error) == f"Supabase's rate limit: {said}"
    assert len(supabase.calls) == 1  # no retry behind the gate's back


async def test_past_the_limit_the_wait_is_what_is_left_of_the_window(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeSupabaseAPI(limit=2, window=60.0) as supabase:
        api = client_for(session, supabase)
        await api.backups()
        await api.backups()

        error = await refusal(api)

    assert str(error) == "Supabase's rate limit: try again in 60 s"
    assert [c.status for c in supabase.calls] == [200, 200, 429]


@pytest.mark.parametrize(
    ("status", "body", "raw", "said"),
    [
        (
            503,
            {"message": "upstream unavailable"},
            None,
            "Supabase failed (503): upstream unavailable: try again later",
        ),
        (
            500,
            None,
            b"<html><h1>500 Internal Server Error</h1></html>",
            "Supabase failed (500): try again later",
        ),
        (
            400,
            {"message": "Invalid project ref format"},
            None,
            f"Supabase refused the backup list of project {DEFAULT_PROJECT_REF} (400): "
            "Invalid project ref format",
        ),
    ],
)
async def test_a_failure_or_another_refusal_keeps_supabase_s_words(
    session: aiohttp.ClientSession,
    supabase: FakeSupabaseAPI,
    status: int,
    body: Any,
    raw: bytes | None,
    said: str,
) -> None:
    supabase.answer_next(status, body, raw=raw)

    error = await refusal(client_for(session, supabase))

    assert str(error) == said


async def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    elsewhere = supabase.url + "/somewhere-else"
    supabase.answer_next(307, headers={"Location": elsewhere})

    error = await refusal(client_for(session, supabase))

    assert str(error) == (
        f"Supabase redirected the backup list (307) to {elsewhere}: "
        f"is {supabase.url} the API base, e.g. https://api.supabase.com?"
    )
    assert len(supabase.calls) == 1


# --------------------------------------------------------------------- no answer
async def test_a_slow_supabase_is_a_time_out_after_the_limit(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.delay(5)

    error = await refusal(client_for(session, supabase, timeout=0.3))

    assert str(error) == "Supabase didn't answer within 0.3 s"


async def test_nothing_listening_is_a_refused_connection(session: aiohttp.ClientSession) -> None:
    api = SupabaseBackups(
        session, "sbp_x" * 8, "abcdefghijklmnopqrst", f"http://127.0.0.1:{free_port()}"
    )

    error = await refusal(api)

    assert str(error) == "Supabase unreachable: connection refused"


async def test_an_unknown_host_is_named(session: aiohttp.ClientSession) -> None:
    api = SupabaseBackups(
        session, "sbp_x" * 8, "abcdefghijklmnopqrst", "https://api.supabase.invalid"
    )

    error = await refusal(api)

    # .invalid never resolves; with no DNS server at all the resolver says so instead
    assert str(error) == "Supabase unreachable: host not found: api.supabase.invalid" or str(
        error
    ).startswith("Supabase unreachable: DNS lookup failed for api.supabase.invalid: ")


# --------------------------------------------------------------------- wrong bodies
async def test_a_body_that_is_not_json_is_said_to_be_so(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.answer_next(200, raw=b"<html>Supabase is under maintenance</html>")

    error = await refusal(client_for(session, supabase))

    assert str(error) == "Supabase answered 200 with a body that is not JSON"


_FLAGS = {"region": "eu-central-1", "pitr_enabled": False, "walg_enabled": True}
_TIME = "2026-11-30T03:12:45Z"


def _listing(*backups: object) -> dict[str, Any]:
    return {**_FLAGS, "backups": list(backups)}


def _backup(**fields: object) -> dict[str, object]:
    return {"id": 1, "inserted_at": _TIME, "status": "COMPLETED", **fields}


def _without(field: str) -> dict[str, object]:
    return {k: v for k, v in _backup().items() if k != field}


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ([], "the body is not a JSON object"),
        ({**_FLAGS, "backups": None}, "`backups` is missing or not a list"),
        ({"walg_enabled": True, "backups": []}, "`pitr_enabled` is missing or not true/false"),
        ({**_listing(), "pitr_enabled": "false"}, "`pitr_enabled` is missing or not true/false"),
        (_listing("4211"), "backup 1 of 1 is not an object"),
        (_listing(_without("inserted_at")), "backup 1 of 1 has no readable `inserted_at` time"),
        (
            _listing(_backup(inserted_at="yesterday")),
            "backup 1 of 1 has no readable `inserted_at` time",
        ),
        (_listing(_backup(), _without("status")), "backup 2 of 2 has no status"),
        (_listing(_without("id")), "backup 1 of 1 has no id"),
        (_listing(_backup(id=True)), "backup 1 of 1 has no id"),
    ],
)
async def test_a_body_of_the_wrong_shape_says_what_is_wrong(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI, body: Any, wrong: str
) -> None:
    supabase.answer_next(200, body)

    error = await refusal(client_for(session, supabase))

    assert (
        str(error)
        == f"Supabase's backup list of project {supabase.project_ref} is unreadable: {wrong}"
    )


# --------------------------------------------------------------------- the token
async def test_the_token_is_never_in_a_reason_even_when_supabase_echoes_it(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI
) -> None:
    supabase.answer_next(400, {"message": f"malformed token {supabase.token}"})

    error = await refusal(client_for(session, supabase))

    assert supabase.token not in str(error)
    assert str(error).endswith("(400): malformed token [SUPABASE_ACCESS_TOKEN]")


@pytest.mark.parametrize("trouble", ["timeout", "refused"])
async def test_the_token_is_not_in_the_error_s_traceback_or_the_client_s_repr(
    session: aiohttp.ClientSession, supabase: FakeSupabaseAPI, trouble: str
) -> None:
    base = supabase.url if trouble == "timeout" else f"http://127.0.0.1:{free_port()}"
    supabase.delay(5)
    api = SupabaseBackups(session, supabase.token, supabase.project_ref, base, timeout=0.3)

    error = await refusal(api)

    shown = "".join(traceback.format_exception(error))
    assert "Supabase" in shown
    assert supabase.token not in shown
    assert supabase.token not in repr(api)
