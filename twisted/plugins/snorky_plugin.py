"""The ``twistd snorky`` plugin; everything lives in :mod:`snorky.tap`."""

from twisted.application.service import ServiceMaker

snorky = ServiceMaker(
    "Snorky",
    "snorky.tap",
    "A real-time server for web applications (WebSocket, SockJS, HTTP backend).",
    "snorky",
)
