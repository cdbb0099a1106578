"""How often, and how many at once, password checks may run.

A password check is an argon2id hash: ~0.15 s of CPU and 64 MiB (an scrypt
hash, 32 MiB, when this module was written). Before this module, 40 wrong
passwords sent at once were all hashed, took every waitress thread and both
cores, and an anonymous query waited seconds behind them. So a sign-in
(HTTP Basic or the ``/login`` form) that the server does not already
remember passes, before any hash:

1. the **client's** token bucket (its address; an IPv6 client by its /64,
   since one host holds a whole /64) and the **account's** bucket (the name
   asked for, whether or not such an account exists, so that the answer
   says nothing about which names exist). An empty bucket is a 429 with
   ``Retry-After``; only refused attempts keep their token, a right password
   gives it back;
2. the **hashing gate**: one hash at a time and one request waiting for it;
   any other is a 503 with ``Retry-After`` at once instead of holding a
   server thread. argon2-cffi releases the GIL while it hashes (measured:
   a pure-Python loop beside a thread hashing without pause never waited
   more than 52 ms, where one hash took ~400 ms on that loaded machine), so
   the one hash costs CPU, never the interpreter.

Buckets are small hand-written arithmetic rather than the ``limits`` library,
whose memory storage keeps every key until it expires (no bound on how many
keys an attacker makes), runs a timer thread, and cannot give a token back.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ontology.errors import CatalographError

#: Refused sign-ins one client address may make at once, then one per interval.
CLIENT_BURST = 10
CLIENT_INTERVAL_S = 3.0
#: Refused sign-ins for one account name (from anywhere) at once, then one per
#: interval: 10 a minute, ~14,000 guesses a day at most.
ACCOUNT_BURST = 5
ACCOUNT_INTERVAL_S = 6.0
#: Keys each set of buckets remembers; the least recently used goes first (it is
#: almost always full again, so forgetting it loses nothing). ~2 MB at most.
MAX_KEYS = 10_000
#: Hashes at once, and requests that may wait for one. A remembered password
#: costs no hash, so one at a time serves ~7 new sign-ins a second: far more
#: than a library's catalogers need, and it leaves the other core to readers.
HASHES_AT_ONCE = 1
HASHES_WAITING = 1


class TooManySignInsError(CatalographError):
    """Too many refused sign-ins from this client or for this account (HTTP 429)."""

    http_status = 429

    def __init__(self, wait_s: float) -> None:
        self.retry_after = max(1, math.ceil(wait_s))
        super().__init__(f"too many refused sign-in attempts; try again in {self.retry_after} s")


class SignInBusyError(CatalographError):
    """Other passwords are being checked right now (HTTP 503)."""

    http_status = 503
    retry_after = 1

    def __init__(self) -> None:
        super().__init__("the server is checking other sign-ins; try again in a moment")


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, one more every ``interval_s``.

    >>> now = [0.0]
    >>> buckets = TokenBuckets(burst=2, interval_s=10.0, clock=lambda: now[0])
    >>> buckets.take("a"), buckets.take("a"), buckets.wait_s("a")
    (True, True, 10.0)
    >>> buckets.take("a"), buckets.wait_s("b")
    (False, 0.0)
    >>> now[0] = 4.0
    >>> buckets.wait_s("a")
    6.0
    >>> buckets.give_back("a"); buckets.wait_s("a")
    0.0
    """

    def __init__(
        self,
        burst: int,
        interval_s: float,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._clock = clock
        self._tokens: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key: (tokens, at)

    def _level(self, key: str) -> float:
        tokens, at = self._tokens.get(key, (self.burst, 0.0))
        return min(self.burst, tokens + (self._clock() - at) / self.interval_s)

    def _set(self, key: str, tokens: float) -> None:
        if tokens >= self.burst:
            self._tokens.pop(key, None)  # a full bucket is the same as none
            return
        self._tokens[key] = (tokens, self._clock())
        self._tokens.move_to_end(key)
        while len(self._tokens) > self.max_keys:
            self._tokens.popitem(last=False)

    def wait_s(self, key: str) -> float:
        """Seconds until ``key`` has a token (0.0: it has one now)."""
        return max(0.0, (1.0 - self._level(key)) * self.interval_s)

    def take(self, key: str) -> bool:
        level = self._level(key)
        if level < 1.0:
            return False
        self._set(key, level - 1.0)
        return True

    def give_back(self, key: str) -> None:
        self._set(key, self._level(key) + 1.0)

    def __len__(self) -> int:
        return len(self._tokens)


def client_key(address: str) -> str:
    """What counts as one client: its address, or its /64 for IPv6.

    >>> client_key("127.0.0.2"), client_key("2001:db8::1"), client_key("::ffff:10.0.0.1")
    ('127.0.0.2', '2001:db8::/64', '10.0.0.1')
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SignInThrottle:
    """The buckets and the hashing gate of one app (``web.auth`` uses them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clients = TokenBuckets(CLIENT_BURST, CLIENT_INTERVAL_S)
        self.accounts = TokenBuckets(ACCOUNT_BURST, ACCOUNT_INTERVAL_S)
        self._admitted = threading.BoundedSemaphore(HASHES_AT_ONCE + HASHES_WAITING)
        self._hashing = threading.BoundedSemaphore(HASHES_AT_ONCE)

    @contextmanager
    def attempt(self, address: str, name: str) -> Iterator[Callable[[], None]]:
        """Admit one password check by ``address`` for ``name``, or raise 429 / 503.

        The block runs the hash; it calls the function it is given when the
        password was right, which gives both tokens back.
        """
        client = client_key(address)
        with self._lock:
            wait_s = max(self.clients.wait_s(client), self.accounts.wait_s(name))
            if wait_s > 0:
                raise TooManySignInsError(wait_s)
            self.clients.take(client)
            self.accounts.take(name)

        def accepted() -> None:
            with self._lock:
                self.clients.give_back(client)
                self.accounts.give_back(name)

        if not self._admitted.acquire(blocking=False):
            accepted()  # not checked at all: the attempt does not count
            raise SignInBusyError()
        try:
            with self._hashing:
                yield accepted
        finally:
            self._admitted.release()
