"""The worlds: each is a package with a ``World`` (``simbench.worlds.base``) registered here by name.

Adding a world is one package plus one line in ``WORLDS``; the shared machinery
(``simbench.core``) only ever asks this registry, never names a world.
"""
from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from simbench.core.config import ConfigError
from simbench.core.scenario import read_toml
from simbench.worlds.base import ScenarioWorld, UnitWorld, World

# name -> "module:class"; imported on first use, so loading one world never loads another
WORLDS = {
    "rl": "simbench.worlds.rl.world:RLWorld",
    "equitable": "simbench.worlds.equitable.world:EquitableWorld",
    "inference": "simbench.worlds.inference.world:InferenceWorld",
    "replay": "simbench.worlds.replay.world:ReplayWorld",
    "validation": "simbench.worlds.replay.world:ValidationWorld",
}
DEFAULT = "rl"  # the world of a scenario file without a ``world`` key


@cache
def get(name: str) -> World:
    """The world registered as ``name``."""
    module, cls = WORLDS[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def of_manifest(root, manifest: dict) -> World:
    """The world that wrote the output directory ``root``, from its manifest."""
    name = manifest.get("world")
    if name not in WORLDS:
        raise ConfigError("world", name, f"one of {', '.join(WORLDS)}: this manifest was written by an older simbench; "
                          "re-run the command that made the directory (finished units are reused)", str(root / "manifest.json"))
    return get(name)


def scenario_worlds() -> list[str]:
    """Names of the worlds a scenario file may select (those run from scenario files)."""
    return [name for name in WORLDS if isinstance(get(name), ScenarioWorld)]


def parse_scenario(data: dict, source: str = "<memory>", base_dir: str = "."):
    """Build a scenario of the world its ``world`` key names (default ``rl``); errors are attributed to ``source``."""
    if "sweep" in data:
        raise ConfigError("sweep", "[sweep]", "a scenario without a [sweep] table here: run it with `simbench sweep`", source)
    name = data.get("world", DEFAULT)
    if name not in list(WORLDS) or not isinstance(get(name), ScenarioWorld):  # a list: the value may be unhashable
        allowed = " or ".join(f"'{w}'" + (" (default)" if w == DEFAULT else "") for w in scenario_worlds())
        raise ConfigError("world", name, allowed, source)
    return get(name).parse({k: v for k, v in data.items() if k != "world"}, source, base_dir)


def world_of(scenario) -> UnitWorld:
    """The world a parsed scenario belongs to."""
    return get(scenario.world)


def load_scenario(path: str | Path):
    """Read and check a scenario TOML file of any world."""
    data = read_toml(path)
    return parse_scenario(data, str(path), str(Path(path).resolve().parent))
