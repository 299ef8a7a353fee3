"""
Tests for the layout of snorky.transports.sockjs: its modules form
floors, each importing only from the floors below it.
"""

import ast
import os
from typing import Dict, Set

from twisted.trial.unittest import TestCase

import snorky.transports.sockjs as package

_PREFIX = package.__name__ + "."


def _imports() -> Dict[str, Set[str]]:
    """
    Each module of the package, by name, with the package's modules it
    imports (at run time or for type checking alike).
    """
    folder = os.path.dirname(package.__file__)
    names = {f[:-3] for f in os.listdir(folder) if f.endswith(".py")}
    found: Dict[str, Set[str]] = {}
    for name in names:
        with open(os.path.join(folder, name + ".py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        used: Set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == package.__name__:
                    used |= {alias.name for alias in node.names if alias.name in names}
                elif node.module.startswith(_PREFIX):
                    used.add(node.module[len(_PREFIX):])
            elif isinstance(node, ast.Import):
                used |= {
                    alias.name[len(_PREFIX):]
                    for alias in node.names
                    if alias.name.startswith(_PREFIX)
                }
        found[name] = used - {name}
    return found


class LayoutTests(TestCase):
    """
    Tests for the import graph of the package.
    """

    def test_no_cycle(self):
        """
        No module imports, directly or not, a module that imports it.
        """
        imports = _imports()
        floors: Dict[str, int] = {}

        def floor(name: str, path: tuple) -> int:
            self.assertNotIn(name, path, "import cycle: " + " -> ".join(path + (name,)))
            if name not in floors:
                below = [floor(used, path + (name,)) for used in imports[name]]
                floors[name] = 1 + max(below, default=-1)
            return floors[name]

        for name in imports:
            floor(name, ())
        self.assertEqual(floors["resource"], max(floors[n] for n in imports if n not in
                                                 ("__init__", "testserver")))

    def test_transports_see_interfaces(self):
        """
        The transport modules reach the sessions only through the
        interfaces: none imports the resource or the session table.
        """
        imports = _imports()
        for transport in ("xhr", "eventsource", "htmlfile", "jsonp", "websocket"):
            self.assertEqual(imports[transport] & {"resource", "sessions"}, set(), transport)
