"""A clock tests move by hand, and counting what a rate limiter allows as it moves."""

from __future__ import annotations

from ocrmp.ratelimit import RateLimiter

SECOND = 1_000_000_000


class FakeClock:
    def __init__(self, start_s: int = 10) -> None:
        self.now = start_s * SECOND

    def ns(self) -> int:
        return self.now

    def us(self) -> int:
        return self.now // 1000

    def seconds(self) -> float:
        return self.now / SECOND

    def advance(self, seconds: float) -> None:
        self.now += round(seconds * SECOND)


def count_allowed(limiter: RateLimiter, clock: FakeClock, env: str, seconds: float,
                  step_s: float) -> int:
    """Acquire every step_s for `seconds` of fake time; how many were allowed."""
    allowed = 0
    for _ in range(round(seconds / step_s)):
        allowed += limiter.acquire(env).allowed
        clock.advance(step_s)
    return allowed
