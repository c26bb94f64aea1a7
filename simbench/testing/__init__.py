"""Reusable conformance suites for third-party and built-in roles.

A new role gets every invariant test of its family by subclassing one class::

    from simbench.testing import AllocatorContract

    class TestMyAllocator(AllocatorContract):
        def make_allocator(self):
            return MyAllocator(MyParams(n=8))

The families: ``AllocatorContract`` (``make_allocator``), ``SelectorContract`` (``make_selector``),
``DownsamplerContract`` (``make_downsampler``), ``AdvantageContract`` (``make_advantage``),
``CollectorContract`` (``make_collector``, the equitable world), ``InferenceAllocatorContract``
(``make_inference_allocator``) and ``PickerContract`` (``make_picker``), the inference world, and ``LogFormatContract`` (``format``
and ``write``, replay's log readers).  Importing this package needs neither pytest nor hypothesis;
running the property tests needs hypothesis (``pip install 'simbench[testing]'``).
"""
from simbench.testing.collector import CollectorContract, make_state
from simbench.testing.contract import AllocatorContract, make_view
from simbench.testing.inference import InferenceAllocatorContract, PickerContract
from simbench.testing.log_format import LogFormatContract
from simbench.testing.roles import AdvantageContract, DownsamplerContract, SelectorContract

CONTRACTS = {
    "allocator": AllocatorContract,
    "selector": SelectorContract,
    "downsampler": DownsamplerContract,
    "advantage": AdvantageContract,
    "collector": CollectorContract,
    "inference_allocator": InferenceAllocatorContract,
    "picker": PickerContract,
}

__all__ = ["AllocatorContract", "SelectorContract", "DownsamplerContract", "AdvantageContract", "CollectorContract",
           "LogFormatContract", "InferenceAllocatorContract", "PickerContract", "CONTRACTS", "make_view", "make_state"]
