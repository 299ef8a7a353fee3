"""
The example's Django URLs, below ``/api/`` (the page is served outside
Django).
"""

from django.urls import path

from examples.django_players import views

urlpatterns = [
    path("players", views.players),
    path("players/<int:player_id>", views.player),
]
