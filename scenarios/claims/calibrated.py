"""The calibration every claim scenario uses, and prompt sets screened by the base model as exact Beta mixtures.

The calibration is that of `simbench validate bundled:one_shot_rlvr` as committed in
reports/validate-one_shot_rlvr/scenario.toml (Qwen2.5-Math-1.5B, verl GRPO, n = 8, batch 128, on
1,209 DeepScaleR prompts; population fitted at the first appearance, learner fitted to all 26),
pinned here before any claim scenario was run. tests/test_claims_scenarios.py checks that every
scenario under scenarios/claims/ uses it.

Several papers filter their training prompts by sampling k responses per prompt from the
base model and keeping those whose number of correct responses K lies in a set S (e.g.
Reinforce-Ada, arXiv 2510.04996: k = 16, 1 <= K <= 5 for its standard set, 1 <= K <= 2 for
its hard set). If p0 follows a Beta mixture sum_c w_c Beta(a_c, b_c), the screened law is

    f(p | K in S) ∝ sum_c w_c Beta(p; a_c, b_c) sum_{j in S} C(k, j) p^j (1 - p)^(k - j),

again a Beta mixture, with components Beta(a_c + j, b_c + k - j) and weights
w_c C(k, j) B(a_c + j, b_c + k - j) / B(a_c, b_c), normalised: exact, so no table file and
a fresh draw for every seed. ``python scenarios/claims/calibrated.py`` prints the mixtures the
claims scenarios use; tests/test_claims_scenarios.py checks they are current.
"""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln

CALIBRATED = {  # [population.pass_rate], a beta_mixture
    "weights": [0.926157477940833, 0.07384252205916697],
    "alphas": [0.3396784941966462, 654.7536595028248],
    "betas": [0.8113937899368362, 134.0075313870416],
}
FEATURES = {  # [population.features]
    "dim": 16, "skill_shape": 1.9948285592454726, "skill_scale": 0.25, "idio_scale": 0.6162378203880646,
    "grad_noise": 12.1041481279047, "grad_noise_spread": 0.3,
}
LEARNER = {  # [learner]; kl_coef is set to 0 in scenarios whose paper trains without a KL term
    "lr_shared": 0.02894528769474115, "lr_prompt": 4.751979073695215, "ref_len": 600.0, "extra_dims": 0,
    "kl_coef": 0.0001185276264652556, "format_fail": 0.06311011010197981, "lr_format": 3.59748106123574,
}

# The learner fitted to appearances 1-13 only (validation.json's params_forecast), the other point of the
# calibration's uncertainty that `validate` records: the claims table re-runs every claim with it.
FORECAST = {
    "lr_shared": 0.03951101471417345, "lr_prompt": 3.4033728001212435, "skill_shape": 2.075821704300193,
    "idio_scale": 0.627486469847089, "grad_noise": 17.185800544351714, "kl_coef": 0.00013979958076694728,
    "format_fail": 0.0531833993343192, "lr_format": 4.296420229796253,
}

# (name, k screening responses, kept numbers of correct responses), with the reference's rule:
# RLHFlow/Reinforce-Ada data_process/prompt_selection.py keeps mean(scores) <= pass_rate and sum > 0,
# with pass_rate 0.313 (standard set) or 0.125 (hard set), K = 16 (scripts/prepare_data.sh).
SCREENS = {
    "reinforce_ada": (16, range(1, 6)),       # 1 <= K <= 5 of 16 (5/16 = 0.3125 <= 0.313)
    "reinforce_ada_hard": (16, range(1, 3)),  # 1 <= K <= 2 of 16 (2/16 = 0.125)
}


def _screened_terms(weights, alphas, betas, k: int, kept):
    """(log weight, a, b) of each component of the screened mixture, before normalisation."""
    for w, a, b in zip(weights, alphas, betas):
        for j in kept:
            log_choose = gammaln(k + 1) - gammaln(j + 1) - gammaln(k - j + 1)
            yield np.log(w) + log_choose + betaln(a + j, b + k - j) - betaln(a, b), a + j, b + k - j


def screened_mixture(weights, alphas, betas, k: int, kept) -> dict:
    """The Beta mixture of p0 given that K ~ Binomial(k, p0) fell in ``kept``."""
    logw, a, b = map(np.array, zip(*_screened_terms(weights, alphas, betas, k, kept)))
    w = np.exp(logw - logw.max())
    return {"weights": [float(x) for x in w / w.sum()], "alphas": [float(x) for x in a], "betas": [float(x) for x in b]}


def kept_share(weights, alphas, betas, k: int, kept) -> float:
    """P(K in kept) under the mixture: the share of prompts the screen keeps."""
    return float(sum(np.exp(logw) for logw, _, _ in _screened_terms(weights, alphas, betas, k, kept)))


def kk_source_law(characters: int) -> dict:
    """DUMP's Knights-and-Knaves source with this many characters: a Beta of mean 0.24 x 0.6^(characters - 3).

    0.24, 0.14, 0.086 are read off the reference's figures at step 0 for 3, 4, 5 characters (answer
    reward R, p = (R + 1.5) / 3.5); beyond, the ratio 0.6 is extrapolated (an assumption, see
    scenarios/claims/dump.toml). The concentration a + b is the calibrated main component's.
    """
    mean = 0.24 * 0.6 ** (characters - 3)
    conc = CALIBRATED["alphas"][0] + CALIBRATED["betas"][0]
    return {"kind": "beta", "a": mean * conc, "b": (1 - mean) * conc}


def toml_fragment(mix: dict) -> str:
    """The ``[population.pass_rate]`` table for a scenario file (full float precision)."""
    def row(key):
        return f"{key} = [{', '.join(repr(x) for x in mix[key])}]"
    return "\n".join(["kind = \"beta_mixture\"", row("weights"), row("alphas"), row("betas")])


if __name__ == "__main__":
    for name, (k, kept) in SCREENS.items():
        mix = screened_mixture(**CALIBRATED, k=k, kept=kept)
        mean = sum(w * a / (a + b) for w, a, b in zip(mix["weights"], mix["alphas"], mix["betas"]))
        print(f"# {name}: keeps {kept_share(**CALIBRATED, k=k, kept=kept):.3f} of the calibrated population;"
              f" mean p0 {mean:.4f}")
        print(toml_fragment(mix))
        print()
