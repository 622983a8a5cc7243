"""The response cache: one build per key, also when many requests ask at once."""

import threading
import time

from blina.api.cache import ResponseCache


def test_response_cache_builds_a_key_once() -> None:
    cache = ResponseCache()
    builds: list[str] = []

    def build(name: str) -> bytes:
        builds.append(name)
        return name.encode()

    assert cache.get("a", lambda: build("a")) == b"a"
    assert cache.get("a", lambda: build("again")) == b"a"
    assert cache.get("b", lambda: build("b")) == b"b"
    assert builds == ["a", "b"]


def test_response_cache_concurrent_requests_wait_for_one_build() -> None:
    cache = ResponseCache()
    builds: list[int] = []
    started = threading.Barrier(8)

    def slow_build() -> bytes:
        builds.append(1)
        time.sleep(0.05)  # long enough for the other requests to arrive and wait
        return b"list"

    answers: list[bytes] = []

    def request() -> None:
        started.wait()
        answers.append(cache.get("tasks", slow_build))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [b"list"] * 8
    assert len(builds) == 1


def test_response_cache_forgets_the_least_recently_used() -> None:
    cache = ResponseCache(size=2)
    cache.get("a", lambda: b"a")
    cache.get("b", lambda: b"b")
    cache.get("a", lambda: b"a")  # a is now the most recent
    cache.get("c", lambda: b"c")

    assert cache.get("a", lambda: b"rebuilt") == b"a"
    assert cache.get("b", lambda: b"rebuilt") == b"rebuilt"
