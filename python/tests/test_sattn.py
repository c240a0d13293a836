"""Tests of the sattn Python package (and through it, of the C API)."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import sattn

import mask_oracle

HERE = os.path.dirname(os.path.abspath(__file__))


def reference(q, k, v, keep, scale, return_lse=False, softcap=None, alibi=None):
    """docs/Semantics.md in float64."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    g = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, g, axis=1), np.repeat(v, g, axis=1)
    s = scale * q @ np.swapaxes(k, -1, -2)
    if softcap is not None:  # s = c tanh(s / c)
        s = softcap * np.tanh(s / softcap)
    if alibi is not None:  # s = s - m_h |p - k|
        lq, lk = s.shape[-2], s.shape[-1]
        dist = np.abs((np.arange(lq) + lk - lq)[:, None] - np.arange(lk)[None, :])
        s = s - np.asarray(alibi, np.float64)[:, None, None] * dist
    s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True) if s.shape[-1] else np.full(s.shape[:-1] + (1,), -np.inf)
    empty = ~np.isfinite(m)
    p = np.exp(s - np.where(empty, 0, m))
    l = p.sum(-1, keepdims=True)
    o = np.where(empty, 0, (p @ v) / np.where(empty, 1, l))
    lse = np.where(empty, -np.inf, m + np.log(np.where(empty, 1, l)))[..., 0]
    return (o, lse) if return_lse else o


def rel_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    return np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30)


def inputs(shape_q, shape_k, shape_v, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s).astype(dtype) for s in (shape_q, shape_k, shape_v)]


# --- masks ---------------------------------------------------------------------

def test_masks_print_as_attribute_text():
    m = sattn.window(128, 0) | sattn.global_tokens([3, 0])
    assert str(m) == ("#sattn.union<[#sattn.window<left = 128, right = 0>, "
                      "#sattn.global<tokens = [0, 3]>]>")
    assert str(~sattn.causal()) == "#sattn.complement<#sattn.causal>"
    assert str(sattn.causal() & sattn.sink(4)) == \
        "#sattn.intersect<[#sattn.causal, #sattn.sink<tokens = 4>]>"
    assert str(sattn.longformer(512, [0])) == "#sattn.longformer<window = 512, global = [0]>"
    assert str(sattn.bigbird(64, 3, 2, 3, -1)).endswith("seed = 18446744073709551615>")


def test_mask_parameters_are_checked():
    with pytest.raises(ValueError, match="left must be >= 0"):
        sattn.window(-1, 0)
    with pytest.raises(ValueError, match="distinct"):
        sattn.global_tokens([1, 1])
    with pytest.raises(ValueError, match="even"):
        sattn.longformer(3, [0])
    with pytest.raises(TypeError, match="left must be an integer, got 1.5"):
        sattn.window(1.5, 0)
    with pytest.raises(TypeError, match="members must be sattn masks"):
        sattn.union(sattn.causal(), "#sattn.dense")


def test_show_draws_text_and_png(tmp_path, monkeypatch):
    text = sattn.causal().show(4, 4)
    assert "    3 -> x x x x" in text and "density 0.625000" in text
    path = sattn.strided(3).show(600, 600, str(tmp_path / "m.png"))
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.chdir(tmp_path)  # nothing is written without a path
    with pytest.raises(ValueError, match="give path="):
        sattn.causal().show(100, 100)
    assert not list(tmp_path.glob("sattn-mask-*"))


def build_masks(m):
    """The same patterns from the sattn package or from the test oracle."""
    return [m.dense(), m.causal(), m.window(5, 2), m.dilated(3, 1, 2),
            m.strided(4), m.global_tokens([0, 9]), m.sink(3),
            m.block_sparse([16, 16], [[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]),
            m.random_blocks(8, 2, 11), m.random_blocks(4, 10**9, 7), m.longformer(6, [1]),
            m.bigbird(8, 3, 1, 1, 3), m.sparse_transformer(5), m.streaming(2, 7),
            (m.window(4, 0) | m.sink(2)) & ~m.strided(3)]


MASKS = build_masks(sattn)
ORACLE = dict(zip(map(str, MASKS), build_masks(mask_oracle)))


@pytest.mark.parametrize("mask", MASKS, ids=lambda m: str(m)[:40])
@pytest.mark.parametrize("lq,lk", [(45, 61), (61, 45), (1, 64), (0, 5), (33, 0)])
def test_mask_evaluate_matches_the_oracle(mask, lq, lk):
    oracle = ORACLE[str(mask)]
    assert str(oracle) == str(mask)
    assert np.array_equal(mask.evaluate(lq, lk), oracle.evaluate(lq, lk))


def test_mask_evaluate_errors():
    with pytest.raises(sattn.SAttnError, match="does not parse"):
        sattn.Mask("#sattn.causal) scale(100.0").evaluate(4, 4)
    with pytest.raises(sattn.SAttnError, match="not a sattn mask"):
        sattn.Mask("42 : i32").evaluate(4, 4)
    with pytest.raises(ValueError, match="too many to draw"):
        sattn.causal().evaluate(1 << 20, 1 << 20)


@pytest.mark.parametrize("mask", MASKS, ids=lambda m: str(m)[:40])
def test_attention_matches_reference(mask):
    q, k, v = inputs((2, 4, 45, 32), (2, 2, 61, 32), (2, 2, 61, 24))
    o, lse = sattn.attention(q, k, v, mask=mask, return_lse=True)
    want_o, want_lse = reference(q, k, v, ORACLE[str(mask)].evaluate(45, 61), 1 / np.sqrt(32),
                                 True)
    assert o.shape == (2, 4, 45, 24) and lse.shape == (2, 4, 45)
    assert not np.isnan(o).any()
    assert rel_err(o, want_o) <= 1e-5
    assert np.array_equal(np.isinf(lse), np.isinf(want_lse))
    fin = np.isfinite(want_lse)
    assert rel_err(lse[fin], want_lse[fin]) <= 1e-5


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_half_precision(dtype):
    import ml_dtypes
    np_dtype = np.float16 if dtype == "f16" else ml_dtypes.bfloat16
    q, k, v = inputs((1, 2, 50, 64), (1, 2, 50, 64), (1, 2, 50, 64), np_dtype)
    o = sattn.attention(q, k, v, mask=sattn.causal(), scale=0.2)
    assert o.dtype == np_dtype
    want = reference(q, k, v, sattn.causal().evaluate(50, 50), 0.2)
    assert rel_err(o.astype(np.float64), want) <= 1e-2


def test_compile_returns_a_callable_with_dynamic_shapes():
    kernel = sattn.compile(sattn.window(3, 0), (1, 2, None, 16), (1, 2, None, 16),
                           (1, 2, None, 16))
    for lq, lk in [(10, 10), (7, 33), (1, 5)]:
        q, k, v = inputs((1, 2, lq, 16), (1, 2, lk, 16), (1, 2, lk, 16), seed=lq)
        o = kernel(q, k, v)
        assert rel_err(o, reference(q, k, v, sattn.window(3, 0).evaluate(lq, lk), 0.25)) <= 1e-5
    stats = kernel.plan_stats(128, 128)
    assert stats["tile_rows"] == 32 and stats["kept_pairs"] == 128 * 4 - 6


def test_compile_spec():
    spec = open(os.path.join(HERE, "..", "..", "examples", "longformer.mlir")).read()
    kernel = sattn.compile_spec(spec.replace("4096", "300"))
    q, k, v = inputs((1, 8, 300, 64), (1, 8, 300, 64), (1, 8, 300, 64))
    want = reference(q, k, v, sattn.longformer(512, [0]).evaluate(300, 300), 1 / 8)
    assert rel_err(kernel(q, k, v), want) <= 1e-5


# --- errors --------------------------------------------------------------------

def test_masks_are_parsed_not_spliced():
    q = np.zeros((1, 1, 8, 16), np.float32)
    with pytest.raises(sattn.SAttnError, match="does not parse"):
        sattn.attention(q, q, q, mask="#sattn.causal) scale(100.0")
    with pytest.raises(sattn.SAttnError, match="not a sattn mask attribute"):
        sattn.attention(q, q, q, mask="unit")


def test_bad_arguments_are_rejected_in_python():
    q = np.zeros((1, 1, 8, 16), np.float32)
    for scale in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="scale must be finite"):
            sattn.attention(q, q, q, mask=sattn.causal(), scale=scale)
    with pytest.raises(sattn.SAttnError, match="sizes must be integers"):
        sattn.compile(sattn.causal(), (1, 1, 8.5, 16), q.shape, q.shape)


def test_chained_attentions_in_one_spec():
    t = "tensor<1x2x24x16xf32>"
    spec = f"""func.func @f(%q: {t}, %k: {t}, %v: {t}) -> {t} {{
      %a = sattn.attention %q, %k, %v mask(#sattn.causal) : ({t}, {t}, {t}) -> {t}
      %b = sattn.attention %a, %k, %v mask(#sattn.window<left = 3, right = 0>) : ({t}, {t}, {t}) -> {t}
      return %b : {t}
    }}"""
    q, k, v = inputs((1, 2, 24, 16), (1, 2, 24, 16), (1, 2, 24, 16))
    a = reference(q, k, v, mask_oracle.causal().evaluate(24, 24), 0.25)
    want = reference(a, k, v, mask_oracle.window(3, 0).evaluate(24, 24), 0.25)
    assert rel_err(sattn.compile_spec(spec)(q, k, v), want) <= 1e-5


def test_compile_errors_carry_the_diagnostic():
    q = np.zeros((1, 1, 8, 16), np.float32)
    with pytest.raises(sattn.SAttnError, match="'#sattn.window' parameter 'left' must be >= 0"):
        sattn.attention(q, q, q, mask="#sattn.window<left = -1, right = 0>")
    with pytest.raises(sattn.SAttnError, match="does not parse"):
        sattn.compile_spec("func.func @f(")
    with pytest.raises(sattn.SAttnError, match=r"unknown target 'tpu' \(cpu or nvvm\)"):
        sattn.compile(sattn.causal(), q.shape, q.shape, q.shape, target="tpu")
    with pytest.raises(sattn.SAttnError, match="multiple of key/value heads"):
        sattn.compile(sattn.causal(), (1, 3, 8, 16), (1, 2, 8, 16), (1, 2, 8, 16))


def test_bad_tensors_are_rejected():
    kernel = sattn.compile(sattn.causal(), (1, 1, 8, 16), (1, 1, 8, 16), (1, 1, 8, 16))
    q = np.zeros((1, 1, 8, 16), np.float32)
    with pytest.raises(sattn.SAttnError, match="does not match the function's dim 2 = 8"):
        kernel(np.zeros((1, 1, 9, 16), np.float32), q, q)
    with pytest.raises(sattn.SAttnError, match="kernel wants f32"):
        kernel(q.astype(np.float16), q, q)
    with pytest.raises(sattn.SAttnError, match="not contiguous row-major"):
        kernel(np.zeros((1, 1, 16, 8), np.float32).swapaxes(2, 3), q, q)
    with pytest.raises(sattn.SAttnError, match="unsupported element type"):
        kernel(q.astype(np.int64), q, q)
    with pytest.raises(sattn.SAttnError, match="the kernel wants f32"):
        kernel(q.astype(np.int32), q, q)
    with pytest.raises(sattn.SAttnError, match="takes 3 inputs"):
        kernel(q, q)
    kernel.release()
    with pytest.raises(sattn.SAttnError, match="invalid or released kernel handle"):
        kernel(q, q, q)


def test_misaligned_buffer_is_rejected():
    kernel = sattn.compile(sattn.causal(), (1, 1, 8, 16), (1, 1, 8, 16), (1, 1, 8, 16))
    raw = np.zeros(8 * 16 * 4 + 2, np.uint8)
    bad = raw[2:].view(np.float32).reshape(1, 1, 8, 16)  # 2-byte aligned f32
    q = np.zeros((1, 1, 8, 16), np.float32)
    with pytest.raises(sattn.SAttnError, match="not aligned"):
        kernel(bad, q, q)


# --- cache and threads ---------------------------------------------------------

CACHE_SCRIPT = """
import sys, time, numpy as np
sys.path.insert(0, {pkg!r})
import sattn
t0 = time.perf_counter()
k = sattn.compile(sattn.window(7, 0), (1, 2, 40, 16), (1, 2, 40, 16), (1, 2, 40, 16))
dt = time.perf_counter() - t0
q = np.ones((1, 2, 40, 16), np.float32)
print(int(k.from_cache), float(k(q, q, q).sum()), dt)
"""


def run_cached(cache_dir):
    env = dict(os.environ, SATTN_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c",
                          CACHE_SCRIPT.format(pkg=os.path.join(HERE, ".."))],
                         capture_output=True, text=True, env=env, check=True)
    from_cache, total, seconds = out.stdout.split()
    return int(from_cache), float(total), float(seconds)


def test_disk_cache_hits_and_rebuilds_corrupt_entries(tmp_path):
    first = run_cached(tmp_path)
    assert first[0] == 0
    second = run_cached(tmp_path)
    assert second[0] == 1 and second[1] == first[1]
    (entry,) = list(tmp_path.glob("*.sattn"))
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])  # truncated
    third = run_cached(tmp_path)
    assert third[0] == 0 and third[1] == first[1]
    entry.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # flipped bit
    fourth = run_cached(tmp_path)
    assert fourth[0] == 0 and fourth[1] == first[1]
    assert run_cached(tmp_path)[0] == 1


def test_many_threads_compile_and_run():
    errors = []
    masks = [sattn.causal(), sattn.window(3, 1), sattn.sink(2), sattn.strided(2)]

    def work(i):
        try:
            for j in range(6):
                mask = masks[(i + j) % len(masks)]
                lq = 8 + (i * 7 + j) % 20
                q, k, v = inputs((1, 2, lq, 16), (1, 2, lq, 16), (1, 2, lq, 16), seed=i * 10 + j)
                o = sattn.attention(q, k, v, mask=mask)
                if rel_err(o, reference(q, k, v, mask.evaluate(lq, lq), 0.25)) > 1e-5:
                    errors.append((i, j, str(mask)))
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- GPU -----------------------------------------------------------------------

def test_gpu_kernel_compiles_without_a_gpu_and_rejects_host_memory():
    kernel = sattn.compile(sattn.causal(), (1, 2, 40, 16), (1, 2, 40, 16), (1, 2, 40, 16),
                           target="nvvm")
    assert kernel.plan_stats(64, 64)["tile_keys"] == 32
    q, k, v = inputs((1, 2, 40, 16), (1, 2, 40, 16), (1, 2, 40, 16))
    with pytest.raises(sattn.SAttnError, match="not CUDA device memory"):
        kernel(q, k, v)


def test_gpu_backward_compiles_without_a_gpu():
    """The backward for the GPU: bf16 on tensor cores (64 x 64 tiles), f32 on
    the SIMT kernel (32-key tiles); host memory is refused."""
    shapes = (1, 4, 70, 64), (1, 2, 70, 64), (1, 2, 70, 64)
    bf16 = sattn.compile(sattn.longformer(16, [0]), *shapes, dtype="bf16", target="nvvm",
                         backward=True)
    assert bf16.plan_stats(70, 70)["tile_rows"] == 64 and bf16.plan_stats(70, 70)["tile_keys"] == 64
    f32 = sattn.compile(sattn.causal(), *shapes, target="nvvm", backward=True)
    assert f32.plan_stats(70, 70)["tile_keys"] == 32
    q, k, v = inputs(*shapes)
    o = np.zeros((1, 4, 70, 64), np.float32)
    lse = np.zeros((1, 4, 70), np.float32)
    with pytest.raises(sattn.SAttnError, match="not CUDA device memory"):
        f32(q, k, v, o, o, lse)


def test_gpu_head_dim_too_large_is_a_compile_error():
    with pytest.raises(sattn.SAttnError, match="bytes of shared memory"):
        sattn.compile(sattn.causal(), (1, 1, 8, 512), (1, 1, 8, 512), (1, 1, 8, 512),
                      target="nvvm")


# --- torch ---------------------------------------------------------------------

def test_torch_tensors_through_dlpack():
    torch = pytest.importorskip("torch")
    q, k, v = (torch.from_numpy(a) for a in inputs((1, 2, 33, 16), (1, 2, 33, 16), (1, 2, 33, 16)))
    o = sattn.attention(q, k, v, mask=sattn.causal())
    assert isinstance(o, torch.Tensor) and o.shape == (1, 2, 33, 16)
    want = torch.nn.functional.scaled_dot_product_attention(
        q.double(), k.double(), v.double(), is_causal=True)
    assert float((o.double() - want).norm() / want.norm()) <= 1e-5
    qb = q.to(torch.bfloat16)
    ob = sattn.attention(qb, k.to(torch.bfloat16), v.to(torch.bfloat16), mask=sattn.causal())
    assert ob.dtype == torch.bfloat16
    assert float((ob.double() - want).norm() / want.norm()) <= 1e-2


def test_torch_cuda_tensors_run_on_the_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    q, k, v = (torch.from_numpy(a).cuda().to(torch.bfloat16)
               for a in inputs((2, 4, 300, 64), (2, 2, 300, 64), (2, 2, 300, 64)))
    o = sattn.attention(q, k, v, mask=sattn.window(128, 0))
    assert o.device.type == "cuda" and o.dtype == torch.bfloat16
    keep = np.arange(300)[None, :] <= np.arange(300)[:, None]
    keep &= np.arange(300)[None, :] >= np.arange(300)[:, None] - 128
    want = reference(*(x.float().cpu().numpy() for x in (q, k, v)), keep, 1 / 8)
    assert rel_err(o.float().cpu().numpy(), want) <= 1e-2


def test_pytorch_operator_example():
    pytest.importorskip("torch")
    example = os.path.join(HERE, "..", "..", "examples", "pytorch", "longformer_model.py")
    out = subprocess.run([sys.executable, example, "--seq", "160", "--check-only"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")


def test_score_modifiers():
    """softcap and ALiBi (GQA, Lq != Lk, LSE over the modified scores), and
    their bad values as Python errors before anything compiles."""
    q, k, v = inputs((2, 4, 21, 32), (2, 2, 40, 32), (2, 2, 40, 32), seed=7)
    slopes = [0.5, 0.25, 0.125, 0.0625]
    o, lse = sattn.attention(q, k, v, sattn.causal(), return_lse=True, softcap=1.5,
                             alibi_slopes=slopes)
    want_o, want_lse = reference(q, k, v, sattn.causal().evaluate(21, 40), 1 / np.sqrt(32),
                                 return_lse=True, softcap=1.5, alibi=slopes)
    assert rel_err(o, want_o) <= 1e-5 and rel_err(lse, want_lse) <= 1e-5
    with pytest.raises(ValueError, match="softcap must be finite and > 0"):
        sattn.attention(q, k, v, sattn.causal(), softcap=0)
    with pytest.raises(ValueError, match="alibi_slopes must be finite"):
        sattn.attention(q, k, v, sattn.causal(), alibi_slopes=[0.5, float("nan"), 0, 0])
    with pytest.raises(sattn.SAttnError, match="one slope per query head .Hq = 4., got 2"):
        sattn.attention(q, k, v, sattn.causal(), alibi_slopes=[0.5, 0.25])
    # A dynamic Hq is checked when the kernel runs, before any output is written.
    kernel = sattn.compile(sattn.causal(), (2, None, 21, 32), (2, 2, 40, 32), (2, 2, 40, 32),
                           alibi_slopes=[0.5, 0.25])
    with pytest.raises(sattn.SAttnError, match="'alibi_slopes' has 2 slopes, one per query head"):
        kernel(q, k, v)



def test_paged_attention():
    """Decode over a paged cache (shuffled, shared pages, NaN in unused slots)
    matches attention on the gathered keys; bad index data raises before any
    output is written."""
    rng = np.random.default_rng(3)
    page, lens = 4, np.array([9, 0, 4], np.int32)
    table = np.array([[5, 2, 0], [7, 7, 7], [2, 1, 3]], np.int32)  # page 2 shared
    k_cache = rng.uniform(-1, 1, (8, page, 2, 32)).astype(np.float32)
    v_cache = rng.uniform(-1, 1, (8, page, 2, 32)).astype(np.float32)
    k_cache[[1, 3, 4, 6, 7]] = np.nan  # pages no kept key reads
    k_cache[0, 1:] = np.nan            # slots past seq_lens[0] = 9
    q = rng.uniform(-1, 1, (3, 4, 2, 32)).astype(np.float32)
    o, lse = sattn.paged_attention(q, k_cache, v_cache, table, lens, sattn.causal(),
                                   return_lse=True, softcap=20.0, alibi_slopes=[0.1] * 4)
    for b, n in enumerate(lens):
        keys = np.arange(n)
        k = k_cache[table[b, keys // page], keys % page].transpose(1, 0, 2)[None]
        v = v_cache[table[b, keys // page], keys % page].transpose(1, 0, 2)[None]
        want_o, want_lse = reference(q[b:b + 1], k, v, sattn.causal().evaluate(2, n),
                                     1 / np.sqrt(32), return_lse=True, softcap=20.0,
                                     alibi=[0.1] * 4)
        assert rel_err(o[b:b + 1], want_o) <= 1e-5
        assert np.array_equal(np.isinf(lse[b]), np.isinf(want_lse[0]))
    assert not np.isnan(o).any() and (o[1] == 0).all()  # seq_lens 0: empty rows
    bad = table.copy()
    bad[0, 2] = 8
    with pytest.raises(sattn.SAttnError, match=r"block_table\[0, 2\] = 8 is outside \[0, P\)"):
        sattn.paged_attention(q, k_cache, v_cache, bad, lens, sattn.causal())
    with pytest.raises(sattn.SAttnError, match=r"seq_lens\[0\] = 13 is outside"):
        sattn.paged_attention(q, k_cache, v_cache, table, np.array([13, 0, 4], np.int32),
                              sattn.causal())
    bad[0, 2], bad[2, 1] = 0, 8  # [2, 1]: sequence 2 has 4 keys, all on page entry 0
    sattn.paged_attention(q, k_cache, v_cache, bad, lens, sattn.causal())
    with pytest.raises(sattn.SAttnError, match="int64"):
        sattn.paged_attention(q, k_cache, v_cache, table.astype(np.int64), lens, sattn.causal())


def test_varlen_attention():
    """Packed sequences (one empty, Lq != Lk for one) match attention on each
    sequence alone, with masks and ALiBi per sequence; NaN in keys no row of
    their sequence keeps never reaches O; bad cu_seqlens raise before any
    output is written."""
    rng = np.random.default_rng(4)
    lq, lk = [5, 0, 4, 7], [5, 3, 40, 12]
    cq, ck = (np.concatenate([[0], np.cumsum(n)]).astype(np.int32) for n in (lq, lk))
    q = rng.uniform(-1, 1, (sum(lq), 4, 32)).astype(np.float32)
    k = rng.uniform(-1, 1, (sum(lk), 2, 32)).astype(np.float32)
    v = rng.uniform(-1, 1, (sum(lk), 2, 16)).astype(np.float32)
    mask = sattn.window(8, 0)
    k[ck[2]:ck[2] + 10] = np.nan  # sequence 2 (rows at 36-39): keys 0-9 unkept
    v[ck[2]:ck[2] + 10] = np.nan
    o, lse = sattn.varlen_attention(q, k, v, cq, ck, mask, return_lse=True, alibi_slopes=[0.1] * 4)
    assert o.shape == (sum(lq), 4, 16) and lse.shape == (4, sum(lq))
    for b in range(4):
        rows = lambda x, c: x[c[b]:c[b + 1]].transpose(1, 0, 2)[None]
        kb, vb = rows(k, ck), rows(v, ck)
        keep = mask.evaluate(lq[b], lk[b])
        kb, vb = (np.where(keep.any(axis=0)[None, None, :, None], x, 0) for x in (kb, vb))
        want_o, want_lse = reference(rows(q, cq), kb, vb, keep, 1 / np.sqrt(32),
                                     return_lse=True, alibi=[0.1] * 4)
        assert rel_err(o[cq[b]:cq[b + 1]].transpose(1, 0, 2)[None], want_o) <= 1e-5
        assert np.allclose(lse[:, cq[b]:cq[b + 1]], want_lse[0])
    assert not np.isnan(o).any()
    with pytest.raises(sattn.SAttnError, match=r"cu_seqlens_k\[2\] = 2 is below cu_seqlens_k\[1\] = 5"):
        sattn.varlen_attention(q, k, v, cq, np.array([0, 5, 2, 48, 60], np.int32), mask)
    with pytest.raises(sattn.SAttnError, match=r"cu_seqlens_q\[4\] = 15 must be Tq = 16"):
        sattn.varlen_attention(q, k, v, np.array([0, 5, 5, 9, 15], np.int32), ck, mask)


def test_attention_grad():
    """The backward kernel (GQA, Lq != Lk, a window with softcap) against the
    float64 gradients of test/Integration/grad.py; NaN in a key no row keeps
    gives that key dK = dV = 0 and changes nothing else."""
    from grad import gradients
    rng = np.random.default_rng(5)
    q, k, v = inputs((1, 4, 50, 32), (1, 2, 70, 32), (1, 2, 70, 16), seed=5)
    do = rng.uniform(-1, 1, (1, 4, 50, 16)).astype(np.float32)
    mask = sattn.window(10, 0)
    keep = mask.evaluate(50, 70)
    k[:, :, 3], v[:, :, 3] = np.nan, np.nan  # key 3: rows sit at positions 20..69
    o, lse = sattn.attention(q, k, v, mask, return_lse=True, softcap=2.0)
    dq, dk, dv = sattn.attention_grad(q, k, v, o, do, lse, mask, softcap=2.0)
    clean = [np.where(np.isnan(x), 0, x).astype(np.float64) for x in (k, v)]
    want = gradients(q.astype(np.float64), *clean, do.astype(np.float64), keep,
                     1 / np.sqrt(32), softcap=2.0)
    for got, w in zip((dq, dk, dv), want):
        assert got.shape == w.shape and rel_err(got, w) <= 1e-4
    assert not dk[:, :, 3].any() and not dv[:, :, 3].any()


def test_torch_autograd():
    """sattn.attention on tensors that require grad is differentiable: its
    gradients match SDPA's with the dense mask; gradients through LSE are
    refused."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 40, 16, requires_grad=True) for _ in range(3))
    mask = sattn.longformer(8, [0])
    dense = torch.from_numpy(mask.evaluate(40, 40).copy())
    do = torch.randn(2, 4, 40, 16)
    grads = []
    for attend in (lambda: sattn.attention(q, k, v, mask=mask),
                   lambda: torch.nn.functional.scaled_dot_product_attention(
                       q, k, v, attn_mask=dense)):
        grads.append(torch.autograd.grad((attend() * do).sum(), (q, k, v)))
    for got, want in zip(*grads):
        assert float((got - want).norm() / want.norm()) <= 1e-4
    o, lse = sattn.attention(q, k, v, mask=mask, return_lse=True)
    with pytest.raises(NotImplementedError, match="through the LSE"):
        lse.sum().backward()
