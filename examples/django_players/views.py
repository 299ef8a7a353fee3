"""
The example's JSON API, as Django views: the API the Players page calls
(see :mod:`examples.players.web`), with the same validation.

The views only query, save and delete: the list authorizes its
subscription before querying (:func:`subscription_in_response`), and the
model publishes each change after commit by itself.
"""

import functools
import json
from typing import Any, Callable, Dict, List

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from examples.django_players.models import Player
from examples.players.dealers import AllPlayers, PlayersByColor
from examples.players.store import PlayerError, check_color, check_name
from snorky.backend.django import subscription_in_response
from snorky.backend.errors import SnorkyConnectorError

__all__ = ["player", "players"]

View = Callable[..., HttpResponse]


def _errors_as_json(view: View) -> View:
    """
    Answer bad input with 400 and an unreachable Snorky with 503, each
    with ``{"error": text}``, which the page shows.
    """

    @functools.wraps(view)
    def answering(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PlayerError as e:
            return JsonResponse({"error": str(e)}, status=400)
        except SnorkyConnectorError as e:
            return JsonResponse({"error": "Snorky: {}".format(e)}, status=503)

    return answering


def _body(request: HttpRequest) -> Dict[str, Any]:
    try:
        body = json.loads(request.body)
    except ValueError:
        body = None
    if request.content_type != "application/json" or not isinstance(body, dict):
        raise PlayerError("Send a JSON object (Content-Type: application/json)")
    return body


def _subscription(request: HttpRequest) -> List[Dict[str, Any]]:
    color = request.GET.get("color")
    if color is None:
        return [{"dealer": AllPlayers.name, "query": None}]
    return [{"dealer": PlayersByColor.name, "query": check_color(color)}]


def _data(player: Player) -> Dict[str, Any]:
    return {"id": player.pk, "name": player.name, "color": player.color}


@subscription_in_response(_subscription)
def _list(request: HttpRequest) -> HttpResponse:
    rows = Player.objects.all()
    if "color" in request.GET:
        rows = rows.filter(color=check_color(request.GET["color"]))
    return JsonResponse([_data(p) for p in rows], safe=False)


@require_http_methods(["GET", "POST"])
@_errors_as_json
def players(request: HttpRequest) -> HttpResponse:
    """
    ``GET /api/players[?color=C]``: the players (of colour *C*), with a
    subscription token if asked (``X-Snorky: Subscribe``);
    ``POST /api/players`` ``{"name", "color"}``: add a player.
    """
    if request.method == "GET":
        return _list(request)
    body = _body(request)
    created = Player.objects.create(
        name=check_name(body.get("name")), color=check_color(body.get("color"))
    )
    return JsonResponse(_data(created), status=201)


@require_http_methods(["PUT", "DELETE"])
@_errors_as_json
def player(request: HttpRequest, player_id: int) -> HttpResponse:
    """
    ``PUT /api/players/ID`` ``{"name"?, "color"?}``: change a player;
    ``DELETE /api/players/ID``: remove one.
    """
    found = Player.objects.filter(pk=player_id).first()
    if found is None:
        return JsonResponse({"error": "No such player"}, status=404)
    if request.method == "DELETE":
        data = _data(found)
        found.delete()
        return JsonResponse(data)
    changes = _body(request)
    if not changes or set(changes) - {"name", "color"}:
        raise PlayerError("Only name and color can be changed")
    found.name = check_name(changes.get("name", found.name))
    found.color = check_color(changes.get("color", found.color))
    found.save()
    return JsonResponse(_data(found))
