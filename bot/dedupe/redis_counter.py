"""`RepeatCounter` on Redis: at most one EVALSHA per duplicate webhook (Upstash bills per
command). Repeats that arrive together share one: a flood costs a round trip per burst.

<p>firing:<key>     marker: the reader has a firing group for this key (expires)
<p>repeats          hash key -> count      } gathered repeats, renamed to
<p>repeats:seen     hash key -> last seen  } <p>folding* while being folded

<p> is the deployment's prefix, `lucia:<namespace>:`, so bots on different databases that
share one Redis never touch each other's keys. A marker is only a hint: a count whose key
the database has no group for is folded into a group made for it, never dropped.
"""

from __future__ import annotations

__all__ = ["RedisRepeatCounter"]

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.alerts.model import Fold
from bot.errors import DedupeUnavailable

FIRING_TTL_SECONDS = 3600  # a marker outlives quiet spells; the reader renews it
FOLD_LOCK_MS = 10_000  # a folder that dies frees it after this; a fold is cut off at 5 s
COUNT_TIMEOUT = 0.25  # seconds: Sentry waits 1 s in all, so a slow Redis is skipped
# Translated at this edge: redis-py lets a transport closed under it (uvloop) raise these.
_FAILURES = (RedisError, OSError, RuntimeError)

# KEYS: the two hashes, then one marker per repeat; ARGV: the deadline (Unix seconds),
# then key and time of each repeat. A batch that reaches Redis after its deadline (a Redis
# that was paused or frozen) counts nothing: the bot stopped waiting and kept those
# deliveries in the inbox instead, and counting them too would count them twice.
_COUNT = """
local now = redis.call('TIME')
if tonumber(now[1]) + tonumber(now[2]) / 1e6 > tonumber(ARGV[1]) then
  local late = {}
  for i = 3, #KEYS do late[#late + 1] = 0 end
  return late
end
local counted = {}
for i = 3, #KEYS do
  local n = 2 * (i - 2) + 1
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HINCRBY', KEYS[1], ARGV[n - 1], 1)
    redis.call('HSET', KEYS[2], ARGV[n - 1], ARGV[n])
    counted[#counted + 1] = 1
  else
    counted[#counted + 1] = 0
  end
end
return counted
"""
# The fold lock: taken if free or already this process's (a fold of ours that failed
# before it could free it), and freed only by the folder that holds it (its token).
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', unpack(KEYS)) end
return 0
"""
BATCH_LIMIT = 500  # repeats per EVALSHA

_Waiting = tuple[str, float, "asyncio.Future[bool]"]  # group key, when, its answer

# Move the gathered counts aside under a new fold id (unless a fold that didn't finish
# left some there: they keep its id, and whether newer counts wait behind them is said)
# and return them with it.
_TAKE = """
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
  redis.call('SET', KEYS[5], ARGV[1])
end
return {redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4]),
        redis.call('GET', KEYS[5]) or ARGV[1], redis.call('EXISTS', KEYS[1])}
"""


class RedisRepeatCounter:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._count_script = client.register_script(_COUNT)
        self._take_script = client.register_script(_TAKE)
        self._acquire_script = client.register_script(_ACQUIRE)
        self._release_script = client.register_script(_RELEASE)
        self._lock = prefix + "fold-lock"
        self._token = secrets.token_hex(8)  # this process's, in the lock it holds
        self._hashes = [
            prefix + name
            for name in ("repeats", "repeats:seen", "folding", "folding:seen", "folding:id")
        ]
        self._waiting: list[_Waiting] = []
        self._sender: asyncio.Task[None] | None = None

    async def count(self, key: str, at: datetime) -> bool:
        """Count a repeat if its group is firing; False when it isn't (keep the delivery).

        The answer waits for Redis, so a counted repeat survives the bot being killed."""
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append((key, at.timestamp(), answer))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_waiting())
        return bool(await answer)

    async def _send_waiting(self) -> None:
        """One EVALSHA in flight at a time; the repeats that arrive meanwhile form the next.

        Idle, a repeat goes out on the next turn of the loop; in a flood, batches grow
        with the load instead of the round trips."""
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:BATCH_LIMIT], self._waiting[BATCH_LIMIT:]
                await self._count_batch(batch)
        finally:
            self._sender = None
            # Only when stopped early (cancelled at shutdown): nobody is left without an answer.
            _fail([*batch, *self._waiting], DedupeUnavailable("redis: counting stopped"))
            self._waiting = []

    async def _count_batch(self, batch: list[_Waiting]) -> None:
        keys = [*self._hashes[:2], *(self._marker(key) for key, _, _ in batch)]
        deadline = time.time() + COUNT_TIMEOUT
        args = [deadline, *(value for key, at, _ in batch for value in (key, at))]
        try:
            async with asyncio.timeout(COUNT_TIMEOUT):
                counted = await self._count_script(keys=keys, args=args)
        except (*_FAILURES, TimeoutError) as exc:
            _fail(batch, DedupeUnavailable(f"redis: {type(exc).__name__}"))
            return
        for (_, _, answer), one in zip(batch, counted, strict=True):
            if not answer.done():
                answer.set_result(bool(one))

    async def mark_firing(self, keys: Sequence[str]) -> None:
        await self._each(keys, lambda pipe, k: pipe.set(self._marker(k), 1, ex=FIRING_TTL_SECONDS))

    async def forget(self, keys: Sequence[str]) -> None:
        await self._each(keys, lambda pipe, k: pipe.delete(self._marker(k)))

    async def take(self) -> Fold:
        try:
            # One EXISTS when there is nothing to fold (the idle bot's periodic look for
            # what a killed process left), instead of a lock taken and freed for nothing.
            if not await self._redis.exists(self._hashes[0], self._hashes[2]):
                return Fold("", {})
            # One folder at a time across processes (Render runs two during a deploy):
            # two folding the same counts would add them twice.
            if not await self._acquire_script(keys=[self._lock], args=[self._token, FOLD_LOCK_MS]):
                return Fold("", {}, locked_elsewhere=True)
            counts, seen, fold_id, more = await self._take_script(
                keys=self._hashes, args=[secrets.token_hex(8)]
            )
            if not counts:  # nothing to fold: the lock is free at once
                await self.release()
        except _FAILURES as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc
        last_seen = dict(zip(seen[::2], seen[1::2], strict=True))
        return Fold(
            _text(fold_id),
            {
                _text(key): (int(n), datetime.fromtimestamp(float(last_seen.get(key, 0)), UTC))
                for key, n in zip(counts[::2], counts[1::2], strict=True)
            },
            more_waiting=bool(more),
        )

    async def folded(self) -> None:
        await self._release(self._lock, *self._hashes[2:])

    async def release(self) -> None:
        await self._release(self._lock)

    async def _release(self, *keys: str) -> None:
        try:
            await self._release_script(keys=list(keys), args=[self._token])
        except _FAILURES as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc

    def _marker(self, key: str) -> str:
        return f"{self._prefix}firing:{key}"

    async def _each(self, keys: Sequence[str], command: Callable[[Any, str], object]) -> None:
        if not keys:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    command(pipe, key)
                await pipe.execute()
        except _FAILURES as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc


def _fail(waiting: list[_Waiting], error: DedupeUnavailable) -> None:
    for _, _, answer in waiting:
        if not answer.done():
            answer.set_exception(error)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
