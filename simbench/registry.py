"""Registry of roles by name: selectors, allocators, downsamplers, advantage estimators.

Built-in roles live one per file in ``simbench/{selectors,allocators,
downsamplers,advantages}/`` and register themselves with ``@register``.
Third-party roles register through the entry-point group
``simbench.plugins`` (each entry point names a module to import).
"""
from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Any

from simbench.core.config import ConfigError, build
from simbench.core.roles import Role

ROLE_PACKAGES = {
    "selector": "simbench.worlds.rl.selectors",
    "allocator": "simbench.worlds.rl.allocators",
    "downsampler": "simbench.worlds.rl.downsamplers",
    "advantage": "simbench.worlds.rl.advantages",
    "collector": "simbench.worlds.equitable.collectors",
}
_REGISTRY: dict[str, dict[str, type[Role]]] = {role: {} for role in ROLE_PACKAGES}
_loaded = False


def register(cls: type[Role]) -> type[Role]:
    """Class decorator: register ``cls`` under ``cls.name`` for its ``cls.role``."""
    if cls.role not in _REGISTRY or not cls.name:
        raise TypeError(f"{cls.__name__} needs a role in {sorted(_REGISTRY)} and a name")
    known = _REGISTRY[cls.role].get(cls.name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"{cls.role} name {cls.name!r} is taken by {known.__module__}.{known.__qualname__}")
    _REGISTRY[cls.role][cls.name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package in ROLE_PACKAGES.values():
        pkg = importlib.import_module(package)
        for mod in pkgutil.iter_modules(pkg.__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{package}.{mod.name}")
    for ep in entry_points(group="simbench.plugins"):
        importlib.import_module(ep.value)


def registry(role: str) -> dict[str, type[Role]]:
    """All registered classes of ``role``, by name (sorted)."""
    _load()
    return dict(sorted(_REGISTRY[role].items()))


def get(role: str, name: str, where: str = "") -> type[Role]:
    """The class registered as ``name`` for ``role``; a clear error if unknown."""
    known = registry(role)
    if not isinstance(name, str) or name not in known:  # e.g. kind = [] in a scenario: a value, not a name
        raise ConfigError(where or role, name, f"a registered {role}: {', '.join(known)}")
    return known[name]


def make(role: str, spec: dict[str, Any] | str, where: str = "") -> Role:
    """Build a role from ``"name"`` or a table ``{kind = name, param = value, ...}``."""
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ConfigError(where or role, spec, f"a {role} name, or a table with 'kind' and its parameters")
    spec = dict(spec)
    name = spec.pop("kind")
    cls = get(role, name, f"{where}.kind" if where else "kind")
    params = build(cls.Params, spec, where)
    return cls(params)
