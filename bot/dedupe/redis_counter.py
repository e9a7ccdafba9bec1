"""`RepeatCounter` on Redis: one EVALSHA per duplicate webhook (Upstash bills per command).

lucia:firing:<key>     marker: the reader has a firing group for this key (expires)
lucia:repeats          hash key -> count      } gathered repeats, renamed to
lucia:repeats:seen     hash key -> last seen  } lucia:folding* while being folded
"""

from __future__ import annotations

__all__ = ["RedisRepeatCounter"]

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot.errors import DedupeUnavailable

FIRING_TTL_SECONDS = 3600  # a marker outlives quiet spells; the reader renews it
FOLD_LOCK_MS = 30_000  # a folder that dies frees the lock after this
COUNT_TIMEOUT = 0.25  # seconds: Sentry waits 1 s in all, so a slow Redis is skipped

_COUNT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
"""

# Move the gathered counts aside (unless a fold that died left some there) and return them.
_TAKE = """
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[4]) end
end
return {redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
"""


class RedisRepeatCounter:
    def __init__(self, client: Redis, prefix: str = "lucia:") -> None:
        self._redis = client
        self._prefix = prefix
        self._count_script = client.register_script(_COUNT)
        self._take_script = client.register_script(_TAKE)
        self._hashes = [
            prefix + name for name in ("repeats", "repeats:seen", "folding", "folding:seen")
        ]

    async def count(self, key: str, at: datetime) -> bool:
        keys = [self._marker(key), self._hashes[0], self._hashes[1]]
        try:
            async with asyncio.timeout(COUNT_TIMEOUT):
                counted = await self._count_script(keys=keys, args=[key, at.timestamp()])
        except (RedisError, TimeoutError) as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc
        return bool(counted)

    async def mark_firing(self, keys: Sequence[str]) -> None:
        await self._each(keys, lambda pipe, k: pipe.set(self._marker(k), 1, ex=FIRING_TTL_SECONDS))

    async def forget(self, keys: Sequence[str]) -> None:
        await self._each(keys, lambda pipe, k: pipe.delete(self._marker(k)))

    async def take(self) -> dict[str, tuple[int, datetime]]:
        try:
            # One folder at a time across processes (Render runs two during a deploy):
            # two folding the same counts would add them twice.
            lock = self._prefix + "fold-lock"
            if not await self._redis.set(lock, 1, nx=True, px=FOLD_LOCK_MS):
                return {}
            counts, seen = await self._take_script(keys=self._hashes)
            if not counts:  # nothing to fold: the lock is free at once, not in 30 s
                await self._redis.delete(lock)
        except (RedisError, ResponseError) as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc
        last_seen = dict(zip(seen[::2], seen[1::2], strict=True))
        return {
            _text(key): (int(n), datetime.fromtimestamp(float(last_seen.get(key, 0)), UTC))
            for key, n in zip(counts[::2], counts[1::2], strict=True)
        }

    async def folded(self) -> None:
        try:
            await self._redis.delete(self._hashes[2], self._hashes[3], self._prefix + "fold-lock")
        except RedisError as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc

    async def release(self) -> None:
        try:
            await self._redis.delete(self._prefix + "fold-lock")
        except RedisError as exc:
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
        except RedisError as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
