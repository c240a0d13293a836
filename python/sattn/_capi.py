"""ctypes bindings of the sattn C API (include/sattn-c/SAttn.h)."""

import ctypes
import os

c_int64_p = ctypes.POINTER(ctypes.c_int64)


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", c_int64_p), ("strides", c_int64_p),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


class AttentionDesc(ctypes.Structure):
    _fields_ = [("batch", ctypes.c_int64), ("query_heads", ctypes.c_int64),
                ("kv_heads", ctypes.c_int64), ("query_len", ctypes.c_int64),
                ("key_len", ctypes.c_int64), ("head_dim", ctypes.c_int64),
                ("value_dim", ctypes.c_int64), ("dtype", ctypes.c_char_p),
                ("scale", ctypes.c_float), ("with_lse", ctypes.c_int),
                ("target", ctypes.c_char_p), ("softcap", ctypes.c_float),
                ("alibi_slopes", ctypes.POINTER(ctypes.c_float)),
                ("num_alibi_slopes", ctypes.c_size_t), ("backward", ctypes.c_int)]


class PlanStats(ctypes.Structure):
    _fields_ = [("tile_rows", ctypes.c_int64), ("tile_keys", ctypes.c_int64),
                ("empty_tiles", ctypes.c_int64), ("full_tiles", ctypes.c_int64),
                ("partial_tiles", ctypes.c_int64), ("kept_pairs", ctypes.c_int64),
                ("density", ctypes.c_double)]


KDLCPU, KDLINT, KDLFLOAT, KDLBFLOAT = 1, 0, 2, 4
STATUS_NAMES = {1: "invalid argument", 2: "compile error", 3: "shape error",
                4: "dtype error", 5: "layout error", 6: "device error", 7: "I/O error"}


def _find_library():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("SATTN_LIBRARY"),
                  os.path.join(here, "libsattn-capi.so"),
                  os.path.join(here, "..", "..", "build", "lib", "libsattn-capi.so")]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    raise ImportError("libsattn-capi.so not found: build sattn (make) or set SATTN_LIBRARY")


lib = ctypes.CDLL(_find_library())
_P = ctypes.c_void_p
lib.sattn_last_error.restype = ctypes.c_char_p
lib.sattn_context_create.argtypes = [ctypes.POINTER(_P)]
lib.sattn_context_destroy.argtypes = [_P]
lib.sattn_context_destroy.restype = None
lib.sattn_compile_module.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(_P)]
lib.sattn_compile_mask.argtypes = [_P, ctypes.c_char_p, ctypes.POINTER(AttentionDesc),
                                   ctypes.POINTER(_P)]
lib.sattn_kernel_run.argtypes = [_P, ctypes.POINTER(ctypes.POINTER(DLTensor)), ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.POINTER(DLTensor)), ctypes.c_size_t]
lib.sattn_kernel_num_inputs.argtypes = [_P]
lib.sattn_kernel_num_inputs.restype = ctypes.c_size_t
lib.sattn_kernel_num_outputs.argtypes = [_P]
lib.sattn_kernel_num_outputs.restype = ctypes.c_size_t
lib.sattn_kernel_output_shape.argtypes = [_P, ctypes.c_size_t, ctypes.POINTER(c_int64_p),
                                          ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t,
                                          c_int64_p, ctypes.c_int32,
                                          ctypes.POINTER(ctypes.c_int32),
                                          ctypes.POINTER(DLDataType)]
lib.sattn_mask_evaluate.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_void_p, ctypes.c_size_t]
lib.sattn_kernel_plan_stats.argtypes = [_P, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.POINTER(PlanStats)]
lib.sattn_kernel_from_cache.argtypes = [_P]
lib.sattn_kernel_release.argtypes = [_P]
lib.sattn_kernel_release.restype = None

_capsule_get = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get.restype = ctypes.c_void_p
_capsule_get.argtypes = [ctypes.py_object, ctypes.c_char_p]


def capsule_tensor(capsule):
    """The DLTensor inside a DLPack capsule (not consumed)."""
    ptr = _capsule_get(capsule, b"dltensor")
    return ctypes.cast(ptr, ctypes.POINTER(DLManagedTensor)).contents.dl_tensor
