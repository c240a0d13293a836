"""Compiling and running sattn kernels from Python, over the C API."""

import ctypes
import math
import threading

from . import _capi
from ._capi import DLDataType, DLTensor, lib
from .mask import Mask


class SAttnError(RuntimeError):
    """A failure reported by the sattn C API; `status` is its sattn_status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _error(status, msg):
    return SAttnError(status, f"{_capi.STATUS_NAMES.get(status, 'error')}: {msg}")


def _check(status):
    if status != 0:
        raise _error(status, lib.sattn_last_error().decode(errors="replace"))


_context = None
_context_lock = threading.Lock()


def _ctx():
    global _context
    with _context_lock:
        if _context is None:
            handle = ctypes.c_void_p()
            _check(lib.sattn_context_create(ctypes.byref(handle)))
            _context = handle
        return _context


# --- tensors -----------------------------------------------------------------

_DTYPES = {}  # dtype object -> "f32" | "f16" | "bf16" | "i32"
_DL_TYPES = {"f32": (_capi.KDLFLOAT, 32), "f16": (_capi.KDLFLOAT, 16),
             "bf16": (_capi.KDLBFLOAT, 16), "i32": (_capi.KDLINT, 32)}


def _dtype_name(x):
    """'f32', 'f16', 'bf16' or 'i32' (index tensors) of a numpy array or a torch
    tensor."""
    dtype = getattr(x, "dtype", None)
    name = _DTYPES.get(dtype)
    if name is None:
        text = str(dtype)
        for key, value in (("bfloat16", "bf16"), ("float32", "f32"), ("float16", "f16"),
                           ("int32", "i32")):
            if key in text:
                name = _DTYPES[dtype] = value
                break
        else:
            raise SAttnError(4, f"dtype error: unsupported element type {text!r} "
                                "(want float32, float16 or bfloat16; int32 for indices)")
    return name


def _is_numpy(x):
    return type(x).__module__ == "numpy" and hasattr(x, "ctypes")


class _Arg:
    """A DLTensor for one array, kept alive with what it points into."""

    __slots__ = ("keep", "shape", "strides", "capsule", "tensor")

    def __init__(self, x, shape=None):
        self.keep = x
        if _is_numpy(x):
            self.shape = shape if shape is not None else (ctypes.c_int64 * x.ndim)(*x.shape)
            self.strides = None
            if not x.flags.c_contiguous:
                itemsize = x.itemsize
                if any(s % itemsize for s in x.strides):
                    raise SAttnError(5, "layout error: strides are not multiples of the "
                                        "element size")
                self.strides = (ctypes.c_int64 * x.ndim)(*[s // itemsize for s in x.strides])
            code, bits = _DL_TYPES[_dtype_name(x)]
            self.tensor = DLTensor(x.__array_interface__["data"][0],
                                   _capi.DLDevice(_capi.KDLCPU, 0), x.ndim,
                                   DLDataType(code, bits, 1), self.shape, self.strides, 0)
        elif hasattr(x, "__dlpack__"):
            self.capsule = x.__dlpack__()
            self.tensor = _capi.capsule_tensor(self.capsule)
        else:
            raise TypeError(f"expected a numpy array or a DLPack tensor, got {type(x).__name__}")


def _empty_like(x, shape, dtype_name):
    if _is_numpy(x):
        import numpy as np
        if dtype_name == "bf16":
            import ml_dtypes
            return np.empty(shape, dtype=ml_dtypes.bfloat16)
        return np.empty(shape, dtype={"f32": np.float32, "f16": np.float16}[dtype_name])
    import torch
    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    return torch.empty(shape, dtype=dtype, device=getattr(x, "device", "cpu"))


# --- kernels -------------------------------------------------------------------

class Kernel:
    """A compiled kernel; call it with (q, k, v) to get O (and LSE)."""

    def __init__(self, handle):
        self._handle = handle
        self.num_inputs = lib.sattn_kernel_num_inputs(handle)
        self.num_outputs = lib.sattn_kernel_num_outputs(handle)
        self.from_cache = bool(lib.sattn_kernel_from_cache(handle))
        self._plans = {}
        self._local = threading.local()

    def __del__(self):
        if getattr(self, "_handle", None) is not None and lib is not None:
            lib.sattn_kernel_release(self._handle)
            self._handle = None

    def release(self):
        """Frees the kernel now; later calls raise SAttnError."""
        lib.sattn_kernel_release(self._handle)

    def plan_stats(self, query_len, key_len):
        """The tile plan for given lengths: tiles per class, kept pairs, density."""
        stats = _capi.PlanStats()
        _check(lib.sattn_kernel_plan_stats(self._handle, query_len, key_len, ctypes.byref(stats)))
        return {name: getattr(stats, name) for name, _ in stats._fields_}

    def _plan(self, inputs):
        """Output shapes and types for these input shapes (cached)."""
        key = tuple((tuple(x.shape), getattr(x, "dtype", None)) for x in inputs)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        if len(inputs) != self.num_inputs:
            raise SAttnError(1, f"invalid argument: the kernel takes {self.num_inputs} "
                                f"inputs, got {len(inputs)}")
        shapes = [(ctypes.c_int64 * len(x.shape))(*x.shape) for x in inputs]
        shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * len(inputs))(*shapes)
        ranks = (ctypes.c_int32 * len(inputs))(*[len(x.shape) for x in inputs])
        outputs = []
        for i in range(self.num_outputs):
            shape = (ctypes.c_int64 * 4)()
            ndim = ctypes.c_int32()
            dtype = DLDataType()
            _check(lib.sattn_kernel_output_shape(self._handle, i, shape_ptrs, ranks, len(inputs),
                                                 shape, 4, ctypes.byref(ndim),
                                                 ctypes.byref(dtype)))
            name = "bf16" if dtype.code == _capi.KDLBFLOAT else {32: "f32", 16: "f16"}[dtype.bits]
            out_shape = tuple(shape[:ndim.value])
            outputs.append((out_shape, name, (ctypes.c_int64 * len(out_shape))(*out_shape)))
        plan = self._plans[key] = (shapes, outputs)
        return plan

    def _call_numpy(self, inputs, shapes, out_plan):
        """Contiguous numpy arrays: DLTensors prepared once per thread and input
        shapes, only the data pointers change from call to call."""
        key = tuple((x.shape, x.dtype) for x in inputs)
        prepared = getattr(self._local, "prepared", None)
        if prepared is None:
            prepared = self._local.prepared = {}
        entry = prepared.get(key)
        outputs = [_empty_like(inputs[0], shape, name) for shape, name, _ in out_plan]
        if entry is None:
            args = [_Arg(x, s) for x, s in zip(inputs, shapes)]
            args += [_Arg(o, p[2]) for o, p in zip(outputs, out_plan)]
            tensors = [a.tensor for a in args]
            in_ptrs = (ctypes.POINTER(DLTensor) * len(inputs))(
                *[ctypes.pointer(t) for t in tensors[:len(inputs)]])
            out_ptrs = (ctypes.POINTER(DLTensor) * len(outputs))(
                *[ctypes.pointer(t) for t in tensors[len(inputs):]])
            entry = prepared[key] = (args, tensors, in_ptrs, out_ptrs)
        args, tensors, in_ptrs, out_ptrs = entry
        for t, x in zip(tensors, inputs + tuple(outputs)):
            t.data = x.__array_interface__["data"][0]
        _check(lib.sattn_kernel_run(self._handle, in_ptrs, len(inputs), out_ptrs, len(outputs)))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def __call__(self, *inputs):
        shapes, out_plan = self._plan(inputs)
        if all(_is_numpy(x) and x.flags.c_contiguous for x in inputs):
            for x in inputs:
                _dtype_name(x)  # rejects unsupported types with a clear error
            return self._call_numpy(inputs, shapes, out_plan)
        args = [_Arg(x, s) for x, s in zip(inputs, shapes)]
        outputs = [_empty_like(inputs[0], shape, name) for shape, name, _ in out_plan]
        out_args = [_Arg(o, p[2]) for o, p in zip(outputs, out_plan)]
        in_ptrs = (ctypes.POINTER(DLTensor) * len(args))(
            *[ctypes.pointer(a.tensor) for a in args])
        out_ptrs = (ctypes.POINTER(DLTensor) * len(out_args))(
            *[ctypes.pointer(a.tensor) for a in out_args])
        _check(lib.sattn_kernel_run(self._handle, in_ptrs, len(args), out_ptrs, len(out_args)))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _check_interruptible(fn, *args):
    """Calls the C function fn(*args) on a worker thread and waits for it in
    short slices, so that Ctrl-C raises KeyboardInterrupt at once (the call
    itself finishes in the background; its result is dropped). Raises
    SAttnError when it fails."""
    result = []

    def call():
        status = fn(*args)
        # sattn_last_error() is per thread: read it on this one.
        result.append((status, lib.sattn_last_error().decode(errors="replace")
                       if status else ""))
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.05)
    status, msg = result[0]
    if status != 0:
        raise _error(status, msg)


def compile_spec(spec, function=None, target="cpu"):
    """Compiles a function of an MLIR spec module (text)."""
    if not isinstance(spec, str):
        raise TypeError("spec must be the text of an MLIR module")
    handle = ctypes.c_void_p()
    _check_interruptible(lib.sattn_compile_module, _ctx(), spec.encode(),
                         function.encode() if function else None,
                         target.encode(), ctypes.byref(handle))
    return Kernel(handle)


def _scale_value(scale):
    """The C API's scale: NaN means 1/sqrt(D); a given scale must be finite."""
    if scale is None:
        return math.nan
    try:
        value = float(scale)
    except (TypeError, ValueError):
        raise TypeError(f"scale must be a number, got {type(scale).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"scale must be finite, got {value} (omit it for 1/sqrt(D))")
    return value


def _softcap_value(softcap):
    """The C API's softcap: 0 means none; a given softcap must be finite and > 0."""
    if softcap is None:
        return 0.0
    try:
        value = float(softcap)
    except (TypeError, ValueError):
        raise TypeError(f"softcap must be a number, got {type(softcap).__name__}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"softcap must be finite and > 0, got {value} (omit it for none)")
    return value


def _alibi_array(slopes):
    """ALiBi slopes as a C float array (None: none), one finite slope per query head."""
    if slopes is None:
        return None
    try:
        values = [float(m) for m in slopes]
    except (TypeError, ValueError):
        raise TypeError("alibi_slopes must be a sequence of numbers") from None
    bad = [h for h, m in enumerate(values) if not math.isfinite(m)]
    if bad:
        raise ValueError(f"alibi_slopes must be finite, got {values[bad[0]]} for query head {bad[0]}")
    return (ctypes.c_float * len(values))(*values)


def compile(mask, q_shape, k_shape, v_shape, dtype="f32", scale=None, return_lse=False,
            target="cpu", softcap=None, alibi_slopes=None, backward=False):
    """Compiles attention for these shapes (None in a shape: dynamic), with the
    optional score modifiers of docs/Semantics.md: softcap (c > 0) and
    alibi_slopes (one per query head). With backward, the kernel is its
    backward (sattn.attention_grad): (q, k, v, o, do, lse) -> (dq, dk, dv)."""
    if not isinstance(mask, (Mask, str)):
        raise TypeError("mask must be a sattn mask or its attribute text")
    def dim(d):
        if d is None:
            return -1
        if isinstance(d, bool) or int(d) != d or d < 0:
            raise SAttnError(3, f"shape error: sizes must be integers >= 0 or None, got {d!r}")
        return int(d)
    q_shape, k_shape, v_shape = (tuple(map(dim, s)) for s in (q_shape, k_shape, v_shape))
    if len(q_shape) != 4 or len(k_shape) != 4 or len(v_shape) != 4:
        raise SAttnError(3, "shape error: Q, K and V must have rank 4 ([B, H, L, D])")
    desc = _capi.AttentionDesc(q_shape[0], q_shape[1], k_shape[1], q_shape[2], k_shape[2],
                               q_shape[3], v_shape[3], dtype.encode(),
                               _scale_value(scale), int(return_lse), target.encode(),
                               _softcap_value(softcap))
    desc.backward = int(backward)
    slopes = _alibi_array(alibi_slopes)
    if slopes is not None:
        desc.alibi_slopes, desc.num_alibi_slopes = slopes, len(slopes)
    handle = ctypes.c_void_p()
    _check_interruptible(lib.sattn_compile_mask, _ctx(), str(mask).encode(),
                         ctypes.byref(desc), ctypes.byref(handle))
    return Kernel(handle)


_kernels = {}
_kernels_lock = threading.Lock()


def _cached_kernel(key, build):
    """The kernel of `key` from the process-wide cache, built once."""
    kernel = _kernels.get(key)
    if kernel is None:
        kernel = build()
        with _kernels_lock:
            _kernels[key] = kernel
    return kernel


def _target_of(x):
    """nvvm for tensors on a CUDA device (torch), else cpu."""
    return "nvvm" if getattr(getattr(x, "device", None), "type", "cpu") == "cuda" else "cpu"


def attention(q, k, v, mask, scale=None, return_lse=False, softcap=None, alibi_slopes=None):
    """Masked attention of docs/Semantics.md on numpy arrays or DLPack tensors (torch;
    CUDA tensors run on the GPU): O, or (O, LSE) with return_lse; softcap and
    alibi_slopes modify the scores. Compiled once per (mask, shapes, dtype,
    modifiers, device). Differentiable for torch tensors that require grad
    (CPU or CUDA): it runs as the torch.library operator
    sattn::attention_lse, whose backward is sattn::attention_grad (gradients
    through LSE are not supported)."""
    if _needs_autograd(q, k, v):
        from . import _torch
        o, lse = _torch.attention_lse(q, k, v, str(mask), scale, softcap, alibi_slopes)
        return (o, lse) if return_lse else o
    target = _target_of(q)
    slopes = None if alibi_slopes is None else tuple(float(m) for m in alibi_slopes)
    key = (str(mask), tuple(q.shape), tuple(k.shape), tuple(v.shape), _dtype_name(q),
           scale, return_lse, target, softcap, slopes)
    kernel = _cached_kernel(key, lambda: compile(
        mask, q.shape, k.shape, v.shape, _dtype_name(q), scale, return_lse, target, softcap,
        slopes))
    return kernel(q, k, v)


def _needs_autograd(*tensors):
    """Whether these are torch tensors that autograd must track."""
    if not any(getattr(x, "requires_grad", False) for x in tensors):
        return False
    import torch
    return torch.is_grad_enabled()


def attention_grad(q, k, v, o, do, lse, mask, scale=None, softcap=None, alibi_slopes=None):
    """The backward of attention() (docs/Semantics.md, Backward): dQ, dK, dV, the
    gradients of sum(O * dO), from the forward's Q, K, V, its O and LSE (f32
    [B, Hq, Lq]) and dO; on the GPU for torch tensors on a CUDA device.
    Compiled once per (mask, shapes, dtype, modifiers, device)."""
    target = _target_of(q)
    slopes = None if alibi_slopes is None else tuple(float(m) for m in alibi_slopes)
    key = ("grad", str(mask), tuple(q.shape), tuple(k.shape), tuple(v.shape), _dtype_name(q),
           scale, target, softcap, slopes)
    kernel = _cached_kernel(key, lambda: compile(
        mask, q.shape, k.shape, v.shape, _dtype_name(q), scale, False, target, softcap, slopes,
        backward=True))
    return kernel(q, k, v, o, do, lse)


def _float_text(x):
    """An f32 value as an MLIR float literal."""
    return f"{float(x):.9e}"


def _score_attrs(scale, softcap, alibi_slopes):
    """The op's `scale(...) softcap(...) alibi_slopes([...])` text, checked as
    the C API checks them."""
    text = ""
    if scale is not None:
        text += f" scale({_float_text(_scale_value(scale))})"
    if softcap is not None:
        text += f" softcap({_float_text(_softcap_value(softcap))})"
    slopes = _alibi_array(alibi_slopes)
    if slopes is not None:
        text += f" alibi_slopes([{', '.join(_float_text(m) for m in slopes)}])"
    return text


def _serving_spec(fn, op, mask, dtype, tensors, results, attrs, target):
    """Compiles a spec of one serving op (`op`: paged_attention or
    varlen_attention) taking the tensors (name, type) then two int32 index
    operands of the types in `tensors` too."""
    if not isinstance(mask, (Mask, str)):
        raise TypeError("mask must be a sattn mask or its attribute text")
    if dtype not in ("f32", "f16", "bf16"):
        raise SAttnError(4, f"dtype error: dtype must be f32, f16 or bf16, got {dtype!r}")
    names = "%o, %l" if len(results) == 2 else "%o"
    result_types = ", ".join(results)
    result_text = f"({result_types})" if len(results) == 2 else result_types
    spec = (f"func.func @{fn}({', '.join(f'%{n}: {t}' for n, t in tensors)}) -> {result_text} {{\n"
            f"  {names} = sattn.{op} {', '.join('%' + n for n, _ in tensors)} mask({mask}){attrs}\n"
            f"      : ({', '.join(t for _, t in tensors)}) -> {result_text}\n"
            f"  return {names} : {result_types}\n}}\n")
    return compile_spec(spec, fn, target)


def compile_paged(mask, q_shape, k_cache_shape, v_cache_shape, dtype="f32", scale=None,
                  return_lse=False, target="cpu", softcap=None, alibi_slopes=None):
    """Compiles sattn.paged_attention (docs/Semantics.md) for Q [B, Hq, Lq, D] and
    caches [P, page, Hkv, D], [P, page, Hkv, Dv]: B, P and the block table's
    width M stay dynamic, so one kernel serves a growing cache. The kernel
    takes (q, k_cache, v_cache, block_table, seq_lens), the last two int32."""
    if len(q_shape) != 4 or len(k_cache_shape) != 4 or len(v_cache_shape) != 4:
        raise SAttnError(3, "shape error: Q [B, Hq, Lq, D] and the caches [P, page, Hkv, D] "
                            "must have rank 4")
    _, hq, lq, d = (int(x) for x in q_shape)
    _, page, hkv, kd = (int(x) for x in k_cache_shape)
    dv = int(v_cache_shape[3])
    tensors = [("q", f"tensor<?x{hq}x{lq}x{d}x{dtype}>"),
               ("kc", f"tensor<?x{page}x{hkv}x{kd}x{dtype}>"),
               ("vc", f"tensor<?x{page}x{hkv}x{dv}x{dtype}>"),
               ("t", "tensor<?x?xi32>"), ("n", "tensor<?xi32>")]
    results = [f"tensor<?x{hq}x{lq}x{dv}x{dtype}>"] + \
        ([f"tensor<?x{hq}x{lq}xf32>"] if return_lse else [])
    return _serving_spec("paged", "paged_attention", mask, dtype, tensors, results,
                         _score_attrs(scale, softcap, alibi_slopes), target)


def paged_attention(q, k_cache, v_cache, block_table, seq_lens, mask, scale=None,
                    return_lse=False, softcap=None, alibi_slopes=None):
    """Attention over a paged KV cache (vLLM's layout, docs/Semantics.md):
    sequence b has seq_lens[b] keys, key k in slot k % page of page
    block_table[b, k // page] of the caches [P, page, Hkv, D]; q is
    [B, Hq, Lq, D] (its Lq newest tokens). Bad index data raises SAttnError
    before any output is written. Compiled once per (mask, head and page
    shapes, dtype, modifiers, device)."""
    target = _target_of(q)
    slopes = None if alibi_slopes is None else tuple(float(m) for m in alibi_slopes)
    key = ("paged", str(mask), tuple(q.shape[1:]), tuple(k_cache.shape[1:]),
           tuple(v_cache.shape[1:]), _dtype_name(q), scale, return_lse, target, softcap, slopes)
    kernel = _cached_kernel(key, lambda: compile_paged(
        mask, q.shape, k_cache.shape, v_cache.shape, _dtype_name(q), scale, return_lse, target,
        softcap, slopes))
    return kernel(q, k_cache, v_cache, block_table, seq_lens)


def compile_varlen(mask, q_shape, k_shape, v_shape, dtype="f32", scale=None, return_lse=False,
                   target="cpu", softcap=None, alibi_slopes=None):
    """Compiles sattn.varlen_attention (docs/Semantics.md) for the token-major
    Q [Tq, Hq, D], K [Tk, Hkv, D], V [Tk, Hkv, Dv]: Tq, Tk and the number of
    sequences stay dynamic. The kernel takes (q, k, v, cu_seqlens_q,
    cu_seqlens_k), the last two int32 [B + 1]; it returns O [Tq, Hq, Dv] (and
    LSE [Hq, Tq])."""
    if len(q_shape) != 3 or len(k_shape) != 3 or len(v_shape) != 3:
        raise SAttnError(3, "shape error: Q [Tq, Hq, D], K [Tk, Hkv, D] and V [Tk, Hkv, Dv] "
                            "must have rank 3")
    _, hq, d = (int(x) for x in q_shape)
    _, hkv, kd = (int(x) for x in k_shape)
    dv = int(v_shape[2])
    tensors = [("q", f"tensor<?x{hq}x{d}x{dtype}>"), ("k", f"tensor<?x{hkv}x{kd}x{dtype}>"),
               ("v", f"tensor<?x{hkv}x{dv}x{dtype}>"),
               ("cq", "tensor<?xi32>"), ("ck", "tensor<?xi32>")]
    results = [f"tensor<?x{hq}x{dv}x{dtype}>"] + ([f"tensor<{hq}x?xf32>"] if return_lse else [])
    return _serving_spec("varlen", "varlen_attention", mask, dtype, tensors, results,
                         _score_attrs(scale, softcap, alibi_slopes), target)


def varlen_attention(q, k, v, cu_seqlens_q, cu_seqlens_k, mask, scale=None, return_lse=False,
                     softcap=None, alibi_slopes=None):
    """Attention over sequences packed one after another (FlashAttention's
    varlen, docs/Semantics.md): sequence b is rows cu_seqlens_q[b] ..
    cu_seqlens_q[b + 1] of q [Tq, Hq, D] and keys cu_seqlens_k[b] ..
    cu_seqlens_k[b + 1] of k, v [Tk, Hkv, D]; masks and ALiBi count positions
    from each sequence's start. Bad cu_seqlens raise SAttnError before any
    output is written. Compiled once per (mask, head shapes, dtype, modifiers,
    device)."""
    target = _target_of(q)
    slopes = None if alibi_slopes is None else tuple(float(m) for m in alibi_slopes)
    key = ("varlen", str(mask), tuple(q.shape[1:]), tuple(k.shape[1:]), tuple(v.shape[1:]),
           _dtype_name(q), scale, return_lse, target, softcap, slopes)
    kernel = _cached_kernel(key, lambda: compile_varlen(
        mask, q.shape, k.shape, v.shape, _dtype_name(q), scale, return_lse, target, softcap,
        slopes))
    return kernel(q, k, v, cu_seqlens_q, cu_seqlens_k)
