"""Built responses kept by key, for large lists that many screens poll.

The first request for a key builds the body; requests for the same key that arrive
meanwhile wait for it rather than build it again. Keys must carry what makes a body
stale (see the clinic task list, keyed by the audit chain's position).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["ResponseCache"]


class ResponseCache:
    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], bytes]) -> bytes:
        """The body for ``key``, built by ``build`` once."""
        with self._guard:
            body = self._kept(key)
            if body is not None:
                return body
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._guard:
                body = self._kept(key)
            if body is not None:
                return body
            body = build()
            with self._guard:
                self._bodies[key] = body
                while len(self._bodies) > self._size:
                    self._bodies.popitem(last=False)
                self._building.pop(key, None)
            return body

    def _kept(self, key: Hashable) -> bytes | None:
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body
