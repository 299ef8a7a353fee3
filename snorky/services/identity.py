"""
Identity: how a connection learns who it is, through a single-use token
that the application's backend authorizes.

The web application, which knows its logged-in user, asks the backend
service :class:`IdentityBackend` to ``authorizeIdentity`` and hands the
token to the page; the page calls ``authenticate`` on the frontend
:class:`IdentityService`, which sets :attr:`snorky.Client.identity`.
"""

import json
from typing import Any, Optional, Tuple, Union

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime

from snorky.broker import IBroker, unavailable_error
from snorky.envelopes import canonical_json
from snorky.reactors import default_reactor
from snorky.services.base import Request, RPCError, RPCService, rpc_command
from snorky.services.tokens import TokenTable, new_token

__all__ = ["IdentityService", "IdentityBackend"]


class IdentityService(RPCService):
    """
    Frontend service: ``authenticate(token)`` sets the caller's
    :attr:`~snorky.Client.identity` to the identity the token was
    authorized for, and answers that identity.

    Tokens are single-use and expire *lifetime* seconds after being
    authorized. A wrong, reused or expired token is answered with
    ``Invalid token``.

    :param name: the service name.
    :param lifetime: seconds a token stays valid.
    :param max_pending: how many authorized, unused tokens may exist at
        once; beyond it :meth:`authorize` fails.
    :param clock: an ``IReactorTime``; the global reactor when ``None``.

    With a shared broker (:meth:`use_broker`), tokens live in the broker
    (by their digest, never in clear): one authorized on any node is
    taken, once, on any node; *lifetime* and *max_pending* hold
    cluster-wide, and :meth:`authorize` answers a Deferred.
    """

    #: Longest token text that is even looked up.
    max_token_length = 256

    def __init__(
        self,
        name: str,
        lifetime: float = 60.0,
        max_pending: int = 100_000,
        clock: Optional[IReactorTime] = None,
    ) -> None:
        super().__init__(name)
        self.clock: IReactorTime = default_reactor(clock)
        self.lifetime = lifetime
        self.max_pending = max_pending
        self._tokens: TokenTable[Tuple[Any, IDelayedCall]] = TokenTable(
            self.max_token_length
        )
        #: Token digest to (identity, expiry call), for unused tokens.
        self.pending = self._tokens.by_digest
        #: The broker's shared sets when a shared broker is used.
        self.shared: Any = None

    def use_broker(self, broker: IBroker) -> None:
        """
        Keep tokens in *broker* when it is shared by several nodes.
        """
        self.shared = broker.sets if broker.shared else None

    def authorize(self, identity: Any) -> Union[str, "Deferred[str]"]:
        """
        Authorize *identity* (any JSON value but ``null``) and return the
        token that lets one connection take it (a Deferred firing with it
        with a shared broker).

        :raises RPCError: ``Invalid identity`` for ``None``;
            ``Too many pending tokens`` when *max_pending* tokens are
            unused.
        """
        if identity is None:
            raise RPCError("Invalid identity")
        if self.shared is not None:
            return self._authorize_shared(identity)
        if len(self.pending) >= self.max_pending:
            raise RPCError("Too many pending tokens")
        token = new_token()
        expiry = self.clock.callLater(self.lifetime, self._tokens.pop, token)
        self._tokens.put(token, (identity, expiry))
        return token

    def _authorize_shared(self, identity: Any) -> "Deferred[str]":
        token = new_token()
        digest = self._tokens.digest(token)
        assert digest is not None
        d = self.shared.put_token(
            self.name, digest, canonical_json(identity).encode("utf-8"),
            self.lifetime, self.max_pending,
        )

        def kept(ok: bool) -> str:
            if not ok:
                raise RPCError("Too many pending tokens")
            return token

        return d.addCallbacks(kept, unavailable_error)  # type: ignore[no-any-return]

    @rpc_command
    def authenticate(self, req: Request, token: Any) -> Any:
        if self.shared is not None:
            return self._authenticate_shared(req, token)
        entry = self._tokens.pop(token)
        if entry is None:
            raise RPCError("Invalid token")
        identity, expiry = entry
        expiry.cancel()
        req.client.identity = identity
        return identity

    def _authenticate_shared(self, req: Request, token: Any) -> "Deferred[Any]":
        digest = self._tokens.digest(token)
        if digest is None:
            raise RPCError("Invalid token")

        def taken(value: Optional[bytes]) -> Any:
            if value is None:
                raise RPCError("Invalid token")
            identity = json.loads(value)
            req.client.identity = identity
            return identity

        return self.shared.take_token(self.name, digest).addCallbacks(  # type: ignore[no-any-return]
            taken, unavailable_error
        )


class IdentityBackend(RPCService):
    """
    Backend service: ``authorizeIdentity(identity)`` answers a token for
    :class:`IdentityService` *frontend*.

    :param name: the service name.
    :param frontend: the :class:`IdentityService` whose tokens it makes.
    """

    private = True

    def __init__(self, name: str, frontend: IdentityService) -> None:
        super().__init__(name)
        self.frontend = frontend

    @rpc_command(name="authorizeIdentity")
    def authorize_identity(self, req: Request, identity: Any) -> Any:
        return self.frontend.authorize(identity)

