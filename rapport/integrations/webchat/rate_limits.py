"""Fixed-window rate limits kept in Django's cache.

The default cache is per process (fine for one server); set REDIS_URL when several
processes serve the chat API, so they count together.
"""

import math
import time

from django.core.cache import cache

WINDOW_SECONDS = 60


class RateLimitExceeded(Exception):
    """A caller used up its window; `retry_after` is how many seconds until the next one."""

    def __init__(self, *, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


def rate_limit_hit(scope: str, key: str, *, limit: int, message: str) -> None:
    """Count one hit for *key* in the current window; raise RateLimitExceeded past *limit*.

    A limit of 0 or less turns the limit off.
    """
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    cache_key = f"webchat:rate:{scope}:{key}:{window}"
    # add() is atomic on every backend; incr() is atomic on Redis and under the local
    # cache's lock. A little longer than the window, so a late incr never misses it.
    cache.add(cache_key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimitExceeded(retry_after=retry_after, message=message)
