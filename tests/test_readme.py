"""Every code block in README.md and in every docs/*.md page runs as written, and prints what the page
says it prints (a page added to docs/ is tested without being listed here).

- ```python blocks run; a ``print(...)  # value`` comment is the printed line (after its last " = "),
  and a ```text block right after a python block is its whole output.
- ```bash blocks: the `microreg …` commands run (pip is what CI itself runs).
- ```console blocks: each ``$ command`` runs in one folder; each output line shown must appear, in
  order (``...`` skips lines; runs of spaces and durations like ``0.6s`` may differ).

Printed numbers are compared with a tolerance, never to the last bit: numpy's matrix products go
through OpenBLAS, whose kernel (and so the rounding of the last bits) depends on the CPU. Two numbers
agree when they differ by at most one unit in the last digit both show (whole numbers such as
counts must be equal), or when both are below
1e-12 in size (a rounding error such as ``1.1e-16`` against ``8.3e-17``); ``< 1e-15`` agrees with any
number below that bound. Everything that is not a number must match exactly.
"""

import contextlib
import glob
import io
import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))


def _blocks(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return re.findall(r"```(\w+)\n(.*?)```", f.read(), flags=re.S)


BLOCKS_OF = {page: _blocks(page) for page in PAGES}


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"(?P<bound><\s*){_NUMBER}|{_NUMBER}")
TINY = 1e-12   # below this a printed number is a rounding error: any two such agree


def _numbers(line):
    """The line with every number replaced by '#', and the numbers as (value, last digit's unit, bound)."""
    found = []

    def take(m):
        text = m.group(0).lstrip("<").strip()
        mantissa, _, exponent = text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        # a whole number (a count, a name's digit) must match exactly: no unit to round in
        unit = 10.0 ** (int(exponent or 0) - decimals) if "." in mantissa or exponent else 0.0
        found.append((float(text), unit, m.group("bound") is not None))
        return "#"

    return _TOKEN.sub(take, line), found


def _agree(a, b):
    (x, unit_x, bound_x), (y, unit_y, bound_y) = a, b
    if bound_x and bound_y:
        return x == y
    if bound_x or bound_y:        # "< 1e-15" against a number
        limit, value = (x, y) if bound_x else (y, x)
        return abs(value) < limit
    if abs(x) < TINY and abs(y) < TINY:
        return True
    return abs(x - y) <= min(unit_x, unit_y) * (1 + 1e-9)


def same_line(want, got):
    """Whether a printed line says what README shows, up to the rounding of printed numbers."""
    want, got = " ".join(want.split()), " ".join(got.split())
    if want == got:
        return True
    (shape_w, numbers_w), (shape_g, numbers_g) = _numbers(want), _numbers(got)
    return shape_w == shape_g and all(map(_agree, numbers_w, numbers_g))


def same_lines(want, got):
    return len(want) == len(got) and all(map(same_line, want, got))


def _python_cases():
    cases = []
    for page, blocks in BLOCKS_OF.items():
        for i, (lang, body) in enumerate(blocks):
            if lang == "python":
                following = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None
                cases.append(pytest.param(body, following, id=f"{page}-block{i}"))
    return cases


def _expected_from_comments(body):
    out = []
    for line in body.splitlines():
        m = re.match(r"^print\(.*\)\s+#\s*(.+)$", line)
        if m:
            out.append(m.group(1).split(" = ")[-1].strip())
    return out


@pytest.mark.parametrize("body,output", _python_cases())
def test_python_block(body, output, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(body, "a documentation page", "exec"), {"__name__": "__readme__"})
    printed = buffer.getvalue()
    if output is not None:
        assert same_lines(output.splitlines(), printed.splitlines()), \
            f"README shows:\n{output}\nbut the code prints:\n{printed}"
    expected = _expected_from_comments(body)
    if expected:
        assert same_lines(expected, printed.splitlines()), f"{printed.splitlines()} vs comments {expected}"


def _microreg(command):
    return [sys.executable, "-m", "microreg", *shlex.split(command)[1:]]   # quotes as a shell reads them


def test_bash_blocks(tmp_path):
    ran = 0
    for lang, body in (block for blocks in BLOCKS_OF.values() for block in blocks):
        if lang != "bash":
            continue
        for line in body.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("microreg "):
                    done = subprocess.run(_microreg(part), cwd=tmp_path, capture_output=True, text=True, timeout=300)
                    assert done.returncode == 0, f"{part}: {done.stderr}"
                    ran += 1
    assert ran >= 1


def _normal(line):
    line = re.sub(r"\b\d+(\.\d+)?s\b", "<t>s", line)
    return " ".join(line.split())


def _console_sessions():
    for page, blocks in BLOCKS_OF.items():
        for i, (lang, body) in enumerate(blocks):
            if lang == "console":
                yield pytest.param(body, id=f"{page}-block{i}")


def test_every_docs_page_is_tested_and_linked_from_the_readme():
    pages = [p for p in PAGES if p != "README.md"]
    assert pages, "the README's details live in docs/*.md"
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for page in pages:
        assert f"({page})" in readme, f"README.md does not link {page}"
    assert sum(1 for page in pages for lang, _ in BLOCKS_OF[page] if lang in ("python", "console", "bash")) > 5


@pytest.mark.parametrize("body", list(_console_sessions()))
def test_console_block(body, tmp_path):
    steps = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    for command, expected in steps:
        argv = _microreg(command) if command.startswith("microreg ") else command
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              shell=isinstance(argv, str))
        assert done.returncode == 0, f"{command}: {done.stderr}"
        actual = [_normal(l) for l in (done.stdout + done.stderr).splitlines()]
        position = 0
        for want in expected:
            if want.strip() == "...":
                continue
            want = _normal(want)
            found = next((i for i in range(position, len(actual)) if same_line(want, actual[i])), None)
            assert found is not None, f"{command}: {want!r} not in the output (from line {position}):\n" + \
                "\n".join(actual)
            position = found + 1


@pytest.mark.parametrize("want,got,agree", [
    ("max abs error 1.1e-16", "max abs error 8.3e-17", True),     # two rounding errors
    ("max abs error 1.1e-16", "max abs error < 1e-15", True),     # a rounded-away error
    ("max abs error < 1e-15", "max abs error 4.4e-16", True),
    ("max abs error < 1e-15", "max abs error 2e-15", False),
    ("max abs error 1.1e-16", "max abs error 0.01", False),
    ("w  ok  -3.925  -3.925", "w ok -3.926 -3.925", True),        # one unit in the last digit
    ("w  ok  -3.925  -3.925", "w ok -3.935 -3.925", False),
    ("train MSE 0.0127069  R² 0.9771", "train MSE 0.012707  R² 0.9771", True),
    ("train MSE 0.0127069  R² 0.9771", "train MSE 0.0127089  R² 0.9771", False),
    ("w2 ok", "w2 WRONG", False),                                 # words match exactly
    ("w2 ok", "w3 ok", False),
    ("(26 steps)", "(27 steps)", False),
])
def test_printed_numbers_compare_with_a_tolerance(want, got, agree):
    assert same_line(want, got) is agree, f"{want!r} vs {got!r}: expected agree={agree}"
