"""The inference world at scale: 10,000 queries, up to 1,000 samples each, per strategy.

Each strategy's wall time (engine, tapes and picker; numba compiled beforehand) is set against the time numpy takes
to draw the same random numbers (the uniforms and normals of every sample it drew) with its default generator.

    python benchmarks/bench_inference.py
"""
from __future__ import annotations

import time

import numpy as np

from simbench import registry
from simbench.worlds import parse_scenario
from simbench.worlds.inference.engine import run
from simbench.worlds.inference.tape import make_queries

Q, PER_QUERY = 10_000, 1000
STRATEGIES = [("uniform", "majority"), ("esc", "majority"), ("adaptive_consistency", "majority"),
              ("elimination", "resample_until_pass"), ("marginal_gain", "oracle_any"), ("difficulty_bins", "bom")]


def scenario():
    return parse_scenario({"world": "inference", "name": "bench", "seeds": 1,
                           "queries": {"n_queries": Q, "pass_rate": {"kind": "beta", "a": 0.349, "b": 0.707}},
                           "verifier": {"kind": "rm"}, "budget": {"per_query": [float(PER_QUERY)]},
                           "strategies": [{"allocator": a, "picker": p} for a, p in STRATEGIES]})


def rng_time(samples: int) -> float:
    """Seconds numpy takes to draw what a sample uses: 4 uniforms (correct, answer, verifier, ties) and 2 normals."""
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for start in range(0, samples, 1_000_000):
        k = min(1_000_000, samples - start)
        rng.random(4 * k)
        rng.standard_normal(2 * k)
    return time.perf_counter() - t0


def main() -> None:
    sc = scenario()
    queries = make_queries(sc, sc.cell_seed(0))
    small = parse_scenario({**{"world": "inference", "name": "warm", "seeds": 1}, "queries": {"n_queries": 20},
                            "verifier": {"kind": "rm"}, "strategies": [{"allocator": a, "picker": p} for a, p in STRATEGIES]})
    warm = make_queries(small, small.cell_seed(0))
    figures = []
    for allocator, picker in STRATEGIES:
        run(warm, small, registry.make("inference_allocator", allocator), registry.make("picker", picker), 40 * 20)  # compile
        t0 = time.perf_counter()
        out = run(queries, sc, registry.make("inference_allocator", allocator), registry.make("picker", picker), PER_QUERY * Q)
        took = time.perf_counter() - t0
        samples = int(out.samples.sum())
        ratio = took / rng_time(samples)
        figures.append(f"{allocator} {took:.1f} s ({ratio:.1f}x rng)")
        print(f"{allocator:<22} {samples / 1e6:6.2f} M samples in {out.waves:4d} waves: {took:6.2f} s, {ratio:5.1f}x the time "
              f"numpy draws their random numbers in; accuracy {out.correct.mean():.3f}", flush=True)
    print(f"RESULT inference: {Q} queries x up to {PER_QUERY} samples: " + ", ".join(figures))


if __name__ == "__main__":
    main()
