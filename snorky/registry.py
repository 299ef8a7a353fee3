"""`ServiceRegistry`: a named set of services and the routing of envelopes."""

from typing import Any, Callable, Dict, Iterable, Optional, Union

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from snorky.client import Client
from snorky.envelopes import EnvelopeError, decode_envelope
from snorky.loglimit import LogLimiter
from snorky.services.base import Service

__all__ = ["ServiceRegistry", "error_message"]


def error_message(text: str) -> Dict[str, Any]:
    """
    The message a client gets for a frame that no service could take.
    """
    return {"type": "error", "message": text}


class ServiceRegistry:
    """
    A named set of services. Transports hand it connections and frames;
    it routes each envelope to its service and tells every service about
    connects and disconnects.

    A frame that is not a valid envelope, or names no registered service,
    is answered with an error message and logged; the connection stays
    usable. Dropped frames and failures (with their tracebacks) are
    logged at most ten of each per minute, so that a client repeating a
    bad frame cannot flood the log.

    :param services: the services to register at once.
    :param clock: the clock of the log rate limits; the global reactor
        when ``None``.
    """

    log = Logger()

    def __init__(
        self,
        services: Optional[Iterable[Service]] = None,
        clock: Optional[IReactorTime] = None,
    ) -> None:
        self.services: Dict[str, Service] = {}
        self._log_limiter = LogLimiter(clock)
        self._failure_limiter = LogLimiter(clock)
        for service in services or ():
            self.register_service(service)

    def register_service(self, service: Service) -> None:
        """
        Add *service* under its name; unless it has a
        :attr:`~snorky.Service.log_limiter` already, it shares the
        registry's limit on failure logs.

        :raises ValueError: if a service of that name is registered already.
        """
        if service.name in self.services:
            raise ValueError(
                "A service named {!r} is registered already".format(service.name)
            )
        self.services[service.name] = service
        if service.log_limiter is None:
            service.log_limiter = self._failure_limiter

    def unregister_service(self, service: Union[Service, str]) -> None:
        """
        Remove a service, given it or its name.
        """
        name = service if isinstance(service, str) else service.name
        del self.services[name]

    def client_connected(self, client: Client) -> None:
        """
        Tell every service that *client* connected.
        """
        for service in list(self.services.values()):
            self._notify(service.client_connected, service, client)

    def client_disconnected(self, client: Client) -> None:
        """
        Tell every service that *client* disconnected; an exception in one
        service is logged and the others are still told.
        """
        client.connected = False
        for service in list(self.services.values()):
            self._notify(service.client_disconnected, service, client)

    def _notify(
        self, method: Callable[[Client], None], service: Service, client: Client
    ) -> None:
        try:
            method(client)
        except Exception:
            if not self._failure_limiter.allow():
                return
            self.log.failure(
                "{method} of service {service} failed for {client}",
                method=method.__name__,
                service=service.name,
                client=client,
            )

    def process_frame(self, client: Client, data: Union[str, bytes]) -> None:
        """
        Decode one frame from *client* and route it.
        """
        try:
            name, message = decode_envelope(data)
        except EnvelopeError as e:
            self._reject(client, None, str(e))
            return
        self.process_message_from(client, name, message)

    def process_message_from(self, client: Client, name: str, message: Any) -> None:
        """
        Route a decoded message to the service called *name*.
        """
        service = self.services.get(name)
        if service is None:
            self._reject(client, name, "Unknown service")
            return
        try:
            service.process_message_from(client, message)
        except Exception:
            if not self._failure_limiter.allow():
                return
            self.log.failure(
                "Service {service} failed on a message from {client}",
                service=name,
                client=client,
            )

    def _reject(self, client: Client, name: Optional[str], text: str) -> None:
        if self._log_limiter.allow():
            self.log.warn(
                "Dropped a frame from {client}: {reason}", client=client, reason=text
            )
        client.send({"service": name, "message": error_message(text)})
