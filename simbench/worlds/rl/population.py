"""Synthetic prompt populations: latent pass rates, groups, lengths and features.

A population is a struct of arrays, one entry per prompt.  Generators draw the
initial pass rate p0 from a Beta, a Beta mixture, a logit-normal or a table;
every prompt also gets a group, a mean response length that grows with
difficulty, a feature vector x (for the learner) and a gradient-noise scale.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simbench.core.config import require, require_memory
from simbench.core.laws import LengthSpec, PassRateSpec, read_pass_rate_table  # noqa: F401  (re-exported: the RL world's names)


@dataclass(frozen=True)
class GroupSpec:
    """A data source: its name, its population share and optionally its own pass-rate law."""

    name: str
    share: float = 1.0
    pass_rate: PassRateSpec | None = None

    def check(self) -> None:
        require(self.share > 0, "share", self.share, "a positive number")


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
