"""
The REST idiom in Django views: when a request carries ``X-Snorky:
Subscribe``, authorize a DataSync subscription *before* the view queries
the database, and answer its token in ``X-Subscription-Token``.
"""

import functools
from typing import Any, Callable, Iterable, Optional, Union, cast

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from snorky.backend.django.connector import authorize_subscription, get_backend
from snorky.backend.rest import (
    SNORKY_HEADER,
    SUBSCRIPTION_TOKEN_HEADER,
    subscribe_if_asked,
    wants_subscription,
)

__all__ = ["subscription_in_response", "subscription_token"]

Items = Iterable[Any]
ItemsOf = Callable[..., Items]


def subscription_token(request: HttpRequest, items: Items) -> Optional[str]:
    """
    Authorize a subscription to *items* if *request* asks for one; call it
    before querying, and put the token, if any, in the response's
    ``X-Subscription-Token`` header.

    :returns: the token, or ``None`` if no subscription was asked for.
    :raises snorky.backend.errors.SnorkyConnectorError: if authorizing failed.
    """
    # The blocking connector answers at once, never with a Deferred.
    return cast(
        Optional[str], subscribe_if_asked(get_backend(), request.headers, items)
    )


def subscription_in_response(
    items: Union[Items, ItemsOf],
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """
    Decorate a function view so that a request asking for a subscription
    gets one to *items*, authorized before the view runs, with its token
    in the response's ``X-Subscription-Token`` header. Every response
    varies on ``X-Snorky``, so that caches keep the two kinds apart.

    :param items: the subscription items, or a function called with the
        view's arguments (``request, *args, **kwargs``) that returns them.
    :raises snorky.backend.errors.SnorkyConnectorError: if authorizing
        failed (the view does not run).
    """

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def subscribing_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            token = None
            if wants_subscription(request.headers):
                wanted = items(request, *args, **kwargs) if callable(items) else items
                token = authorize_subscription(wanted)
            response = view(request, *args, **kwargs)
            if token is not None:
                response[SUBSCRIPTION_TOKEN_HEADER] = token
            patch_vary_headers(response, (SNORKY_HEADER,))
            return response

        return subscribing_view

    return decorate
