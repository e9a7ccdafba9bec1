"""The bot's own errors reach Sentry when SENTRY_DSN is set, with secrets scrubbed."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.observability import scrub

_RAISE_WITH_A_TOKEN = textwrap.dedent(
    """
    import sentry_sdk
    from bot.settings import load_settings
    from bot.observability import init_sentry
    import os
    assert init_sentry(load_settings(os.environ))
    token = "xoxb-1234-5678-abcdefghijkl"
    try:
        raise RuntimeError(f"Slack said no to {token}")
    except RuntimeError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(5)
    """
)


@pytest.fixture
async def sentry_endpoint() -> AsyncIterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    async def envelope(request: web.Request) -> web.Response:
        body = await request.read()
        received.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/api/42/envelope/", envelope)
    async with TestServer(app, host="127.0.0.1") as server:
        yield f"http://publickey@127.0.0.1:{server.port}/42", received


async def test_errors_are_sent_with_release_and_without_tokens(
    sentry_endpoint: tuple[str, list[bytes]],
) -> None:
    dsn, received = sentry_endpoint
    env = {
        "PATH": os.environ["PATH"],
        "SENTRY_DSN": dsn,
        "SENTRY_ENVIRONMENT": "staging",
        "RENDER_GIT_COMMIT": "abc123",
    }
    # A separate process: sentry-sdk patches aiohttp globally once initialised.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _RAISE_WITH_A_TOKEN,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    sent = b"".join(received).decode()
    assert "Slack said no to [Filtered]" in sent
    assert "xoxb-1234" not in sent
    assert '"release":"abc123"' in sent.replace(" ", "")
    assert '"environment":"staging"' in sent.replace(" ", "")


def test_scrub_removes_secret_shapes() -> None:
    event = {
        "message": "hook https://hooks.slack.com/commands/T1/2/abc and Bearer rnd_secret",
        "extra": {"url": "postgresql://postgres.ref:pa55word@pooler.supabase.com:5432/db"},
    }
    scrubbed = str(scrub(event, {}))  # type: ignore[arg-type]
    assert "hooks.slack.com/commands" not in scrubbed
    assert "rnd_secret" not in scrubbed
    assert "pa55word" not in scrubbed
