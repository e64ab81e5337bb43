"""The ``microreg`` command.

    microreg demo                      the main job on built-in data: train, check, draw, step
    microreg train DATA.csv --target COL [--test TEST.csv | --test-fraction F] [--model net|linear]
                   [--hidden H] [--epochs E] [--lr LR] [--patience P] [--weight-decay L2]
                   [--features A,B | --drop C] [--strict] [--seed S] [--out DIR] [--json]
    microreg predict model.json NEW.csv [--out PREDS.csv | -]   predictions in the target's units
    microreg check                     every formula of the three documents against autograd
    microreg check FILE [--json] [--seed S] [--samples M] [--dims f=2,h=3]
                                       every claim of your derivation document (Markdown + LaTeX)
    microreg graph [--out FILE]        the computation graph of document 000's loss, one sample
    microreg step [EXPR | FILE.py] [--at w=0.5] [--data x=2] [--html FILE] [--model FILE]
                                       step through backprop (terminal, or a web page)
    microreg --version
"""

import argparse
import csv
import io
import json
import os
import sys

import numpy as np

from . import __version__


def _documents_line():
    """What documents 000, 001 and 002 are, said where the command line first names them."""
    from .derivations import DOCUMENTS
    return "The source documents: three derivations of backprop, written by hand, that microreg checks:\n" + \
        "\n".join(f"  {k}  {v}" for k, v in DOCUMENTS.items())


def _error(message):
    print(f"microreg: error: {message}", file=sys.stderr)
    return 2


# --- what the command writes ------------------------------------------------------------------------

class _Output(io.TextIOBase):
    """stdout or stderr while a command runs: every control character escaped (`terminal.printable`:
    a document's claim, a CSV's column name or a label cannot erase or forge lines), and every byte
    written through the file descriptor, or an OSError naming the stream. (Python's buffered layers
    can drop the end of a short write without an error: a full disk, ``ulimit -f``.) ``progress``:
    a write may start with a carriage return (the progress bar redraws its line)."""

    def __init__(self, stream, name, progress=False):
        self.stream, self.name, self.progress = stream, name, progress
        try:
            self.fd = stream.fileno()
        except (AttributeError, OSError, ValueError):   # a StringIO, pytest's capture: written as such
            self.fd = None
        self._encoding = getattr(stream, "encoding", None) or "utf-8"

    @property
    def encoding(self):
        return self._encoding

    def writable(self):
        return True

    def isatty(self):
        return self.stream.isatty()

    def fileno(self):
        return self.stream.fileno()

    def write(self, text, raw=False):
        from .terminal import printable
        if not raw:
            lead = "\r" if self.progress and text.startswith("\r") else ""
            text = lead + printable(text[len(lead):])
        if self.fd is None:
            self.stream.write(text)
            return len(text)
        self.stream.flush()
        view = memoryview(text.encode(self._encoding, "backslashreplace"))
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror, self.name) from None
        return len(text)

    def write_data(self, text):
        """Data (predict's CSV): as it is, except on a terminal, where it is escaped like the rest."""
        return self.write(text, raw=not self.isatty())

    def flush(self):
        if self.fd is None:
            self.stream.flush()


def _write_together(folder, writers, stale=()):
    """Write the outputs of one run into ``folder`` so that an error, a full disk or Ctrl-C never leaves
    this run's files beside an earlier run's, or an empty or half file: ``writers`` maps each file
    name to a function that writes the file at the path it is given. Each writes a temporary file
    beside its place; only when all are written (and synced) are they renamed into place, with
    Ctrl-C held back for those few renames, the first of ``writers`` last (so a folder whose
    model.json is this run's holds all of this run's files, even after a kill -9); earlier files
    named in ``stale`` that this run does not write are removed then (fit.png of a one-feature run
    beside a new model with two features).
    Returns the final paths, in the order of ``writers``."""
    import signal
    import tempfile
    from .files import _fsync_folder
    staged = {}
    umask = os.umask(0)
    os.umask(umask)
    try:
        for name, write in writers.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + name)
            os.close(fd)
            staged[name] = tmp
            write(tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~umask)
        hold = hasattr(signal, "pthread_sigmask")
        if hold:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            for name in stale:
                if name not in writers and os.path.isfile(os.path.join(folder, name)):
                    os.unlink(os.path.join(folder, name))
            for name in reversed(list(staged)):      # the first (model.json) last: once it is this run's, all are
                os.replace(staged.pop(name), os.path.join(folder, name))
        finally:
            if hold:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        _fsync_folder(folder)
    finally:
        for tmp in staged.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return [os.path.join(folder, name) for name in writers]


# --- train and predict ----------------------------------------------------------------------------

def train(*args, **kwargs):
    """Document 000's net on arrays, every epoch (``microreg demo``): `microreg.train.train_arrays`."""
    from .train import train_arrays
    return train_arrays(*args, **kwargs)


def _check_train_flags(args):
    """The first bad flag, named with its value (None when all are fine)."""
    checks = [("--hidden", args.hidden, "a whole number ≥ 1", lambda v: v >= 1),
              ("--epochs", args.epochs, "a whole number ≥ 1", lambda v: v >= 1),
              ("--lr", args.lr, "a positive number", lambda v: 0 < v < float("inf")),
              ("--patience", args.patience, "a whole number ≥ 1", lambda v: v >= 1),
              ("--starts", args.starts, "a whole number ≥ 1", lambda v: v >= 1),
              ("--weight-decay", args.weight_decay, "a number ≥ 0 or auto",
               lambda v: v == "auto" or 0 <= v < float("inf")),
              ("--validation-fraction", args.validation_fraction, "between 0 and 1", lambda v: 0 < v < 1)]
    if not args.test:
        checks.append(("--test-fraction", args.test_fraction, "between 0 and 1", lambda v: 0 < v < 1))
    checks.append(("--seed", args.seed, "a whole number ≥ 0", lambda v: v >= 0))
    for flag, value, want, ok in checks:
        if not ok(value):
            return f"{flag} must be {want}, got {value:g}"
    return None


def _can_write_in(folder):
    """None if a file can really be made in folder (os.access says yes to root even on /proc), else why not."""
    import tempfile
    if not os.access(folder, os.W_OK | os.X_OK):
        return "not writable"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"not writable ({exc.strerror})"
    return None


def _check_out_folder(folder, flag="--out"):
    """Make the output folder now (before any training) and make sure a file can be written in it."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"{flag} {folder}: is a file, not a folder"
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        return f"{flag} {folder}: cannot make the folder: {exc.strerror}"
    why = _can_write_in(folder)
    return f"{flag} {folder}: the folder is {why}" if why else None


def _check_out_file(path, flag="--out", example="preds.csv"):
    """Before any work: the output file's folder exists and takes a new file (None when all is fine)."""
    if os.path.isdir(path):
        return f"{flag} {path}: is a folder (give a file name such as {example})"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"{flag} {path}: no folder {folder}"
    why = _can_write_in(folder)
    return f"{flag} {path}: the folder {folder} is {why}" if why else None


def _names(text):
    return [n.strip() for n in text.split(",") if n.strip()] if text else []


#: Every file ``microreg train`` writes in --out (one run's set: an earlier run's file this run does
#: not write is removed when this run's are put in place).
TRAIN_OUTPUTS = ("model.json", "loss.png", "predicted.png", "residuals.png", "fit.png")


def cmd_train(args):
    from .data import DataError
    from .train import plot_losses, plot_predicted, plot_residuals, train_csv

    out_existed = os.path.isdir(args.out)
    problem = _check_train_flags(args) or _check_out_folder(args.out)
    if problem:
        return _error(problem)
    say = sys.stderr if args.json else sys.stdout
    try:
        result = train_csv(args.data, args.target, test=args.test, model=args.model, hidden=args.hidden,
                           epochs=args.epochs, lr=args.lr, patience=args.patience, weight_decay=args.weight_decay,
                           validation_fraction=args.validation_fraction, test_fraction=args.test_fraction,
                           seed=args.seed, starts=args.starts, features=_names(args.features), drop=_names(args.drop),
                           strict=args.strict, progress=not args.quiet,
                           notify=lambda note: print(f"note: {note}", file=say, flush=True))
    except (DataError, ValueError) as exc:
        return _error(str(exc))
    kept = f", kept epoch {result.best_epoch}" if result.best_epoch else ""
    how = " by gradient descent" if args.model == "linear" else ""
    print(f"trained {result.model_name}{how} on {result.n_train - result.n_validation} rows for {result.epochs} "
          f"epochs{kept} in {result.seconds:.1f}s", file=say)
    if result.early_stop:
        print(result.early_stop, file=say)
    print(result.report(), file=say)
    if "closed_form_max_abs_difference" in result:
        print(f"gradient descent against the closed-form optimum: largest parameter difference "
              f"{result.closed_form_max_abs_difference:.2g} (standardized units)", file=say)
    if result.stopped or not result.finite:
        if args.json:
            print(json.dumps(result.figures() | {"model_file": None}))
        if result.stopped:
            why = result.stopped
        elif all(np.isfinite(p.data) for p in result.model.parameters()):   # fine in standardized units
            why = (f"the squared errors in the target's units are too large for a float (the target reaches "
                   f"{float(np.max(np.abs(result.y_train))):.3g}): divide it by a power of 10 and train again")
        else:
            why = "the parameters are not finite numbers"
        print(f"microreg: {why}", file=sys.stderr)
        diverged = "the run diverged: " if not why.startswith("the squared errors") else ""
        print(f"microreg: {diverged}nothing written ({os.path.join(args.out, 'model.json')} untouched)",
              file=sys.stderr)
        if not out_existed and not os.listdir(args.out):
            os.rmdir(args.out)   # made for this run, left empty: leave no trace
        return 1
    if result.far_above_baseline:
        print(f"microreg: warning: the final training MSE {result.net_train_mse:.6g} is far above the least-squares "
              f"line's {result.linear_train_mse:.6g}: the net did not learn well (try a smaller --lr, or more --epochs)",
              file=sys.stderr)
    def save_model(path):        # written, then read back as predict will read it: a file it refuses is no output
        from .nn import ModelFileError, load_model
        result.model.save(path)
        try:
            load_model(path)
        except ModelFileError as exc:
            raise DataError(f"the model file would not load: {exc}") from None

    writers = {"model.json": save_model, "loss.png": lambda path: plot_losses(result, path),
               "predicted.png": lambda path: plot_predicted(result, path),
               "residuals.png": lambda path: plot_residuals(result, path)}
    prep = result.model.preparation
    if len(prep.columns) == 1 and prep.columns[0]["kind"] == "number":   # one feature: the fitted curve too
        from .viz import plot_fit
        x = prep.x_scaler.inverse(result.X_train)[:, 0]
        writers["fit.png"] = lambda path: plot_fit(x, result.y_train, result.model, path,
                                                   xlabel=prep.columns[0]["name"], ylabel=args.target)
    try:      # everything made and checked before any file of an earlier run is replaced
        written = _write_together(args.out, writers, stale=TRAIN_OUTPUTS)
    except (DataError, ValueError, RuntimeError) as exc:
        return _error(f"{exc}: nothing written ({os.path.join(args.out, 'model.json')} untouched)")
    model_path = written[0]
    print(f"wrote {', '.join(written)}", file=say)
    if args.json:
        print(json.dumps(result.figures() | {"model_file": model_path}))
    return 0


def cmd_predict(args):
    from .data import DataError
    from .nn import ModelFileError, load_model
    from .train import TrainedModel

    to_stdout = args.out in (None, "-")
    problem = not to_stdout and _check_out_file(args.out)
    if problem:
        return _error(problem)
    try:
        model = load_model(args.model)
        if not isinstance(model, TrainedModel):
            return _error(f"{args.model}: key 'preparation' is missing: a bare network saved with Module.save, "
                          "not a model.json from microreg train")
        table = model.table(args.data)
        predictions, blanks = model.predict(table, strict=args.strict)
    except (ModelFileError, DataError) as exc:
        return _error(str(exc))
    target = model.preparation.target
    for note in table.notes:
        print(f"note: {note}", file=sys.stderr)
    if blanks:
        print(f"note: {sum(blanks.values())} blank or unseen feature cells filled as in training: "
              + ", ".join(f"{k} {v}" for k, v in blanks.items()), file=sys.stderr)
    column = f"predicted_{target}"
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow([*table.header, column])
    for row, p in zip(table.rows, predictions):
        writer.writerow([*row, repr(float(p))])
    if not to_stdout:
        from .files import atomic_write
        atomic_write(args.out, lines.getvalue())
        print(f"wrote {len(predictions)} predictions of {target} to {args.out} (column {column})", file=sys.stderr)
    elif isinstance(sys.stdout, _Output):
        sys.stdout.write_data(lines.getvalue())      # every byte, or an error naming stdout
    else:
        sys.stdout.write(lines.getvalue())
    return 0


def _auto_or_number(text):
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number or auto, got {text!r}") from None


def _add_train_commands(sub):
    from .train import DEFAULTS, WEIGHT_DECAYS

    p = sub.add_parser("train", help="train document 000's net on a CSV file, beside linear regression",
                       epilog=_documents_line(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="CSV file with a header row (comma, semicolon or tab separated)")
    p.add_argument("--target", required=True, help="the column to predict")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--test", help="a CSV file with the same columns, for testing")
    group.add_argument("--test-fraction", type=float, default=DEFAULTS["test_fraction"],
                       help=f"rows held out for testing (default {DEFAULTS['test_fraction']})")
    p.add_argument("--model", choices=["net", "linear"], default="net",
                   help="net: document 000's two-layer net (default); linear: LinearRegression by gradient "
                        "descent, step 1/λmax of the loss's Hessian (--lr, --hidden, --patience do not apply)")
    p.add_argument("--hidden", type=int, default=DEFAULTS["hidden"], help=f"hidden units (default {DEFAULTS['hidden']})")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"],
                   help=f"most full-batch epochs (default {DEFAULTS['epochs']})")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help=f"Adam learning rate (default {DEFAULTS['lr']})")
    p.add_argument("--patience", type=int, default=DEFAULTS["patience"],
                   help=f"stop after this many epochs without a better validation loss (default {DEFAULTS['patience']})")
    p.add_argument("--weight-decay", type=_auto_or_number, default=DEFAULTS["weight_decay"],
                   help="L2 penalty on the parameters, or auto: try " + ", ".join(f"{d:g}" for d in WEIGHT_DECAYS)
                        + " and keep the most regularised net within 5%% of the best validation RMSE "
                        f"(default {DEFAULTS['weight_decay']})")
    p.add_argument("--starts", type=int, default=DEFAULTS["starts"],
                   help="starting points (random initial weights) tried at the chosen weight decay; the best on "
                        f"the validation rows is kept (default {DEFAULTS['starts']})")
    p.add_argument("--validation-fraction", type=float, default=DEFAULTS["validation_fraction"],
                   help=f"training rows held out to choose the epoch (default {DEFAULTS['validation_fraction']})")
    p.add_argument("--features", help="comma-separated columns to use (default: all but the target)")
    p.add_argument("--drop", help="comma-separated columns to leave out")
    p.add_argument("--strict", action="store_true", help="blank cells are errors, not filled")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="microreg-out", help="folder for model.json and the plots (default ./microreg-out)")
    p.add_argument("--json", action="store_true", help="print every figure as one JSON line on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="predict with a model.json from microreg train, in the target's units")
    p.add_argument("model", help="model.json written by microreg train")
    p.add_argument("data", help="CSV file with the columns the model was trained on (the target may be absent)")
    p.add_argument("--out", help="write the rows with a predicted_TARGET column here (default, or -: stdout)")
    p.add_argument("--strict", action="store_true", help="blank cells are errors, not filled")
    p.set_defaults(func=cmd_predict)


# --- check ----------------------------------------------------------------------------------------

def cmd_check(args):
    if getattr(args, "file", None):
        return cmd_check_file(args)
    if getattr(args, "dims", None):
        return _error("--dims reads your document with vectors: give a FILE (microreg check FILE --dims f=2,h=3)")
    if getattr(args, "json", False):
        return _error("--json prints a document's rows: give a FILE (microreg check FILE --json)")
    from .check import check_documents, documents_table

    results = check_documents()
    print(_documents_line() + "\n")
    print(documents_table(results))
    bad = sum(1 for _, r in results if not r.ok)
    print(f"\n{len(results)} formulas checked: {len(results) - bad} agree with autograd, {bad} do not: the "
          "documents' own mistakes, found on purpose (each has a corrected version beside it in microreg.derivations)")
    kinds = {}
    for _, report in results:
        for v in report:
            if not v.ok:
                kind = v.explanation.kind if v.explanation else "no single mistake"
                kinds[kind] = kinds.get(kind, 0) + 1
    if kinds:
        print("mistakes found: " + ", ".join(f"{k} × {c}" for k, c in sorted(kinds.items(), key=lambda t: -t[1])))
    unexpected = [f for f, r in results if (f.expect == "match") != r.ok]
    return 1 if unexpected else 0


#: The largest values of check FILE's flags: each gives a check of a few seconds on a small document
#: (benchmarks/RESULTS.md); more only makes it longer, never surer.
CHECK_LIMITS = {"--samples": 200, "--points": 50, "--dims": 12}      # microreg.document says the same
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


def _check_check_flags(args):
    """The first bad flag of ``check FILE``, named with its value (None when all are fine)."""
    for flag, value in (("--seed", args.seed), ("--samples", args.samples), ("--points", args.points)):
        low = 0 if flag == "--seed" else 1
        high = CHECK_LIMITS.get(flag)
        if value < low or (high is not None and value > high):
            return f"{flag} must be a whole number from {low} to {high}, got {value}" if high else \
                f"{flag} must be a whole number ≥ {low}, got {value}"
    for part in (args.dims or "").split(","):
        key, eq, value = part.partition("=")
        value = value.strip()
        if eq and not (value.isascii() and value.isdigit()):     # '³' and '٣' are digits to str.isdigit
            return f"--dims {part.strip()}: a size is a whole number written with 0-9, such as h=3"
        if eq and int(value) > CHECK_LIMITS["--dims"]:
            return (f"--dims {part.strip()}: at most {CHECK_LIMITS['--dims']} (sizes only need to tell the "
                    "claims' shapes apart)")
    return None


def cmd_check_file(args):
    """``microreg check FILE``: a table of the document's claims (or ``--json``, one object a line)."""
    from .document import DimsError, DocumentError, check_file, exit_status, format_results, to_json
    from .files import read_input

    problem = _check_check_flags(args)
    if problem:
        return _error(problem)
    try:         # a FIFO or a device is refused before anything is read, and the size is capped
        if args.file != "-":
            read_input(args.file, MAX_DOCUMENT_BYTES)
    except FileNotFoundError:
        pass     # said by check_file, as always
    except OSError as exc:
        return _error(f"{args.file}: {exc.strerror}")
    try:
        report = check_file(args.file, seed=args.seed, points=args.points, samples=args.samples, dims=args.dims)
    except (DocumentError, DimsError, ValueError) as exc:
        return _error(str(exc))
    if args.json:
        if report.results:
            print(to_json(report))
    else:
        import shutil
        print(format_results(report, width=shutil.get_terminal_size().columns if sys.stdout.isatty() else None))
    return exit_status(report)


# --- demo -----------------------------------------------------------------------------------------

def cmd_demo(args):
    from .check import check_documents
    from .data import noisy_sine
    from .step import Stepper, document_000_example
    from .viz import draw_graph, plot_fit, plot_loss

    out = args.out
    problem = (f"--epochs must be a whole number ≥ 1, got {args.epochs}" if args.epochs < 1
               else _check_out_folder(out))
    if problem:
        return _error(problem)
    print(_documents_line())
    print("\nmicroreg demo: document 000's two-layer net (sigmoid hidden layer, linear output) learns "
          "y = sin(x) + noise")
    X, y = noisy_sine(200, seed=0)
    result = train(X, y, hidden=16, epochs=args.epochs, lr=0.02, seed=0, progress=not args.quiet)
    writers = {"loss.png": lambda path: plot_loss(result["history"], path),
               "fit.png": lambda path: plot_fit(X[:, 0], y, result["predict"], path, truth=np.sin),
               "model.json": lambda path: result["model"].save(
                   path, features=["x"], target="y", x_scaler=result["x_scaler"].to_json(),
                   y_scaler=result["y_scaler"].to_json())}
    print(f"  trained {result['epochs']} epochs in {result['seconds']:.1f}s: train MSE {result['train_mse']:.4f} "
          f"(noise variance 0.01), R² {result['train_r2']:.3f}")

    results = check_documents()
    mistakes = [(formula, report) for formula, report in results if not report.ok]
    print(f"\nThe documents' hand-derived gradients against autograd: {len(results)} formulas, "
          f"{len(results) - len(mistakes)} right, {len(mistakes)} with a mistake.")
    print("The mistakes are the documents' own, found on purpose (microreg works: each has a corrected "
          "version beside it that checks out; microreg check shows the full table):")
    for formula, report in mistakes:
        first = next(v for v in report if not v.ok)
        print(f"  {formula.document}  {formula.formula}\n         → {first.name}: {first.diagnosis}")

    loss = document_000_example()
    loss.backward()                      # the picture shows every gradient, ∂L/∂node
    graph = draw_graph(loss)
    writers["graph.svg"] = graph.save
    writers["graph.png"] = graph.save
    writers["stepper.html"] = Stepper(document_000_example()).to_html
    written = _write_together(out, writers)      # all of this run's files, or none of them
    print(f"\nwrote to {os.path.abspath(out)}/:")
    for path in written:
        print(f"  {os.path.basename(path)}")
    print(f"\nNext: open {os.path.join(out, 'stepper.html')} in a browser to step through backprop (or run "
          "microreg step here), and read README.md's examples to do the same with your own loss.")
    return 0


# --- graph and step -------------------------------------------------------------------------------

def cmd_graph(args):
    from .step import document_000_example
    from .viz import draw_graph

    problem = _check_out_file(args.out, example="graph.svg")
    if problem:
        return _error(problem)
    try:
        loss = document_000_example(model_path=args.model)
        loss.backward()                  # draw the gradients, not a graph of zeros
        path = draw_graph(loss, rankdir=args.rankdir).save(args.out)
    except (ValueError, RuntimeError) as exc:   # a bad model file, an unknown format, a failed render
        return _error(str(exc))
    print(f"wrote {path}")
    return 0


def _numbers(flag, text):
    """'w=0.5,b=-1' as {"w": 0.5, "b": -1.0}; a bad entry is named with its flag."""
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier():
            raise ValueError(f"{flag}: {part.strip()!r} is not NAME=NUMBER (e.g. {flag} w=0.5,b=-1)")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"{flag}: {name}={value.strip()!r} is not a number") from None
    return out


_FUNCTIONS = ("tanh", "exp", "log", "sigmoid", "relu")


def loss_from_expression(text, at=None, data=None):
    """The loss an expression on the command line builds: ``"z = w*x + b; L = (z - y)**2"`` with
    the names' numbers from ``at`` (leaves that get a gradient) and ``data`` (x, y: data, not
    stepped). Each ``name = …`` labels its node; the last statement is the output (named L unless
    it is assigned). Read with Python's ``ast`` and built node by node, never ``eval``: numbers,
    names, ``+ - * / **``, unary minus, ``tanh exp log sigmoid relu`` as functions or methods."""
    import ast

    from . import Value
    from .engine import data as data_leaf

    at, data = dict(at or {}), dict(data or {})
    both = sorted(set(at) & set(data))
    if both:
        raise ValueError(f"{', '.join(both)}: given in both --at and --data (a name is one or the other)")
    names = {k: Value(v, label=k) for k, v in at.items()}
    names.update({k: data_leaf(v, k) for k, v in data.items()})
    try:
        tree = ast.parse(text.replace("−", "-").replace("·", "*"), mode="exec")
    except SyntaxError as exc:
        raise ValueError(f"expression, column {exc.offset}: not a Python expression ({exc.msg}): {text}") from None
    if not tree.body:
        raise ValueError("expression: empty (e.g. microreg step \"L = (w*x - y)**2\" --at w=0.5 --data x=2,y=1)")
    binary = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}

    def build(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(f"expression, column {node.col_offset + 1}: no number for {node.id!r}: give it "
                                 f"with --at {node.id}=… (a leaf that gets a gradient) or --data {node.id}=…")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            return binary[type(node.op)](build(node.left), build(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = build(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Call) and not node.keywords:
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FUNCTIONS and len(node.args) == 1:
                arg = build(node.args[0])
            elif isinstance(func, ast.Attribute) and func.attr in _FUNCTIONS and not node.args:
                arg = build(func.value)
            else:
                arg = None
            if arg is not None:
                arg = arg if isinstance(arg, Value) else Value(arg)
                return getattr(arg, func.id if isinstance(func, ast.Name) else func.attr)()
        what = ast.get_source_segment(text, node) or type(node).__name__
        raise ValueError(f"expression, column {getattr(node, 'col_offset', 0) + 1}: {what!r} is not something a "
                         f"loss is built from here (numbers, names, + - * / **, {', '.join(_FUNCTIONS)})")

    out = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            out = build(statement.value)
            out = out if isinstance(out, Value) else Value(out)
            out.label = statement.targets[0].id
            names[out.label] = out
        elif isinstance(statement, ast.Expr):
            out = build(statement.value)
            out = out if isinstance(out, Value) else Value(out)
            if out.label is None:
                out.label = "L"
        else:
            raise ValueError(f"expression, line {statement.lineno}: only NAME = expression or an expression, "
                             f"separated by ';'")
    return out


def loss_from_file(path, name=None):
    """The loss a Python file builds: runs it (as ``python FILE`` would, with its own folder on the
    import path) and takes its top-level Value ``name``, or else the one named ``L`` or ``loss``."""
    import runpy

    from . import Value

    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)
    try:
        names = runpy.run_path(path, run_name="__microreg_step__")
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    wanted = [name] if name else ["L", "loss"]
    for key in wanted:
        if isinstance(names.get(key), Value):
            loss = names[key]
            if loss.label is None:
                loss.label = key
            return loss
    values = sorted(k for k, v in names.items() if isinstance(v, Value) and not k.startswith("_"))
    raise ValueError(f"{path}: no Value named {' or '.join(wanted)} at the top level"
                     + (f" (its Values: {', '.join(values[:8])}): pick one with --loss NAME" if values else
                        " (the file builds no Value at the top level)"))


def cmd_step(args):
    from .nn import ModelFileError
    from .step import Stepper, document_000_example, run_terminal

    problem = args.html and _check_out_file(args.html, "--html", example="stepper.html")
    if problem:
        return _error(problem)
    try:
        if args.what and (args.what.endswith(".py") or os.path.isfile(args.what)):
            if args.at or args.data:
                return _error("--at and --data give an expression's numbers; a Python file sets its own")
            loss = loss_from_file(args.what, args.loss)
        elif args.what:
            loss = loss_from_expression(args.what, _numbers("--at", args.at), _numbers("--data", args.data))
        else:
            loss = document_000_example(model_path=args.model)
    except (ModelFileError, ValueError, ArithmeticError) as exc:   # a bad model file or expression, a domain error
        return _error(str(exc))
    stepper = Stepper(loss, fold=not args.every_node)
    if args.html:
        print(f"wrote {stepper.to_html(args.html)} ({len(stepper)} steps)")
        return 0
    return run_terminal(stepper, stdout=getattr(sys.stdout, "stream", sys.stdout))   # its own escapes (clear screen)


def main(argv=None):
    """The command line; returns the exit status (130 after Ctrl-C, 141 when stdout's reader is gone)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Output(out, "stdout"), _Output(err, "stderr", progress=True)
    try:
        return _main(argv)
    except KeyboardInterrupt:     # one line, no traceback; every file is written whole or not at all
        sys.stderr.write("\nmicroreg: interrupted\n")
        return 130
    except BrokenPipeError:       # `microreg check doc.md | head`: the reader has gone, as for any tool
        return 141
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv):
    parser = argparse.ArgumentParser(prog="microreg", epilog=_documents_line(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="A tiny autograd engine for learning, "
                                     "teaching and checking backpropagation.")
    parser.add_argument("--version", action="version", version=f"microreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", epilog=_documents_line(), formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="train, check, draw and step on built-in data (the main job)")
    p.add_argument("--out", default="microreg-demo", help="folder for the pictures (default ./microreg-demo)")
    p.add_argument("--epochs", type=int, default=1500)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    _add_train_commands(sub)

    p = sub.add_parser("check", epilog=_documents_line(), formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="check a derivation document claim by claim (no FILE: the three "
                       "source documents' formulas)")
    p.add_argument("file", nargs="?", help="a derivation: Markdown (.md), a notebook (.ipynb), LaTeX (.tex), or - "
                   "for standard input. Exit status: 0 every claim read and right, 1 a claim wrong or off by a "
                   "factor, 3 claims that could not be read, or nothing to check")
    p.add_argument("--json", action="store_true", help="with FILE: one JSON object per claim, a line each")
    p.add_argument("--seed", type=int, default=0, help="with FILE: seed of the random points (default 0)")
    p.add_argument("--samples", type=int, default=5, help="with FILE: random data samples per point (default 5)")
    p.add_argument("--points", type=int, default=4, help="with FILE: random points per claim (default 4)")
    p.add_argument("--dims", metavar="f=2,h=3", help="with FILE: read vectors and matrices (f input features, "
                   "h hidden units, o outputs, n1=… one layer's units) and check the claims' shapes")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("graph", epilog=_documents_line(), formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="draw document 000's loss graph for one sample")
    p.add_argument("--out", default="graph.svg", help="output file: .svg, .dot or .png (default graph.svg)")
    p.add_argument("--model", help="a model.json from microreg train (default: a small seeded net)")
    p.add_argument("--rankdir", default="LR", choices=["LR", "TB"])
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("step", epilog=_documents_line(), formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="step through backprop: of an expression, a Python file's loss, or "
                       "document 000's net on one sample", description="Step through the forward and backward "
                       "pass, one key per step (or --html for a web page).\n\nexamples:\n  microreg step\n"
                       "  microreg step \"z = w*x + b; L = (z - y)**2\" --at w=0.5,b=0.1 --data x=2,y=1\n"
                       "  microreg step loss.py            (a file that builds a Value named L or loss)")
    p.add_argument("what", nargs="?", metavar="EXPR | FILE.py",
                   help="an expression such as \"L = (w*x - y)**2\" (its numbers from --at/--data), or a Python "
                        "file that builds a Value named L or loss (default: document 000's net)")
    p.add_argument("--at", metavar="w=0.5,b=0.1", help="with EXPR: the numbers of the leaves that get a gradient")
    p.add_argument("--data", metavar="x=2,y=1", help="with EXPR: the numbers of the data (not stepped)")
    p.add_argument("--loss", metavar="NAME", help="with FILE.py: the top-level Value to step (default L or loss)")
    p.add_argument("--every-node", action="store_true",
                   help="a forward step for every node (default: unlabelled nodes folded into the labelled one)")
    p.add_argument("--html", help="write a standalone web page instead of stepping in the terminal")
    p.add_argument("--model", help="a model.json from microreg train (default: a small seeded net)")
    p.set_defaults(func=cmd_step)

    args = parser.parse_args(argv)
    if args.command is None:   # nothing asked for: usage on stderr, and a failing exit for scripts
        parser.print_usage(sys.stderr)
        print("microreg: error: no command given (try `microreg demo`, or `microreg --help` for all commands)",
              file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`microreg check | head -1`): main says so with exit 141
        raise
    except OSError as exc:   # a write that failed after the checks (a full disk, a read-only mount): no traceback
        where = exc.filename or "a file"
        return _error(f"{where}: {exc.strerror or exc}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
