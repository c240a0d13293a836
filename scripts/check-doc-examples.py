#!/usr/bin/env python3
"""Checks that every MLIR example in the docs parses and verifies.

    scripts/check-doc-examples.py SATTN_OPT PATH...

PATH is a Markdown file or a folder (searched for *.md). Checked:
  * every ```mlir block: a module or functions as written; attribute lines
    (`#sattn...`) as the mask of an attention op (the kernel facts,
    `#sattn.tile`, `#sattn.cpu_kernel` and `#sattn.gpu_launch`, as an
    attribute of a function); op snippets
    (`%o = sattn.attention %q, ...`) inside a function whose arguments are the
    values the snippet uses without defining;
  * every plain ``` block that starts with `#sattn.` (the `Syntax:` blocks
    TableGen writes for mask attributes), with its placeholders set to 1;
  * every inline `#sattn.name<...>` code span whose values are concrete (no
    placeholders such as `L`, `t0` or `...`), as the mask of an attention op.
Prints each failure with its file and line, then `checked N examples, N failed`;
exits 1 on any failure.
"""

import pathlib
import re
import subprocess
import sys
import tempfile

# An attention op with dynamic lengths, so that shape rules (block_sparse
# layouts) have nothing static to check against.
MASK_HOST = """!t = tensor<1x1x?x8xf32>
func.func @example(%q: !t, %k: !t, %v: !t) -> !t {{
  %o = sattn.attention %q, %k, %v mask({attr}) : (!t, !t, !t) -> !t
  return %o : !t
}}
"""

# The kernel facts: attributes of functions, not masks.
FACTS = re.compile(r"#sattn\.(tile|cpu_kernel|gpu_launch)<")
FACTS_HOST = """func.func private @example() attributes {{fact = {attr}}}
"""


def attribute_host(attr):
    """A module using the attribute `attr` where it belongs."""
    return (FACTS_HOST if FACTS.match(attr) else MASK_HOST).format(attr=attr)


# Placeholder values in syntax templates: a name (`L`, `t0`, `wb`) or `..`.
PLACEHOLDER = re.compile(r"=\s*\[?\s*(?!true\b|false\b|dense\b)[A-Za-z_]|\.\.|\b[A-Za-z]\w* *- *1\b|<\s*[A-Za-z]\w*\s*>")


def code_blocks(text):
    """(first line number, info string, body) of each fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith("```"):
            info, start, body = lines[i].strip()[3:], i + 2, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            yield start, info, "\n".join(body)
        i += 1


def syntax_instance(body):
    """The generated docs' `Syntax:` block of an attribute (one parameter a
    line, `keyword = placeholder,   # name`) with every placeholder set to 1."""
    text = " ".join(re.sub(r"\s+#\s*\w+$", "", l.strip()) for l in body.split("\n"))
    return re.sub(r"=\s*[A-Za-z_]\w*", "= 1", text).replace("< ", "<").replace(" >", ">")


def inline_attributes(text):
    """(line number, attribute) of each inline `#sattn...` code span."""
    for number, line in enumerate(text.split("\n"), 1):
        for span in re.findall(r"`([^`]+)`", line):
            # A bare `#sattn.name` names a pattern; one with parameters is an
            # example unless its values are placeholders.
            if re.match(r"#sattn\.\w+<", span) and not PLACEHOLDER.search(span):
                yield number, span


def split_top_level(text):
    """Splits on commas outside <>, [] and ()."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "<[(" and 1 or ch in ">])" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return parts + [cur.strip()] if cur.strip() else parts


def wrap_snippet(body):
    """A function around op statements that use values they do not define."""
    statements = re.split(r"\n(?=\s*%)", body.strip())
    defined, args = set(), {}
    for stmt in statements:
        lhs, _, rhs = stmt.partition("=")
        operands = re.match(r'\s*"?[\w.]+"?\s*\(?\s*((?:%\w+\s*,?\s*)*)', rhs)
        types = re.search(r":\s*\(([^()]*)\)\s*->", rhs)
        names = re.findall(r"%\w+", operands.group(1)) if operands else []
        tys = split_top_level(types.group(1)) if types else []
        for name, ty in zip(names, tys):
            if name not in defined:
                args.setdefault(name, ty)
        defined.update(re.findall(r"%\w+", lhs))
    signature = ", ".join(f"{n}: {t}" for n, t in args.items())
    return f"func.func @example({signature}) {{\n{body}\n  return\n}}\n"


def as_module(body):
    text = body.strip()
    if re.search(r"^\s*(func\.func|module)\b", text, re.M):
        return body
    if text.startswith("#sattn."):
        return attribute_host(" ".join(text.split()))
    return wrap_snippet(body)


def check(sattn_opt, source):
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
        f.write(source)
        f.flush()
        run = subprocess.run([sattn_opt, f.name], capture_output=True, text=True)
    return run.returncode == 0, run.stderr.strip()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sattn_opt = sys.argv[1]
    files = []
    for arg in sys.argv[2:]:
        path = pathlib.Path(arg)
        files += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    checked = failed = 0
    for path in files:
        text = path.read_text()
        examples = []
        for n, info, body in code_blocks(text):
            if info == "mlir":
                examples.append((n, as_module(body)))
            elif info == "" and body.startswith("#sattn.") and not FACTS.match(body):
                examples.append((n, MASK_HOST.format(attr=syntax_instance(body))))
        examples += [(n, attribute_host(a)) for n, a in inline_attributes(text)]
        for line, source in examples:
            checked += 1
            ok, err = check(sattn_opt, source)
            if not ok:
                failed += 1
                print(f"{path}:{line}: example does not parse or verify:\n{source}{err}\n")
    print(f"checked {checked} examples, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
