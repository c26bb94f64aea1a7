"""The default learner: a logistic policy whose pass rates move with training.

    theta_i = b_i + x_i . phi + u_i,    p_i = s * sigmoid(theta_i)

b_i = logit(p0_i) is fixed; phi (shared, starts at 0) transfers across prompts
and to the test pool; u_i (per prompt, starts at 0) is what the model memorises
about prompt i.  Test prompts have u = 0, so their pass rate measures pure
generalisation.  See ``kernels.policy_update`` for the stochastic update.

s = sigmoid(g) is an optional format gate (``LearnerSpec.format_fail``): the
probability that a response is well formed and terminated, whatever the prompt
(base models often miss the answer format or run to the length limit; RL fixes
this within tens of steps).  Off by default (s = 1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simbench.core._numba import generator_handle
from simbench.core.config import require
from simbench.worlds.rl import kernels
from simbench.worlds.rl.population import Population


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
    format_fail : initial probability that a response fails for a reason unrelated to the
        prompt (answer format, termination), the same for every prompt; 0 turns the gate off.
        The population's p0 are the initial pass rates *with* the gate: b_i = logit(p0_i / s0),
        capped at p0_i = s0 (no prompt passes more often than its responses are well formed).
    lr_format : SGD learning rate of the gate's logit g (policy gradient of the formed / not formed
        outcome of each response, with the same advantages).  Per-sample gradient norms (GVM's stage 1)
        keep the ungated score (r - p)[x; 1]: the gate's one coordinate is left out of them.
    pass_at_k : k values of the test pass@k reported each step.
    """

    lr_shared: float = 0.01
    lr_prompt: float = 4.0
    ref_len: float = 600.0
    extra_dims: int = 0
    kl_coef: float = 0.0
    format_fail: float = 0.0
    lr_format: float = 0.0
    pass_at_k: tuple[int, ...] = (1, 8, 32)

    def check(self) -> None:
        require(self.lr_shared >= 0, "lr_shared", self.lr_shared, "a non-negative number")
        require(self.lr_prompt >= 0, "lr_prompt", self.lr_prompt, "a non-negative number")
        require(self.ref_len > 0, "ref_len", self.ref_len, "a positive number (tokens)")
        require(self.extra_dims >= 0, "extra_dims", self.extra_dims, "an integer >= 0")
        require(self.kl_coef >= 0, "kl_coef", self.kl_coef, "a non-negative number")
        require(0 <= self.format_fail < 1, "format_fail", self.format_fail, "a probability in [0, 1)")
        require(self.lr_format >= 0, "lr_format", self.lr_format, "a non-negative number")
        require(all(k >= 1 for k in self.pass_at_k), "pass_at_k", self.pass_at_k, "integers >= 1")


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p = 0 -> -inf and p = 1 -> +inf (never-/always-solved prompts)."""
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def sigmoid(theta: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-theta)) without overflow warnings; exact 0 and 1 at -inf and +inf."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-theta))


def _sigmoid_of_logits(t: np.ndarray, b: np.ndarray, u: np.ndarray | None, prompts: np.ndarray | None) -> np.ndarray:
    """``sigmoid(t + b[prompts] + u[prompts])`` in ``t`` itself, operation for operation as numpy's
    ``t += b; t += u; 1 / (1 + exp(-t))`` (the same bits; one kernel each side of numpy's exp)."""
    if kernels.neg_logits(t, b, u, prompts):
        with np.errstate(over="ignore"):
            np.exp(t, out=t)
    else:
        np.exp(t, out=t)
    kernels.one_over_one_plus(t)
    return t


def mean(a: np.ndarray) -> float:
    """``float(a.mean())`` of a 1-D contiguous float64 array, without ``np.mean``'s Python overhead (the same
    pairwise sum, in a kernel)."""
    return kernels.pairwise_sum(a) / len(a)


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
        self.gated = spec.format_fail > 0
        self.g0 = float(logit(np.float64(1.0 - spec.format_fail))) if self.gated else np.inf
        self.g = self.g0
        self.b_test = self.base_logits(test.p0)
        self.set_initial_pass_rates(train.p0)
        self.phi = np.zeros(train.x.shape[1])
        self.u = np.zeros(len(train))

    def base_logits(self, p0: np.ndarray) -> np.ndarray:
        """b = logit(p0 / s0), so that initial pass rates are p0 (capped at s0 when the gate is on)."""
        if not self.gated:
            return logit(p0)
        return logit(np.minimum(p0 / (1.0 - self.spec.format_fail), 1.0))

    def set_initial_pass_rates(self, p0: np.ndarray) -> None:
        """Set the train prompts' initial pass rates (before any update)."""
        self.train.p0[:] = p0
        self.b_train = self.base_logits(self.train.p0)

    def format_rate(self) -> float:
        """s: the probability that a response is well formed (1 without the gate)."""
        return float(sigmoid(np.float64(self.g)))

    def skill_rates(self, prompts: np.ndarray) -> np.ndarray:
        """q_i = sigmoid(theta_i): the pass rate of a well-formed response."""
        return _sigmoid_of_logits(kernels.gather_rows(self.train.x, prompts) @ self.phi, self.b_train, self.u, prompts)

    def pass_rate(self, prompts: np.ndarray) -> np.ndarray:
        """Current pass rate of the given train prompts."""
        q = self.skill_rates(prompts)
        return q * self.format_rate() if self.gated else q

    def train_pass_rates(self) -> np.ndarray:
        """Current pass rate of every train prompt."""
        q = _sigmoid_of_logits(self.train.x @ self.phi, self.b_train, self.u, None)
        return q * self.format_rate() if self.gated else q

    def test_pass_rates(self) -> np.ndarray:
        """Current pass rate of every test prompt (u = 0)."""
        q = _sigmoid_of_logits(self.test.x @ self.phi, self.b_test, None, None)
        return q * self.format_rate() if self.gated else q

    def grad_scale(self, prompts: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
        """G_i: root of the expected squared score norm of one response of each prompt.

        E||score||^2 = q (1 - q) (|x|^2 + 1) + s (1 - s) + noise^2 E[len] / ref_len (d + 1 + extra_dims),
        with q = p / s (q = p without the format gate, where s = 1) and E[len] the mean length
        of a correct response (a scale, not exact).
        """
        if p is None:
            p = self.pass_rate(prompts)
        s = self.format_rate()
        q = p / s if self.gated else p
        pop = self.train
        x2 = np.einsum("ij,ij->i", pop.x[prompts], pop.x[prompts]) + 1.0
        dims = pop.x.shape[1] + 1 + self.spec.extra_dims
        noise2 = pop.noise[prompts] ** 2 * pop.mean_len[prompts] / self.spec.ref_len * dims
        return np.sqrt(q * (1.0 - q) * x2 + s * (1.0 - s) + noise2)

    def update(self, rng: np.random.Generator, prompts, slot, reward, length, adv, n_kept: int, p=None) -> float:
        """One SGD step: ``sum_j A_j score_j / n_kept`` (the mean over kept samples).

        ``p``: the slots' pass rates before this call, if the caller has them (used only when
        nothing moves them first, i.e. without the KL pull; else computed).
        Returns the norm of the parameter change.
        """
        kl = self.spec.kl_coef
        if kl > 0:
            # gradient of the KL-to-reference penalty (kl/2)|theta - 0|^2, on every parameter
            # (on u only for the step's prompts: the KL term is computed on the batch's responses)
            self.phi *= max(0.0, 1.0 - self.spec.lr_shared * kl)
            seen = np.unique(prompts)
            self.u[seen] *= max(0.0, 1.0 - self.spec.lr_prompt * kl)
            if self.gated:
                self.g -= min(1.0, self.spec.lr_format * kl) * (self.g - self.g0)
        if n_kept == 0:
            return 0.0
        pop = self.train
        if not self.gated:
            p = self.pass_rate(prompts) if p is None or kl > 0 else p
            return kernels.policy_update(
                generator_handle(rng), slot, reward, length, adv, prompts, p, pop.x, pop.noise,
                self.spec.ref_len, self.spec.lr_shared, self.spec.lr_prompt, 1.0 / n_kept, self.phi, self.u,
            )
        # Format gate: each response is (formed f, correct c), reward = f c.  Draw the latent pair of
        # every response from its posterior given the reward; the score is (c - q)[x; e_i] on theta
        # and (f - s) on g, so the skill update is the kernel's with c in place of the reward.
        s = self.format_rate()
        q = self.skill_rates(prompts)
        qj = q[slot]
        # a failure is formed-and-wrong w.p. s(1-q), unformed-and-correct (1-s)q, unformed-and-wrong (1-s)(1-q), over 1 - sq
        w = rng.random(len(slot)) * (1.0 - s * qj)
        passed = reward != 0
        wrong_formed = s * (1.0 - qj)
        formed = passed | (w < wrong_formed)
        correct = passed | ((w >= wrong_formed) & (w < wrong_formed + (1.0 - s) * qj))
        step_g = self.spec.lr_format / n_kept * float(np.dot(adv, formed - s))
        self.g += step_g
        norm = kernels.policy_update(
            generator_handle(rng), slot, correct.astype(np.int8), length, adv, prompts, q, pop.x, pop.noise,
            self.spec.ref_len, self.spec.lr_shared, self.spec.lr_prompt, 1.0 / n_kept, self.phi, self.u,
        )
        return float(np.hypot(norm, step_g))


def pass_at_ks(p: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """``[mean(p)]`` then, for each k of ``ks`` (int64), pass@k: the mean over prompts of ``1 - (1 - p)^k``.

    Bit for bit numpy's ``t = 1 - p; t **= k; np.add.reduce(1 - t) / len(t)`` per k, in three calls
    whatever the number of k: numpy's power (whose bits depend on the CPU's vector unit) raises all the
    rows that need it at once, the rest is one kernel each side.
    """
    rows, exps = kernels.complements(p, ks)
    if len(rows):
        np.power(rows, exps, out=rows)
    return kernels.pass_at_k_means(p, rows, ks)
