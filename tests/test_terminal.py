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


# --- microreg step EXPR and microreg step FILE.py, in a real terminal ---------------------------------

def spawn_step(argv, cwd=REPO, columns=80):
    pexpect = pytest.importorskip("pexpect")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), TERM="xterm")
    env.pop("COLUMNS", None)
    child = pexpect.spawn(sys.executable, ["-m", "microreg", "step", *argv], env=env, encoding="utf-8",
                          dimensions=(40, columns), timeout=30, cwd=str(cwd))
    return child


def table_rows(text):
    return {r.split()[0]: r.split() for r in ANSI.sub("", text).replace("\r", "").split("\n") if r.strip()}


def test_step_an_expression_in_a_terminal():
    # z = w·x + b = 0.5·2 + 0.1 = 1.1; L = (z − y)² = 0.01; ∂L/∂w = 2(z − y)·x = 0.4, ∂L/∂b = 2(z − y) = 0.2
    child = spawn_step(["z = w*x + b; L = (z - y)**2", "--at", "w=0.5,b=0.1", "--data", "x=2,y=1"])
    child.expect("step 1 of (\\d+)")
    total = int(child.match.group(1))
    child.expect("z = w·x \\+ b = 0.5·2 \\+ 0.1 = 1.1")      # the labelled node z as written, w·x inside it
    child.send("n")
    child.expect(f"step 2 of {total}")
    child.expect("L = \\(z − y\\)² = \\(1.1 − 1\\)² = 0.01")
    child.send("q")
    child.expect("Every parameter's gradient")
    child.expect(pexpect_eof())
    rows = table_rows(child.before)
    child.close()
    assert child.exitstatus == 0
    assert float(rows["w"][2]) == pytest.approx(0.4) and float(rows["b"][2]) == pytest.approx(0.2), rows
    assert "x" not in rows and "y" not in rows, "data gets no gradient step"


def test_step_a_python_files_loss_in_a_terminal(tmp_path):
    (tmp_path / "myloss.py").write_text(
        "from microreg import Value\n"
        "w, x = Value(-0.5, label='w'), Value(2.0, label='x')\n"
        "a = (w * x).tanh()\n"
        "a.label = 'a'\n"
        "loss = (a - 1.0) ** 2        # tanh(−1) = −0.761594; L = 3.10321\n", encoding="utf-8")
    child = spawn_step(["myloss.py"], cwd=tmp_path)
    child.expect("Backprop of loss: step 1 of \\d+")
    child.send("q")
    child.expect("Every parameter's gradient")
    child.expect(pexpect_eof())
    rows = table_rows(child.before)
    child.close()
    # ∂L/∂w = 2(a − 1)·(1 − a²)·x = 2(−1.761594)(0.419974)(2) = −2.959335, worked by hand
    assert child.exitstatus == 0 and float(rows["w"][2]) == pytest.approx(-2.959, abs=1e-3), rows


def test_step_says_what_is_wrong_with_an_expression_or_a_file(tmp_path):
    def run(*argv):
        done = subprocess.run([sys.executable, "-m", "microreg", "step", *argv], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=REPO), input="q\n")
        return done.returncode, done.stderr.strip()
    code, err = run("L = (w*q)**2", "--at", "w=1")
    assert code == 2 and err == ("microreg: error: expression, column 8: no number for 'q': give it with --at q=… "
                                 "(a leaf that gets a gradient) or --data q=…"), err
    code, err = run("L = w", "--at", "w=one")
    assert code == 2 and "--at: w='one' is not a number" in err, err
    (tmp_path / "none.py").write_text("x = 1\n", encoding="utf-8")
    code, err = run("none.py")
    assert code == 2 and "none.py: no Value named L or loss at the top level" in err, err
