"""The calibration every claim scenario uses, and prompt sets screened by the base model as exact Beta mixtures.

The calibration is that of `simbench validate bundled:one_shot_rlvr` as committed in
reports/validate-one_shot_rlvr/scenario.toml (Qwen2.5-Math-1.5B, verl GRPO, n = 8, batch 128, on
1,209 DeepScaleR prompts; population fitted at the first appearance, learner fitted to all 26),
pinned here before any claim scenario was run. tests/test_claims_scenarios.py checks that every
scenario under scenarios/claims/ uses it. ``BOOTSTRAP`` holds the same calibration refitted to
cluster-bootstrap resamples of the log's prompts (its data uncertainty), with which run.py re-runs each
claim; ``population_with`` carries a replicate's population through each scenario's own transform.

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

# The calibration's spread: a cluster bootstrap over the log's prompts, each replicate refitting the population
# (at appearance 1) and the learner (at the point fit's feature dimension) with the point fit's optimiser and
# simulation seeds. Written by `bootstrap_pins` from the committed reports/validate-one_shot_rlvr/validation.json of
#     OPENBLAS_NUM_THREADS=1 simbench validate bundled:one_shot_rlvr --calib 13 --bootstrap 8 --out reports/validate-one_shot_rlvr
# (--bootstrap-seed 0; its point fit is CALIBRATED, FEATURES and LEARNER above, bit for bit). The claims table
# (run.py) re-runs each claim with each; tests/test_claims_table.py checks their provenance.
BOOTSTRAP = [
    {
        "resample_seed": [0, 0],
        "population": {
            "weights": [0.861475589372761, 0.138524410627239],
            "alphas": [0.3248786930313808, 19.45817202651135],
            "betas": [1.0043182649983482, 4.676290894681926],
        },
        "features": {
            "dim": 16,
            "skill_shape": 1.8612517640085364,
            "idio_scale": 0.5695057922466091,
            "grad_noise": 8.936012029475988,
        },
        "learner": {
            "lr_shared": 0.0275273676094044,
            "lr_prompt": 5.874277366974021,
            "kl_coef": 0.00010086196003954474,
            "format_fail": 0.0827081698297963,
            "lr_format": 3.5794768227479614,
        },
    },
    {
        "resample_seed": [0, 1],
        "population": {
            "weights": [0.40182316527271494, 0.5981768347272851],
            "alphas": [0.20434880568147556, 0.8592627735521849],
            "betas": [3.2929975224492147, 0.8443317824575688],
        },
        "features": {
            "dim": 16,
            "skill_shape": 2.5763576791333835,
            "idio_scale": 0.8659596724372367,
            "grad_noise": 6.643979370024376,
        },
        "learner": {
            "lr_shared": 0.033860399393977905,
            "lr_prompt": 3.791097125213102,
            "kl_coef": 0.00010333508394690985,
            "format_fail": 0.07019041839661096,
            "lr_format": 2.5843543975289975,
        },
    },
    {
        "resample_seed": [0, 2],
        "population": {
            "weights": [0.9382346168796966, 0.061765383120303406],
            "alphas": [0.3456180517111129, 1217.256809905955],
            "betas": [0.836312442682134, 165.2765266011585],
        },
        "features": {
            "dim": 16,
            "skill_shape": 2.164617630363703,
            "idio_scale": 0.5095005114231008,
            "grad_noise": 19.12800643351156,
        },
        "learner": {
            "lr_shared": 0.030665034933179465,
            "lr_prompt": 3.2085630973919423,
            "kl_coef": 0.0001050775114472519,
            "format_fail": 0.061582300189328996,
            "lr_format": 3.1546312931663527,
        },
    },
    {
        "resample_seed": [0, 3],
        "population": {
            "weights": [0.8656185352253535, 0.13438146477464658],
            "alphas": [0.3691979379264666, 65.02086232352896],
            "betas": [1.15252742945056, 9.906709028884432],
        },
        "features": {
            "dim": 16,
            "skill_shape": 1.6786634905168567,
            "idio_scale": 0.8737731898039733,
            "grad_noise": 9.881295943141174,
        },
        "learner": {
            "lr_shared": 0.03710953108624158,
            "lr_prompt": 5.61940250212591,
            "kl_coef": 0.00012750942398538664,
            "format_fail": 0.07532336006270317,
            "lr_format": 4.113466746816446,
        },
    },
    {
        "resample_seed": [0, 4],
        "population": {
            "weights": [0.5396100183719001, 0.46038998162809996],
            "alphas": [0.300863087170533, 1.3294144213320167],
            "betas": [2.89537695027607, 1.058068809488037],
        },
        "features": {
            "dim": 16,
            "skill_shape": 1.8290849885087521,
            "idio_scale": 0.4601004930160296,
            "grad_noise": 6.397147435743554,
        },
        "learner": {
            "lr_shared": 0.03975355715812302,
            "lr_prompt": 3.3881329903303543,
            "kl_coef": 6.606531828435101e-05,
            "format_fail": 0.09791672911908163,
            "lr_format": 5.56141995848487,
        },
    },
    {
        "resample_seed": [0, 5],
        "population": {
            "weights": [0.9415305529437323, 0.05846944705626762],
            "alphas": [0.30202858204536975, 2423.578307270905],
            "betas": [0.7365978689861432, 566.2944533536612],
        },
        "features": {
            "dim": 16,
            "skill_shape": 1.7779803715496996,
            "idio_scale": 0.4439242685760986,
            "grad_noise": 19.064673826607102,
        },
        "learner": {
            "lr_shared": 0.047904595174206276,
            "lr_prompt": 3.15129938979471,
            "kl_coef": 0.00014637648266627152,
            "format_fail": 0.056360276009408405,
            "lr_format": 2.4539678464043555,
        },
    },
    {
        "resample_seed": [0, 6],
        "population": {
            "weights": [0.782425340440516, 0.21757465955948396],
            "alphas": [0.39455302499071515, 6.30164842301032],
            "betas": [1.4245072941836374, 1.650594031391092],
        },
        "features": {
            "dim": 16,
            "skill_shape": 1.7208466890394483,
            "idio_scale": 0.5755390211841782,
            "grad_noise": 11.9494088932799,
        },
        "learner": {
            "lr_shared": 0.034625598040588124,
            "lr_prompt": 4.802017934806877,
            "kl_coef": 0.00012857079922859845,
            "format_fail": 0.07191922151968305,
            "lr_format": 4.760154126584934,
        },
    },
    {
        "resample_seed": [0, 7],
        "population": {
            "weights": [0.9124814937599176, 0.08751850624008235],
            "alphas": [0.3644134349280473, 1339.6373557566146],
            "betas": [0.8895600308507576, 253.1007392452818],
        },
        "features": {
            "dim": 16,
            "skill_shape": 2.175305992427175,
            "idio_scale": 0.5968858656544914,
            "grad_noise": 27.74028492477956,
        },
        "learner": {
            "lr_shared": 0.02678511432931684,
            "lr_prompt": 2.5065636830853375,
            "kl_coef": 0.00014116330857935147,
            "format_fail": 0.06547139985371324,
            "lr_format": 3.414425340492334,
        },
    },
]

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


def kk_source_law(characters: int, law: dict = CALIBRATED) -> dict:
    """DUMP's Knights-and-Knaves source with this many characters: a Beta of mean 0.24 x 0.6^(characters - 3).

    0.24, 0.14, 0.086 are read off the reference's figures at step 0 for 3, 4, 5 characters (answer
    reward R, p = (R + 1.5) / 3.5); beyond, the ratio 0.6 is extrapolated (an assumption, see
    scenarios/claims/dump.toml). The concentration a + b is the main component's of ``law`` (the calibration's).
    """
    mean = 0.24 * 0.6 ** (characters - 3)
    conc = law["alphas"][0] + law["betas"][0]
    return {"kind": "beta", "a": mean * conc, "b": (1 - mean) * conc}


def population_with(name: str, population: dict, law: dict) -> dict:
    """Scenario ``name``'s ``[population]`` table with the calibrated law replaced by ``law`` (a Beta mixture).

    Through the scenario's own transform: screened as its paper screened (``SCREENS``), DUMP's per-source
    laws with ``law``'s concentration, else ``law`` itself; at ``law = CALIBRATED`` the table comes back as
    written (tests/test_claims_table.py checks it for every scenario).
    """
    out = {**population}
    if name in SCREENS:
        k, kept = SCREENS[name]
        out["pass_rate"] = {"kind": "beta_mixture", **screened_mixture(**law, k=k, kept=kept)}
    elif "groups" in out:  # DUMP's sources, named kk<characters>; the law of no group is the main component
        out["pass_rate"] = {"kind": "beta", "a": law["alphas"][0], "b": law["betas"][0]}
        out["groups"] = [{**g, "pass_rate": kk_source_law(int(g["name"].removeprefix("kk")), law)} for g in out["groups"]]
    else:
        out["pass_rate"] = {"kind": "beta_mixture", **law}
    return out


def bootstrap_pins(validation: dict) -> list[dict]:
    """The bootstrap replicates of a ``validation.json`` (``simbench validate --bootstrap B``) in ``BOOTSTRAP``'s form."""
    learner = ("lr_shared", "lr_prompt", "kl_coef", "format_fail", "lr_format")
    features = ("dim", "skill_shape", "idio_scale", "grad_noise")
    return [{"resample_seed": f["resample_seed"], "population": f["population"],
             "features": {k: f["params"][k] for k in features}, "learner": {k: f["params"][k] for k in learner}}
            for f in validation["bootstrap"]["fits"]]


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
