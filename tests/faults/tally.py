"""What a user would count after a fault, read from the database the bot writes (straight,
not through a fault proxy) and from the fake Slack: alerts answered 2xx but in no group,
alerts counted twice, groups per key, Slack messages per notice, pages per person."""

from __future__ import annotations

__all__ = [
    "FOLD_WINDOW",
    "AlertTally",
    "alert_tally",
    "notice_problems",
    "redis_prefix",
    "rows",
    "settle_alerts",
]

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.sentry_load import Ledger

# Seconds of repeats Redis answered `counted` that a fold may not have taken yet (a fold
# runs a second after a count): what a Redis that loses its data takes with it.
FOLD_WINDOW = 2.0


async def rows(database_url: str, query: str, *args: object) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def redis_prefix(database_url: str) -> str:
    """The bot's Redis key prefix: `lucia:<the database's deployment id>:`."""
    (row,) = await rows(database_url, "SELECT namespace FROM deployment")
    return f"lucia:{row['namespace']}:"


async def settle_alerts(
    database_url: str,
    redis_url: str | None = None,
    prefix: str | None = None,
    *,
    limit: float = 8.0,
) -> str:
    """Wait until every kept delivery is read, Redis holds no unfolded count and every
    alert message shows its latest version; return what was still pending if not."""
    deadline = time.monotonic() + limit
    client = aioredis.from_url(redis_url, decode_responses=True) if redis_url else None
    pending = ""
    calm = 0
    try:
        while time.monotonic() < deadline:
            (unread,) = await rows(
                database_url,
                "SELECT count(*) AS n FROM alert_deliveries WHERE processed_at IS NULL",
            )
            (unsent,) = await rows(
                database_url,
                "SELECT count(*) AS n FROM alert_notices WHERE sent_version < version",
            )
            unfolded, lock = 0, ""
            if client is not None and prefix is not None:
                try:
                    unfolded = await client.exists(
                        prefix + "repeats", prefix + "folding", prefix + "fold-lock"
                    )
                    ttl = await client.pttl(prefix + "fold-lock")
                    lock = f" (the fold lock is held {ttl / 1000:.0f} s more)" if ttl > 0 else ""
                except (OSError, aioredis.RedisError) as exc:
                    unfolded, lock = -1, f" (Redis unreadable: {exc!r})"
            pending = (
                f"{unread['n']} deliveries unread, {unsent['n']} alert messages behind, "
                f"{unfolded} Redis count keys unfolded{lock}"
            )
            if unread["n"] == 0 and unsent["n"] == 0 and unfolded == 0:
                calm += 1
                if calm >= 2:  # two quiet looks in a row
                    return ""
            else:
                calm = 0
            await asyncio.sleep(0.3)
    finally:
        if client is not None:
            await client.aclose()
    return pending


@dataclass
class AlertTally:
    """Per alert key: webhooks sent, answered 2xx, and counted on the key's groups."""

    sent: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    firing_groups: dict[str, int] = field(default_factory=dict)
    stray_keys: list[str] = field(default_factory=list)  # groups no webhook asked for
    pending: str = ""  # what had not settled when counted

    @property
    def lost(self) -> int:
        """Answered 2xx, yet not counted on any group: Sentry won't send them again."""
        return sum(max(0, self.answered[k] - self.counted.get(k, 0)) for k in self.answered)

    @property
    def duplicated(self) -> int:
        """Counted more times than they were even sent."""
        return sum(max(0, self.counted.get(k, 0) - self.sent[k]) for k in self.sent)

    @property
    def unacknowledged_but_kept(self) -> int:
        """Answered with an error (or not at all) yet counted: not a loss, but Sentry's log
        shows a failure for an alert the bot has."""
        return sum(
            max(0, min(self.counted.get(k, 0), self.sent[k]) - self.answered[k]) for k in self.sent
        )

    @property
    def split_groups(self) -> int:
        """Keys with more than one firing group (the database allows one)."""
        return sum(n > 1 for n in self.firing_groups.values())

    def report(self, ledger: Ledger | None = None) -> str:
        wrong = [
            f"  {k}: sent {self.sent[k]}, answered 2xx {self.answered[k]}, "
            f"counted {self.counted.get(k, 0)}, firing groups {self.firing_groups.get(k, 0)}"
            for k in sorted(self.sent)
            if self.counted.get(k, 0) < self.answered[k]
            or self.counted.get(k, 0) > self.sent[k]
            or self.firing_groups.get(k, 0) > 1
        ]
        lines = [
            f"lost {self.lost}, duplicated {self.duplicated}, split groups {self.split_groups}, "
            f"answered an error yet kept {self.unacknowledged_but_kept}, "
            f"stray group keys {self.stray_keys[:5]}"
        ]
        if ledger is not None:
            lines.append(ledger.summary())
        if self.pending:
            lines.append(f"not settled: {self.pending}")
        return "\n".join(lines + wrong[:15])


async def alert_tally(database_url: str, ledger: Ledger, pending: str = "") -> AlertTally:
    groups = await rows(database_url, "SELECT key, status, count FROM alert_groups")
    tally = AlertTally(pending=pending)
    for key in ledger.keys:
        tally.sent[key] = ledger.sent(key)
        tally.answered[key] = ledger.answered_2xx(key)
    counted: dict[str, int] = defaultdict(int)
    firing: dict[str, int] = defaultdict(int)
    for group in groups:
        counted[group["key"]] += group["count"]
        firing[group["key"]] += group["status"] == "firing"
    tally.counted, tally.firing_groups = dict(counted), dict(firing)
    tally.stray_keys = sorted(set(counted) - ledger.keys)
    return tally


async def notice_problems(database_url: str, slack: FakeSlackAPI, channel: str) -> list[str]:
    """What a person reading the alerts channel would find wrong: a group in no message,
    a notice posted twice (or never), or more messages than notices."""
    notices = await rows(database_url, "SELECT id, message_ts FROM alert_notices")
    groups = await rows(
        database_url, "SELECT id, key, notice_id FROM alert_groups WHERE notice_id IS NULL"
    )
    messages = [m for m in slack.channels[channel].messages if m.get("bot_id")]
    by_ts: dict[str, int] = defaultdict(int)
    for m in messages:
        by_ts[m["ts"]] += 1
    problems = []
    if groups:
        problems.append(f"{len(groups)} alert groups in no message: {groups[:3]}")
    unposted = [n["id"] for n in notices if not n["message_ts"]]
    if unposted:
        problems.append(f"notices never posted: {unposted}")
    if len(messages) != len(notices):
        problems.append(
            f"{len(messages)} messages in the alerts channel for {len(notices)} notices"
        )
    shown = {n["message_ts"] for n in notices}
    strays = [m["ts"] for m in messages if m["ts"] not in shown]
    if strays:
        problems.append(f"messages no notice points at (duplicates): {strays[:5]}")
    # What each message says against what is stored: a stale count is a false statement.
    totals = await rows(
        database_url,
        "SELECT n.message_ts, coalesce(sum(g.count), 0) AS events FROM alert_notices n "
        "LEFT JOIN alert_groups g ON g.notice_id = n.id GROUP BY n.message_ts",
    )
    texts = {m["ts"]: str(m.get("text", "")) for m in messages}
    for total in totals:
        text = texts.get(total["message_ts"])
        if text is not None and f"({total['events']:,} events)" not in text:
            problems.append(f"message says {text!r}, the database has {total['events']} events")
    return problems
