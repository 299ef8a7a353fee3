"""
The REST idiom: a page asks for data *and* a DataSync subscription to its
changes in one HTTP request.

The browser sends the request with the header ``X-Snorky: Subscribe``.
The web application then, in this order:

1. authorizes a subscription covering the data (:func:`subscribe_if_asked`),
2. queries its database,
3. responds with the data and the token in the ``X-Subscription-Token``
   header.

Authorizing *before* querying is what makes it race-free: Snorky buffers
every delta that matches the subscription from the moment it is
authorized, so a change committed while the query runs or the response
travels reaches the browser when it acquires the token. Querying first
would lose a change committed between the query and the authorization.
"""

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional, Tuple, Union

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = [
    "SNORKY_HEADER",
    "SUBSCRIBE",
    "SUBSCRIPTION_TOKEN_HEADER",
    "wants_subscription",
    "subscribe_if_asked",
]

#: The request header a browser sets to ask for a subscription.
SNORKY_HEADER = "X-Snorky"

#: The value of :data:`SNORKY_HEADER` that asks for a subscription.
SUBSCRIBE = "Subscribe"

#: The response header that carries the subscription token.
SUBSCRIPTION_TOKEN_HEADER = "X-Subscription-Token"

# The header's name as a WSGI environ (and Django's request.META) spells it.
_ENVIRON_NAME = "HTTP_X_SNORKY"


def wants_subscription(headers: Any) -> bool:
    """
    Whether a request asks for a subscription: its ``X-Snorky`` header is
    ``Subscribe`` (the header's name and value in any case, surrounding
    spaces ignored).

    :param headers: the request's headers, as any of:

        * a mapping or any object with ``items()`` (a ``dict``, Django's
          ``request.headers``, Werkzeug's or ``wsgiref``'s ``Headers``,
          ``email.message.Message``),
        * a WSGI ``environ`` (or Django's ``request.META``), where the
          header is ``HTTP_X_SNORKY``,
        * :class:`twisted.web.http_headers.Headers` (Twisted's and Klein's
          ``request.requestHeaders``),
        * an iterable of ``(name, value)`` pairs.

        Names and values may be ``str`` or ``bytes``.
    """
    return any(
        _text(value).strip().lower() == "subscribe" for value in _snorky_values(headers)
    )


def subscribe_if_asked(
    backend: Any, headers: Any, items: Iterable[Any]
) -> Union[Optional[str], "Deferred[Optional[str]]"]:
    """
    Authorize a subscription to *items* if the request asks for one.

    Call it *before* querying the database (see the module's
    documentation), then put the token, if any, in the response's
    :data:`SUBSCRIPTION_TOKEN_HEADER` header.

    :param backend: a :class:`~snorky.backend.client.SnorkyBackend`, or a
        :class:`~snorky.backend.txclient.TwistedSnorkyBackend`, in which
        case the result comes as a Deferred.
    :param headers: the request's headers, as :func:`wants_subscription`
        takes them.
    :param items: the subscription items, as
        :meth:`~snorky.backend.base.BaseSnorkyBackend.authorize_subscription`
        takes them.
    :returns: the token, or ``None`` if no subscription was asked for.
    :raises snorky.backend.errors.SnorkyConnectorError: if the authorization failed.
    """
    if wants_subscription(headers):
        return backend.authorize_subscription(items)  # type: ignore[no-any-return]
    return backend._resolved(None)  # type: ignore[no-any-return]


def _snorky_values(headers: Any) -> Iterator[Any]:
    """
    Every value of the ``X-Snorky`` header in *headers*.
    """
    get_raw = getattr(headers, "getRawHeaders", None)
    if get_raw is not None:
        yield from get_raw(SNORKY_HEADER, ())
        return
    for name, value in _pairs(headers):
        name = _text(name)
        if name.lower() == "x-snorky" or name == _ENVIRON_NAME:
            yield value


def _pairs(headers: Any) -> Iterable[Tuple[Any, Any]]:
    items = getattr(headers, "items", None)
    return items() if items is not None else headers  # type: ignore[no-any-return]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else ""
