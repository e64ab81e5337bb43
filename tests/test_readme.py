"""Every code block in README.md runs as written, and prints what the README says it prints.

- ```python blocks run; a ``print(...)  # value`` comment is the printed line (after its last " = "),
  and a ```text block right after a python block is its whole output.
- ```bash blocks: the `microreg …` commands run (pip is what CI itself runs).
- ```console blocks: each ``$ command`` runs in one folder; each output line shown must appear, in
  order (``...`` skips lines; runs of spaces, durations like ``0.6s`` and rounding errors like
  ``max abs error 1.1e-16`` may differ).
"""

import contextlib
import io
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def _python_cases():
    cases = []
    for i, (lang, body) in enumerate(BLOCKS):
        if lang == "python":
            following = BLOCKS[i + 1][1] if i + 1 < len(BLOCKS) and BLOCKS[i + 1][0] == "text" else None
            cases.append(pytest.param(body, following, id=f"block{i}"))
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
        exec(compile(body, "README.md", "exec"), {"__name__": "__readme__"})
    printed = buffer.getvalue()
    if output is not None:
        assert printed == output, f"README shows:\n{output}\nbut the code prints:\n{printed}"
    expected = _expected_from_comments(body)
    if expected:
        assert printed.splitlines() == expected, f"{printed.splitlines()} vs comments {expected}"


def _microreg(command):
    return [sys.executable, "-m", "microreg", *command.split()[1:]]


def test_bash_blocks(tmp_path):
    ran = 0
    for lang, body in BLOCKS:
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
    # a rounding error's size is the last bits of a float: it differs between BLAS kernels
    line = re.sub(r"max abs error [\d.e+-]+", "max abs error <rounding>", line)
    return " ".join(line.split())


def _console_sessions():
    for i, (lang, body) in enumerate(BLOCKS):
        if lang == "console":
            yield pytest.param(body, id=f"block{i}")


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
            assert want in actual[position:], f"{command}: {want!r} not in the output (from line {position}):\n" + \
                "\n".join(actual)
            position = actual.index(want, position) + 1
