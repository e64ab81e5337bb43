"""The `microreg` command under hostile or extreme input (issue 22): never a lost file, a silent pass,
a hang, a traceback or a forged line of output.

Each test names the item of the issue it covers; the reproducers it replaces printed what happened.
"""

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from microreg.cli import main

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTS = os.path.join(HERE, "documents")
PENGUINS = os.path.join(HERE, "data", "penguins.csv")


def run(*args, cwd=None, limit_file_size=None, timeout=120):
    def limits():
        if limit_file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))
    return subprocess.run([sys.executable, "-m", "microreg", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, preexec_fn=limits)


def one_line_error(done, words, code=2):
    assert done.returncode == code, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("microreg: error:")]
    assert len(lines) == 1 and words in lines[0], done.stderr


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def write_csv(path, rows, header="x,y"):
    with open(path, "w") as f:
        f.write(header + "\n" + "".join(f"{row}\n" for row in rows))
    return str(path)


def temporary_files(folder):
    return [name for name in os.listdir(folder) if name.startswith(".tmp-")]


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    data = write_csv(folder / "good.csv", [f"{i},{2 * i + 1}" for i in range(40)])
    done = run("train", data, "--target", "y", "--out", str(folder / "out"), "--quiet", "--epochs", "30")
    assert done.returncode == 0, done.stderr
    return folder / "out" / "model.json", data


# --- item 1: nothing is replaced before everything is made and checked --------------------------------

def test_a_run_that_fails_after_training_leaves_the_earlier_model_whole(tmp_path, monkeypatch, capsys, good_model):
    # issue 22 item 1: model.json was written first, then a plot failed (a DataError traceback): the good
    # model was gone. Now every file is made first; a failure replaces nothing and leaves no temporary file.
    from microreg import train
    out = tmp_path / "out"
    out.mkdir()
    model, data = good_model
    (out / "model.json").write_bytes(model.read_bytes())
    before = digest(out / "model.json")

    def broken(result, path=None):
        raise ValueError("Axis limits cannot be NaN or Inf")
    monkeypatch.setattr(train, "plot_residuals", broken)
    assert main(["train", data, "--target", "y", "--out", str(out), "--quiet", "--epochs", "20"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"microreg: error: Axis limits cannot be NaN or Inf: nothing written "
                                    f"({out / 'model.json'} untouched)"), err
    assert digest(out / "model.json") == before and temporary_files(out) == []
    assert sorted(os.listdir(out)) == ["model.json"]


def test_one_huge_feature_value_trains_a_model_that_loads(tmp_path):
    # issue 22 item 1: a feature cell of 1e308 among small values gave "std": [Infinity] in model.json
    # (predict refused it), then a traceback. By hand: std of [1e308, 0 × 39, …] is finite (≈ 1.56e307).
    data = write_csv(tmp_path / "huge.csv", [f"{1e308 if i == 5 else i},{2 * i + 1}" for i in range(40)])
    done = run("train", data, "--target", "y", "--out", str(tmp_path / "out"), "--quiet", "--epochs", "30")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    saved = json.loads((tmp_path / "out" / "model.json").read_text())
    assert all(0 < s < 1e308 for s in saved["preparation"]["x_scaler"]["std"]), saved["preparation"]["x_scaler"]
    assert run("predict", str(tmp_path / "out" / "model.json"), data).returncode == 0


def test_targets_of_1e308_say_what_overflows_and_write_nothing(tmp_path):
    # issue 22 item 21: ±1e308 in the target: "SVD did not converge" and LAPACK's words on stdout before.
    data = write_csv(tmp_path / "big.csv", [f"{i},{1e308 if i == 3 else -1e308 if i == 7 else i}" for i in range(40)])
    done = run("train", data, "--target", "y", "--out", str(tmp_path / "out"), "--quiet", "--epochs", "20")
    assert done.returncode == 1 and "Traceback" not in done.stderr and "DLASCL" not in done.stdout + done.stderr
    assert "the squared errors in the target's units are too large for a float (the target reaches 1e+308)" \
        in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


# --- item 21 and repro_27: one run's files, all or none ------------------------------------------------

def test_outputs_are_renamed_into_place_together_model_json_last(tmp_path, monkeypatch):
    # repro_27: a kill right after model.json was replaced left the previous run's plots beside it.
    # Now every file is written first; the renames come last, model.json the very last, so a folder whose
    # model.json is new holds only new files. fit.png of an earlier one-feature run is removed.
    from microreg import cli
    (tmp_path / "fit.png").write_bytes(b"old")
    (tmp_path / "loss.png").write_bytes(b"old")
    renamed = []
    real_replace = os.replace

    def replace(src, dst):
        renamed.append(os.path.basename(dst))
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)

    def writer(text):
        return lambda path: open(path, "w").write(text)
    written = cli._write_together(str(tmp_path), {"model.json": writer("{}"), "loss.png": writer("new"),
                                                  "predicted.png": writer("new")}, stale=cli.TRAIN_OUTPUTS)
    assert [os.path.basename(p) for p in written] == ["model.json", "loss.png", "predicted.png"]
    assert renamed[-1] == "model.json", renamed
    assert sorted(os.listdir(tmp_path)) == ["loss.png", "model.json", "predicted.png"]
    assert (tmp_path / "loss.png").read_text() == "new"
    assert oct(os.stat(tmp_path / "loss.png").st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_full_disk_while_writing_the_plots_leaves_no_empty_file(tmp_path, good_model):
    # issue 22 item 21 (repro_20): on a full disk the plots were written in place: a 0-byte predicted.png
    # stayed. A file-size limit of 40 KiB makes the same failure (EFBIG) without a small mount.
    model, data = good_model
    out = tmp_path / "out"
    out.mkdir()
    for name in ("model.json", "loss.png", "predicted.png", "residuals.png"):
        (out / name).write_bytes(model.read_bytes() if name == "model.json" else b"\x89PNG old")
    before = {name: digest(out / name) for name in os.listdir(out)}
    done = run("train", PENGUINS, "--target", "body_mass_g", "--out", str(out), "--quiet", "--epochs", "5",
               limit_file_size=40 * 1024)
    one_line_error(done, "File too large")
    assert {name: digest(out / name) for name in os.listdir(out)} == before and temporary_files(out) == []


def test_a_plot_is_written_atomically(tmp_path, monkeypatch):
    # issue 22 item 21: Plot.save wrote through matplotlib into the file itself
    from microreg.viz import plot_loss
    path = tmp_path / "loss.png"
    path.write_bytes(b"earlier")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        plot_loss([3.0, 2.0, 1.0], str(path))
    assert path.read_bytes() == b"earlier" and temporary_files(tmp_path) == []


# --- item 2: a failed write to stdout is an error --------------------------------------------------------

def test_predict_into_a_file_that_cannot_grow_fails_and_says_so(tmp_path, good_model):
    # issue 22 item 2: predict > f under `ulimit -f` (or on a full disk): the output was cut mid-row, exit 0,
    # no message. Python's buffered writer dropped the end without an error.
    model, data = good_model
    big = write_csv(tmp_path / "big.csv", [f"{i % 40},{2 * (i % 40) + 1}" for i in range(3000)])
    with open(tmp_path / "cut.csv", "w") as out:
        def limits():
            resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        done = subprocess.run([sys.executable, "-m", "microreg", "predict", str(model), big], stdout=out,
                              stderr=subprocess.PIPE, text=True, timeout=120, preexec_fn=limits)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == "microreg: error: stdout: File too large", \
        done.stderr
    assert os.path.getsize(tmp_path / "cut.csv") == 8192


def test_predict_out_dash_is_stdout(tmp_path, good_model, capsys):
    model, data = good_model
    assert main(["predict", str(model), data, "--out", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "x,y,predicted_y" and len(lines) == 41 and not (tmp_path / "-").exists()


# --- item 10: what is not a regular file is refused, what is too large too --------------------------------

def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path, good_model):
    # issue 22 item 10: a FIFO blocked check, train and predict forever; /dev/zero was read until MemoryError
    model, data = good_model
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args, words in [(("check", str(fifo)), f"{fifo}: is a FIFO (named pipe), not a regular file"),
                        (("train", str(fifo), "--target", "y"), f"{fifo}: cannot read: is a FIFO (named pipe)"),
                        (("predict", str(fifo), data), f"{fifo}: cannot read the model file: is a FIFO"),
                        (("predict", str(model), str(fifo)), f"{fifo}: cannot read: is a FIFO"),
                        (("step", "--model", str(fifo)), f"{fifo}: cannot read the model file: is a FIFO"),
                        (("check", "/dev/zero"), "/dev/zero: is a device, not a regular file"),
                        (("train", "/dev/zero", "--target", "y"), "/dev/zero: cannot read: is a device")]:
        one_line_error(run(*args, cwd=tmp_path, timeout=60), words)


def test_a_file_larger_than_the_limit_is_refused(tmp_path, monkeypatch, capsys):
    from microreg import data as data_module
    monkeypatch.setattr(data_module, "MAX_CSV_BYTES", 100)
    path = write_csv(tmp_path / "d.csv", [f"{i},{i}" for i in range(40)])
    assert main(["train", path, "--target", "y", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert capsys.readouterr().err == f"microreg: error: {path}: cannot read: is larger than 100 bytes, the most " \
                                      "microreg reads\n"


# --- items 12 and 19: flags are checked, named and bounded ---------------------------------------------

@pytest.mark.parametrize("args, words", [
    # repro_10: '³' is a digit to str.isdigit but not to int(): a ValueError traceback
    (("check", "DOC", "--dims", "h=³"), "--dims h=³: a size is a whole number written with 0-9, such as h=3"),
    # repro_24: 7.9 s at f=100,h=120 and growing; --samples 1e6, --points 1e7 ran past a minute
    (("check", "DOC", "--dims", "f=100,h=120"), "--dims f=100: at most 12"),
    (("check", "DOC", "--samples", "1000000"), "--samples must be a whole number from 1 to 200, got 1000000"),
    (("check", "DOC", "--points", "10000000"), "--points must be a whole number from 1 to 50, got 10000000"),
    # repro_11: every claim "unchecked (ValueError: expected non-negative integer)", exit 0
    (("check", "DOC", "--seed", "-1"), "--seed must be a whole number ≥ 0, got -1"),
    (("train", PENGUINS, "--target", "body_mass_g", "--seed", "-5"), "--seed must be a whole number ≥ 0, got -5"),
    # repro_23: demo checked no flag: a ValueError traceback
    (("demo", "--epochs", "-5", "--out", "OUT"), "--epochs must be a whole number ≥ 1, got -5"),
])
def test_bad_flags_are_one_line(tmp_path, capsys, args, words):
    args = [os.path.join(DOCUMENTS, "vector_net.md") if a == "DOC" else str(tmp_path / "o") if a == "OUT" else a
            for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("microreg: error: ") and words in err and len(err.splitlines()) == 1, err


# --- item 18: Ctrl-C is one line and exit 130 ----------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("train", PENGUINS, "--target", "body_mass_g", "--out", "OUT", "--quiet"),
    # the largest check the flags allow: a minute or more, so Ctrl-C comes during the work
    ("check", os.path.join(DOCUMENTS, "vector_net.md"), "--samples", "200", "--points", "50", "--dims", "f=12,h=12"),
    ("demo", "--out", "OUT", "--quiet"),
])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, args):
    # issue 22 item 18 (repro_13): a KeyboardInterrupt traceback 11 times in 18
    out = tmp_path / "out"
    args = [str(out) if a == "OUT" else a for a in args]
    p = subprocess.Popen([sys.executable, "-m", "microreg", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=tmp_path)
    if args[0] == "check":
        time.sleep(3.0)       # past the imports, into the work (it prints nothing before the end)
    else:
        p.stdout.readline()   # the first line: the data or the demo is read, the training starts
        time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 130 and "Traceback" not in err, (p.returncode, err)
    assert err.strip().splitlines()[-1] == "microreg: interrupted", err
    if out.exists():
        assert temporary_files(out) == [] and (not (out / "model.json").exists()
                                               or json.loads((out / "model.json").read_text())), os.listdir(out)


# --- item 20: control characters never reach the terminal ------------------------------------------------

def test_escape_sequences_in_a_claim_are_printed_escaped(tmp_path, capsys):
    # issue 22 item 20 (repro_21): a claim erased its own row (ESC [2K, CR) and printed a forged "ok" row
    forge = "\x1b[2K\r    9  ∂L/∂w = 2(z − y) x              ok         matches autograd"
    doc = tmp_path / "evil.md"
    doc.write_text("$$z = w x + b$$\n\n$$L = (z - y)^2$$\n\n$$\\frac{\\partial L}{\\partial w} = 7 x " + forge + "$$\n",
                   encoding="utf-8")
    main(["check", str(doc)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\\x1b[2K" in out, out


def test_control_characters_in_a_csv_are_escaped_in_notes_and_errors(tmp_path, capsys):
    path = write_csv(tmp_path / "d.csv", [f"{i},{i}" for i in range(40)], header="x\x1b[31m,y")
    assert main(["train", path, "--target", "nope\x07", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\\x1b[31m" in err and "\\x07" in err, err


def test_predict_writes_data_unescaped_when_not_on_a_terminal(tmp_path, good_model):
    # the CSV predict writes is data: a cell's bytes go through unchanged to a file or a pipe
    model, _ = good_model
    data = write_csv(tmp_path / "d.csv", ['1,"a\x1bb"'], header="x,note")
    done = run("predict", str(model), data)
    assert done.returncode == 0 and "a\x1bb" in done.stdout, done.stdout


# --- items 8 and 17 at the command: a model file edited by hand --------------------------------------------

@pytest.mark.parametrize("edit, words", [
    (lambda d: d["parameters"].update({k: 1e308 for k in d["parameters"]}), "the model's numbers overflow"),
    (lambda d: d["preparation"]["x_scaler"].update(std=[0.0]), "x_scaler.std holds 0.0 at position 0"),
    (lambda d: d["preparation"].update(y_scaler={"mean": [], "std": []}), "y_scaler must hold one mean and one std"),
])
def test_predict_with_a_model_edited_by_hand_is_one_line(tmp_path, good_model, edit, words):
    model, data = good_model
    doc = json.loads(model.read_text())
    edit(doc)
    (tmp_path / "m.json").write_text(json.dumps(doc))
    one_line_error(run("predict", str(tmp_path / "m.json"), data), words)


def test_step_with_a_model_whose_forward_pass_overflows_writes_its_page(tmp_path, good_model):
    # issue 22 item 15 (repro_19): a json ValueError traceback (a quiz answer of inf)
    model, _ = good_model
    doc = json.loads(model.read_text())
    doc["parameters"] = {k: (1e200 if k.startswith("w2") else v) for k, v in doc["parameters"].items()}
    (tmp_path / "big.json").write_text(json.dumps(doc))
    done = run("step", "--model", str(tmp_path / "big.json"), "--html", str(tmp_path / "s.html"))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "inf" in (tmp_path / "s.html").read_text(encoding="utf-8")
