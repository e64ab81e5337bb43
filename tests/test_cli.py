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


def test_no_command_is_an_error_with_usage():
    done = run()
    assert done.returncode == 2 and done.stderr.startswith("usage: microreg"), (done.returncode, done.stderr)
    assert "no command given" in done.stderr and done.stdout == ""


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
    assert str(out) in done.stdout and "found on purpose" in done.stdout
    mse = float(done.stdout.split("train MSE ")[1].split()[0])
    assert mse < 0.02, f"the sine's noise variance is 0.01; train MSE {mse}"


def test_check_prints_the_documents_table():
    done = run("check")
    assert done.returncode == 0, done.stderr
    assert "doc  formula" in done.stdout and "off by a constant factor 10" in done.stdout
    assert done.stdout.count("WRONG") == 8 and "36 formulas checked" in done.stdout


def _write_csv(path, X, y, names=("x",)):
    with open(path, "w") as f:
        f.write(",".join([*names, "y"]) + "\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{t:.6f}\n")


def test_train_on_a_csv_with_json(tmp_path):
    X, y = noisy_sine(300, seed=5)
    y = 10 * y + 50                      # metrics are in the target's own units
    _write_csv(tmp_path / "d.csv", X, y)
    done = run("train", "d.csv", "--target", "y", "--json", "--quiet", "--out", "out", "--weight-decay", "0",
               "--hidden", "16", "--epochs", "800", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    every = {"train_mse", "test_mse", "test_r2", "epochs", "seconds", "net_test_mse", "net_test_r2", "linear_test_mse",
             "linear_test_r2", "mean_test_mse", "mean_test_r2", "rows_dropped", "columns_used", "best_epoch",
             "train_rmse_curve", "validation_rmse_curve", "model_file"}
    assert every <= set(result), every - set(result)
    assert result["test_r2"] > 0.95 and result["test_mse"] < 2.0, result   # noise variance: 10² · 0.01 = 1
    assert result["linear_test_r2"] < 0.8 and result["columns_used"] == ["x"] and result["rows_dropped"] == 0
    for name in ("model.json", "loss.png", "predicted.png", "residuals.png", "fit.png"):
        assert (tmp_path / "out" / name).stat().st_size > 500, name
    step = run("step", "--model", "out/model.json", "--html", "s.html", cwd=tmp_path)
    assert step.returncode == 0 and (tmp_path / "s.html").exists(), step.stderr
    (tmp_path / "new.csv").write_text("x\n0.5\n-1.0\n")
    pred = run("predict", "out/model.json", "new.csv", "--out", "preds.csv", cwd=tmp_path)
    assert pred.returncode == 0, pred.stderr
    lines = (tmp_path / "preds.csv").read_text().splitlines()
    assert lines[0] == "x,predicted_y" and len(lines) == 3
    for line, x in zip(lines[1:], (0.5, -1.0)):
        got = float(line.split(",")[1])
        assert abs(got - (10 * np.sin(x) + 50)) < 1.0, f"predicted {got} for x = {x}, truth {10 * np.sin(x) + 50}"


def test_train_with_a_test_file_and_options(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.05 * rng.normal(size=200)
    _write_csv(tmp_path / "a.csv", X[:150], y[:150], names=("p", "q", "r"))
    _write_csv(tmp_path / "b.csv", X[150:], y[150:], names=("p", "q", "r"))
    done = run("train", "a.csv", "--target", "y", "--test", "b.csv", "--hidden", "4", "--epochs", "400",
               "--lr", "0.05", "--seed", "3", "--weight-decay", "0", "--patience", "400", "--json", "--quiet",
               cwd=tmp_path)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["epochs"] == 400 and result["test_r2"] > 0.98 and result["n_test"] == 50, result


def test_train_linear_model_reaches_the_closed_form(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (100, 2))
    _write_csv(tmp_path / "a.csv", X, X @ [3.0, 1.0] + 0.1 * rng.normal(size=100), names=("p", "q"))
    done = run("train", "a.csv", "--target", "y", "--model", "linear", "--epochs", "300", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "LinearRegression(2) by gradient" in done.stdout and "closed-form optimum" in done.stdout, done.stdout
    gap = float(done.stdout.split("largest parameter difference ")[1].split()[0])
    assert gap < 1e-8, gap


@pytest.mark.parametrize("text,words", [
    ("x,y\n1,2\n3,oops\n", "line 3, column 2 (y): 'oops' is not a number"),
    ("x,y\n1,2\n3\n", "line 3: 1 cells"),
    ("", "the file is empty"),
    ("x,z\n1,2\n", "no column named 'y'"),
    ("x,y,y\n1,2,3\n", "duplicate column names: 'y' (columns 2 and 3)"),
    ('x,y\n1,2\n"3,4\n', 'line 3: a quoted cell opens here and is never closed'),
])
def test_train_bad_csv_one_line_error(tmp_path, text, words):
    (tmp_path / "bad.csv").write_text(text)
    done = run("train", "bad.csv", "--target", "y", "--quiet", cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "bad.csv" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_train_missing_file(tmp_path):
    done = run("train", "nothere.csv", "--target", "y", cwd=tmp_path)
    assert done.returncode == 2 and "nothere.csv: no such file" in done.stderr


def test_a_diverging_run_writes_nothing_and_keeps_the_old_model(tmp_path):
    X, y = noisy_sine(60, seed=1)
    _write_csv(tmp_path / "d.csv", X, 1e6 * y)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.json").write_text("the good model")
    done = run("train", "d.csv", "--target", "y", "--lr", "1e300", "--epochs", "50", "--quiet", "--out", "out",
               cwd=tmp_path)
    assert done.returncode == 1 and "learning rate" in done.stderr, done.stderr
    assert "nothing written" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "out" / "model.json").read_text() == "the good model"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.json"]
    again = run("train", "d.csv", "--target", "y", "--lr", "1e300", "--epochs", "50", "--quiet", "--out", "new",
                cwd=tmp_path)
    assert again.returncode == 1 and not (tmp_path / "new").exists(), "a diverged run leaves no folder behind"


@pytest.mark.parametrize("flags,words", [
    (["--hidden", "0"], "--hidden must be a whole number ≥ 1, got 0"),
    (["--epochs", "-3"], "--epochs must be a whole number ≥ 1, got -3"),
    (["--lr", "-0.1"], "--lr must be a positive number, got -0.1"),
    (["--lr", "inf"], "--lr must be a positive number, got inf"),
    (["--weight-decay", "-1"], "--weight-decay must be a number ≥ 0 or auto, got -1"),
    (["--patience", "0"], "--patience must be a whole number ≥ 1, got 0"),
    (["--test-fraction", "1.5"], "--test-fraction must be between 0 and 1, got 1.5"),
    (["--validation-fraction", "0"], "--validation-fraction must be between 0 and 1, got 0"),
    (["--out", "afile"], "--out afile: is a file, not a folder"),
    (["--drop", "nope"], "--drop: no column named 'nope'"),
])
def test_flags_are_checked_one_by_one_before_training(tmp_path, flags, words):
    _write_csv(tmp_path / "d.csv", np.ones((10, 1)), np.arange(10.0))
    (tmp_path / "afile").write_text("x")
    done = run("train", "d.csv", "--target", "y", "--quiet", *flags, cwd=tmp_path)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "microreg-out" / "model.json").exists()


def test_a_huge_learning_rate_is_said_and_an_undefined_r2_is_na(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (80, 2))
    _write_csv(tmp_path / "a.csv", X, X @ [1.0, 2.0], names=("p", "q"))
    _write_csv(tmp_path / "one.csv", X[:1], [3.0], names=("p", "q"))
    done = run("train", "a.csv", "--target", "y", "--lr", "1e9", "--epochs", "30", "--weight-decay", "0",
               "--test", "one.csv", "--quiet", cwd=tmp_path)
    assert "far above the least-squares line" in done.stderr, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(("TwoLayerNet", "least squares", "mean of"))]
    assert len(rows) == 3 and all(line.split()[-3] == "n/a" for line in rows), done.stdout   # the test R² column


def test_a_messy_semicolon_csv_trains(tmp_path):
    rng = np.random.default_rng(2)
    lines = ["hp;origin;name;mpg"]
    names = [f"car {i}" for i in range(120)]
    for i in range(120):
        hp, origin = rng.uniform(50, 200), rng.choice(["USA", "Japan", "Europe"])
        mpg = 50 - 0.15 * hp + (5 if origin == "Japan" else 0) + rng.normal()
        lines.append(f"{'' if i % 17 == 0 else f'{hp:.1f}'.replace('.', ',')};{origin};{names[i]};"
                     f"{'' if i % 31 == 5 else f'{mpg:.2f}'.replace('.', ',')}")
    (tmp_path / "cars.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run("train", "cars.csv", "--target", "mpg", "--quiet", "--epochs", "300", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for words in ("semicolon-separated", "decimal commas read as points", "4 rows dropped: their target 'mpg' is blank",
                  "'origin': text with 3 values (Europe, Japan, USA): one-hot encoded",
                  "'name': text with", "dropped", "blank feature cells filled with the training median"):
        assert words in done.stdout, (words, done.stdout)
    strict = run("train", "cars.csv", "--target", "mpg", "--quiet", "--strict", cwd=tmp_path)
    assert strict.returncode == 2 and "line 7, column 4 (mpg): the target is blank (--strict)" in strict.stderr, \
        strict.stderr


def test_predict_errors_are_one_line(tmp_path):
    from microreg.nn import LinearRegression
    LinearRegression(1).save(tmp_path / "bare.json")
    (tmp_path / "new.csv").write_text("x\n1\n")
    done = run("predict", "bare.json", "new.csv", cwd=tmp_path)
    assert done.returncode == 2 and "bare.json: key 'preparation' is missing" in done.stderr, done.stderr
    done = run("predict", "bare.json", "new.csv", "--out", "nofolder/p.csv", cwd=tmp_path)
    assert done.returncode == 2 and "--out nofolder/p.csv: no folder" in done.stderr, done.stderr


def _one_line_error(done, *words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_demo_out_an_existing_file_is_refused_and_the_file_kept(tmp_path):
    (tmp_path / "houses.csv").write_text("a,b\n1,2\n")
    done = run("demo", "--out", "houses.csv", "--quiet", cwd=tmp_path)
    _one_line_error(done, "--out houses.csv", "is a file, not a folder")
    assert (tmp_path / "houses.csv").read_text() == "a,b\n1,2\n", "a failed run must not touch the file"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no file can be made")
def test_unwritable_output_paths_are_one_line_errors(tmp_path):
    from microreg.nn import LinearRegression
    LinearRegression(1).save(tmp_path / "bare.json")
    (tmp_path / "new.csv").write_text("x\n1\n")
    cases = [(("graph", "--out", "/proc/x.svg"), "--out /proc/x.svg"),
             (("step", "--html", "/proc/x.html"), "--html /proc/x.html"),
             (("predict", "bare.json", "new.csv", "--out", "/proc/x.csv"), "--out /proc/x.csv"),
             (("demo", "--out", "/proc/d", "--quiet"), "--out /proc/d")]
    for args, words in cases:   # /proc takes no new file even for root, whom os.access always says yes to
        _one_line_error(run(*args, cwd=tmp_path), words)


def test_a_write_that_fails_late_is_one_line(tmp_path, monkeypatch, capsys):
    from microreg import viz
    from microreg.cli import main

    def full_disk(self, path):
        raise OSError(28, "No space left on device", str(path))
    monkeypatch.setattr(viz.Graph, "save", full_disk)
    assert main(["graph", "--out", str(tmp_path / "g.svg")]) == 2
    assert capsys.readouterr().err == f"microreg: error: {tmp_path / 'g.svg'}: No space left on device\n"


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
    from microreg.nn import DeepNet
    DeepNet(1, [2, 1]).save(tmp_path / "mlp.json")
    for command in ("step", "graph"):
        done = run(command, "--model", "mlp.json", cwd=tmp_path)
        assert done.returncode == 2 and "mlp.json: key 'model'" in done.stderr and "Traceback" not in done.stderr


def test_predict_to_stdout_fills_blanks_and_strict_refuses_them(tmp_path):
    from microreg.data import Table
    from microreg.train import train_table
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, (50, 2))
    rows = [[repr(float(a)), repr(float(b)), repr(float(3 * a - b))] for a, b in X]
    result = train_table(Table("t.csv", ["a", "b", "y"], rows), "y", model="linear", epochs=200, progress=False)
    result.model.save(tmp_path / "model.json")
    (tmp_path / "new.csv").write_text("b;a\n0,5;1\n;0\n")   # semicolons, a decimal comma, a blank
    done = run("predict", "model.json", "new.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "b,a,predicted_y" and len(lines) == 3, done.stdout
    assert abs(float(lines[1].split(",")[-1]) - 2.5) < 1e-6, lines[1]   # y = 3·1 − 0.5
    assert "1 blank or unseen feature cells filled as in training: b 1" in done.stderr, done.stderr
    strict = run("predict", "model.json", "new.csv", "--strict", cwd=tmp_path)
    assert strict.returncode == 2 and "new.csv: line 3, column 1 (b): an empty cell (--strict)" in strict.stderr, \
        strict.stderr


# --- the first run: the documents said once, the mistakes called the documents', a closed pipe ------

def _run(*argv, cwd=None):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "microreg", *argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def test_the_documents_are_said_before_they_are_named(tmp_path):
    out = _run("demo", "--quiet", "--epochs", "20", "--out", str(tmp_path / "d")).stdout
    first = out.index("000")
    head = out[:out.index("\n", first)]
    assert "three derivations of backprop, written by hand" in out[:first] and "two-layer regression net" in head, out
    assert "The mistakes are the documents' own, found on purpose" in out, out
    assert "WRONG" not in out, "the demo's findings do not read like a broken install"
    for argv in (["--help"], ["train", "--help"], ["step", "--help"], ["check", "--help"]):
        text = _run(*argv).stdout
        assert "000  a two-layer regression net" in text and "001  \"Neural Nets" in text, (argv, text)


def test_a_closed_pipe_stops_quietly_with_exit_141():
    # `microreg check | head -1`: the reader has gone; as a shell reports a tool killed by
    # SIGPIPE, 128 + 13 = 141, and nothing on stderr (no traceback, no "Exception ignored")
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-m", "microreg", "check"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:                                  # a small pipe (4 KiB, Linux): the table cannot all fit before we close
        import fcntl
        fcntl.fcntl(child.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    except (ImportError, OSError):
        pass
    first = child.stdout.readline()       # `| head -1`: one line read, then the pipe closes
    child.stdout.close()
    err = child.stderr.read()
    assert child.wait(timeout=300) == 141 and err == "", err
    assert first.strip()
