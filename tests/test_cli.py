"""The `microreg` command end to end, as a user runs it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from microreg import __version__
from microreg.data import noisy_sine


def run(*args, cwd=None, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "microreg", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=300, env=env)


def test_version():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"microreg {__version__}"


def test_demo_writes_its_pictures(tmp_path):
    done = run("demo", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "microreg-demo"
    for name in ("loss.png", "fit.png", "model.json", "graph.svg", "graph.png", "stepper.html"):
        assert (out / name).stat().st_size > 500, name
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (out / "graph.svg").read_text(encoding="utf-8")
    grads = [float(part.split("<")[0].replace("&#45;", "-")) for part in svg.split(">grad ")[1:]]
    assert sum(g != 0 for g in grads) >= len(grads) - 2, f"drawn after backward(): grads {grads}"
    assert str(out) in done.stdout and "WRONG" in done.stdout
    mse = float(done.stdout.split("train MSE ")[1].split()[0])
    assert mse < 0.02, f"the sine's noise variance is 0.01; train MSE {mse}"


def test_check_prints_the_documents_table():
    done = run("check")
    assert done.returncode == 0, done.stderr
    assert "doc  formula" in done.stdout and "off by a constant factor 10" in done.stdout
    assert done.stdout.count("WRONG") == 4 and "24 formulas checked" in done.stdout


def _write_csv(path, X, y, names=("x",)):
    with open(path, "w") as f:
        f.write(",".join([*names, "y"]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{t:.6f}\n")


def test_train_on_a_csv_with_json(tmp_path):
    X, y = noisy_sine(300, seed=5)
    y = 10 * y + 50                      # metrics are in the target's own units
    _write_csv(tmp_path / "d.csv", X, y)
    done = run("train", "d.csv", "--target", "y", "--json", "--quiet", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"train_mse", "test_mse", "test_r2", "epochs", "seconds"} <= set(result)
    assert result["test_r2"] > 0.95 and result["test_mse"] < 2.0, result   # noise variance: 10² · 0.01 = 1
    assert (tmp_path / "out" / "model.json").exists() and (tmp_path / "out" / "loss.png").exists()
    step = run("step", "--model", "out/model.json", "--html", "s.html", cwd=tmp_path)
    assert step.returncode == 0 and (tmp_path / "s.html").exists(), step.stderr


def test_train_with_a_test_file_and_options(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.05 * rng.normal(size=200)
    _write_csv(tmp_path / "a.csv", X[:150], y[:150], names=("p", "q", "r"))
    _write_csv(tmp_path / "b.csv", X[150:], y[150:], names=("p", "q", "r"))
    done = run("train", "a.csv", "--target", "y", "--test", "b.csv", "--hidden", "4", "--epochs", "400",
               "--lr", "0.05", "--seed", "3", "--json", "--quiet", cwd=tmp_path)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["epochs"] == 400 and result["test_r2"] > 0.98, result


@pytest.mark.parametrize("text,words", [
    ("x,y\n1,2\n3,oops\n", "line 3, column 2 (y): 'oops' is not a number"),
    ("x,y\n1,2\n3\n", "line 3: 1 cells"),
    ("", "the file is empty"),
    ("x,z\n1,2\n", "no column named 'y'"),
])
def test_train_bad_csv_one_line_error(tmp_path, text, words):
    (tmp_path / "bad.csv").write_text(text)
    done = run("train", "bad.csv", "--target", "y", "--quiet", cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "bad.csv" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_train_missing_file(tmp_path):
    done = run("train", "nothere.csv", "--target", "y", cwd=tmp_path)
    assert done.returncode == 2 and "nothere.csv: no such file" in done.stderr


def test_train_diverging_run_says_why(tmp_path):
    X, y = noisy_sine(60, seed=1)
    _write_csv(tmp_path / "d.csv", X, 1e6 * y)
    done = run("train", "d.csv", "--target", "y", "--lr", "1e300", "--epochs", "50", "--quiet",
               cwd=tmp_path)
    assert done.returncode == 1 and "learning rate" in done.stderr, done.stderr


def test_graph_without_a_dot_program(tmp_path):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))   # no graphviz `dot` reachable
    done = run("graph", "--out", "g.svg", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "w1[0][0]" in svg and "ŷ" in svg
    assert ">grad 1<" in svg and svg.count(">grad 0<") <= 1, "drawn after backward(): L's grad is 1"
    png = run("graph", "--out", "g.png", cwd=tmp_path, env=env)
    assert png.returncode == 0 and (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG", png.stderr


def test_step_html_and_bad_model(tmp_path):
    done = run("step", "--html", "page.html", cwd=tmp_path)
    assert done.returncode == 0 and "31 steps" in done.stdout
    (tmp_path / "m.json").write_text("{oops")
    bad = run("step", "--model", "m.json", cwd=tmp_path)
    assert bad.returncode == 2 and "m.json: line 1, column 2" in bad.stderr and "Traceback" not in bad.stderr


def test_a_model_of_the_wrong_kind_is_named(tmp_path):
    from microreg.nn import MLP
    MLP(1, [2, 1]).save(tmp_path / "mlp.json")
    for command in ("step", "graph"):
        done = run(command, "--model", "mlp.json", cwd=tmp_path)
        assert done.returncode == 2 and "mlp.json: key 'model'" in done.stderr and "Traceback" not in done.stderr
