"""
`SnorkyBackend`: the blocking connector, for any Python web application.
It needs nothing but the standard library's ``http.client``.
"""

import http.client
import threading
from typing import Any, Optional, Tuple

from snorky.backend.base import BaseSnorkyBackend
from snorky.backend.errors import SnorkyTransportError

__all__ = ["SnorkyBackend"]

# How a kept-alive connection that the server has closed shows up when we
# send on it: before any byte of an answer arrives.
_CLOSED_BEFORE_ANSWER = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


class SnorkyBackend(BaseSnorkyBackend):
    """
    Calls Snorky's backend services over its HTTP backend API, blocking
    until the answer arrives.

    One HTTP/1.1 connection is kept alive and reused by every call. When
    it turns out to have been closed by the server (an idle timeout, a
    restart) before any answer arrived, the call is sent once more on a
    new connection; a server that received a request and then closed the
    connection without answering could therefore see it twice, which
    Snorky itself never does.

    An instance may be shared between threads: calls are serialized on
    its one connection. Give each thread its own instance to call in
    parallel.

    *timeout* bounds connecting and each wait for data from Snorky. The
    other parameters (*url*, *key*, *timeout* and the service names) and
    the helper methods are those of
    :class:`~snorky.backend.base.BaseSnorkyBackend`.

    :param ssl_context: for ``https`` URLs, the :class:`ssl.SSLContext` to
        use instead of the default one.
    """

    def __init__(self, *args: Any, ssl_context: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ssl_context = ssl_context
        self._connection: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()

    def call(self, service: str, command: str, /, **params: Any) -> Any:
        """
        Call *command* of the backend *service* with *params* and wait for
        the answer.

        :returns: the ``data`` of the service's response.
        :raises SnorkyError: if the service answered an error; its
            ``message`` is the service's text.
        :raises SnorkyTransportError: if no answer came from the service.
        :raises TypeError: or :class:`ValueError` if *params* are not JSON-able.
        """
        call_id, body = self._encode_call(service, command, params)
        with self._lock:
            status, answer = self._post(body)
        return self._read_answer(service, call_id, status, answer)

    def close(self) -> None:
        """
        Close the kept-alive connection; a later call opens a new one.
        """
        with self._lock:
            self._drop()

    def __enter__(self) -> "SnorkyBackend":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _post(self, body: bytes) -> Tuple[int, bytes]:
        try:
            try:
                response = self._send(body)
            except _CLOSED_BEFORE_ANSWER:
                self._drop()
                response = self._send(body)
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as e:
            self._drop()
            raise self._translate(e) from None
        except BaseException:
            # The connection is in an unknown state after any failure.
            self._drop()
            raise

    def _send(self, body: bytes) -> http.client.HTTPResponse:
        if self._connection is None:
            self._connection = self._connect()
        self._connection.request("POST", self._path, body, self._headers)
        return self._connection.getresponse()

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=self._ssl_context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _translate(
        self, e: "OSError | http.client.HTTPException"
    ) -> SnorkyTransportError:
        """
        The :class:`~snorky.backend.errors.SnorkyTransportError` for an
        exception raised while talking to Snorky.
        """
        if isinstance(e, TimeoutError):
            return self._timed_out()
        if isinstance(e, _CLOSED_BEFORE_ANSWER):
            return self._closed_early()
        if isinstance(e, http.client.HTTPException):
            return self._broken_answer(type(e).__name__)
        return self._unreachable(e.strerror or str(e) or type(e).__name__)
