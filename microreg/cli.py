"""The ``microreg`` command.

    microreg demo                      the main job on built-in data: train, check, draw, step
    microreg train DATA.csv --target COL [--test TEST.csv | --test-fraction F] [--hidden H]
                   [--epochs E] [--lr LR] [--seed S] [--out DIR] [--json]
    microreg check                     every formula of the three documents against autograd
    microreg graph [--out FILE]        the computation graph of document 000's loss, one sample
    microreg step [--html FILE] [--model FILE]   step through backprop (terminal, or a web page)
    microreg --version
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from . import __version__


def _error(message):
    print(f"microreg: error: {message}", file=sys.stderr)
    return 2


# --- train ----------------------------------------------------------------------------------------

def r2_score(y, y_hat):
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²."""
    y, y_hat = np.asarray(y), np.asarray(y_hat)
    sst = float(np.sum((y - y.mean()) ** 2))
    sse = float(np.sum((y - y_hat) ** 2))
    return 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else 0.0)


def train(X, y, X_test=None, y_test=None, hidden=16, epochs=1000, lr=0.01, seed=0, standardize=True,
          progress=True):
    """Train document 000's two-layer net with Adam on standardized data; return a result dict.

    Metrics are in the original units of the target. The result holds the model, the
    standardizers, the loss history, and train/test MSE and R².
    """
    from .data import Standardizer
    from .nn import Adam, TwoLayerNet, fit, mse

    sx = Standardizer.fit(X) if standardize else Standardizer(np.zeros(X.shape[1]), np.ones(X.shape[1]))
    sy = Standardizer.fit(y) if standardize else Standardizer(0.0, 1.0)
    model = TwoLayerNet(X.shape[1], hidden, seed=seed)
    start = time.perf_counter()
    history = fit(model, sx.transform(X), sy.transform(y), loss=mse, epochs=epochs,
                  optimizer=Adam(model.parameters(), lr=lr), progress=progress)
    seconds = time.perf_counter() - start

    def predict(A):
        return sy.inverse(np.atleast_1d(model(sx.transform(A)).data))

    result = {"model": model, "x_scaler": sx, "y_scaler": sy, "history": history, "seconds": seconds,
              "predict": predict, "epochs": len(history)}
    with np.errstate(over="ignore", invalid="ignore"):
        _metrics(result, predict, X, y, X_test, y_test)
    return result


def _metrics(result, predict, X, y, X_test, y_test):
    p = predict(X)
    result["train_mse"] = float(np.mean((p - y) ** 2))
    result["train_r2"] = r2_score(y, p)
    if X_test is not None:
        q = predict(X_test)
        result["test_mse"] = float(np.mean((q - y_test) ** 2))
        result["test_r2"] = r2_score(y_test, q)


def cmd_train(args):
    from .data import DataError, load_csv, split
    from .viz import plot_fit, plot_loss

    try:
        X, y, features = load_csv(args.data, args.target)
        if args.test:
            X_test, y_test, test_features = load_csv(args.test, args.target)
            if test_features != features:
                return _error(f"{args.test}: line 1: its feature columns {test_features} differ from "
                              f"{args.data}'s {features}")
        else:
            X, y, X_test, y_test = split(X, y, args.test_fraction, seed=args.seed)
    except (DataError, ValueError) as exc:
        return _error(str(exc))
    if args.hidden < 1 or args.epochs < 1 or not args.lr > 0:
        return _error("--hidden and --epochs must be at least 1, and --lr positive")
    result = train(X, y, X_test, y_test, hidden=args.hidden, epochs=args.epochs, lr=args.lr, seed=args.seed,
                   standardize=not args.no_standardize, progress=not args.quiet)
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "model.json")
    result["model"].save(model_path, features=features, target=args.target,
                         x_scaler=result["x_scaler"].to_json(), y_scaler=result["y_scaler"].to_json())
    loss_path = plot_loss(result["history"], os.path.join(args.out, "loss.png"))
    outputs = [model_path, loss_path]
    if X.shape[1] == 1:
        outputs.append(plot_fit(X[:, 0], y, result["predict"], os.path.join(args.out, "fit.png"),
                                xlabel=features[0], ylabel=args.target))
    stopped = result["history"].stopped
    print(f"trained TwoLayerNet({X.shape[1]}, {args.hidden}) on {len(y)} rows for {result['epochs']} epochs "
          f"in {result['seconds']:.1f}s", file=sys.stderr if args.json else sys.stdout)
    report = (f"train MSE {result['train_mse']:.6g}  R² {result['train_r2']:.4f}\n"
              f"test  MSE {result['test_mse']:.6g}  R² {result['test_r2']:.4f}  ({len(y_test)} rows)\n"
              f"wrote {', '.join(outputs)}")
    print(report, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({k: result[k] for k in ("train_mse", "train_r2", "test_mse", "test_r2", "epochs", "seconds")}
                         | {"model": model_path, "stopped": stopped}))
    if stopped:
        print(f"microreg: {stopped}", file=sys.stderr)
        return 1
    return 0


# --- check ----------------------------------------------------------------------------------------

def cmd_check(args):
    from .check import check_documents, documents_table

    results = check_documents()
    print(documents_table(results))
    bad = sum(1 for _, r in results if not r.ok)
    print(f"\n{len(results)} formulas checked: {len(results) - bad} agree with autograd, {bad} do not "
          "(the documents' own versions; each has a corrected one beside it in microreg.derivations)")
    unexpected = [f for f, r in results if (f.expect == "match") != r.ok]
    return 1 if unexpected else 0


# --- demo -----------------------------------------------------------------------------------------

def cmd_demo(args):
    from .check import check_documents
    from .data import noisy_sine
    from .step import Stepper, document_000_example
    from .viz import draw_graph, plot_fit, plot_loss

    out = args.out
    os.makedirs(out, exist_ok=True)
    print("microreg demo: document 000's two-layer net (sigmoid hidden layer, linear output) "
          "learns y = sin(x) + noise")
    X, y = noisy_sine(200, seed=0)
    result = train(X, y, hidden=16, epochs=args.epochs, lr=0.02, seed=0, progress=not args.quiet)
    written = [plot_loss(result["history"], os.path.join(out, "loss.png")),
               plot_fit(X[:, 0], y, result["predict"], os.path.join(out, "fit.png"), truth=np.sin)]
    result["model"].save(os.path.join(out, "model.json"), features=["x"], target="y",
                         x_scaler=result["x_scaler"].to_json(), y_scaler=result["y_scaler"].to_json())
    written.append(os.path.join(out, "model.json"))
    print(f"  trained {result['epochs']} epochs in {result['seconds']:.1f}s: train MSE {result['train_mse']:.4f} "
          f"(noise variance 0.01), R² {result['train_r2']:.3f}")

    results = check_documents()
    print("\nThe documents' hand-derived gradients against autograd (microreg check for the full table):")
    for formula, report in results:
        verdicts = "; ".join(f"{v.name}: {v.diagnosis}" for v in report if not v.ok) or "matches autograd"
        print(f"  {formula.document}  {'ok   ' if report.ok else 'WRONG'}  {formula.formula}"
              + ("" if report.ok else f"\n         → {verdicts}"))

    loss = document_000_example()
    loss.backward()                      # the picture shows every gradient, ∂L/∂node
    graph = draw_graph(loss)
    written.append(graph.save(os.path.join(out, "graph.svg")))
    written.append(graph.save(os.path.join(out, "graph.png")))
    written.append(Stepper(document_000_example()).to_html(os.path.join(out, "stepper.html")))
    print(f"\nwrote to {os.path.abspath(out)}/:")
    for path in written:
        print(f"  {os.path.basename(path)}")
    return 0


# --- graph and step -------------------------------------------------------------------------------

def cmd_graph(args):
    from .step import document_000_example
    from .viz import draw_graph

    try:
        loss = document_000_example(model_path=args.model)
        loss.backward()                  # draw the gradients, not a graph of zeros
        path = draw_graph(loss, rankdir=args.rankdir).save(args.out)
    except (ValueError, RuntimeError) as exc:   # a bad model file, an unknown format, a failed render
        return _error(str(exc))
    print(f"wrote {path}")
    return 0


def cmd_step(args):
    from .nn import ModelFileError
    from .step import Stepper, document_000_example, run_terminal

    try:
        loss = document_000_example(model_path=args.model)
    except ModelFileError as exc:
        return _error(str(exc))
    stepper = Stepper(loss)
    if args.html:
        print(f"wrote {stepper.to_html(args.html)} ({len(stepper)} steps)")
        return 0
    return run_terminal(stepper)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="microreg", description="A tiny autograd engine for learning, "
                                     "teaching and checking backpropagation.")
    parser.add_argument("--version", action="version", version=f"microreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="train, check, draw and step on built-in data (the main job)")
    p.add_argument("--out", default="microreg-demo", help="folder for the pictures (default ./microreg-demo)")
    p.add_argument("--epochs", type=int, default=1500)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train document 000's net on a CSV file")
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="the column to predict")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--test", help="a CSV file with the same columns, for testing")
    group.add_argument("--test-fraction", type=float, default=0.2, help="rows held out for testing (default 0.2)")
    p.add_argument("--hidden", type=int, default=16, help="hidden units (default 16)")
    p.add_argument("--epochs", type=int, default=1000, help="full-batch epochs (default 1000)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="microreg-out", help="folder for model.json and loss.png (default ./microreg-out)")
    p.add_argument("--json", action="store_true", help="also print one JSON line of results on stdout")
    p.add_argument("--no-standardize", action="store_true", help="train on the raw numbers")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("check", help="check every formula of the three documents against autograd")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("graph", help="draw document 000's loss graph for one sample")
    p.add_argument("--out", default="graph.svg", help="output file: .svg, .dot or .png (default graph.svg)")
    p.add_argument("--model", help="a model.json from microreg train (default: a small seeded net)")
    p.add_argument("--rankdir", default="LR", choices=["LR", "TB"])
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("step", help="step through backprop of document 000's net on one sample")
    p.add_argument("--html", help="write a standalone web page instead of stepping in the terminal")
    p.add_argument("--model", help="a model.json from microreg train (default: a small seeded net)")
    p.set_defaults(func=cmd_step)

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
