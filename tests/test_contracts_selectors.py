"""Every registered prompt selector under the shipped SelectorContract."""
from simbench.registry import get
from simbench.testing import SelectorContract


class TestEpochShuffle(SelectorContract):
    def make_selector(self):
        return get("selector", "epoch_shuffle")()


class TestDifficultyFilter(SelectorContract):
    def make_selector(self):
        return get("selector", "difficulty_filter")(low=0.3, high=0.7)


class TestDUMP(SelectorContract):
    def make_selector(self):
        return get("selector", "dump")(window=50)


class TestGRESO(SelectorContract):
    def make_selector(self):
        return get("selector", "greso")()


class TestKimi(SelectorContract):
    def make_selector(self):
        return get("selector", "kimi")()


class TestThompson(SelectorContract):
    def make_selector(self):
        return get("selector", "thompson")()


class TestUCBLearnability(SelectorContract):
    def make_selector(self):
        return get("selector", "ucb_learnability")()
