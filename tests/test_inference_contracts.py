"""Every allocator and picker of the inference world under the shipped contracts, with reference and other settings."""
from simbench.registry import get
from simbench.testing import InferenceAllocatorContract, PickerContract


def _alloc(name, **params):
    return lambda self: get("inference_allocator", name)(**params)


def _picker(name, **params):
    return lambda self: get("picker", name)(**params)


class TestUniform(InferenceAllocatorContract):
    make_inference_allocator = _alloc("uniform")


class TestUniformFixedN(InferenceAllocatorContract):
    make_inference_allocator = _alloc("uniform", n=3)


class TestESC(InferenceAllocatorContract):
    make_inference_allocator = _alloc("esc")


class TestAdaptiveConsistency(InferenceAllocatorContract):
    make_inference_allocator = _alloc("adaptive_consistency")


class TestAdaptiveConsistencyCriteria(InferenceAllocatorContract):
    make_inference_allocator = _alloc("adaptive_consistency", criterion="dirichlet", mc_draws=256)


class TestAdaptiveConsistencyEntropy(InferenceAllocatorContract):
    make_inference_allocator = _alloc("adaptive_consistency", criterion="entropy")


class TestAdaptiveConsistencyRandom(InferenceAllocatorContract):
    make_inference_allocator = _alloc("adaptive_consistency", criterion="random")


class TestElimination(InferenceAllocatorContract):
    make_inference_allocator = _alloc("elimination")


class TestEliminationSC(InferenceAllocatorContract):
    make_inference_allocator = _alloc("elimination", aggregation="sc", k=2)


class TestDifficultyBins(InferenceAllocatorContract):
    make_inference_allocator = _alloc("difficulty_bins", probe_samples=2)


class TestDifficultyBinsOracle(InferenceAllocatorContract):
    make_inference_allocator = _alloc("difficulty_bins", oracle_difficulty=True)


class TestMarginalGain(InferenceAllocatorContract):
    make_inference_allocator = _alloc("marginal_gain", probe_samples=2)


class TestMarginalGainOracle(InferenceAllocatorContract):
    make_inference_allocator = _alloc("marginal_gain", oracle=True)


class TestPlanAndBudget(InferenceAllocatorContract):
    make_inference_allocator = _alloc("plan_and_budget")


class TestSelfEvalPrune(InferenceAllocatorContract):
    make_inference_allocator = _alloc("self_eval_prune")


class TestOracleAny(PickerContract):
    make_picker = _picker("oracle_any")


class TestResampleUntilPass(PickerContract):
    make_picker = _picker("resample_until_pass")


class TestBoN(PickerContract):
    make_picker = _picker("bon")


class TestBoNWeighted(PickerContract):
    make_picker = _picker("bon_weighted")


class TestMajority(PickerContract):
    make_picker = _picker("majority")


class TestRewardMajority(PickerContract):
    make_picker = _picker("rm_majority")


class TestBoM(PickerContract):
    make_picker = _picker("bom")


class TestBoMAlpha(PickerContract):
    make_picker = _picker("bom", alpha=0.2)
