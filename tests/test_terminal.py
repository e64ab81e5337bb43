"""`microreg step` in a real pseudo-terminal (pexpect): one key per step, lines wrapped to the
terminal's width, a closing table of every parameter's gradient."""

import os
import re
import subprocess
import sys

import pytest

from microreg.step import document_000_example
from microreg.terminal import wrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_wrap_keeps_every_line_within_the_width_and_keeps_indents():
    text = "Step 1: " + "word " * 40 + "\n  indented " + "more " * 30
    out = wrap(text, 40)
    assert all(len(line) <= 40 for line in out.splitlines()), out
    assert out.split("\n")[-1].startswith("    "), "a wrapped indented line continues under its indent"
    assert out.replace("\n", " ").split() == text.split()


def spawn(columns):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), TERM="xterm")
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    child = pexpect.spawn(sys.executable, ["-m", "microreg", "step"], env=env, encoding="utf-8",
                          dimensions=(40, columns), timeout=30)
    child.expect("step 1 of \\d+")
    return child


def test_single_keys_in_a_real_terminal():
    child = spawn(60)
    child.send("n")                           # no Enter: the key acts at once
    child.expect("step 2 of \\d+")
    child.send("\x1b[C")                      # → arrow
    child.expect("step 3 of \\d+")
    child.send("\r")                          # Enter
    child.expect("step 4 of \\d+")
    child.send("\x1b[D")                      # ← arrow
    child.expect("step 3 of \\d+")
    child.send("b")
    child.expect("step 2 of \\d+")
    child.send("g")
    child.expect("go to step")
    child.sendline("20")
    child.expect("step 20 of \\d+")
    child.send("x")
    child.expect("unknown key")
    screen = ANSI.sub("", child.before + child.after)
    child.send("q")
    child.expect("Every parameter's gradient")
    child.expect(pexpect_eof())
    table = ANSI.sub("", child.before)
    child.close()
    assert child.exitstatus == 0
    lines = [line for line in screen.replace("\r", "").split("\n") if line]
    assert max(len(line) for line in lines) <= 60, max(lines, key=len)

    # the table against the engine's own backward pass on a fresh copy of the example
    loss = document_000_example()
    loss.backward()
    rows = {r.split()[0]: r.split() for r in table.replace("\r", "").split("\n") if r.strip()}
    for name, grad in (("w1[0][0]", None), ("b2", None), ("w2[2]", None)):
        assert name in rows, (name, table)
    expect = {n.label: n.grad for n in _leaves(loss)}
    for name in ("w1[0][0]", "b1[1]", "w2[2]", "b2"):
        shown = float(rows[name][2])
        assert abs(shown - expect[name]) <= 1e-3 * max(1.0, abs(expect[name])), (name, shown, expect[name])


def pexpect_eof():
    import pexpect
    return pexpect.EOF


def _leaves(root):
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if not n._prev:
            out.append(n)
        stack.extend(n._prev)
    return out


def test_piped_input_reads_one_command_per_line():
    done = subprocess.run([sys.executable, "-m", "microreg", "step"], input="\n\nb\ng\n7\nq\n", capture_output=True,
                          text=True, timeout=120, cwd=REPO, env=dict(os.environ, PYTHONPATH=REPO))
    assert done.returncode == 0, done.stderr
    counters = re.findall(r"step (\d+) of \d+", done.stdout)
    assert counters == ["1", "2", "3", "2", "7"], counters
    assert "Every parameter's gradient" in done.stdout
