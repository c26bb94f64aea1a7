"""Reusable conformance suites for third-party and built-in roles.

A new allocator gets every invariant test by subclassing one class::

    from simbench.testing import AllocatorContract

    class TestMyAllocator(AllocatorContract):
        def make_allocator(self):
            return MyAllocator(MyParams(n=8))
"""
from simbench.testing.contract import AllocatorContract, make_view

__all__ = ["AllocatorContract", "make_view"]
