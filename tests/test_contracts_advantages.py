"""Every registered advantage estimator under the shipped AdvantageContract."""
from simbench.registry import get
from simbench.testing import AdvantageContract


class TestGRPO(AdvantageContract):
    def make_advantage(self):
        return get("advantage", "grpo")()


class TestGRPOGlobalStats(AdvantageContract):
    def make_advantage(self):
        return get("advantage", "grpo")(global_stats=True)


class TestGRPONoStd(AdvantageContract):
    def make_advantage(self):
        return get("advantage", "grpo")(norm_adv_by_std=False)


class TestDrGRPO(AdvantageContract):
    def make_advantage(self):
        return get("advantage", "dr_grpo")()


class TestRAFT(AdvantageContract):
    zero_variance_gives_zero = False  # weight 1 on every kept correct sample: no group baseline

    def make_advantage(self):
        return get("advantage", "raft")()
