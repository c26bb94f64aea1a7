"""The default learner: a logistic policy whose pass rates move with training.

    theta_i = b_i + x_i . phi + u_i,    p_i = sigmoid(theta_i)

b_i = logit(p0_i) is fixed; phi (shared, starts at 0) transfers across prompts
and to the test pool; u_i (per prompt, starts at 0) is what the model memorises
about prompt i.  Test prompts have u = 0, so their pass rate measures pure
generalisation.  See ``kernels.policy_update`` for the stochastic update.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench import kernels
from simbench.config import require
from simbench.population import Population


@dataclass(frozen=True)
class LearnerSpec:
    """Hyperparameters of the logistic policy model.

    Attributes
    ----------
    lr_shared, lr_prompt : SGD learning rates of phi and of u.
    ref_len : tokens at which a response's gradient-noise variance equals noise_i^2.
    extra_dims : parameter coordinates unrelated to correctness, counted in gradient norms.
    kl_coef : strength of the pull back to the reference policy (phi = 0, u = 0), as the KL
        loss of verl's actor: each step adds -kl_coef * (phi, u) to the gradient, which gives
        learning diminishing returns (0: no pull).
    pass_at_k : k values of the test pass@k reported each step.
    """

    lr_shared: float = 0.01
    lr_prompt: float = 4.0
    ref_len: float = 600.0
    extra_dims: int = 0
    kl_coef: float = 0.0
    pass_at_k: tuple[int, ...] = (1, 8, 32)

    def check(self) -> None:
        require(self.lr_shared >= 0, "lr_shared", self.lr_shared, "a non-negative number")
        require(self.lr_prompt >= 0, "lr_prompt", self.lr_prompt, "a non-negative number")
        require(self.ref_len > 0, "ref_len", self.ref_len, "a positive number (tokens)")
        require(self.extra_dims >= 0, "extra_dims", self.extra_dims, "an integer >= 0")
        require(self.kl_coef >= 0, "kl_coef", self.kl_coef, "a non-negative number")
        require(all(k >= 1 for k in self.pass_at_k), "pass_at_k", self.pass_at_k, "integers >= 1")


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p = 0 -> -inf and p = 1 -> +inf (never-/always-solved prompts)."""
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def sigmoid(theta: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-theta)) without overflow warnings; exact 0 and 1 at -inf and +inf."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-theta))


class LogisticPolicy:
    """State (phi, u) of the logistic policy over a train and a test pool.

    Parameters
    ----------
    spec : LearnerSpec
    train, test : Population
    """

    def __init__(self, spec: LearnerSpec, train: Population, test: Population):
        self.spec = spec
        self.train, self.test = train, test
        self.b_train = logit(train.p0)
        self.b_test = logit(test.p0)
        self.phi = np.zeros(train.x.shape[1])
        self.u = np.zeros(len(train))

    def pass_rate(self, prompts: np.ndarray) -> np.ndarray:
        """Current pass rate of the given train prompts."""
        return sigmoid(self.b_train[prompts] + self.train.x[prompts] @ self.phi + self.u[prompts])

    def train_pass_rates(self) -> np.ndarray:
        """Current pass rate of every train prompt."""
        return sigmoid(self.b_train + self.train.x @ self.phi + self.u)

    def test_pass_rates(self) -> np.ndarray:
        """Current pass rate of every test prompt (u = 0)."""
        return sigmoid(self.b_test + self.test.x @ self.phi)

    def grad_scale(self, prompts: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """G_i: root of the expected squared score norm of one response of each prompt.

        E||score||^2 = p (1 - p) (|x|^2 + 1) + noise^2 E[len] / ref_len (d + 1 + extra_dims),
        with E[len] the mean length of a correct response (a scale, not exact).
        """
        if p is None:
            p = self.pass_rate(prompts)
        pop = self.train
        x2 = np.einsum("ij,ij->i", pop.x[prompts], pop.x[prompts]) + 1.0
        dims = pop.x.shape[1] + 1 + self.spec.extra_dims
        noise2 = pop.noise[prompts] ** 2 * pop.mean_len[prompts] / self.spec.ref_len * dims
        return np.sqrt(p * (1.0 - p) * x2 + noise2)

    def update(self, rng: np.random.Generator, prompts, slot, reward, length, adv, n_kept: int) -> float:
        """One SGD step: ``sum_j A_j score_j / n_kept`` (the mean over kept samples).

        Returns the norm of the parameter change.
        """
        if self.spec.kl_coef > 0:
            # gradient of the KL-to-reference penalty (kl/2)|theta - 0|^2, on every parameter
            # (on u only for the step's prompts: the KL term is computed on the batch's responses)
            self.phi *= max(0.0, 1.0 - self.spec.lr_shared * self.spec.kl_coef)
            seen = np.unique(prompts)
            self.u[seen] *= max(0.0, 1.0 - self.spec.lr_prompt * self.spec.kl_coef)
        if n_kept == 0:
            return 0.0
        p = self.pass_rate(prompts)
        pop = self.train
        return kernels.policy_update(
            rng, slot, reward, length, adv, prompts, p, pop.x, pop.noise,
            self.spec.ref_len, self.spec.lr_shared, self.spec.lr_prompt, 1.0 / n_kept, self.phi, self.u,
        )


def pass_at_k(p: np.ndarray, k: int) -> float:
    """Mean over prompts of 1 - (1 - p)^k."""
    return float(np.mean(1.0 - (1.0 - p) ** k))
