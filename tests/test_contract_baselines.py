"""The shipped allocator contract, run on the baseline allocators."""
from simbench.testing import AllocatorContract
from simbench.worlds.rl.allocators.dapo import DAPO, DAPOParams
from simbench.worlds.rl.allocators.uniform import Uniform, UniformParams


class TestUniform(AllocatorContract):
    equivariant_under_budget = False  # a binding budget cuts the batch short in slot order

    def make_allocator(self):
        return Uniform(UniformParams(n=8))


class TestDAPO(AllocatorContract):
    # the engine run uses on_exhausted="train": tiny budgets can leave too few mixed groups
    equivariant_under_budget = False  # a binding budget cuts the generation batch short in slot order

    def make_allocator(self):
        return DAPO(DAPOParams(n=8, on_exhausted="train"))
