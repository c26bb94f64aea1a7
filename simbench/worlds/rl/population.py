"""Synthetic prompt populations: latent pass rates, groups, lengths and features.

A population is a struct of arrays, one entry per prompt.  Generators draw the
initial pass rate p0 from a Beta, a Beta mixture, a logit-normal or a table;
every prompt also gets a group, a mean response length that grows with
difficulty, a feature vector x (for the learner) and a gradient-noise scale.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from simbench.core.config import ConfigError, require, require_memory


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
class GroupSpec:
    """A data source: its name, its population share and optionally its own pass-rate law."""

    name: str
    share: float = 1.0
    pass_rate: PassRateSpec | None = None

    def check(self) -> None:
        require(self.share > 0, "share", self.share, "a positive number")


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


@dataclass(frozen=True)
class FeatureSpec:
    """Learner features: x_i in R^dim with a Gamma "shared skill" loading in coordinate 0."""

    dim: int = 16
    skill_shape: float = 4.0
    skill_scale: float = 0.25
    idio_scale: float = 0.25
    grad_noise: float = 1.0
    grad_noise_spread: float = 0.3

    def check(self) -> None:
        require(self.dim >= 1, "dim", self.dim, "an integer >= 1")
        require(self.skill_shape > 0, "skill_shape", self.skill_shape, "a positive number")
        require(self.skill_scale >= 0, "skill_scale", self.skill_scale, "a non-negative number")
        require(self.idio_scale >= 0, "idio_scale", self.idio_scale, "a non-negative number")
        require(self.grad_noise >= 0, "grad_noise", self.grad_noise, "a non-negative number")
        require(self.grad_noise_spread >= 0, "grad_noise_spread", self.grad_noise_spread, "a non-negative number")


@dataclass(frozen=True)
class PopulationSpec:
    """How to draw the train and test prompt pools."""

    train_prompts: int = 512
    test_prompts: int = 512
    pass_rate: PassRateSpec = field(default_factory=PassRateSpec)
    groups: tuple[GroupSpec, ...] = (GroupSpec("all"),)
    lengths: LengthSpec = field(default_factory=LengthSpec)
    features: FeatureSpec = field(default_factory=FeatureSpec)

    def check(self) -> None:
        require(self.train_prompts >= 1, "train_prompts", self.train_prompts, "an integer >= 1")
        require(self.test_prompts >= 1, "test_prompts", self.test_prompts, "an integer >= 1")
        require(len(self.groups) >= 1, "groups", self.groups, "at least one group")
        names = [g.name for g in self.groups]
        require(len(set(names)) == len(names), "groups", names, "groups with distinct names")
        # each prompt holds dim features and about 16 other numbers (pass rates, lengths, history, learner state)
        sizes = {"train_prompts": self.train_prompts, "test_prompts": self.test_prompts, "features.dim": self.features.dim}
        key = max(sizes, key=sizes.get)
        require_memory(8.0 * (self.train_prompts + self.test_prompts) * (self.features.dim + 16), key, sizes[key],
                       f"the pools ({self.train_prompts} + {self.test_prompts} prompts x {self.features.dim} features)")


@dataclass
class Population:
    """One prompt pool, as arrays (index i is prompt i).

    Attributes
    ----------
    p0 : (N,) float64, initial latent pass rate (0 and 1 allowed).
    group : (N,) int32, index into ``group_names``.
    group_names : tuple of str.
    mean_len : (N,) float64, mean tokens of a correct response.
    x : (N, d) float64, learner features.
    noise : (N,) float64, per-prompt gradient-noise scale.
    """

    p0: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...]
    mean_len: np.ndarray
    x: np.ndarray
    noise: np.ndarray

    def __len__(self) -> int:
        return len(self.p0)

    def subset(self, index: np.ndarray) -> "Population":
        """The prompts at ``index``, in that order."""
        return Population(self.p0[index], self.group[index], self.group_names, self.mean_len[index], self.x[index], self.noise[index])


def _draw(spec: PopulationSpec, size: int, rng: np.random.Generator, base_dir: Path | None) -> Population:
    shares = np.array([g.share for g in spec.groups], float)
    group = np.sort(rng.choice(len(shares), size=size, p=shares / shares.sum())).astype(np.int32)
    p0 = np.empty(size)
    for g, gspec in enumerate(spec.groups):
        members = np.flatnonzero(group == g)
        law = gspec.pass_rate or spec.pass_rate
        p0[members] = law.sample(rng, members.size, base_dir)
    # Interleave groups so that prompt index carries no group information.
    order = rng.permutation(size)
    group, p0 = group[order], p0[order]
    L, F = spec.lengths, spec.features
    mean_len = L.mean * np.exp(L.difficulty_slope * (0.5 - p0) + L.prompt_sigma * rng.standard_normal(size))
    x = np.empty((size, F.dim))
    x[:, 0] = rng.gamma(F.skill_shape, F.skill_scale, size)
    x[:, 1:] = F.idio_scale * rng.standard_normal((size, F.dim - 1))
    noise = F.grad_noise * np.exp(F.grad_noise_spread * rng.standard_normal(size))
    return Population(p0, group, tuple(g.name for g in spec.groups), mean_len, x, noise)


def prompt_length_seed(seed: np.random.SeedSequence) -> np.random.SeedSequence:
    """The child of the population stream that draws prompt lengths (for the cost model).

    It is child 2, after the train and test pools of ``make_population``, built from the
    spawn key rather than by spawning, so that no existing draw depends on whether or
    when it is made.
    """
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 2), pool_size=seed.pool_size)


def make_population(spec: PopulationSpec, seed: np.random.SeedSequence | int, base_dir: Path | None = None) -> tuple[Population, Population]:
    """Draw the train pool and a held-out test pool from the same distribution.

    The two pools use independent child streams of ``seed``, so the test pool
    does not change when the train pool's size does.
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    train_ss, test_ss = ss.spawn(2)
    train = _draw(spec, spec.train_prompts, np.random.default_rng(train_ss), base_dir)
    test = _draw(spec, spec.test_prompts, np.random.default_rng(test_ss), base_dir)
    return train, test
