"""The shipped allocator contract on every knapsack allocator and solver."""

from simbench.testing import AllocatorContract
from simbench.worlds.rl.allocators.knapsack import Knapsack, KnapsackParams
from simbench.worlds.rl.allocators.knapsack_oracle import KnapsackOracle
from simbench.worlds.rl.allocators.knapsack_rl import KnapsackRL, KnapsackRLParams


class TestKnapsackGreedy(AllocatorContract):
    def make_allocator(self):
        return Knapsack(KnapsackParams(solver="greedy"))


class TestKnapsackDP(AllocatorContract):
    def make_allocator(self):
        return Knapsack(KnapsackParams(solver="dp", n_max=32))


class TestKnapsackCvxpy(AllocatorContract):
    def make_allocator(self):
        return Knapsack(KnapsackParams(solver="cvxpy", posterior="mean", utility="knapsack_rl", n_max=32))


class TestKnapsackCoverageThompson(AllocatorContract):
    def make_allocator(self):
        return Knapsack(KnapsackParams(utility="coverage", posterior="thompson", evidence="last"))


class TestKnapsackVarianceCvxpy(AllocatorContract):
    def make_allocator(self):
        return Knapsack(KnapsackParams(utility="variance", solver="cvxpy", n_max=32))


class TestKnapsackOracleDP(AllocatorContract):
    def make_allocator(self):
        return KnapsackOracle(KnapsackParams(solver="dp", n_max=32))


class TestKnapsackRL(AllocatorContract):
    def make_allocator(self):
        return KnapsackRL(KnapsackRLParams())


class TestKnapsackRLPaper(AllocatorContract):
    def make_allocator(self):
        return KnapsackRL(KnapsackRLParams(zero_extra="paper", cost_estimation="expectation"))
