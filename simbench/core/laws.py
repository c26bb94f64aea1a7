"""Laws of per-item pass rates and response lengths, shared by the worlds that draw populations of prompts or queries.

``PassRateSpec`` draws latent single-sample success probabilities (Beta, Beta
mixture, logit-normal, or a user's table of per-item pass rates, e.g. a
benchmark's per-problem results); ``LengthSpec`` is the response-length model.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from simbench.core.config import ConfigError, require


@dataclass(frozen=True)
class PassRateSpec:
    """Distribution of initial pass rates.

    ``kind`` is ``beta`` (uses ``a``, ``b``), ``beta_mixture`` (``weights``,
    ``alphas``, ``betas``), ``logit_normal`` (``mu``, ``sigma``) or ``table``
    (``path`` to a CSV with a column ``p``; other columns are not read, groups
    come from ``groups``; prompts are taken in file order, cycling if more are
    asked for).
    """

    kind: Literal["beta", "beta_mixture", "logit_normal", "table"] = "beta"
    a: float = 0.2622
    b: float = 0.7271
    weights: tuple[float, ...] = ()
    alphas: tuple[float, ...] = ()
    betas: tuple[float, ...] = ()
    mu: float = 0.0
    sigma: float = 1.0
    path: str = ""

    def check(self) -> None:
        if self.kind == "beta":
            require(self.a > 0, "a", self.a, "a positive number")
            require(self.b > 0, "b", self.b, "a positive number")
        elif self.kind == "beta_mixture":
            k = len(self.weights)
            require(k >= 1, "weights", self.weights, "a non-empty array of mixture weights")
            require(len(self.alphas) == k, "alphas", self.alphas, f"{k} values, one per weight")
            require(len(self.betas) == k, "betas", self.betas, f"{k} values, one per weight")
            require(all(w >= 0 for w in self.weights) and sum(self.weights) > 0, "weights", self.weights, "non-negative numbers with a positive sum")
            require(all(v > 0 for v in self.alphas), "alphas", self.alphas, "positive numbers")
            require(all(v > 0 for v in self.betas), "betas", self.betas, "positive numbers")
        elif self.kind == "logit_normal":
            require(self.sigma >= 0, "sigma", self.sigma, "a non-negative number")
        elif self.kind == "table":
            require(bool(self.path), "path", self.path, "the path of a CSV file with a column 'p'")

    def sample(self, rng: np.random.Generator, size: int, base_dir: Path | None = None) -> np.ndarray:
        """Draw ``size`` initial pass rates."""
        if self.kind == "beta":
            return rng.beta(self.a, self.b, size)
        if self.kind == "beta_mixture":
            w = np.asarray(self.weights, float)
            comp = rng.choice(len(w), size=size, p=w / w.sum())
            return rng.beta(np.asarray(self.alphas)[comp], np.asarray(self.betas)[comp])
        if self.kind == "logit_normal":
            return 1.0 / (1.0 + np.exp(-rng.normal(self.mu, self.sigma, size)))
        table = read_pass_rate_table(self.path, base_dir)
        return table[np.arange(size) % len(table)]


def read_pass_rate_table(path: str, base_dir: Path | None = None) -> np.ndarray:
    """Read a CSV with a column ``p`` of pass rates in [0, 1]; errors name file and line."""
    file = Path(path)
    if base_dir is not None and not file.is_absolute():
        file = base_dir / file
    if not file.is_file():
        raise ConfigError("population.pass_rate.path", path, f"an existing CSV file (looked for {file})")
    raw = file.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise ConfigError("population.pass_rate.path", path, f"UTF-8 text ({file}:{line} has byte 0x{raw[err.start]:02x})") from None
    with file.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "p" not in reader.fieldnames:
            raise ConfigError("population.pass_rate.path", path, f"a CSV whose header has a column 'p' ({file} has {reader.fieldnames})")
        values = []
        for line, row in enumerate(reader, start=2):
            try:
                p = float(row["p"])
            except (TypeError, ValueError):
                raise ConfigError("population.pass_rate.path", row["p"], f"a number in [0, 1] at {file}:{line}") from None
            if not 0.0 <= p <= 1.0:
                raise ConfigError("population.pass_rate.path", p, f"a number in [0, 1] at {file}:{line}")
            values.append(p)
    if not values:
        raise ConfigError("population.pass_rate.path", path, f"a CSV with at least one row ({file} has none)")
    return np.asarray(values)


@dataclass(frozen=True)
class LengthSpec:
    """Response-length model (tokens per sampled response).

    The per-prompt mean is ``mean * exp(difficulty_slope * (0.5 - p0)) * LogNormal(0, prompt_sigma)``;
    one response's length is LogNormal around that mean with log-sd ``sigma``,
    times ``wrong_factor`` if incorrect, rounded and clipped to [1, ``max``].
    """

    mean: float = 600.0
    difficulty_slope: float = 1.0
    prompt_sigma: float = 0.3
    sigma: float = 0.4
    wrong_factor: float = 1.3
    max: int = 3072

    def check(self) -> None:
        require(self.mean >= 1, "mean", self.mean, "a number >= 1 (tokens)")
        require(self.prompt_sigma >= 0, "prompt_sigma", self.prompt_sigma, "a non-negative number")
        require(self.sigma >= 0, "sigma", self.sigma, "a non-negative number")
        require(self.wrong_factor > 0, "wrong_factor", self.wrong_factor, "a positive number")
        require(1 <= self.max < 2**31, "max", self.max, "an integer in [1, 2147483647] (lengths are 32-bit)")
