"""The exceptions the backend connectors raise."""

__all__ = ["SnorkyConnectorError", "SnorkyError", "SnorkyTransportError"]


class SnorkyConnectorError(Exception):
    """
    Base of everything a connector raises for a call that did not succeed.

    Catch it to handle both kinds at once; catch :class:`SnorkyError` or
    :class:`SnorkyTransportError` to tell them apart.
    """


class SnorkyError(SnorkyConnectorError):
    """
    The service answered the call with an error.

    :ivar message: the service's error text, for example ``"No such
        dealer"`` or ``"Invalid params"``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SnorkyTransportError(SnorkyConnectorError):
    """
    The call did not get an answer from a service: Snorky could not be
    reached, refused the key, timed out, failed, or answered something
    that is not a reply envelope. The text says which; it never contains
    the backend key.

    :ivar status: the HTTP status of the answer, or ``None`` when there
        was no answer.
    """

    def __init__(self, text: str, status: "int | None" = None) -> None:
        super().__init__(text)
        self.status = status
