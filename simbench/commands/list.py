"""``simbench list``: the registered roles of every world and the bundled scenarios."""
from __future__ import annotations

import simbench.registry as reg
from simbench.core.paths import bundled_scenarios


def add_parser(sub):
    return sub.add_parser("list", help="list allocators, selectors, downsamplers, advantage estimators, data collectors, "
                                       "test-time allocators, answer pickers and bundled scenarios")


def run(args) -> int:
    titles = {"allocator": "Sample allocators", "selector": "Prompt selectors", "downsampler": "Downsamplers", "advantage": "Advantage estimators",
              "collector": "Data collectors (equitable world)", "inference_allocator": "Test-time allocators (inference world)",
              "picker": "Answer pickers (inference world)"}
    for role, title in titles.items():
        print(f"{title}:")
        for name, cls in reg.registry(role).items():
            print(f"  {name:<24} {cls.describe()}")
        print()
    print("Bundled scenarios:")
    for path in bundled_scenarios():
        print(f"  {path}")
    return 0
