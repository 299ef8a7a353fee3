"""
`TwistedSnorkyBackend`: the connector for applications that run on
Twisted, built on treq. Its methods return Deferreds.
"""

from typing import Any, Optional, Tuple

from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.error import (
    ConnectError,
    ConnectionClosed,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from treq.client import HTTPClient

from snorky.backend.base import BaseSnorkyBackend
from snorky.backend.errors import SnorkyTransportError
from snorky.reactors import default_reactor

__all__ = ["TwistedSnorkyBackend"]


class TwistedSnorkyBackend(BaseSnorkyBackend):
    """
    Calls Snorky's backend services over its HTTP backend API without
    blocking: :meth:`call` and the helper methods of
    :class:`~snorky.backend.base.BaseSnorkyBackend` return Deferreds that
    fire with the data or fail with the same exceptions as
    :class:`~snorky.backend.client.SnorkyBackend`.

    Connections are kept alive in a persistent
    :class:`~twisted.web.client.HTTPConnectionPool`. A call whose
    connection was closed before any answer arrived (a kept-alive
    connection the server closed as the call was sent) is sent once more
    on a new connection. *timeout* bounds each whole call.

    See :class:`~snorky.backend.base.BaseSnorkyBackend` for the other
    parameters (*url*, *key*, *timeout* and the service names).

    :param reactor: the reactor to connect and time out with; the global
        one by default.
    :param client: a :class:`treq.client.HTTPClient` (or
        :class:`treq.testing.StubTreq`) to send requests with instead of
        the connector's own; then :meth:`close` leaves it alone.
    """

    def __init__(
        self,
        *args: Any,
        reactor: Optional[IReactorTime] = None,
        client: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        reactor = default_reactor(reactor)
        self._reactor = reactor
        self._pool: Optional[HTTPConnectionPool] = None
        if client is None:
            self._pool = HTTPConnectionPool(reactor, persistent=True)
            client = HTTPClient(
                Agent(reactor, pool=self._pool), data_to_body_producer=_BytesProducer
            )
        self._client = client

    def call(self, service: str, command: str, /, **params: Any) -> "Deferred[Any]":
        """
        Call *command* of the backend *service* with *params*.

        :returns: a Deferred that fires with the ``data`` of the service's
            response, or fails with
            :class:`~snorky.backend.errors.SnorkyError` if the service
            answered an error,
            :class:`~snorky.backend.errors.SnorkyTransportError` if no
            answer came from the service, or :class:`TypeError` or
            :class:`ValueError` if *params* are not JSON-able.
        """
        d = Deferred.fromCoroutine(self._call(service, command, params))
        d.addTimeout(self.timeout, self._reactor, onTimeoutCancel=self._on_timeout)
        return d

    def close(self) -> "Deferred[None]":
        """
        Close the kept-alive connections.

        :returns: a Deferred that fires when they are closed.
        """
        if self._pool is None:
            return succeed(None)
        return self._pool.closeCachedConnections()

    def _resolved(self, value: Any) -> "Deferred[Any]":
        return succeed(value)

    async def _call(self, service: str, command: str, params: Any) -> Any:
        call_id, body = self._encode_call(service, command, params)
        status, answer = await self._post(body)
        return self._read_answer(service, call_id, status, answer)

    async def _post(self, body: bytes) -> Tuple[int, bytes]:
        try:
            try:
                response = await self._send(body)
            except Exception as e:
                if not _closed_before_answer(e):
                    raise
                response = await self._send(body)
            return response.code, await response.content()
        except Exception as e:
            if _cancelled(e):
                # Agent wraps the cancellation; unwrap it for the timeout.
                raise CancelledError() from None
            error = self._translate(e)
            if error is None:
                raise
            raise error from None

    def _send(self, body: bytes) -> "Deferred[Any]":
        return self._client.request(
            "POST",
            self.url,
            data=body,
            headers=self._headers,
            allow_redirects=False,
        )

    def _translate(self, e: Exception) -> Optional[SnorkyTransportError]:
        """
        The :class:`~snorky.backend.errors.SnorkyTransportError` for an
        exception raised while talking to Snorky, or ``None`` for anything
        else (a bug).
        """
        if isinstance(e, ConnectionRefusedError):
            return self._unreachable("Connection refused")
        if isinstance(e, ConnectError):
            return self._unreachable(str(e))
        if _closed_before_answer(e):
            return self._closed_early()
        if isinstance(e, (RequestTransmissionFailed, ResponseFailed)):
            return self._broken_answer(
                "; ".join(r.getErrorMessage() for r in e.reasons) or type(e).__name__
            )
        return None

    def _on_timeout(self, result: Any, timeout: float) -> Any:
        if isinstance(result, Failure) and result.check(CancelledError):
            raise self._timed_out()
        return result


def _cancelled(e: Exception) -> bool:
    """
    Whether *e* is, or wraps, a cancellation.
    """
    if isinstance(e, (RequestTransmissionFailed, ResponseFailed)):
        return any(r.check(CancelledError) for r in e.reasons)
    return isinstance(e, CancelledError)


def _closed_before_answer(e: Exception) -> bool:
    """
    Whether *e* says the connection closed before any answer arrived.
    """
    if isinstance(e, RequestNotSent):
        return True
    if isinstance(e, (RequestTransmissionFailed, ResponseNeverReceived)):
        return bool(e.reasons) and all(r.check(ConnectionClosed) for r in e.reasons)
    return False


@implementer(IBodyProducer)
class _BytesProducer:
    """
    A request body of bytes, written at once: no cooperator, no reactor
    turn before the request leaves.
    """

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> "Deferred[None]":
        consumer.write(self._body)
        return succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass
