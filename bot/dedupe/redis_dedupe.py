"""Dedupe on Redis (Upstash in production): one `SET NX EX` round trip per claim."""

from __future__ import annotations

__all__ = ["RedisDedupe", "connect_redis"]

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, RedisError, TimeoutError

from bot.errors import DedupeUnavailable


def connect_redis(url: str) -> Redis:
    """One client (and pool) per process, for Upstash or a local Redis."""
    # from_url builds connections with no retry at all: Upstash drops idle sockets,
    # so without this the first command after a quiet spell fails. A blocking pool:
    # a burst bigger than the pool waits briefly for a connection instead of failing.
    pool = BlockingConnectionPool.from_url(
        url,
        timeout=5,
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 2),
        retry_on_error=[ConnectionError, TimeoutError],
        max_connections=50,
        client_name="lucia-bot",
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


class RedisDedupe:
    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisDedupe:
        return cls(connect_redis(url), prefix=prefix)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        try:
            return bool(await self._redis.set(self._prefix + key, "1", nx=True, ex=ttl_seconds))
        except RedisError as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise DedupeUnavailable(f"redis: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self._redis.aclose()
