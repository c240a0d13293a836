"""Mask patterns as Python objects.

Each object prints as its `#sattn.*` attribute text (the normative syntax of
docs/Semantics.md) and composes with `|` (union), `&` (intersect) and `~` (complement):

    >>> import sattn
    >>> print(sattn.window(128, 0) | sattn.global_tokens([0]))
    #sattn.union<[#sattn.window<left = 128, right = 0>, #sattn.global<tokens = [0]>]>

`mask.evaluate(lq, lk)` gives the boolean Lq x Lk matrix (numpy) of the
pattern, with query row i at position p = i + (lk - lq) (docs/Semantics.md), and
`mask.show(lq, lk)` draws it.
"""

from __future__ import annotations

import numbers

# Masks larger than this many pairs are not evaluated into a matrix.
_MAX_EVALUATE = 1 << 31


class Mask:
    """A mask pattern: its attribute text. Evaluation goes through the C API
    (the same code the compiler uses), so a pattern is defined in one place."""

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError(f"a mask is its attribute text, got {type(text).__name__}")
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

    def evaluate(self, lq: int, lk: int):
        """The boolean Lq x Lk matrix: row i is query position i + lk - lq."""
        import numpy as np
        from ._capi import lib
        from .runtime import _check
        lq = _int("evaluate", "lq", lq, 0)
        lk = _int("evaluate", "lk", lk, 0)
        _check_arg(lq * lk <= _MAX_EVALUATE,
                   f"evaluate: {lq} x {lk} pairs is too many to draw (at most "
                   f"{_MAX_EVALUATE}); Kernel.plan_stats counts kept pairs at any size")
        out = np.zeros((lq, lk), dtype=np.uint8)
        _check(lib.sattn_mask_evaluate(self.text.encode(), lq, lk,
                                       out.ctypes.data if out.size else None, out.size))
        return out.view(bool)

    def density(self, lq: int, lk: int) -> float:
        return float(self.evaluate(lq, lk).mean()) if lq and lk else 0.0

    def show(self, lq: int, lk: int, path: str | None = None) -> str:
        """Draws the mask: as text (x = kept) when `path` is None, which needs
        both lengths at most 64; else as a PNG image written to `path`
        (grayscale, darker = more kept pairs per pixel, at most 512 pixels a
        side). Returns the text or the path."""
        m = self.evaluate(lq, lk)
        if path is None:
            _check_arg(max(lq, lk) <= 64,
                       f"show: a {lq} x {lk} mask is too large to print; "
                       "give path='mask.png' to draw it as an image")
            lines = [f"{self.text}", f"Lq = {lq}, Lk = {lk}"]
            lines += [f"{i:5d} ->" + "".join(" x" if v else " ." for v in row)
                      for i, row in enumerate(m)]
            lines.append(f"density {self.density(lq, lk):.6f}")
            text = "\n".join(lines)
            print(text)
            return text
        _write_png(path, m)
        print(f"{self.text}: Lq = {lq}, Lk = {lk}, density {self.density(lq, lk):.6f}; "
              f"wrote {path}")
        return path


def _write_png(path: str, m) -> None:
    import struct
    import zlib
    import numpy as np
    rows, cols = m.shape
    h, w = max(1, min(rows, 512)), max(1, min(cols, 512))
    ri = (np.arange(rows) * h) // max(rows, 1)
    ci = (np.arange(cols) * w) // max(cols, 1)
    acc = np.zeros((h, w))
    cnt = np.zeros((h, w))
    np.add.at(acc, (ri[:, None], ci[None, :]), m)
    np.add.at(cnt, (ri[:, None], ci[None, :]), 1)
    img = (255 - 255 * acc / np.maximum(cnt, 1)).round().astype(np.uint8)
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def _check_arg(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


def _int(what: str, name: str, value, minimum: int | None = None) -> int:
    """An integer parameter: ints only (no floats, no bools), at least minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what}: {name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{what}: {name} must be >= {minimum}, got {value}")
    return value


def _tokens(tokens, what: str) -> list[int]:
    tokens = sorted(_int(what, "a global token", t, 0) for t in tokens)
    _check_arg(len(tokens) >= 1, f"{what}: needs at least one global token")
    _check_arg(len(set(tokens)) == len(tokens), f"{what}: global tokens must be distinct")
    return tokens


def _masks(what: str, members) -> str:
    _check_arg(len(members) >= 1, f"{what}: needs at least one member")
    for m in members:
        if not isinstance(m, Mask):
            raise TypeError(f"{what}: members must be sattn masks, got {type(m).__name__}")
    return ", ".join(m.text for m in members)


def dense() -> Mask:
    return Mask("#sattn.dense")


def causal() -> Mask:
    return Mask("#sattn.causal")


def window(left: int, right: int) -> Mask:
    left, right = _int("window", "left", left, 0), _int("window", "right", right, 0)
    return Mask(f"#sattn.window<left = {left}, right = {right}>")


def dilated(left: int, right: int, dilation: int) -> Mask:
    left, right = _int("dilated", "left", left, 0), _int("dilated", "right", right, 0)
    dilation = _int("dilated", "dilation", dilation, 1)
    return Mask(f"#sattn.dilated<left = {left}, right = {right}, dilation = {dilation}>")


def strided(stride: int) -> Mask:
    return Mask(f"#sattn.strided<stride = {_int('strided', 'stride', stride, 1)}>")


def global_tokens(tokens) -> Mask:
    return Mask(f"#sattn.global<tokens = [{', '.join(map(str, _tokens(tokens, 'global')))}]>")


def sink(tokens: int) -> Mask:
    return Mask(f"#sattn.sink<tokens = {_int('sink', 'tokens', tokens, 1)}>")


def block_sparse(block, layout) -> Mask:
    import numpy as np
    _check_arg(len(block) == 2, "block_sparse: block must be [bq, bk]")
    bq, bk = (_int("block_sparse", "a block size", b, 1) for b in block)
    lay = np.asarray(layout, dtype=bool)
    _check_arg(lay.ndim == 2 and lay.size > 0, "block_sparse: layout must be 2-D, not empty")
    rows, cols = lay.shape
    body = ", ".join("[" + ", ".join("true" if v else "false" for v in row) + "]" for row in lay)
    return Mask(f"#sattn.block_sparse<block = [{bq}, {bk}], layout = dense<[{body}]> : "
                f"tensor<{rows}x{cols}xi1>>")


def _seed(what: str, seed) -> int:
    seed = _int(what, "seed", seed)
    _check_arg(-(1 << 63) <= seed < (1 << 64), f"{what}: seed must lie in [-2^63, 2^64)")
    return seed & ((1 << 64) - 1)


def random_blocks(block: int, per_row: int, seed: int) -> Mask:
    block = _int("random", "block", block, 1)
    per_row = _int("random", "per_row", per_row, 1)
    return Mask(f"#sattn.random<block = {block}, per_row = {per_row}, "
                f"seed = {_seed('random', seed)}>")


def union(*members: Mask) -> Mask:
    return Mask(f"#sattn.union<[{_masks('union', members)}]>")


def intersect(*members: Mask) -> Mask:
    return Mask(f"#sattn.intersect<[{_masks('intersect', members)}]>")


def complement(m: Mask) -> Mask:
    return Mask(f"#sattn.complement<{_masks('complement', [m])}>")


def longformer(window_size: int, global_: list[int]) -> Mask:
    window_size = _int("longformer", "window", window_size, 2)
    _check_arg(window_size % 2 == 0, "longformer: window must be even")
    t = _tokens(global_, "longformer")
    return Mask(f"#sattn.longformer<window = {window_size}, global = [{', '.join(map(str, t))}]>")


def bigbird(block: int, window_blocks: int, global_blocks: int, random: int, seed: int) -> Mask:
    block = _int("bigbird", "block", block, 1)
    window_blocks = _int("bigbird", "window", window_blocks, 1)
    _check_arg(window_blocks % 2 == 1, "bigbird: window must be odd")
    global_blocks = _int("bigbird", "global", global_blocks, 0)
    random = _int("bigbird", "random", random, 0)
    return Mask(f"#sattn.bigbird<block = {block}, window = {window_blocks}, "
                f"global = {global_blocks}, random = {random}, seed = {_seed('bigbird', seed)}>")


def sparse_transformer(stride: int) -> Mask:
    return Mask(f"#sattn.sparse_transformer<stride = "
                f"{_int('sparse_transformer', 'stride', stride, 1)}>")


def streaming(sink_tokens: int, window_size: int) -> Mask:
    sink_tokens = _int("streaming", "sink", sink_tokens, 1)
    window_size = _int("streaming", "window", window_size, 1)
    return Mask(f"#sattn.streaming<sink = {sink_tokens}, window = {window_size}>")
