"""Jinja's environment for the portal: Flask's, with each template's globals answering
"which keys?" in C.

Every ``{% from "..." import ... %}`` asks whether the importing template has globals the
imported one lacks (Jinja's ``Template._get_default_module``): a set minus the imported
template's globals, a ``ChainMap`` of its own globals (none, in this portal) over the
environment's. A ``ChainMap`` answers each ``in`` in Python, looking in each of its maps in
turn: with the NHS layout's nine imports a page, a tenth of the CPU of a signed-in page
with nothing else on it (cProfile). While a template has no globals of its own, its keys
are the environment's dict's keys, and the set arithmetic runs in C; the answer is the
same, and a template given globals of its own is answered as before.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, KeysView, MutableMapping
from typing import Any

from flask.templating import Environment


class _Globals(ChainMap[str, Any]):
    """A template's globals over the environment's; the environment's keys as they are
    while the template has none of its own."""

    def _only_shared(self) -> dict[str, Any] | None:
        own, *rest = self.maps
        if not own and len(rest) == 1 and isinstance(rest[0], dict):
            return rest[0]
        return None

    def keys(self) -> KeysView[str]:
        shared = self._only_shared()
        return shared.keys() if shared is not None else super().keys()

    def __iter__(self) -> Iterator[str]:
        shared = self._only_shared()
        return iter(shared) if shared is not None else super().__iter__()


class PortalEnvironment(Environment):
    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)
