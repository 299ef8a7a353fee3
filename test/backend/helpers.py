"""A connector with canned answers, for unit tests of what is not HTTP."""

import json
from typing import Any, Callable, List, Tuple

from snorky.backend.base import BaseSnorkyBackend

URL = "http://127.0.0.1:5002/backend"
KEY = "unit-test-key-fedcba9876543210"

#: ``(service, call_id) -> (HTTP status, body)``
Answerer = Callable[[str, int], Tuple[int, bytes]]


def reply(data: Any) -> Answerer:
    """
    An answerer that answers every call with a response of *data*.
    """
    return lambda service, call_id: (
        200,
        json.dumps(
            {"service": service,
             "message": {"type": "response", "callId": call_id, "data": data}}
        ).encode(),
    )


class CannedBackend(BaseSnorkyBackend):
    """
    A connector whose calls are answered by *answer* instead of a server;
    :attr:`sent` keeps the envelopes it would have posted, decoded.
    """

    def __init__(self, answer: Answerer = reply(None), **kwargs: Any) -> None:
        super().__init__(URL, KEY, **kwargs)
        self.answer = answer
        self.sent: List[Any] = []

    def call(self, service: str, command: str, /, **params: Any) -> Any:
        call_id, body = self._encode_call(service, command, params)
        self.sent.append(json.loads(body))
        status, answer = self.answer(service, call_id)
        return self._read_answer(service, call_id, status, answer)


def rpc_error(text: str) -> Answerer:
    """
    An answerer that answers every call with an RPC error of *text*.
    """
    return lambda service, call_id: (
        200,
        json.dumps(
            {"service": service,
             "message": {"type": "error", "callId": call_id, "message": text}}
        ).encode(),
    )
