"""The one numba preset used by every kernel, and a cheaper way into it for a numpy ``Generator``.

``cache=True`` so that tests and CI compile each kernel once per machine;
``error_model="numpy"`` so that division by zero gives inf/nan as in numpy
instead of raising inside a kernel.  There is deliberately no fallback that
silently turns acceleration off: if numba fails to import, simbench fails.
"""
from __future__ import annotations

import ctypes

import numba
import numpy as np
from numba.core import cgutils, types
from numba.core.extending import NativeValue, intrinsic, overload, register_model, typeof_impl, unbox
from numba.np.random.generator_core import NumPyRandomGeneratorTypeModel, _bit_gen_type

jit = numba.njit(cache=True, error_model="numpy", nogil=True)


class GeneratorType(types.NumPyRandomGeneratorType):
    """numba's type of a numpy ``Generator`` (all its methods), with the cheaper unboxing below.

    numba's own rule builds a new type on every call with a Generator, and its unboxing
    asks ctypes to cast the bit generator's three function pointers, about 8 us per
    call that the engine pays on every wave.  One type, and the addresses cached per
    bit generator, make that about 1 us.
    """

    def __init__(self):
        super().__init__("simbench_generator")
        self.name = "SimbenchGenerator"  # its own name: compiled code is keyed by it


register_model(GeneratorType)(NumPyRandomGeneratorTypeModel)
_GENERATOR = GeneratorType()
typeof_impl.register(np.random.Generator)(lambda val, c: _GENERATOR)

_ADDRESSES: dict = {}


def _cached(gen: np.random.Generator) -> tuple:
    """(interface, addresses, handle) of ``gen``'s bit generator, cached.

    Cached by the identity of the bit generator's ctypes interface (numpy keeps one per
    bit generator); the cache holds the interface itself, so that identity cannot be
    reused while its entry lives.
    """
    iface = gen.bit_generator.ctypes
    hit = _ADDRESSES.get(id(iface))
    if hit is None or hit[0] is not iface:
        if len(_ADDRESSES) >= 256:  # bounded: a miss only recomputes
            _ADDRESSES.clear()
        fn = [ctypes.cast(f, ctypes.c_void_p).value for f in (iface.next_double, iface.next_uint64, iface.next_uint32)]
        addrs = (iface.state_address, *fn)
        handle = np.array(addrs, np.uint64)
        handle.flags.writeable = False
        hit = _ADDRESSES[id(iface)] = (iface, addrs, handle)
    return hit


def generator_addresses(gen: np.random.Generator) -> tuple[int, int, int, int]:
    """(state, next_double, next_uint64, next_uint32) addresses of ``gen``'s bit generator."""
    return _cached(gen)[1]


def generator_handle(gen: np.random.Generator) -> np.ndarray:
    """``gen``'s addresses as a read-only uint64 array, for a kernel that takes ``as_generator(rng)``.

    An array reaches a kernel in about 0.1 us, a Generator in about 3 (its type looked up in
    Python, its struct unboxed through a Python call): the engine passes handles on every step.
    The caller keeps ``gen`` alive while the kernel runs (it draws from ``gen``'s own state).
    """
    return _cached(gen)[2]


def as_generator(rng):
    """In a kernel: ``rng`` itself if it is a Generator, the Generator of a ``generator_handle`` otherwise."""
    raise TypeError("as_generator is only for compiled code")


@intrinsic
def _generator_of_handle(typingctx, handle):
    """The struct of a Generator from its four addresses (no Python object: nothing to keep alive or release)."""
    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        state, next_double, next_uint64, next_uint32 = (builder.load(cgutils.gep(builder, data, i)) for i in range(4))
        bitgen = cgutils.create_struct_proxy(_bit_gen_type)(context, builder)
        bitgen.state_address = bitgen.state = state
        bitgen.fnptr_next_double, bitgen.fnptr_next_uint64, bitgen.fnptr_next_uint32 = next_double, next_uint64, next_uint32
        gen = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        gen.bit_generator = bitgen._getvalue()  # parent, meminfo: null, as the struct's zero initialisation leaves them
        return gen._getvalue()
    return _GENERATOR(handle), codegen


@overload(as_generator)
def _as_generator(rng):
    if isinstance(rng, types.NumPyRandomGeneratorType):
        return lambda rng: rng
    if isinstance(rng, types.Array) and rng.dtype == types.uint64 and rng.ndim == 1:
        return lambda rng: _generator_of_handle(rng)


@unbox(GeneratorType)
def _unbox_generator(typ, obj, c):
    """The struct numba's own unboxing builds, from ``generator_addresses`` (one call, no ctypes)."""
    gen = cgutils.create_struct_proxy(typ)(c.context, c.builder)
    bitgen = cgutils.create_struct_proxy(_bit_gen_type)(c.context, c.builder)
    fn = c.pyapi.unserialize(c.pyapi.serialize_object(generator_addresses))
    addrs = c.pyapi.call_function_objargs(fn, [obj])
    is_error = cgutils.is_null(c.builder, addrs)
    with c.builder.if_then(c.builder.not_(is_error)):
        for i, name in enumerate(("state_address", "fnptr_next_double", "fnptr_next_uint64", "fnptr_next_uint32")):
            setattr(bitgen, name, c.unbox(types.uintp, c.pyapi.tuple_getitem(addrs, i)).value)
        bitgen.state = bitgen.state_address
        c.pyapi.decref(addrs)
    bitgen.parent = obj
    gen.bit_generator = bitgen._getvalue()
    gen.parent = obj
    # as numba's: the struct keeps the Generator alive while compiled code holds it
    gen.meminfo = c.pyapi.nrt_meminfo_new_from_pyobject(cgutils.voidptr_t(None), obj)
    return NativeValue(gen._getvalue(), is_error=is_error)
