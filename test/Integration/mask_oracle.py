"""The tests' independent oracle of the mask patterns: every pattern of
docs/Semantics.md in numpy, straight from its formula, sharing no code with the
compiler, with the same constructors as the sattn Python package (which
evaluates masks through the C API, i.e. the compiler's own code). Used by
differential.py (random patterns against the kernels) and python/tests (the
package against this oracle)."""

from __future__ import annotations

import functools

_M64 = (1 << 64) - 1


def _mix(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


@functools.lru_cache(maxsize=None)
def _random_blocks(seed: int, per_row: int, qb: int, nkb: int) -> frozenset:
    """R(qb) of docs/Semantics.md."""
    if qb < 0 or nkb <= 0:
        return frozenset()
    base = _mix(seed & _M64)
    blocks = set()
    for t in range(per_row):
        blocks.add(_mix(base ^ ((qb * per_row + t) & _M64)) % nkb)
        if len(blocks) == nkb:  # every block drawn: later draws change nothing
            break
    return frozenset(blocks)


class Mask:
    """A mask pattern: its attribute text and its value on (p, k) grids."""

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"sattn.Mask({self.text!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Mask) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __or__(self, other: "Mask") -> "Mask":
        return union(self, other)

    def __and__(self, other: "Mask") -> "Mask":
        return intersect(self, other)

    def __invert__(self) -> "Mask":
        return complement(self)

    def _eval(self, p, k, lk):  # p: (Lq, 1) int64, k: (1, Lk) int64
        raise NotImplementedError(type(self).__name__)

    def evaluate(self, lq: int, lk: int):
        """The boolean Lq x Lk matrix: row i is query position i + lk - lq."""
        import numpy as np
        p = np.arange(lq, dtype=np.int64)[:, None] + (lk - lq)
        k = np.arange(lk, dtype=np.int64)[None, :]
        return np.broadcast_to(np.asarray(self._eval(p, k, lk), dtype=bool), (lq, lk))

    def density(self, lq: int, lk: int) -> float:
        return float(self.evaluate(lq, lk).mean()) if lq and lk else 0.0


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


def _tokens(tokens, what: str) -> list[int]:
    tokens = sorted(int(t) for t in tokens)
    _check(len(tokens) >= 1, f"{what}: needs at least one global token")
    _check(tokens[0] >= 0, f"{what}: global tokens must be >= 0, got {tokens[0]}")
    _check(len(set(tokens)) == len(tokens), f"{what}: global tokens must be distinct")
    return tokens


class _Lambda(Mask):
    def __init__(self, text, fn):
        super().__init__(text)
        self._fn = fn

    def _eval(self, p, k, lk):
        return self._fn(p, k, lk)


def dense() -> Mask:
    return _Lambda("#sattn.dense", lambda p, k, lk: (p == p) & (k == k))


def causal() -> Mask:
    return _Lambda("#sattn.causal", lambda p, k, lk: k <= p)


def window(left: int, right: int) -> Mask:
    _check(left >= 0 and right >= 0, "window: left and right must be >= 0")
    return _Lambda(f"#sattn.window<left = {left}, right = {right}>",
                   lambda p, k, lk: (p - left <= k) & (k <= p + right))


def dilated(left: int, right: int, dilation: int) -> Mask:
    _check(left >= 0 and right >= 0, "dilated: left and right must be >= 0")
    _check(dilation >= 1, "dilated: dilation must be >= 1")
    return _Lambda(f"#sattn.dilated<left = {left}, right = {right}, dilation = {dilation}>",
                   lambda p, k, lk: (p - left * dilation <= k) & (k <= p + right * dilation)
                   & ((p - k) % dilation == 0))


def strided(stride: int) -> Mask:
    _check(stride >= 1, "strided: stride must be >= 1")
    return _Lambda(f"#sattn.strided<stride = {stride}>", lambda p, k, lk: (p - k) % stride == 0)


def global_tokens(tokens) -> Mask:
    import numpy as np
    t = _tokens(tokens, "global")
    arr = np.array(t)
    return _Lambda(f"#sattn.global<tokens = [{', '.join(map(str, t))}]>",
                   lambda p, k, lk: np.isin(p, arr) | np.isin(k, arr))


def sink(tokens: int) -> Mask:
    _check(tokens >= 1, "sink: tokens must be >= 1")
    return _Lambda(f"#sattn.sink<tokens = {tokens}>", lambda p, k, lk: (k < tokens) & (p == p))


def _cells(fn, bq, bk):
    """A pattern constant on (bq x bk) cells, from its value on one cell."""
    import numpy as np

    def ev(p, k, lk):
        qb, kb = np.floor_divide(p, bq), np.floor_divide(k, bk)
        uq, iq = np.unique(qb, return_inverse=True)
        uk, ik = np.unique(kb, return_inverse=True)
        table = np.array([[bool(fn(int(a), int(b), lk)) for b in uk] for a in uq],
                         dtype=bool).reshape(len(uq), len(uk))
        return table[iq.reshape(qb.shape), ik.reshape(kb.shape)]
    return ev


def block_sparse(block, layout) -> Mask:
    import numpy as np
    bq, bk = block
    _check(bq >= 1 and bk >= 1, "block_sparse: block sizes must be >= 1")
    lay = np.asarray(layout, dtype=bool)
    _check(lay.ndim == 2, "block_sparse: layout must be 2-D")
    rows, cols = lay.shape
    body = ", ".join("[" + ", ".join("true" if v else "false" for v in row) + "]" for row in lay)
    text = (f"#sattn.block_sparse<block = [{bq}, {bk}], layout = dense<[{body}]> : "
            f"tensor<{rows}x{cols}xi1>>")
    return _Lambda(text, _cells(lambda qb, kb, lk: 0 <= qb < rows and kb < cols and lay[qb, kb],
                                bq, bk))


def random_blocks(block: int, per_row: int, seed: int) -> Mask:
    _check(block >= 1 and per_row >= 1, "random: block and per_row must be >= 1")
    _check(-(1 << 63) <= seed < (1 << 64), "random: seed must lie in [-2^63, 2^64)")
    s = seed & _M64
    return _Lambda(f"#sattn.random<block = {block}, per_row = {per_row}, seed = {s}>",
                   _cells(lambda qb, kb, lk: kb in _random_blocks(s, per_row, qb, -(-lk // block)),
                          block, block))


def union(*members: Mask) -> Mask:
    import numpy as np
    _check(len(members) >= 1, "union: needs at least one member")
    return _Lambda("#sattn.union<[" + ", ".join(m.text for m in members) + "]>",
                   lambda p, k, lk: np.logical_or.reduce([m._eval(p, k, lk) for m in members]))


def intersect(*members: Mask) -> Mask:
    import numpy as np
    _check(len(members) >= 1, "intersect: needs at least one member")
    return _Lambda("#sattn.intersect<[" + ", ".join(m.text for m in members) + "]>",
                   lambda p, k, lk: np.logical_and.reduce([m._eval(p, k, lk) for m in members]))


def complement(m: Mask) -> Mask:
    return _Lambda(f"#sattn.complement<{m.text}>", lambda p, k, lk: ~m._eval(p, k, lk))


def longformer(window_size: int, global_: list[int]) -> Mask:
    _check(window_size >= 2 and window_size % 2 == 0, "longformer: window must be even, >= 2")
    t = _tokens(global_, "longformer")
    inner = union(window(window_size // 2, window_size // 2), global_tokens(t))
    return _Lambda(f"#sattn.longformer<window = {window_size}, global = [{', '.join(map(str, t))}]>",
                   inner._eval)


def bigbird(block: int, window_blocks: int, global_blocks: int, random: int, seed: int) -> Mask:
    _check(block >= 1, "bigbird: block must be >= 1")
    _check(window_blocks >= 1 and window_blocks % 2 == 1, "bigbird: window must be odd, >= 1")
    _check(global_blocks >= 0 and random >= 0, "bigbird: global and random must be >= 0")
    s = seed & _M64
    half = (window_blocks - 1) // 2

    def cell(qb, kb, lk):
        return ((qb >= 0 and abs(qb - kb) <= half) or (0 <= qb < global_blocks)
                or kb < global_blocks
                or (random >= 1 and kb in _random_blocks(s, random, qb, -(-lk // block))))
    return _Lambda(f"#sattn.bigbird<block = {block}, window = {window_blocks}, "
                   f"global = {global_blocks}, random = {random}, seed = {s}>",
                   _cells(cell, block, block))


def sparse_transformer(stride: int) -> Mask:
    _check(stride >= 1, "sparse_transformer: stride must be >= 1")
    inner = intersect(causal(), union(window(stride - 1, 0), strided(stride)))
    return _Lambda(f"#sattn.sparse_transformer<stride = {stride}>", inner._eval)


def streaming(sink_tokens: int, window_size: int) -> Mask:
    _check(sink_tokens >= 1 and window_size >= 1, "streaming: sink and window must be >= 1")
    inner = intersect(causal(), union(sink(sink_tokens), window(window_size - 1, 0)))
    return _Lambda(f"#sattn.streaming<sink = {sink_tokens}, window = {window_size}>", inner._eval)
