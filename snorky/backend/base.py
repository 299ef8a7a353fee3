"""
What the blocking and the Twisted connector share: their settings, the
request body they send, the reading of the answer, the texts of their
errors, and the helper methods built on ``call``.
"""

import itertools
import json
from typing import Any, Dict, Iterable, Tuple
from urllib.parse import urlsplit

from snorky.backend.errors import SnorkyError, SnorkyTransportError
from snorky.envelopes import encode

__all__ = ["BaseSnorkyBackend"]

#: Longest server-supplied error text quoted in an exception.
_MAX_DETAIL = 200


class BaseSnorkyBackend:
    """
    The parts of a connector that do not depend on how it does HTTP.
    Subclasses implement :meth:`call`; every helper method returns what
    :meth:`call` returns (a value, or a ``Deferred`` of it).

    :param url: the backend API's URL: ``http://HOST:PORT/backend`` for a
        port that serves the ``http`` protocol (``https://`` when Snorky
        listens with ``ssl:``).
    :param key: the backend key, sent as the ``X-Backend-Key`` header. It
        never appears in the texts of exceptions or in ``repr()``, and the
        connectors log nothing.
    :param timeout: seconds to wait for Snorky before giving up (see each
        connector for what exactly it bounds).
    :param datasync_service: name of the DataSync backend service the
        helper methods call.
    :param pubsub_service: name of the PubSub backend service.
    :param identity_service: name of the identity backend service.
    :raises ValueError: if *url* is not an ``http``/``https`` URL, or *key*
        is empty or not printable ASCII.
    """

    def __init__(
        self,
        url: str,
        key: str,
        timeout: float = 10.0,
        datasync_service: str = "datasync_backend",
        pubsub_service: str = "pubsub_backend",
        identity_service: str = "identity_backend",
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL")
        if not (isinstance(key, str) and key and key.isascii() and key.isprintable()):
            # The message must not quote the key, even a malformed one.
            raise ValueError("key must be a non-empty string of printable ASCII")
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.url = url
        self.timeout = timeout
        self.datasync_service = datasync_service
        self.pubsub_service = pubsub_service
        self.identity_service = identity_service
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        # Host and port, without any user info, for error texts.
        self._where = "{}:{}".format(self._host, self._port)
        self._key = key
        self._headers = {"X-Backend-Key": key, "Content-Type": "application/json"}
        self._call_ids = itertools.count(1)

    def __repr__(self) -> str:
        return "<{} {}>".format(type(self).__name__, self.url)

    def call(self, service: str, command: str, /, **params: Any) -> Any:
        """
        Call *command* of the backend *service* with *params*.

        :returns: the ``data`` of the service's response.
        :raises SnorkyError: if the service answered an error.
        :raises SnorkyTransportError: if no answer came from the service.
        :raises TypeError: or :class:`ValueError` if *params* are not JSON-able.
        """
        raise NotImplementedError

    def publish_deltas(self, deltas: Iterable[Dict[str, Any]]) -> Any:
        """
        Send DataSync deltas, after the changes they describe are committed.

        :param deltas: dicts like ``{"type": "insert", "model": "Player",
            "data": {...}}`` or ``{"type": "update", "model": "Player",
            "newData": {...}, "oldData": {...}}``.
        """
        return self.call(self.datasync_service, "publishDeltas", deltas=list(deltas))

    def authorize_subscription(self, items: Iterable[Dict[str, Any]]) -> Any:
        """
        Authorize a DataSync subscription and return its token, which the
        browser then acquires.

        :param items: dicts like ``{"dealer": "players_by_color",
            "query": "red"}``.
        :returns: the token (a string).
        """
        return self.call(
            self.datasync_service, "authorizeSubscription", items=list(items)
        )

    def publish(self, channel: Any, message: Any) -> Any:
        """
        Publish *message* to every PubSub subscriber of *channel*.
        """
        return self.call(
            self.pubsub_service, "publish", channel=channel, message=message
        )

    def authorize_identity(self, identity: Any) -> Any:
        """
        Authorize *identity* (any JSON value, for example ``{"id": 7,
        "name": "alice"}``) and return a short-lived, single-use token that
        a browser hands to the identity service to become that identity.

        :returns: the token (a string).
        """
        return self.call(
            self.identity_service, "authorizeIdentity", identity=identity
        )

    def _resolved(self, value: Any) -> Any:
        """
        *value* as this connector returns results: as it is, or wrapped in
        a fired ``Deferred`` by the Twisted connector.
        """
        return value

    def _encode_call(
        self, service: str, command: str, params: Dict[str, Any]
    ) -> Tuple[int, bytes]:
        call_id = next(self._call_ids)
        envelope = {
            "service": service,
            "message": {"command": command, "params": params, "callId": call_id},
        }
        return call_id, encode(envelope)

    def _read_answer(self, service: str, call_id: int, status: int, body: bytes) -> Any:
        """
        The data of a reply, given the HTTP status and body of the answer.

        :raises SnorkyError: for an RPC error.
        :raises SnorkyTransportError: for anything that is not a reply.
        """
        if status != 200:
            raise self._status_error(service, status, body)
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):
            raise self._transport_error(
                "answered something that is not JSON (HTTP 200)", 200
            ) from None
        message = answer.get("message") if isinstance(answer, dict) else None
        if (
            isinstance(message, dict)
            and answer.get("service") == service
            and message.get("callId") == call_id
        ):
            kind = message.get("type")
            if kind == "response":
                return message.get("data")
            if kind == "error" and isinstance(message.get("message"), str):
                raise SnorkyError(message["message"])
        raise self._transport_error(
            "answered JSON that is not a reply to this call (HTTP 200)", 200
        )

    def _status_error(
        self, service: str, status: int, body: bytes
    ) -> SnorkyTransportError:
        if status == 401:
            text = "refused the key"
        elif status == 404 and _error_detail(body) == "Unknown service":
            text = "has no service {!r}".format(service)
        elif status in (404, 405):
            text = "does not serve the backend API at {}; check the URL".format(
                self._path
            )
        elif status == 413:
            text = "refused the request as too large; send less per call"
        elif status == 400:
            text = "rejected the request as malformed"
        elif status == 504:
            text = "got no answer from service {!r} in time".format(service)
        elif status >= 500:
            text = "failed"
        else:
            text = "answered an unexpected status"
        text += " (HTTP {})".format(status)
        detail = _error_detail(body)
        if detail:
            # Quoting the server: make sure the quote never carries the key.
            text += ": " + detail.replace(self._key, "<backend key>")
        return self._transport_error(text, status)

    def _transport_error(
        self, what: str, status: "int | None" = None
    ) -> SnorkyTransportError:
        """
        A :class:`~snorky.backend.errors.SnorkyTransportError` saying that
        the backend *what*.
        """
        return SnorkyTransportError(
            "Snorky backend at {} {}".format(self._where, what), status
        )

    def _unreachable(self, reason: str) -> SnorkyTransportError:
        return self._transport_error("cannot be reached: {}".format(reason))

    def _timed_out(self) -> SnorkyTransportError:
        return self._transport_error(
            "did not answer within {:g} s".format(self.timeout)
        )

    def _closed_early(self) -> SnorkyTransportError:
        return self._transport_error("closed the connection without answering")

    def _broken_answer(self, reason: str) -> SnorkyTransportError:
        return self._transport_error("sent a broken HTTP answer: {}".format(reason))


def _error_detail(body: bytes) -> "str | None":
    """
    The text of a JSON error body ``{"error": "..."}``, shortened, or
    ``None`` if *body* is not one.
    """
    try:
        error = json.loads(body).get("error")
    except (ValueError, RecursionError, AttributeError):
        return None
    if not isinstance(error, str):
        return None
    return error if len(error) <= _MAX_DETAIL else error[:_MAX_DETAIL] + "..."

