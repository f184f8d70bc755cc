"""Rate limits and lock-outs, kept in Redis so that every API copy counts the same attempts (an
in-memory store stands in for the embedded default when no `LOANFLOW_REDIS_URL` is set).

Fixed windows per key: starts per IP, phone and device; SMS sends per application (with a
cool-down between two) and per IP; code attempts (carrier SMS code, e-sign OTP) per application;
and a lock-out once an application, or an ops username, has had too many wrong codes or
passwords. A refused call is a 429 with Retry-After. The same store remembers callback nonces.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import RateLimited, Unavailable


class CounterStore(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one more in `key`'s window; (count, seconds left in the window)."""
        ...

    async def peek(self, key: str) -> tuple[int, int]: ...

    async def claim(self, key: str, ttl: int) -> bool:
        """True the first time `key` is claimed within `ttl` seconds, False after."""
        ...

    async def aclose(self) -> None: ...


class MemoryCounters:
    """One process only: the embedded default and tests without Redis."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        async with self._lock:
            now = time.monotonic()
            count, until = self._live(key, now) or (0, now + window)
            self._counts[key] = (count + 1, until)
            return count + 1, max(1, int(until - now))

    async def peek(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        entry = self._live(key, now)
        return (entry[0], max(1, int(entry[1] - now))) if entry else (0, 0)

    async def claim(self, key: str, ttl: int) -> bool:
        async with self._lock:
            now = time.monotonic()
            if self._live(key, now) is not None:
                return False
            self._counts[key] = (1, now + ttl)
            return True

    async def aclose(self) -> None:
        self._counts.clear()


class RedisCounters:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    # Redis down fails closed: a 503 the caller retries, rather than unlimited SMS and guesses.

    async def hit(self, key: str, window: int) -> tuple[int, int]:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window, nx=True)
                pipe.ttl(name)
                count, _, ttl = await pipe.execute()
        except RedisError as exc:
            raise Unavailable("the rate-limit store is unavailable") from exc
        return int(count), max(1, int(ttl))

    async def peek(self, key: str) -> tuple[int, int]:
        name = self._prefix + key
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(name)
                pipe.ttl(name)
                count, ttl = await pipe.execute()
        except RedisError as exc:
            raise Unavailable("the rate-limit store is unavailable") from exc
        return (int(count), max(1, int(ttl))) if count is not None else (0, 0)

    async def claim(self, key: str, ttl: int) -> bool:
        try:
            return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=ttl))
        except RedisError as exc:
            raise Unavailable("the rate-limit store is unavailable") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: int  # seconds


START_PER_IP = Rule("start-ip", 100, 3600)
START_PER_PHONE = Rule("start-phone", 5, 3600)
START_PER_DEVICE = Rule("start-device", 5, 3600)
SMS_PER_APPLICATION = Rule("sms-app", 5, 3600)
SMS_COOL_DOWN = Rule("sms-cool", 1, 60)
SMS_PER_IP = Rule("sms-ip", 30, 3600)
CODE_ATTEMPTS = Rule("code-app", 20, 3600)
WRONG_CODES = Rule("wrong-code", 5, 900)
WRONG_PASSWORDS = Rule("wrong-password", 5, 900)


def _key(rule: Rule, value: str) -> str:
    # Hashed: phones and devices are personal data and Redis is not encrypted at rest.
    return f"{rule.name}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


class Limiter:
    def __init__(self, counters: CounterStore, overrides: Mapping[str, int] | None = None) -> None:
        """`overrides`: a different limit by rule name (e.g. a load test from one address)."""
        self.counters = counters
        self._overrides = dict(overrides or {})

    def limit(self, rule: Rule) -> int:
        return self._overrides.get(rule.name, rule.limit)

    async def take(self, rule: Rule, value: str) -> None:
        """Count an attempt; 429 once the window holds more than the rule allows."""
        count, left = await self.counters.hit(_key(rule, value), rule.window)
        if count > self.limit(rule):
            raise RateLimited(f"too many attempts ({rule.name}); try later", retry_after=left)

    async def require_not_locked(self, rule: Rule, value: str) -> None:
        count, left = await self.counters.peek(_key(rule, value))
        if count >= self.limit(rule):
            raise RateLimited(f"locked after {count} wrong attempts; try later", retry_after=left)

    async def failed(self, rule: Rule, value: str) -> None:
        await self.counters.hit(_key(rule, value), rule.window)

    async def first_use(self, kind: str, value: str, ttl: int) -> bool:
        return await self.counters.claim(f"{kind}:{value}", ttl)

    async def code_attempt(self, owner: str) -> None:
        """Codes (carrier SMS, e-sign OTP, a draw's OTP) are guessable: attempts are counted
        and too many wrong ones lock the owner's code steps for a while, on every API copy."""
        await self.require_not_locked(WRONG_CODES, owner)
        await self.take(CODE_ATTEMPTS, owner)

    async def wrong_code(self, owner: str) -> None:
        await self.failed(WRONG_CODES, owner)


def build_limiter(
    redis_url: str, prefix: str, overrides: Mapping[str, int] | None = None
) -> Limiter:
    if redis_url:
        return Limiter(RedisCounters(redis_url, prefix), overrides)
    return Limiter(MemoryCounters(), overrides)
