"""
`Readiness`: the checks behind ``/readyz``.

A server is ready when every check passes: by default, that each port
listens. Whatever else the server depends on adds its own check with
:meth:`Readiness.add`; the broker, when one is configured, adds one saying
whether it is connected::

    readiness.add("broker", lambda: broker.connected)
"""

from typing import Callable, Dict, List, Tuple

__all__ = ["Readiness"]

#: A check: returns ``True`` when its part is ready.
Check = Callable[[], bool]


class Readiness:
    """
    Named checks, each a callable returning ``True`` when ready.
    """

    def __init__(self) -> None:
        self._checks: Dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        """
        Add (or replace) the check called *name*.
        """
        self._checks[name] = check

    def remove(self, name: str) -> None:
        """
        Remove the check called *name*, if any.
        """
        self._checks.pop(name, None)

    def results(self) -> List[Tuple[str, bool]]:
        """
        Each check's name and result, in the order added; a check that
        raises counts as not ready.
        """
        results = []
        for name, check in list(self._checks.items()):
            try:
                ok = bool(check())
            except Exception:
                ok = False
            results.append((name, ok))
        return results

    def ready(self) -> bool:
        """
        Whether every check passes.
        """
        return all(ok for _, ok in self.results())
