"""Registry of roles by name: selectors, allocators, downsamplers, advantage estimators, collectors.

Built-in roles live one per file in their world's role packages (``ROLE_PACKAGES``)
and register themselves with ``@register``.
Third-party roles register through the entry-point group ``simbench.plugins``:
each entry point names a module (``pkg.module``: importing it registers its
classes) or a role class (``pkg.module:MyAllocator``: registered if its module
did not already).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from simbench.core.config import ConfigError, build
from simbench.core.roles import Role

ROLE_PACKAGES = {
    "selector": "simbench.worlds.rl.selectors",
    "allocator": "simbench.worlds.rl.allocators",
    "downsampler": "simbench.worlds.rl.downsamplers",
    "advantage": "simbench.worlds.rl.advantages",
    "collector": "simbench.worlds.equitable.collectors",
    "picker": "simbench.worlds.inference.pickers",
    "inference_allocator": "simbench.worlds.inference.allocators",
}
PLUGIN_GROUP = "simbench.plugins"
_REGISTRY: dict[str, dict[str, type[Role]]] = {role: {} for role in ROLE_PACKAGES}
_loaded = False
_LOAD_LOCK = threading.RLock()


class PluginError(ConfigError):
    """An entry point of ``simbench.plugins`` that cannot be loaded or registered (named, with the cause)."""

    def __init__(self, entry: str, cause: str):
        self.entry, self.cause = entry, cause
        self.where, self.value, self.source = PLUGIN_GROUP, entry, "plugin"
        self.allowed = "a module or role class that imports and registers"
        ValueError.__init__(self, f"plugin entry point '{entry}' (group {PLUGIN_GROUP}) failed: {cause}; "
                                  "fix or uninstall the package that declares it")

    def __reduce__(self):
        return (type(self), (self.entry, self.cause))


def register(cls: type[Role]) -> type[Role]:
    """Class decorator: register ``cls`` under ``cls.name`` for its ``cls.role``."""
    if cls.role not in _REGISTRY or not cls.name:
        raise TypeError(f"{cls.__name__} needs a role in {sorted(_REGISTRY)} and a name")
    known = _REGISTRY[cls.role].get(cls.name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"{cls.role} name {cls.name!r} is taken by {known.__module__}.{known.__qualname__}")
    _REGISTRY[cls.role][cls.name] = cls
    return cls


def load_plugin(ep: EntryPoint) -> None:
    """Load one entry point: a module registers by importing; a role class is registered if not yet."""
    entry = f"{ep.name} = {ep.value}"
    try:
        obj = ep.load()
    except Exception as err:  # any failure of a third party's import: name the entry point, keep the cause
        raise PluginError(entry, f"{type(err).__name__}: {err}") from err
    if inspect.ismodule(obj):
        return
    if not (inspect.isclass(obj) and issubclass(obj, Role)):
        raise PluginError(entry, f"it names {obj!r}, which is neither a module nor a role class")
    if _REGISTRY.get(obj.role, {}).get(obj.name) is not obj:
        try:
            register(obj)
        except (TypeError, ValueError) as err:
            raise PluginError(entry, str(err)) from err


def _load() -> None:
    global _loaded
    # Re-entrant lock: another thread waits for the whole load (it must never see a partial registry), while
    # the loading thread itself may ask the registry again (a plugin module importing it) and returns at once.
    with _LOAD_LOCK:
        if _loaded:
            return
        _loaded = True
        try:
            for package in ROLE_PACKAGES.values():
                pkg = importlib.import_module(package)
                for mod in pkgutil.iter_modules(pkg.__path__):
                    if not mod.name.startswith("_"):
                        importlib.import_module(f"{package}.{mod.name}")
            for ep in entry_points(group=PLUGIN_GROUP):
                load_plugin(ep)
        except BaseException:
            _loaded = False  # the next call raises the same error instead of running on with a partial registry
            raise


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
