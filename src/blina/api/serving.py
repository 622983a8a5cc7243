"""How ``blina serve`` has uvicorn read requests: its httptools protocol with a limit on
a request's head.

uvicorn's documented limit on a head, ``h11_max_incomplete_event_size``, holds for its
h11 protocol only, which parses in Python: a sizeable share of a check-in's time on the
server, against next to nothing for httptools (docs/design/service.md). The httptools
parser (llhttp) sets no limit of its own, and httptools gathers a header in memory until
the header ends, so a 50 MB header would be read whole. This protocol counts the bytes that
arrive while a head is being read and answers 431 and closes the connection past the
limit. Bytes are counted per read from the socket, not counting the read in which the
head began, so a head can pass the limit by at most two reads (the app checks the head it
is given again: ``api.limits``).
"""

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["BoundedHttpTools", "bounded_http_tools"]


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a head past ``max_head_bytes`` with 431."""

    max_head_bytes = 32 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._began = False
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # A read in which the head began may also hold the end of the message before
            # (a pipelined body): not counted, rather than count that body as the head.
            self._head_bytes += 0 if self._began else len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse_head()
        self._began = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._began = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _refuse_head(self) -> None:
        self.logger.warning("Request header fields too large.")
        message = b"Request header fields too large"
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(message)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                message,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


def bounded_http_tools(max_head_bytes: int) -> type[BoundedHttpTools]:
    """The protocol class for ``uvicorn.run(http=...)`` with this limit."""
    return type("BoundedHttpTools", (BoundedHttpTools,), {"max_head_bytes": max_head_bytes})
