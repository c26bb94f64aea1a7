"""Strict conversion of TOML tables into frozen dataclasses.

Every scenario section and every allocator's parameters are frozen dataclasses;
``build`` turns a parsed TOML table into one, checking keys and types, and
``to_dict`` turns it back so that parameters round-trip through TOML.  Errors
name the file, the dotted key path, the bad value and what is allowed.
"""
from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from typing import Any, Literal, get_args, get_origin


class UserError(RuntimeError):
    """A failure found while running whose message says what to change (the command line prints it in one line, status 2)."""


class ConfigError(ValueError):
    """A value in a scenario or parameter table is invalid.

    Parameters
    ----------
    where : str
        Dotted key path, e.g. ``population.pass_rate.a``, or a command-line option, e.g. ``--seeds``.
    value : object
        The offending value.
    allowed : str
        What would have been accepted.
    source : str, optional
        The file the value came from (``command line`` by default for an option).
    """

    def __init__(self, where: str, value: Any, allowed: str, source: str = "<memory>"):
        if where.startswith("--") and source == "<memory>":
            source = "command line"
        self.where, self.value, self.allowed, self.source = where, value, allowed, source
        key = f"{where} {value!r}" if where.startswith("--") else f"key '{where}' = {value!r}"
        super().__init__(f"{source}: {key} is invalid: {allowed}")

    def __reduce__(self):
        # rebuild from all four fields so the error survives a worker process's pickling
        return (type(self), (self.where, self.value, self.allowed, self.source))

    def in_file(self, source: str) -> "ConfigError":
        """Return the same error attributed to ``source``."""
        return ConfigError(self.where, self.value, self.allowed, source)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(tp: Any, value: Any, where: str, unbounded: bool = False) -> Any:
    """``value`` as type ``tp``; floats must be finite unless ``unbounded`` (then +-inf are allowed)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(where, value, f"one of {', '.join(repr(c) for c in choices)}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        present = [a for a in args if a is not type(None)]
        if len(present) == 1:  # optional: the inner error, with its own key path (e.g. inside an optional table)
            return _convert(present[0], value, where, unbounded)
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where, unbounded)
            except ConfigError as err:
                errors.append(err.allowed)
        raise ConfigError(where, value, " or ".join(errors))
    if dataclasses.is_dataclass(tp):
        if dataclasses.is_dataclass(value) and isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(where, value, f"a table of {tp.__name__} fields")
        return build(tp, value, where)
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(where, value, "an array")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]", unbounded) for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(where, value, f"an array of exactly {len(args)} values")
        return tuple(_convert(a, v, f"{where}[{i}]", unbounded) for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(where, value, "a table")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(where, value, "true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(where, value, "an integer")
        if not -2**63 <= value < 2**63:
            raise ConfigError(where, value, "a 64-bit integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(where, value, "a number")
        if math.isnan(float(value)):
            raise ConfigError(where, value, "a number (not nan)")
        if not unbounded and math.isinf(float(value)):
            # an infinite rate, length or noise silently breaks the model (e.g. every length clips to 1 token)
            raise ConfigError(where, value, "a finite number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(where, value, "a string")
        return value
    raise TypeError(f"unsupported field type {tp!r} at {where}")


def build(cls: type, data: dict, where: str = "") -> Any:
    """Build the frozen dataclass ``cls`` from a TOML table, strictly.

    A class may rewrite the table first with a static ``expand_table(data)``
    (presets).  Unknown keys are errors; missing keys take the field default; each value is
    converted to the annotated type, then the dataclass's ``check`` method (if
    any) validates ranges and raises ``ConfigError`` naming the key.  Floats must
    be finite, except in fields declared with ``unbounded()`` (e.g. budgets).
    """
    if not isinstance(data, dict):
        raise ConfigError(where or cls.__name__, data, f"a table of {cls.__name__} fields")
    expand = getattr(cls, "expand_table", None)  # e.g. a preset that fills the keys the table leaves out
    if expand is not None:
        data = expand(data)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = unknown[0]
        raise ConfigError(_join(where, key), data[key], f"unknown key; allowed keys: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, field in fields.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], _join(where, name), bool(field.metadata.get("unbounded")))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(_join(where, name), None, "this key is required")
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except ConfigError as err:
            raise ConfigError(_join(where, err.where), err.value, err.allowed) from None
    return obj


def unbounded(default: float) -> Any:
    """A dataclass field whose float may be infinite (``inf``: no limit), e.g. a budget."""
    return dataclasses.field(default=default, metadata={"unbounded": True})


def to_dict(obj: Any) -> Any:
    """Turn a (nested) frozen dataclass into plain TOML-writable values."""
    if dataclasses.is_dataclass(obj):
        return {
            f.name: to_dict(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.init and not f.metadata.get("internal") and getattr(obj, f.name) is not None
        }
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def require(cond: bool, key: str, value: Any, allowed: str) -> None:
    """Raise ``ConfigError`` for ``key`` unless ``cond`` holds (for ``check`` methods)."""
    if not cond:
        raise ConfigError(key, value, allowed)


def memory_bytes() -> int:
    """Physical memory of this machine in bytes (a generous 16 TiB where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2 ** 44


def require_memory(nbytes: float, key: str, value: Any, what: str) -> None:
    """Raise ``ConfigError`` for ``key`` when ``what`` needs more than this machine's memory.

    Checked up front where a key sets the size of an array, so that an absurd size
    names its key instead of failing deep inside numpy with a MemoryError.
    """
    total = memory_bytes()
    require(nbytes <= total, key, value, f"a smaller value: {what} would take {nbytes / 2**30:.3g} GiB, more than this "
                                         f"machine's {total / 2**30:.3g} GiB of memory")
