"""Snorky: a real-time server for web applications, built on Twisted."""

from snorky.client import Client
from snorky.registry import ServiceRegistry
from snorky.services.base import (
    RPCError,
    RPCService,
    Request,
    Service,
    rpc_asynchronous,
    rpc_command,
)

__all__ = [
    "Client",
    "RPCError",
    "RPCService",
    "Request",
    "Service",
    "ServiceRegistry",
    "rpc_asynchronous",
    "rpc_command",
]

__version__ = "0.1.0"
