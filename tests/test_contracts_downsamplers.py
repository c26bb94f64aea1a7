"""Every registered downsampler under the shipped DownsamplerContract."""
from simbench.registry import get
from simbench.testing import DownsamplerContract


class TestKeepAll(DownsamplerContract):
    def make_downsampler(self):
        return get("downsampler", "keep_all")()


class TestDropFirstWave(DownsamplerContract):
    def make_downsampler(self):
        return get("downsampler", "drop_first_wave")()


class TestDAPOFilter(DownsamplerContract):
    permutation_equivariant = False  # keeps the first train_batch informative groups in slot (generation) order

    def make_downsampler(self):
        return get("downsampler", "dapo_filter")(train_batch=4)


class TestDAPOFilterWholeBatch(DownsamplerContract):
    # train_batch 0: the engine's batch, at least every slot of the contract's views, so the order never binds
    def make_downsampler(self):
        return get("downsampler", "dapo_filter")()


class TestPODS(DownsamplerContract):
    def make_downsampler(self):
        return get("downsampler", "pods")(m=3)


class TestReinforceAdaKeep(DownsamplerContract):
    def make_downsampler(self):
        return get("downsampler", "reinforce_ada_keep")()


class TestSpeedRLKeep(DownsamplerContract):
    def make_downsampler(self):
        return get("downsampler", "speed_rl_keep")()
