"""The networks of the source documents, built from `Value` nodes, and how to train them.

- `LinearRegression(n_features)`: ŷ = w·x + b, "the simplest neural network" (documents 001, 002;
  document 002's β1, β0 are ``w[0]`` and ``b``).
- `TwoLayerNet(n_features, n_hidden)`: document 000's net, z1 = w1·x + b1, a1 = σ(z1),
  z2 = w2·a1 + b2, ŷ = z2 (sigmoid hidden layer, linear output, for regression).
- `MLP(n_inputs, layer_sizes)`: document 001's L-layer net, z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾).

Parameters are named in the documents' notation (``w1[j][k]``, ``b1[j]``, ``w2[j]``, ``b2``), and
those names are the nodes' labels, so graphs and steps read like the documents. Intermediate
nodes are labelled too (``z1[j]``, ``a1[j]``, ``z2``).

Call a model with one sample (``net([x1, ..., xf])``, numbers or Values) for a scalar Value, or
with an (N, f) numpy array for one batch Value of N predictions.

The losses make each document's convention explicit: `half_mse` (1/(2m) Σ, document 000),
`mse` (1/n Σ, document 002, and document 001's average cost), `squared_error` (Σ (a − y)²;
one sample: document 001's C_x = (a − y)²) and `rmse`. `SGD`, `Adam` (both with an optional L2
``weight_decay``) and `fit` train; given validation data, `fit` keeps the parameters of the best
validation epoch and stops after ``patience`` epochs without a better one.

``Module.save`` writes JSON atomically (refusing non-finite parameters); `load_network` rebuilds the
network, checking every key before anything is allocated; `load_model` gives, for a model.json from
``microreg train``, a `microreg.train.TrainedModel` that predicts from raw rows in the target's units.
"""

import json
import math
import os
import sys
import tempfile
import time

import numpy as np

from .engine import Data, Value, _affine_node, _new, _unary
from .ops import SIGMOID

ndarray = np.ndarray

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


class ModelFileError(ValueError):
    """A model file that cannot be loaded: the message names the file and the key."""


class Module:
    """What every model has: parameters by name, grads to reset, a state to save and load."""

    def named_parameters(self):
        """[(name, Value)] in a fixed order, names in the documents' notation."""
        return list(self._params)

    def parameters(self):
        return [p for _, p in self._params]

    def zero_grad(self):
        for _, p in self._params:
            p.grad = 0.0

    def state_dict(self):
        """{name: float} of every parameter."""
        return {name: p.data for name, p in self._params}

    def load_state_dict(self, state, source="state_dict"):
        names = [n for n, _ in self._params]
        known = set(names)   # built once: a set per key made loading quadratic in the parameter count
        missing = [n for n in names if n not in state]
        extra = [n for n in state if n not in known]
        if missing or extra:
            raise ModelFileError(f"{source}: parameters do not match {type(self).__name__}: "
                                 f"missing {missing[:5]}, unexpected {extra[:5]}")
        for name, p in self._params:
            value = state[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ModelFileError(f"{source}: parameter {name!r} must be a finite number, got {value!r}")
            p.data = float(value)

    def config(self):
        """The constructor arguments that rebuild this model (saved with it)."""
        raise NotImplementedError

    def save(self, path, **extra):
        """Write the model as JSON (atomically: a crash never leaves half a file).

        A parameter that is not a finite number is refused here, by name (a file that
        ``load_model`` would refuse is never written).
        """
        for name, p in self._params:
            if not math.isfinite(p.data):
                raise ValueError(f"cannot save {type(self).__name__}: parameter {name!r} is {p.data} "
                                 "(the training run diverged: nothing was written)")
        doc = {"format": "microreg-model", "version": 1, "model": type(self).__name__,
               "config": self.config(), "parameters": self.state_dict(), **extra}
        atomic_write(path, json.dumps(doc, indent=1))

    @staticmethod
    def load(path):
        """Load a model saved with ``save``; returns the model (and keeps extras in ``.extra``)."""
        return load_model(path)

    def _check_features(self, n):
        if n != self.n_features:
            raise ValueError(f"{type(self).__name__} expects {self.n_features} features per sample, got {n}")

    def _inputs(self, x):
        """One tuple of input nodes: scalars for one sample, batch Values for an (N, f) array."""
        if x.__class__ is list and len(x) == self.n_features and all(v.__class__ is float for v in x):
            return tuple(map(_leaf, x, self._x_names))   # the common case, made cheap
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple, ndarray)):
            x = np.asarray(x, dtype=np.float64)          # a list of rows is a batch, read row by row
        if isinstance(x, ndarray) and x.ndim == 2:
            self._check_features(x.shape[1])
            return tuple(Value(np.ascontiguousarray(x[:, k], dtype=np.float64), label=Data(f"x[{k}]"))
                         for k in range(x.shape[1]))
        if isinstance(x, (int, float, Value)):
            x = [x]
        x = list(x)
        self._check_features(len(x))
        return tuple(xi if isinstance(xi, Value) else Value(xi, label=name) for xi, name in zip(x, self._x_names))


def atomic_write(path, text):
    """Write text to path via a temporary file in the same folder, fsync, a rename, fsync of the folder.

    Whatever interrupts it (an error, Ctrl-C), the temporary file is removed and ``path`` keeps
    its old content; once it returns, the new content is on disk.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    data = text.encode("utf-8")   # an unencodable text fails here, before any file exists
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:      # name the file the user asked for, not our temporary one
        raise type(exc)(exc.errno, exc.strerror, path) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename itself durable (where the system lets a folder be opened: not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _leaf(value, name):
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = value, 0.0, name, (), None, 0
    return v


def _param(value, name):
    return Value(float(value), label=name)


class LinearRegression(Module):
    """ŷ = Σₖ w[k]·x[k] + b: linear regression as a one-neuron net with the identity activation.

    Document 002 writes y = β1·x + β0: ``w[0]`` is β1 and ``b`` is β0.
    """

    def __init__(self, n_features=1, seed=None):
        self.n_features = n_features
        rng = np.random.default_rng(seed)
        self.w = [_param(v, f"w[{k}]") for k, v in enumerate(rng.normal(0, 0.1, n_features))]
        self.b = _param(0.0, "b")
        self._params = [(p.label, p) for p in self.w] + [("b", self.b)]
        self._x_names = [Data(f"x[{k}]") for k in range(n_features)]

    def config(self):
        return {"n_features": self.n_features}

    def __call__(self, x):
        out = _affine_node((*self.w, *self._inputs(x), self.b))
        out.label = "ŷ"
        return out


class TwoLayerNet(Module):
    """Document 000's net: z1 = w1·x + b1, a1 = σ(z1), z2 = w2·a1 + b2, ŷ = z2.

    ``w1[j][k]`` connects feature k to hidden unit j, ``b1[j]`` is its bias, ``w2[j]`` connects
    hidden unit j to the output and ``b2`` is the output bias. Intermediate nodes are labelled
    ``z1[j]``, ``a1[j]`` and ``z2``.
    """

    def __init__(self, n_features=1, n_hidden=16, seed=None):
        self.n_features, self.n_hidden = n_features, n_hidden
        rng = np.random.default_rng(seed)
        # wide enough first-layer weights that the sigmoids spread over standardised inputs
        w1 = rng.normal(0, 2.0 / math.sqrt(n_features), (n_hidden, n_features))
        b1 = rng.normal(0, 1.0, n_hidden)
        w2 = rng.normal(0, 1.0 / math.sqrt(n_hidden), n_hidden)
        self.w1 = [[_param(w1[j, k], f"w1[{j}][{k}]") for k in range(n_features)] for j in range(n_hidden)]
        self.b1 = [_param(b1[j], f"b1[{j}]") for j in range(n_hidden)]
        self.w2 = [_param(w2[j], f"w2[{j}]") for j in range(n_hidden)]
        self.b2 = _param(0.0, "b2")
        self._params = ([(p.label, p) for row in self.w1 for p in row] + [(p.label, p) for p in self.b1]
                        + [(p.label, p) for p in self.w2] + [("b2", self.b2)])
        self._x_names = [Data(f"x[{k}]" if n_features > 1 else "x") for k in range(n_features)]
        self._z1_names = [f"z1[{j}]" for j in range(n_hidden)]
        self._a1_names = [f"a1[{j}]" for j in range(n_hidden)]
        self._w1_rows = [tuple(row) for row in self.w1]
        self._w2_b2 = tuple(self.w2)

    def config(self):
        return {"n_features": self.n_features, "n_hidden": self.n_hidden}

    def forward(self, x):
        """(z1, a1, z2) for one sample or a batch: every intermediate node of document 000."""
        xs = self._inputs(x)
        z1, a1 = [], []
        for row, b, z_name, a_name in zip(self._w1_rows, self.b1, self._z1_names, self._a1_names):
            z = _affine_node(row + xs + (b,))     # z1[j] = w1[j]·x + b1[j]
            a = _unary(SIGMOID, z)                # a1[j] = σ(z1[j])
            z.label, a.label = z_name, a_name
            z1.append(z)
            a1.append(a)
        z2 = _affine_node(self._w2_b2 + tuple(a1) + (self.b2,))
        z2.label = "z2"
        return z1, a1, z2

    def __call__(self, x):
        return self.forward(x)[2]


class MLP(Module):
    """Document 001's L-layer net: z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾), a⁽⁰⁾ = x.

    ``layer_sizes`` lists the width of every layer after the input (the last is the output).
    ``activation`` is σ of the hidden layers and ``output_activation`` that of the last one:
    each of "sigmoid", "tanh", "relu", "linear". Parameters are ``w{l}[j][k]`` and ``b{l}[j]``.
    A network with one output returns a Value; with several, a list of Values.
    """

    def __init__(self, n_inputs, layer_sizes, activation="sigmoid", output_activation="linear", seed=None):
        for name, act in (("activation", activation), ("output_activation", output_activation)):
            if act not in ACTIVATIONS:
                raise ValueError(f"MLP {name} must be one of {ACTIVATIONS}, got {act!r}")
        if not layer_sizes or any(int(s) < 1 for s in layer_sizes):
            raise ValueError(f"MLP layer_sizes must be positive widths, got {layer_sizes!r}")
        self.n_features = self.n_inputs = n_inputs
        self.layer_sizes = [int(s) for s in layer_sizes]
        self.activation, self.output_activation = activation, output_activation
        rng = np.random.default_rng(seed)
        self.weights, self.biases, self._params = [], [], []
        fan_in = n_inputs
        for l, width in enumerate(self.layer_sizes, start=1):
            scale = (2.0 if activation == "relu" else 1.0) / math.sqrt(fan_in)
            w = [[_param(v, f"w{l}[{j}][{k}]") for k, v in enumerate(rng.normal(0, scale, fan_in))]
                 for j in range(width)]
            b = [_param(0.0, f"b{l}[{j}]") for j in range(width)]
            self.weights.append(w)
            self.biases.append(b)
            self._params += [(p.label, p) for row in w for p in row] + [(p.label, p) for p in b]
            fan_in = width
        self._x_names = [Data(f"x[{k}]") for k in range(n_inputs)]

    def config(self):
        return {"n_inputs": self.n_inputs, "layer_sizes": self.layer_sizes,
                "activation": self.activation, "output_activation": self.output_activation}

    def forward(self, x):
        """[(z⁽ˡ⁾, a⁽ˡ⁾) for l = 1..L]: every layer's nodes, as lists (a one-neuron layer too)."""
        a = self._inputs(x)
        layers = []
        last = len(self.layer_sizes)
        for l, (w, b) in enumerate(zip(self.weights, self.biases), start=1):
            act = self.output_activation if l == last else self.activation
            z = []
            for j, (row, bias) in enumerate(zip(w, b)):
                node = _affine_node((*row, *a, bias))
                node.label = f"z{l}[{j}]"
                z.append(node)
            if act == "linear":
                a = z
            else:
                a = [getattr(node, act)() for node in z]
                for j, node in enumerate(a):
                    node.label = f"a{l}[{j}]"
            layers.append((z, a))
        return layers

    def __call__(self, x):
        out = self.forward(x)[-1][1]
        return out[0] if len(out) == 1 else out


# --- losses -------------------------------------------------------------------------------------

_Y = Data("y")


def _residual(pred, y):
    # the target is data (labelled "y", never given a gradient step by the stepper), not a constant
    if not isinstance(y, Value):
        y = Value(np.asarray(y, dtype=np.float64) if isinstance(y, (list, tuple)) else y, label=_Y)
    return pred - y


def squared_error(pred, y):
    """Σ (ŷ − y)²: document 001's per-sample cost (a − y)², summed over a batch (document 002's "Loss")."""
    r = _residual(pred, y)
    out = r * r
    return out.sum() if out.data.__class__ is ndarray else out


def mse(pred, y):
    """1/n Σ (ŷ − y)²: document 002's cost U (and document 001's C = 1/n Σ Cₓ)."""
    r = _residual(pred, y)
    out = r * r
    return out.mean() if out.data.__class__ is ndarray else out


def half_mse(pred, y):
    """1/(2m) Σ (ŷ − y)²: document 000's L (its ½ cancels the 2 of the square)."""
    return mse(pred, y) * 0.5


def rmse(pred, y):
    """√(1/n Σ (ŷ − y)²), the root mean squared error."""
    return mse(pred, y) ** 0.5


LOSSES = {"mse": mse, "half_mse": half_mse, "squared_error": squared_error, "rmse": rmse}


# --- optimisers and training --------------------------------------------------------------------

class SGD:
    """Gradient descent: p ← p − lr·(∂L/∂p + weight_decay·p) (the update rule of every document;
    ``weight_decay`` > 0 adds the L2 penalty ½·weight_decay·Σ p² to the loss)."""

    def __init__(self, parameters, lr=0.1, weight_decay=0.0):
        self.parameters, self.lr, self.weight_decay = list(parameters), lr, weight_decay

    def _grad(self, p):
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

    def step(self):
        lr = self.lr
        for p in self.parameters:
            p.data -= lr * self._grad(p)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0.0


class Adam(SGD):
    """Adam (Kingma & Ba): per-parameter step sizes; robust defaults for ``microreg train``."""

    def __init__(self, parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        self.b1, self.b2, self.eps = betas[0], betas[1], eps
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)
        self.t = 0

    def step(self):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for i, p in enumerate(self.parameters):
            g = self._grad(p)
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            p.data -= self.lr * (self.m[i] / c1) / (math.sqrt(self.v[i] / c2) + self.eps)


class History(list):
    """The training loss of each epoch (before its update).

    ``stopped`` says why training broke off (a loss that stopped being finite; None if it did not).
    With validation data: ``validation`` holds the validation loss of each epoch, ``best_epoch``
    the epoch whose parameters were kept, and ``early_stop`` says when patience ran out.
    """

    stopped = None
    early_stop = None
    best_epoch = None

    def __init__(self, *args):
        super().__init__(*args)
        self.validation = []


class Progress:
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal)."""

    def __init__(self, total, enabled=True, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.last = -1
        self.start = time.perf_counter()

    def update(self, done, loss):
        if not self.enabled:
            return
        tenth = done * 10 // self.total
        if self.tty:
            if done == self.total or done % max(1, self.total // 200) == 0:
                bar = "#" * (done * 30 // self.total)
                self.stream.write(f"\r[{bar:<30}] epoch {done}/{self.total} loss {loss:.6g}")
                if done == self.total:
                    self.stream.write(f"  ({time.perf_counter() - self.start:.1f}s)\n")
                self.stream.flush()
        elif tenth != self.last:
            self.last = tenth
            self.stream.write(f"epoch {done}/{self.total} loss {loss:.6g}\n")


def fit(model, X, y, loss=mse, epochs=100, lr=0.1, optimizer=None, progress=True, callback=None,
        validation=None, patience=None):
    """Train ``model`` on all of (X, y) each epoch (full-batch gradient descent); returns a `History`.

    ``X``: (N, f) array; ``y``: (N,) array. ``loss``: one of the loss functions (or its name).
    ``optimizer``: an `SGD`/`Adam` over ``model.parameters()`` (default ``SGD(lr=lr)``).
    ``validation``: (X_val, y_val) scored every epoch; the parameters of the epoch with the lowest
    validation loss are kept at the end, and with ``patience`` training stops once that many
    epochs have passed without a new best.
    If the loss becomes inf or NaN, training stops, the parameters go back to those of the last
    finite loss (or the best validation epoch), and ``history.stopped`` says what happened and what to try.
    """
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r} (losses: {', '.join(LOSSES)})")
        loss = LOSSES[loss]
    elif not callable(loss):
        raise ValueError(f"fit: loss must be a function or one of {', '.join(LOSSES)}; got {loss!r}")
    X, y = _fit_data(X, y, "X", "y")
    if validation is not None:
        validation = _fit_data(*validation, "X_val", "y_val")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"fit: patience must be a whole number of epochs ≥ 1, got {patience!r}")
    optimizer = optimizer or SGD(model.parameters(), lr=lr)
    history = History()
    bar = Progress(epochs, enabled=progress)
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is caught below, by name
        return _fit_loop(model, X, y, loss, epochs, optimizer, history, bar, progress, callback,
                         validation, patience)


def _fit_data(X, y, xname, yname):
    """X as an (N, f) float array, y as (N,); a value that is not a finite number is named by place."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"fit: {xname} has {X.shape[0]} rows but {yname} has {y.shape[0]} values")
    for name, a in ((xname, X), (yname, y)):
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            where = ", ".join(str(i) for i in bad[0])
            raise ValueError(f"fit: the data {name}[{where}] is {a[tuple(bad[0])]} ({len(bad)} values of {name} "
                             "are not finite numbers): clean the data first")
    return X, y


def _fit_loop(model, X, y, loss, epochs, optimizer, history, bar, progress, callback, validation, patience):
    params = optimizer.parameters
    saved = None   # the parameters that gave the last finite loss
    best, best_value = None, math.inf   # the parameters of the best validation epoch
    for epoch in range(1, epochs + 1):
        L = loss(model(X), y)
        value = L.data
        if validation is not None and math.isfinite(value):
            v = loss(model(validation[0]), validation[1]).data
            value_ok = math.isfinite(v)
        else:
            v, value_ok = None, math.isfinite(value)
        if not value_ok:
            keep = best if best is not None else saved
            if keep is not None:
                for p, x in zip(params, keep):
                    p.data = x
            which = (f"those of epoch {history.best_epoch} (best on validation)" if best is not None
                     else f"those of epoch {epoch - 1}")
            what = value if not math.isfinite(value) else f"{value} but the validation loss {v}"
            history.stopped = (f"stopped at epoch {epoch}: the loss became {what}; the parameters are "
                               f"{which} (the learning rate {optimizer.lr} is probably too large: try a smaller one)")
            if progress:
                bar.stream.write("\n" + history.stopped + "\n")
            break
        saved = [p.data for p in params]
        history.append(value)
        if v is not None:
            history.validation.append(v)
            if v < best_value:
                best, best_value, history.best_epoch = saved, v, epoch
            elif patience is not None and epoch - history.best_epoch >= patience:
                history.early_stop = (f"stopped early at epoch {epoch}: no better validation loss for {patience} "
                                      f"epochs; kept the parameters of epoch {history.best_epoch}")
                if progress and bar.enabled and bar.tty:
                    bar.stream.write("\n")
                break
        optimizer.zero_grad()
        L.backward()
        optimizer.step()
        bar.update(epoch, value)
        if callback is not None:
            callback(epoch, value)
    if best is not None and history.stopped is None:
        for p, x in zip(params, best):
            p.data = x
    return history


# --- loading ------------------------------------------------------------------------------------

MODELS = {"LinearRegression": LinearRegression, "TwoLayerNet": TwoLayerNet, "MLP": MLP}

# Each model's config keys: whole numbers ≥ 1 ("width"), a list of them ("widths") or an activation name.
CONFIG_KEYS = {"LinearRegression": {"n_features": "width"},
               "TwoLayerNet": {"n_features": "width", "n_hidden": "width"},
               "MLP": {"n_inputs": "width", "layer_sizes": "widths", "activation": "activation",
                       "output_activation": "activation"}}


def _parameter_count(name, config):
    """How many parameters the config asks for, in Python ints (no allocation, no overflow)."""
    if name == "LinearRegression":
        return config["n_features"] + 1
    if name == "TwoLayerNet":
        f, h = config["n_features"], config["n_hidden"]
        return h * f + 2 * h + 1
    count, fan_in = 0, config["n_inputs"]
    for width in config["layer_sizes"]:
        count, fan_in = count + width * fan_in + width, width
    return count


def _check_config(path, name, config):
    """Every config key of a model file checked, by name, before anything is built."""
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: key 'config' must be an object, got {type(config).__name__}")
    keys = CONFIG_KEYS[name]
    unknown = [k for k in config if k not in keys]
    if unknown:
        raise ModelFileError(f"{path}: key 'config': unknown keys {unknown} for {name} (known: {list(keys)})")
    for key, kind in keys.items():
        if key not in config:
            if kind == "activation":
                continue
            raise ModelFileError(f"{path}: key 'config.{key}' is missing")
        value = config[key]
        if kind == "width" and not _is_width(value):
            raise ModelFileError(f"{path}: key 'config.{key}' must be a whole number ≥ 1, got {_short(value)}")
        if kind == "widths" and not (isinstance(value, list) and value and all(map(_is_width, value))):
            raise ModelFileError(f"{path}: key 'config.{key}' must be a list of whole numbers ≥ 1, "
                                 f"got {_short(value)}")
        if kind == "activation" and value not in ACTIVATIONS:
            raise ModelFileError(f"{path}: key 'config.{key}' must be one of {ACTIVATIONS}, got {_short(value)}")


def _is_width(value):
    return type(value) is int and value >= 1


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _read_model_file(path):
    """The JSON document of a model file, its format and model name checked; errors name file and key."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not a model file: byte {exc.start} is not UTF-8 ({exc.reason})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not a model file: its JSON is nested too deeply") from None
    except ValueError as exc:   # e.g. an integer of more than 4300 digits
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "microreg-model":
        raise ModelFileError(f"{path}: key 'format': not a microreg model file")
    for key in ("model", "config", "parameters"):
        if key not in doc:
            raise ModelFileError(f"{path}: key {key!r} is missing")
    if not isinstance(doc["model"], str) or doc["model"] not in MODELS:
        raise ModelFileError(f"{path}: key 'model': unknown model {_short(doc['model'])} (known: {sorted(MODELS)})")
    return doc


def load_network(path):
    """Rebuild the network of a JSON file written by ``Module.save``; errors name the file and key.

    Returns the `Module` (extra keys of the file in ``.extra``). The config is checked key by key
    and must ask for exactly as many parameters as the file holds, before anything is built.
    """
    doc = _read_model_file(path)
    name = doc["model"]
    _check_config(path, name, doc["config"])
    if not isinstance(doc["parameters"], dict):
        raise ModelFileError(f"{path}: key 'parameters' must be an object of name: number")
    expected = _parameter_count(name, doc["config"])
    if expected != len(doc["parameters"]):
        raise ModelFileError(f"{path}: key 'config': {name} with this config has {_short(expected)} parameters, "
                             f"key 'parameters' holds {len(doc['parameters'])}")
    try:
        model = MODELS[name](**doc["config"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: key 'config': {exc}") from None
    model.load_state_dict(doc["parameters"], source=f"{path}: key 'parameters'")
    model.extra = {k: v for k, v in doc.items() if k not in ("format", "version", "model", "config", "parameters")}
    return model


def load_model(path):
    """Load a model file: a network saved with ``Module.save``, or a ``microreg train`` model.

    A file written by ``microreg train`` holds the data preparation too: for it, this returns a
    `microreg.train.TrainedModel`, whose call takes raw rows (numbers, a dict per row, or a CSV
    path) and returns predictions in the target's own units (its network is ``.network``).
    Any other file gives the `Module` itself (as `load_network`).
    """
    network = load_network(path)
    if "preparation" in network.extra or "x_scaler" in network.extra:
        from .train import TrainedModel
        return TrainedModel.from_network(network, path)
    return network


__all__ = ["Module", "LinearRegression", "TwoLayerNet", "MLP", "mse", "half_mse", "squared_error", "rmse",
           "SGD", "Adam", "fit", "History", "load_model", "load_network", "ModelFileError", "atomic_write"]
