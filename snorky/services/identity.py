"""
Identity: how a connection learns who it is, through a single-use token
that the application's backend authorizes.

The web application, which knows its logged-in user, asks the backend
service :class:`IdentityBackend` to ``authorizeIdentity`` and hands the
token to the page; the page calls ``authenticate`` on the frontend
:class:`IdentityService`, which sets :attr:`snorky.Client.identity`.
"""

from typing import Any, Optional, Tuple

from twisted.internet.interfaces import IDelayedCall, IReactorTime

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

    def authorize(self, identity: Any) -> str:
        """
        Authorize *identity* (any JSON value but ``null``) and return the
        token that lets one connection take it.

        :raises RPCError: ``Invalid identity`` for ``None``;
            ``Too many pending tokens`` when *max_pending* tokens are
            unused.
        """
        if identity is None:
            raise RPCError("Invalid identity")
        if len(self.pending) >= self.max_pending:
            raise RPCError("Too many pending tokens")
        token = new_token()
        expiry = self.clock.callLater(self.lifetime, self._tokens.pop, token)
        self._tokens.put(token, (identity, expiry))
        return token

    @rpc_command
    def authenticate(self, req: Request, token: Any) -> Any:
        entry = self._tokens.pop(token)
        if entry is None:
            raise RPCError("Invalid token")
        identity, expiry = entry
        expiry.cancel()
        req.client.identity = identity
        return identity


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
    def authorize_identity(self, req: Request, identity: Any) -> str:
        return self.frontend.authorize(identity)

