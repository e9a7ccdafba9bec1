"""A chain survives `kill -9`: `lucia-bot serve` as a process, a routed Sentry alert opens
a SEV1, the first step pages, the process is killed, and the step that fell due while it
was down fires after the restart — once."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp

from tests.drivers.alerts import fatal_alert
from tests.drivers.ports import free_port
from tests.drivers.sentry import SECRET, signed
from tests.drivers.serve import start_serve
from tests.drivers.services import empty_postgres
from tests.drivers.waiting import until
from tests.fakes.ntfy import FakeNtfy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp import Mailbox, smtp_server

LUCIA_YAML = """
owners:
  owner: {name: Ana Lucia, slack: U01ALICE00, email: ana@lucia.example}
  infra: {name: Bob Infra, slack: U01BOBBY00, email: bob@lucia.example, push_topic: bob-93}
  fallback: {name: Dan Fallback, email: dan@lucia.example}
routing:
  - match: {level: [fatal], environment: [production]}
    action: incident
    severity: sev1
    page: [infra]
escalation:
  sev1:
    steps:
      - {roles: [owner], wait: 2s}
"""


def mailed(mailbox: Mailbox, address: str) -> int:
    return sum(m["To"].addresses[0].addr_spec == address for m in mailbox.messages())


async def test_a_step_due_during_a_kill_9_fires_once_after_the_restart(
    slack_api: FakeSlackAPI, tmp_path: Path
) -> None:
    (tmp_path / "lucia.yaml").write_text(LUCIA_YAML)
    mailbox = Mailbox()
    with smtp_server(mailbox) as smtp_port:
        async with FakeNtfy() as ntfy:
            env = {
                "PATH": os.environ["PATH"],
                "PORT": str(free_port()),
                "DATABASE_URL": await empty_postgres(),
                "SENTRY_CLIENT_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack_api.bot_token,
                "SLACK_SIGNING_SECRET": "kill-test",
                "SLACK_API_URL": slack_api.url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "SMTP_FROM": "oncall@lucia.example",
                "SMTP_TLS": "none",
                "NTFY_URL": ntfy.url,
                "LOG_LEVEL": "WARNING",
            }
            proc = await start_serve(env, tmp_path)
            try:
                body = fatal_alert()
                headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"http://127.0.0.1:{env['PORT']}/webhooks/sentry",
                        data=body,
                        headers=headers,
                    ) as response,
                ):
                    assert response.status == 200

                async def bob_paged() -> bool:  # the routing rule's role comes first
                    return mailed(mailbox, "bob@lucia.example") == 1 and bool(ntfy.delivered)

                await until(bob_paged)
            finally:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
            await asyncio.sleep(2.5)  # the owner's step falls due while nothing runs
            assert mailed(mailbox, "ana@lucia.example") == 0

            proc = await start_serve(env, tmp_path)
            try:

                async def ana_paged() -> bool:
                    return mailed(mailbox, "ana@lucia.example") == 1

                await until(ana_paged, limit=5)
                await asyncio.sleep(1.5)  # a tick or two more: nothing is sent again
            finally:
                proc.send_signal(signal.SIGTERM)
                await proc.wait()
    assert mailed(mailbox, "bob@lucia.example") == 1
    assert mailed(mailbox, "ana@lucia.example") == 1
    assert [p.topic for p in ntfy.delivered] == ["bob-93"]
