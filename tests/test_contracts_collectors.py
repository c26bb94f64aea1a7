"""Every registered collector of the equitable world under the shipped CollectorContract."""
from simbench.registry import get
from simbench.testing import CollectorContract


class TestEqual(CollectorContract):
    def make_collector(self):
        return get("collector", "equal")()


class TestEqualSpend(CollectorContract):
    def make_collector(self):
        return get("collector", "equal")(by="spend")


class TestProportional(CollectorContract):
    def make_collector(self):
        return get("collector", "proportional")()


class TestAdaptive(CollectorContract):
    def make_collector(self):
        return get("collector", "adaptive")()


class TestBandit(CollectorContract):
    permutation_equivariant = False  # pulls every arm once in group order, then breaks UCB ties by the lowest index

    def make_collector(self):
        return get("collector", "bandit")()


class TestOracle(CollectorContract):
    def make_collector(self):
        return get("collector", "oracle")()


class TestRandomSplit(CollectorContract):
    permutation_equivariant = False  # Dirichlet weights drawn in group order

    def make_collector(self):
        return get("collector", "random_split")()
