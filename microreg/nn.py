"""The networks of the source documents, built from `Value` nodes, and how to train them.

- `LinearRegression(n_features)`: ŷ = w·x + b, "the simplest neural network" (documents 001, 002;
  document 002's β1, β0 are ``w[0]`` and ``b``).
- `TwoLayerNet(n_features, n_hidden)`: document 000's net, z1 = w1·x + b1, a1 = σ(z1),
  z2 = w2·a1 + b2, ŷ = z2 (sigmoid hidden layer, linear output, for regression).
- `DeepNet(n_inputs, layer_sizes)`: document 001's L-layer net, z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾).
- `Neuron`, `Layer`, `MLP(nin, nouts)`: micrograd's classes with micrograd's meaning and defaults
  (relu hidden layers, a linear last layer, weights uniform on [−1, 1] from ``random``), so
  micrograd's code runs unchanged with ``from microreg.nn import MLP``.

Parameters are named in the documents' notation (``w1[j][k]``, ``b1[j]``, ``w2[j]``, ``b2``), and
those names are the nodes' labels, so graphs and steps read like the documents. Intermediate
nodes are labelled too (``z1[j]``, ``a1[j]``, ``z2``).

Call a model with one sample (``net([x1, ..., xf])``, numbers or Values) for a scalar Value, or
with an (N, f) numpy array for one batch Value of N predictions.

The losses make each document's convention explicit: `half_mse` (1/(2m) Σ, document 000),
`mse` (1/n Σ, document 002, and document 001's average cost), `squared_error` (Σ (a − y)²;
one sample: document 001's C_x = (a − y)²) and `rmse`. `SGD`, `Adam` (both with an optional L2
``weight_decay``) and `fit` train; given validation data, `fit` keeps the parameters of the best
validation epoch and stops after ``patience`` epochs without a better one. The optimisers take
``model.parameters()`` or ``model.named_parameters()``, and any number type for their settings
(an ``np.float64`` learning rate too): they check them once and keep every ``.data`` a float.

``Module.save`` writes JSON atomically (refusing non-finite parameters); `load_network` rebuilds the
network, checking every key before anything is allocated; `load_model` gives, for a model.json from
``microreg train``, a `TrainedModel` that predicts from raw rows in the target's units.
"""

import json
import math
import numbers
import os
import random
import sys
import time
import warnings

import numpy as np

from .data import DataError, Preparation, Standardizer, Table, read_table
from .engine import Data, Value, _affine_node, _new, _unary
from .files import atomic_write, read_input
from .ops import RELU, SIGMOID

ndarray = np.ndarray

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")


class ModelFileError(ValueError):
    """A model file that cannot be loaded: the message names the file and the key."""


FILE_KEYS = ("format", "version", "model", "config", "parameters")   # a model file's own keys (not extras)


def _shape(n_inputs, widths, activations):
    """'2 → 16 relu → 16 relu → 1 linear': a net's widths and activations, input to output."""
    return " → ".join([str(n_inputs)] + [f"{w} {a}" for w, a in zip(widths, activations)])


class LayerName(str):
    """A label that `microreg.nn` gives a node of layer ``l`` of a model (``w1[0][2]``, ``z1[0]``,
    ``b2``): the text is the documents' notation; the type says the graph is a model's, so
    `microreg.viz.draw_graph` groups its nodes by layer (it never guesses layers from the digits
    of labels a user wrote). ``layer`` is the layer number."""

    __slots__ = ()

    @property
    def layer(self):
        digits = "".join(ch for ch in self.split("[")[0] if ch.isdigit())
        return int(digits) if digits else None


def _layer_name(text, layer):
    return LayerName(text) if layer is not None else text


_Z2 = LayerName("z2")


def _width(owner, name, value):
    """A layer width or feature count as an int ≥ 1; anything else refused by name, in one line."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner} {name} must be a whole number ≥ 1, got {type(value).__name__} {_short(value)}")
    if value < 1:
        raise ValueError(f"{owner} {name} must be a whole number ≥ 1, got {value}")
    return int(value)


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
        return {name: float(p.data) for name, p in self._params}

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
            number = math.nan
            if not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real):   # np.float32 too
                try:
                    number = float(value)
                except OverflowError:   # an integer too long for a float
                    pass
            if not math.isfinite(number):
                raise ModelFileError(f"{source}: parameter {name!r} must be a finite number, got {_short(value)}")
            p.data = number

    def config(self):
        """The constructor arguments that rebuild this model (saved with it)."""
        raise NotImplementedError

    def save(self, path, **extra):
        """Write the model as JSON (atomically: a crash never leaves half a file).

        A parameter that is not a finite number is refused here, by name (a file whose config or
        parameters ``load_model`` would refuse is never written), and so is an extra named like one
        of the file's own keys (``format``, ``version``, ``model``, ``config``, ``parameters``).
        Other extras are stored as given (``TrainedModel.save`` writes its own ``preparation``).
        """
        kind = type(self).__name__
        reserved = [k for k in extra if k in FILE_KEYS]
        if reserved:
            raise ValueError(f"cannot save {kind}: the extra {reserved[0]!r} would overwrite the file's own key "
                             f"(the file's keys: {', '.join(FILE_KEYS)}); give it another name")
        for name, p in self._params:
            if isinstance(p.data, (bool, np.bool_)) or not isinstance(p.data, numbers.Real):
                raise ValueError(f"cannot save {kind}: parameter {name!r} is {_short(p.data)}, not a number")
            if not math.isfinite(p.data):
                raise ValueError(f"cannot save {kind}: parameter {name!r} is {p.data} "
                                 "(the training run diverged: nothing was written)")
        doc = {**extra, "format": "microreg-model", "version": 1, "model": kind,
               "config": self.config(), "parameters": self.state_dict()}
        try:
            text = json.dumps(doc, indent=1)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot save {kind}: an extra is not JSON ({exc}): nothing was written") from None
        atomic_write(path, text)

    @classmethod
    def load(cls, path):
        """Load a model saved with ``save``; returns the model (and keeps extras in ``.extra``).

        ``TwoLayerNet.load(path)`` refuses a file holding another kind of model (``Module.load``
        and `load_model` take any).
        """
        model = load_model(path)
        network = getattr(model, "network", model)   # a microreg train file: the network inside
        if not isinstance(network, cls):
            raise ModelFileError(f"{path}: key 'model': the file holds a {type(network).__name__}, not a "
                                 f"{cls.__name__} (load_model(path) loads any model)")
        return model

    def _rows(self, rows):
        """A list of rows as an (N, f) array; a row of the wrong length is named."""
        for i, row in enumerate(rows):
            n = len(row) if isinstance(row, (list, tuple, ndarray)) else None
            if n != self.n_features:
                what = f"has {n} values" if n is not None else f"is {_short(row)}, not a row of values"
                raise ValueError(f"{type(self).__name__} expects {self.n_features} features per sample, "
                                 f"but row {i} (counting from 0) {what}")
        return self._array(rows)

    def _array(self, x):
        try:
            return np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{type(self).__name__}: the input holds something that is not a number ({exc})") from None

    def _check_features(self, n):
        if n != self.n_features:
            raise ValueError(f"{type(self).__name__} expects {self.n_features} features per sample, got {n}")

    def _inputs(self, x):
        """One tuple of input nodes: scalars for one sample, batch Values for an (N, f) array."""
        if x.__class__ is list and len(x) == self.n_features and all(v.__class__ is float for v in x):
            return tuple(map(_leaf, x, self._x_names))   # the common case, made cheap
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple, ndarray)):
            x = self._rows(x)                            # a list of rows is a batch, read row by row
        elif not isinstance(x, (list, tuple, ndarray, Value, numbers.Real)) and hasattr(x, "__array__"):
            x = self._array(x)                           # a pandas DataFrame, say: its values, not its column names
        elif isinstance(x, ndarray) and x.dtype.kind not in "biuf":
            x = self._array(x)                           # an array of strings or objects: named, not numpy's words
        if isinstance(x, ndarray) and x.ndim == 2:
            self._check_features(x.shape[1])
            return tuple(Value(np.ascontiguousarray(x[:, k], dtype=np.float64), label=Data(f"x[{k}]"))
                         for k in range(x.shape[1]))
        if isinstance(x, ndarray) and x.ndim == 0:
            x = [x.item()]                               # np.array(0.5) is the number 0.5
        elif isinstance(x, ndarray) and x.ndim > 2:
            raise ValueError(f"{type(self).__name__} takes one sample or an (N, {self.n_features}) array, "
                             f"got an array of shape {x.shape}")
        if isinstance(x, (numbers.Real, Value)):
            x = [x]
        x = list(x)
        self._check_features(len(x))
        return tuple(xi if isinstance(xi, Value) else Value(xi, label=name) for xi, name in zip(x, self._x_names))


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
        self.n_features = n_features = _width("LinearRegression", "n_features", n_features)
        rng = np.random.default_rng(seed)
        self.w = [_param(v, f"w[{k}]") for k, v in enumerate(rng.normal(0, 0.1, n_features))]
        self.b = _param(0.0, "b")
        self._params = [(p.label, p) for p in self.w] + [("b", self.b)]
        self._x_names = [Data(f"x[{k}]") for k in range(n_features)]

    def config(self):
        return {"n_features": self.n_features}

    def __repr__(self):
        return f"LinearRegression({self.n_features}): ŷ = w·x + b, {len(self._params)} parameters"

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
        n_features = _width("TwoLayerNet", "n_features", n_features)
        n_hidden = _width("TwoLayerNet", "n_hidden", n_hidden)
        self.n_features, self.n_hidden = n_features, n_hidden
        rng = np.random.default_rng(seed)
        # wide enough first-layer weights that the sigmoids spread over standardised inputs
        w1 = rng.normal(0, 2.0 / math.sqrt(n_features), (n_hidden, n_features))
        b1 = rng.normal(0, 1.0, n_hidden)
        w2 = rng.normal(0, 1.0 / math.sqrt(n_hidden), n_hidden)
        self.w1 = [[_param(w1[j, k], LayerName(f"w1[{j}][{k}]")) for k in range(n_features)] for j in range(n_hidden)]
        self.b1 = [_param(b1[j], LayerName(f"b1[{j}]")) for j in range(n_hidden)]
        self.w2 = [_param(w2[j], LayerName(f"w2[{j}]")) for j in range(n_hidden)]
        self.b2 = _param(0.0, LayerName("b2"))
        self._params = ([(p.label, p) for row in self.w1 for p in row] + [(p.label, p) for p in self.b1]
                        + [(p.label, p) for p in self.w2] + [(self.b2.label, self.b2)])
        self._x_names = [Data(f"x[{k}]" if n_features > 1 else "x") for k in range(n_features)]
        self._z1_names = [LayerName(f"z1[{j}]") for j in range(n_hidden)]
        self._a1_names = [LayerName(f"a1[{j}]") for j in range(n_hidden)]
        self._w1_rows = [tuple(row) for row in self.w1]
        self._w2_b2 = tuple(self.w2)

    def config(self):
        return {"n_features": self.n_features, "n_hidden": self.n_hidden}

    def __repr__(self):
        return (f"TwoLayerNet({self.n_features}, {self.n_hidden}): "
                f"{_shape(self.n_features, [self.n_hidden, 1], ['sigmoid', 'linear'])}, {len(self._params)} parameters")

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
        z2.label = _Z2
        return z1, a1, z2

    def __call__(self, x):
        return self.forward(x)[2]


class DeepNet(Module):
    """Document 001's L-layer net: z⁽ˡ⁾ = w⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = σ(z⁽ˡ⁾), a⁽⁰⁾ = x.

    ``layer_sizes`` lists the width of every layer after the input (the last is the output).
    ``activation`` is σ of the hidden layers and ``output_activation`` that of the last one:
    each of "sigmoid", "tanh", "relu", "linear". Parameters are ``w{l}[j][k]`` and ``b{l}[j]``.
    A network with one output returns a Value; with several, a list of Values.

    Its hidden layers are sigmoid by default, as in the document; micrograd's `MLP` (relu
    hidden layers, micrograd's initialisation) is the other L-layer net here.
    """

    def __init__(self, n_inputs, layer_sizes, activation="sigmoid", output_activation="linear", seed=None):
        for name, act in (("activation", activation), ("output_activation", output_activation)):
            if act not in ACTIVATIONS:
                raise ValueError(f"DeepNet {name} must be one of {ACTIVATIONS}, got {act!r}")
        n_inputs = _width("DeepNet", "n_inputs", n_inputs)
        if isinstance(layer_sizes, (numbers.Number, str, bytes)) or not hasattr(layer_sizes, "__iter__"):
            raise TypeError(f"DeepNet layer_sizes must be a list of widths, one per layer (e.g. [16, 1]), "
                            f"got {type(layer_sizes).__name__} {_short(layer_sizes)}")
        sizes = list(layer_sizes)
        if not sizes:
            raise ValueError(f"DeepNet layer_sizes must list at least one width (the last is the output), "
                             f"got {_short(layer_sizes)}")
        self.n_features = self.n_inputs = n_inputs
        self.layer_sizes = [_width("DeepNet", f"layer_sizes[{i}]", s) for i, s in enumerate(sizes)]
        self.activation, self.output_activation = activation, output_activation
        rng = np.random.default_rng(seed)
        self.weights, self.biases, self._params = [], [], []
        fan_in = n_inputs
        for l, width in enumerate(self.layer_sizes, start=1):
            scale = (2.0 if activation == "relu" else 1.0) / math.sqrt(fan_in)
            w = [[_param(v, _layer_name(f"w{l}[{j}][{k}]", l)) for k, v in enumerate(rng.normal(0, scale, fan_in))]
                 for j in range(width)]
            b = [_param(0.0, _layer_name(f"b{l}[{j}]", l)) for j in range(width)]
            self.weights.append(w)
            self.biases.append(b)
            self._params += [(p.label, p) for row in w for p in row] + [(p.label, p) for p in b]
            fan_in = width
        self._x_names = [Data(f"x[{k}]") for k in range(n_inputs)]
        self._z_names = [[_layer_name(f"z{l}[{j}]", l) for j in range(width)]
                         for l, width in enumerate(self.layer_sizes, start=1)]
        self._a_names = [[_layer_name(f"a{l}[{j}]", l) for j in range(width)]
                         for l, width in enumerate(self.layer_sizes, start=1)]

    def __repr__(self):
        last = len(self.layer_sizes)
        acts = [self.output_activation if l == last else self.activation for l in range(1, last + 1)]
        return (f"DeepNet({self.n_inputs}, {self.layer_sizes}): {_shape(self.n_inputs, self.layer_sizes, acts)}, "
                f"{len(self._params)} parameters")

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
            z_names, a_names = self._z_names[l - 1], self._a_names[l - 1]
            for j, (row, bias) in enumerate(zip(w, b)):
                node = _affine_node((*row, *a, bias))
                node.label = z_names[j]
                z.append(node)
            if act == "linear":
                a = z
            else:
                a = [getattr(node, act)() for node in z]
                for j, node in enumerate(a):
                    node.label = a_names[j]
            layers.append((z, a))
        return layers

    def __call__(self, x):
        out = self.forward(x)[-1][1]
        return out[0] if len(out) == 1 else out


class Neuron(Module):
    """micrograd's neuron: relu(Σ wᵢ·xᵢ + b), or the affine sum alone with ``nonlin=False``.

    As in micrograd, the weights start uniform on [−1, 1] from Python's ``random`` module (so
    ``random.seed(…)`` makes micrograd's own numbers) and the bias at 0; ``n.w``, ``n.b``,
    ``n.parameters()`` (the weights, then the bias) and ``n(x)`` work as there. The sum is one
    ``affine`` node (one step in the stepper) where micrograd chains a ``*`` and a ``+`` per input.
    """

    def __init__(self, nin, nonlin=True, _names=None):
        self.n_features = self.nin = _width("Neuron", "nin", nin)
        self.nonlin = bool(nonlin)
        w_names, b_name, self._z_name, self._a_name = _names or (
            [f"w[{k}]" for k in range(nin)], "b", "z", "a")
        self.w = [_param(random.uniform(-1, 1), name) for name in w_names]
        self.b = _param(0.0, b_name)
        self._params = [(p.label, p) for p in self.w] + [(self.b.label, self.b)]
        self._x_names = [Data(f"x[{k}]") for k in range(nin)]
        self._row = tuple(self.w)

    def _forward(self, xs):
        z = _affine_node(self._row + xs + (self.b,))
        z.label = self._z_name
        if not self.nonlin:
            return z
        a = _unary(RELU, z)
        a.label = self._a_name
        return a

    def __call__(self, x):
        return self._forward(self._inputs(x))

    def config(self):
        return {"nin": self.nin, "nonlin": self.nonlin}

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({self.nin})"


class Layer(Module):
    """micrograd's layer: ``nout`` neurons, each seeing all ``nin`` inputs (``nonlin`` as `Neuron`).

    ``layer(x)`` returns the list of outputs, a list even for one neuron (micrograd returns a bare
    Value then, so code that indexes a layer's outputs breaks on width 1; an `MLP` whose last
    layer has one neuron returns a Value, as micrograd's does); ``layer.neurons`` and
    ``layer.parameters()`` (neuron by neuron) as in micrograd.
    """

    def __init__(self, nin, nout, nonlin=True, _l=None):
        nin, nout = _width("Layer", "nin", nin), _width("Layer", "nout", nout)
        self.n_features, self.nin, self.nout, self.nonlin = nin, nin, nout, bool(nonlin)
        l = "" if _l is None else str(_l)

        def names(j):
            return ([_layer_name(f"w{l}[{j}][{k}]", _l) for k in range(nin)], _layer_name(f"b{l}[{j}]", _l),
                    _layer_name(f"z{l}[{j}]", _l), _layer_name(f"a{l}[{j}]", _l))
        self.neurons = [Neuron(nin, nonlin=nonlin, _names=names(j)) for j in range(nout)]
        self._params = [pair for n in self.neurons for pair in n._params]
        self._x_names = [Data(f"x[{k}]") for k in range(nin)]

    def _forward(self, xs):
        return [n._forward(xs) for n in self.neurons]

    def __call__(self, x):
        return self._forward(self._inputs(x))

    def config(self):
        return {"nin": self.nin, "nout": self.nout, "nonlin": self.nonlin}

    def __repr__(self):
        return f"Layer({self.nin}, {self.nout}): {self.nout} × {repr(self.neurons[0])}"


class MLP(Module):
    """micrograd's multi-layer perceptron: ``MLP(nin, nouts)``, relu hidden layers, a linear last layer.

    It is micrograd's ``MLP`` with micrograd's meaning and defaults, so micrograd code runs
    unchanged (``from microreg.nn import MLP`` for ``from micrograd.nn import MLP``): ``nouts``
    lists each layer's width (the last is the output), the weights start uniform on [−1, 1] from
    Python's ``random`` module and the biases at 0, ``model.layers``, ``layer.neurons``,
    ``model.parameters()`` (in micrograd's order) and ``model.zero_grad()`` are there. Beyond
    micrograd: its parameters are named ``w{l}[j][k]``, ``b{l}[j]`` (layer l from 1) like the
    documents' nets, it takes an (N, nin) array for a batch, it saves and loads as JSON, and
    `fit` trains it. Document 001's sigmoid net is `DeepNet`.
    """

    def __init__(self, nin, nouts):
        nin = _width("MLP", "nin", nin)
        if isinstance(nouts, (numbers.Number, str, bytes)) or not hasattr(nouts, "__iter__"):
            raise TypeError(f"MLP nouts must be a list of widths, one per layer (e.g. [16, 16, 1]), "
                            f"got {type(nouts).__name__} {_short(nouts)}")
        sizes = [_width("MLP", f"nouts[{i}]", s) for i, s in enumerate(list(nouts))]
        if not sizes:
            raise ValueError(f"MLP nouts must list at least one width (the last is the output), got {_short(nouts)}")
        self.n_features, self.nin, self.nouts = nin, nin, sizes
        widths = [nin] + sizes
        self.layers = [Layer(widths[i], widths[i + 1], nonlin=i != len(sizes) - 1, _l=i + 1)
                       for i in range(len(sizes))]
        self._params = [pair for layer in self.layers for pair in layer._params]
        self._x_names = [Data(f"x[{k}]") for k in range(nin)]

    def __call__(self, x):
        xs = self._inputs(x)
        for layer in self.layers:
            xs = tuple(layer._forward(xs))
        return xs[0] if len(xs) == 1 else list(xs)

    def config(self):
        return {"nin": self.nin, "nouts": self.nouts}

    def __repr__(self):
        acts = ["relu" if layer.nonlin else "linear" for layer in self.layers]
        return f"MLP({self.nin}, {self.nouts}): {_shape(self.nin, self.nouts, acts)}, {len(self._params)} parameters"




# --- losses -------------------------------------------------------------------------------------

_Y = Data("y")


def _residual(pred, y, loss):
    if isinstance(pred, (list, tuple)) and pred and all(isinstance(p, Value) for p in pred):
        raise TypeError(f"{loss}: the prediction is a list of {len(pred)} Values (a network with {len(pred)} "
                        f"outputs), but {loss} compares one output with y: take one (pred[0]) or add up "
                        f"one {loss} per output")
    # the target is data (labelled "y", never given a gradient step by the stepper), not a constant
    if not isinstance(y, Value):
        y = Value(np.asarray(y, dtype=np.float64) if isinstance(y, (list, tuple)) else y, label=_Y)
    return pred - y


def squared_error(pred, y):
    """Σ (ŷ − y)²: document 001's per-sample cost (a − y)², summed over a batch (document 002's "Loss")."""
    r = _residual(pred, y, "squared_error")
    out = r * r
    return out.sum() if out.data.__class__ is ndarray else out


def mse(pred, y, _name="mse"):
    """1/n Σ (ŷ − y)²: document 002's cost U (and document 001's C = 1/n Σ Cₓ)."""
    r = _residual(pred, y, _name)
    out = r * r
    return out.mean() if out.data.__class__ is ndarray else out


def half_mse(pred, y):
    """1/(2m) Σ (ŷ − y)²: document 000's L (its ½ cancels the 2 of the square)."""
    return mse(pred, y, "half_mse") * 0.5


def rmse(pred, y):
    """√(1/n Σ (ŷ − y)²), the root mean squared error."""
    return mse(pred, y, "rmse") ** 0.5


LOSSES = {"mse": mse, "half_mse": half_mse, "squared_error": squared_error, "rmse": rmse}


# --- optimisers and training --------------------------------------------------------------------

def _hyper(owner, name, value, low=0.0, below=None):
    """A hyper-parameter as a Python float, checked once (when set), so every update stays a float.

    numpy scalars (``np.logspace(...)[k]``), ints and 0-d arrays are numbers too; a string, a bool,
    NaN, inf or a value out of range is refused by name.
    """
    number_0d = isinstance(value, ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"
    if isinstance(value, (bool, np.bool_)) or not (isinstance(value, numbers.Real) or number_0d):
        raise TypeError(f"{owner} {name} must be a number, got {type(value).__name__} {_short(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    allowed = f"a finite number ≥ {low:g}" + (f" and < {below:g}" if below is not None else "")
    if not math.isfinite(number) or number < low or (below is not None and number >= below):
        shown = _short(value) if isinstance(value, int) else repr(number)   # np.float64(inf) as inf
        raise ValueError(f"{owner} {name} must be {allowed}, got {shown}")
    return number


def _grad_number(p, g):
    """The number an optimiser steps with, for a grad that is not a float: a batch array as it is,
    a Value's data (``backward(create_graph=True)`` leaves Values: the step uses their numbers, as
    PyTorch's optimisers do), None for None (the parameter is skipped); anything else is named."""
    if g is None or g.__class__ is ndarray or isinstance(g, numbers.Real) and not isinstance(g, bool):
        return g
    if isinstance(g, Value):
        return g.data
    raise TypeError(f"optimiser step: the grad of {p.label or 'a parameter'!s} is "
                    f"{type(g).__name__} {_short(g)}, not a number")


def _parameter_list(owner, parameters):
    """The Values an optimiser updates: ``model.parameters()``, or ``model.named_parameters()`` pairs
    (which PyTorch's optimisers accept too)."""
    if isinstance(parameters, (Value, Module)):
        raise TypeError(f"{owner} takes a list of parameters: pass model.parameters(), "
                        f"got a {type(parameters).__name__}")
    try:
        items = list(parameters)
    except TypeError:
        raise TypeError(f"{owner} takes a list of parameters (model.parameters()), "
                        f"got {type(parameters).__name__} {_short(parameters)}") from None
    values = []
    for i, p in enumerate(items):
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], Value):   # (name, Value)
            p = p[1]
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__} ({_short(p)}), not a Value: "
                            "pass model.parameters()")
        values.append(p)
    if not values:
        raise ValueError(f"{owner} got an empty list of parameters")
    unique = list({id(p): p for p in values}.values())     # first place of each, in order
    if len(unique) < len(values):     # stepped twice per step otherwise; PyTorch warns too
        twice = next(p for i, p in enumerate(values) if any(q is p for q in values[:i]))
        warnings.warn(f"{owner}: parameter {twice.label or 'unlabelled'!s} is listed more than once; "
                      f"it is updated once per step", stacklevel=3)
    return unique


class SGD:
    """Gradient descent: p ← p − lr·(∂L/∂p + weight_decay·p) (the update rule of every document;
    ``weight_decay`` > 0 adds the L2 penalty ½·weight_decay·Σ p² to the loss).

    ``lr`` and ``weight_decay`` are checked and made Python floats when set (so ``opt.lr = lrs[k]``
    with a numpy schedule works); an update assigns a new value to ``p.data`` and never changes a
    batch parameter's array in place (the array may be the caller's own).
    """

    def __init__(self, parameters, lr=0.1, weight_decay=0.0):
        owner = type(self).__name__
        self.parameters = _parameter_list(owner, parameters)
        self.lr, self.weight_decay = lr, weight_decay

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _hyper(type(self).__name__, "lr", value)

    @property
    def weight_decay(self):
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value):
        self._weight_decay = _hyper(type(self).__name__, "weight_decay", value)

    def step(self):
        lr, decay = self._lr, self._weight_decay
        for p in self.parameters:
            g = p.grad
            if g.__class__ is not float:     # a batch, a Value (after create_graph=True), None
                g = _grad_number(p, g)
                if g is None:                # as in PyTorch: a parameter without a grad is skipped
                    continue
            p.data = p.data - lr * (g + decay * p.data if decay else g)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0.0


class Adam(SGD):
    """Adam (Kingma & Ba): per-parameter step sizes; robust defaults for ``microreg train``."""

    def __init__(self, parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr, weight_decay)
        self.betas, self.eps = betas, eps
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)
        self.t = 0

    @property
    def betas(self):
        return self._b1, self._b2

    @betas.setter
    def betas(self, value):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
            raise TypeError(f"Adam betas must be a pair (β1, β2), got {_short(value)}")
        self._b1 = _hyper("Adam", "betas[0]", value[0], below=1.0)
        self._b2 = _hyper("Adam", "betas[1]", value[1], below=1.0)

    @property
    def eps(self):
        return self._eps

    @eps.setter
    def eps(self, value):
        eps = _hyper("Adam", "eps", value)
        if eps == 0.0:      # a parameter whose grad stays 0 would be divided by 0
            raise ValueError("Adam eps must be > 0 (it keeps the step finite where a grad is 0), got 0")
        self._eps = eps

    def step(self):
        self.t += 1
        lr, b1, b2, eps, decay = self._lr, self._b1, self._b2, self._eps, self._weight_decay
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        m, v = self.m, self.v
        for i, p in enumerate(self.parameters):
            g = p.grad
            if g.__class__ is not float:     # a batch, a Value (after create_graph=True), None
                g = _grad_number(p, g)
                if g is None:                # as in PyTorch: a parameter without a grad is skipped
                    continue
            if decay:
                g = g + decay * p.data
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            scale = v[i] / c2
            root = math.sqrt(scale) if scale.__class__ is float else np.sqrt(scale)   # a batch parameter: per sample
            p.data = p.data - lr * (m[i] / c1) / (root + eps)


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
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal), the loss
    under its own name (``mse 0.0123``: on the scale the model is trained on)."""

    def __init__(self, total, enabled=True, stream=None, name="loss"):
        self.total, self.enabled, self.name = total, enabled, name
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
                self.stream.write(f"\r[{bar:<30}] epoch {done}/{self.total} {self.name} {loss:.6g}")
                if done == self.total:
                    self.stream.write(f"  ({time.perf_counter() - self.start:.1f}s)\n")
                self.stream.flush()
        elif tenth != self.last:
            self.last = tenth
            self.stream.write(f"epoch {done}/{self.total} {self.name} {loss:.6g}\n")


def fit(model, X, y, loss=mse, epochs=100, lr=None, optimizer=None, progress=True, callback=None,
        validation=None, patience=None):
    """Train ``model`` on all of (X, y) each epoch (full-batch gradient descent); returns a `History`.

    ``X``: (N, f) array; ``y``: (N,) array. ``loss``: one of the loss functions (or its name).
    ``optimizer``: an `SGD`/`Adam` over ``model.parameters()`` (default ``SGD(lr=lr)``, ``lr``
    0.1 unless given; with an ``optimizer`` of your own, its learning rate is the one it was made
    with, and ``lr`` is refused). ``progress``: True or False.
    ``validation``: (X_val, y_val) scored every epoch; the parameters of the epoch with the lowest
    validation loss are kept at the end, and with ``patience`` training stops once that many
    epochs have passed without a new best (``patience`` needs ``validation``: it is refused without).
    If the loss becomes inf or NaN, training stops, the parameters go back to those of the last
    finite loss (or the best validation epoch), and ``history.stopped`` says what happened and what to try.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be a microreg model (LinearRegression, TwoLayerNet, MLP or another "
                        f"Module), got {type(model).__name__} {_short(model)}")
    if progress not in (True, False):
        raise TypeError(f"fit: progress must be True or False, got {_short(progress)}")
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r} (losses: {', '.join(LOSSES)})")
        loss = LOSSES[loss]
    elif not callable(loss):
        raise ValueError(f"fit: loss must be a function or one of {', '.join(LOSSES)}; got {loss!r}")
    outputs = getattr(model, "layer_sizes", [1])[-1]
    if outputs != 1:
        raise ValueError(f"fit: the model has {outputs} outputs; fit trains one output against y: "
                         "end layer_sizes with 1, or write the training loop with one loss per output")
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"fit: epochs must be a whole number ≥ 0, got {_short(epochs)}")
    X, y = _fit_data(X, y, "X", "y")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            got = (f"a {type(validation).__name__} of {len(validation)}" if isinstance(validation, (tuple, list))
                   else f"an array of shape {validation.shape}" if isinstance(validation, ndarray)
                   else f"{type(validation).__name__} {_short(validation)}")
            raise ValueError(f"fit: validation must be a pair (X_val, y_val), got {got}")
        validation = _fit_data(*validation, "X_val", "y_val")
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, numbers.Integral)
                                 or patience < 1):
        raise ValueError(f"fit: patience must be a whole number of epochs ≥ 1, got {patience!r}")
    if patience is not None and validation is None:
        raise ValueError("fit: patience counts epochs without a better validation loss: give "
                         "validation=(X_val, y_val) too (or leave patience out)")
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback must be a function of (epoch, loss), got {type(callback).__name__} "
                        f"{_short(callback)}")
    optimizer = _fit_optimizer(model, optimizer, lr)
    history = History()
    bar = Progress(epochs, enabled=progress, name=getattr(loss, "__name__", "loss"))
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is caught below, by name
        return _fit_loop(model, X, y, loss, epochs, optimizer, history, bar, progress, callback,
                         validation, patience)


def _fit_optimizer(model, optimizer, lr):
    """The optimiser fit steps with: the default SGD, or the user's, checked to update this model."""
    if optimizer is None:
        return SGD(model.parameters(), lr=0.1 if lr is None else lr)
    if lr is not None:
        raise ValueError(f"fit: lr={_short(lr)} and an optimizer were both given; the optimizer steps with "
                         f"its own lr ({_short(getattr(optimizer, 'lr', '?'))}): give the rate to it")
    if not all(callable(getattr(optimizer, name, None)) for name in ("step", "zero_grad")) \
            or not isinstance(getattr(optimizer, "parameters", None), (list, tuple)):
        raise TypeError("fit: optimizer must be an SGD or Adam over the model's parameters (e.g. "
                        f"Adam(model.parameters(), lr=0.01)), got {type(optimizer).__name__} {_short(optimizer)}")
    mine = {id(p) for p in model.parameters()}
    if not any(id(p) in mine for p in optimizer.parameters):
        raise ValueError("fit: the optimizer updates none of this model's parameters (was it made for "
                         "another model?): build it with this model's parameters()")
    return optimizer


def _fit_data(X, y, xname, yname):
    """X as an (N, f) float array, y as (N,); a value that is not a finite number is named by place."""
    X, y = _fit_array(X, xname), _fit_array(y, yname)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"fit: {xname} must be an (N, f) array, one row per sample; got shape {X.shape}")
    if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise ValueError(f"fit: {yname} must hold one value per row, shape (N,) or (N, 1); got shape {y.shape}")
    y = y.reshape(-1)
    if X.shape[0] == 0:
        raise ValueError(f"fit: {xname} has no rows: there is nothing to train on")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"fit: {xname} has {X.shape[0]} rows but {yname} has {y.shape[0]} values")
    for name, a in ((xname, X), (yname, y)):
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            where = ", ".join(str(i) for i in bad[0])
            raise ValueError(f"fit: the data {name}[{where}] is {a[tuple(bad[0])]} ({len(bad)} values of {name} "
                             "are not finite numbers): clean the data first")
    return X, y


def _check_loss(L, loss):
    """A loss that is not one differentiable number, refused before backward() meets it."""
    name = getattr(loss, "__name__", type(loss).__name__)
    if not isinstance(L, Value):
        raise TypeError(f"fit: the loss {name} returned {type(L).__name__} {_short(L)}, not a Value: build it "
                        "from the prediction (e.g. ((pred - y) ** 2).mean()) so it can be differentiated")
    if isinstance(L.data, ndarray):
        raise ValueError(f"fit: the loss {name} returned a batch of {L.data.size} values, not one number: "
                         "reduce it first (.sum() or .mean())")


def _why_not_finite(optimizer, loss, last, history):
    """Why a loss stopped being finite: a gradient that was already NaN at a finite loss (a loss
    with no derivative there, e.g. rmse = √mse at a perfect fit), or else a step too large."""
    grads = [np.asarray(p.grad, dtype=np.float64) for p in optimizer.parameters] if last >= 1 else []
    if any(np.isinf(g).any() for g in grads):   # an overflow (inf − inf is nan too): a step too large
        grads = []
    for p, g in zip(optimizer.parameters, grads):
        if np.isnan(g).any():
            hint = ("; rmse = √mse has none at mse = 0 (a perfect fit): train with mse instead"
                    if loss is rmse else "")
            return (f"not the learning rate: the gradient for {p.label!r} was nan at epoch {last}, where the "
                    f"loss was a finite {history[-1]:.6g}, so the loss has no derivative there{hint}")
    return f"the learning rate {getattr(optimizer, 'lr', '?')} is probably too large: try a smaller one"


def _fit_array(a, name):
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:   # rows of unequal length, a string, …
        raise ValueError(f"fit: {name} must be numbers in rows of equal length ({exc})") from None


def _fit_loop(model, X, y, loss, epochs, optimizer, history, bar, progress, callback, validation, patience):
    params = optimizer.parameters
    saved = None   # the parameters that gave the last finite loss
    best, best_value = None, math.inf   # the parameters of the best validation epoch
    for epoch in range(1, epochs + 1):
        L = loss(model(X), y)
        if L.__class__ is not Value or L.data.__class__ is ndarray:
            _check_loss(L, loss)
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
                               f"{which} ({_why_not_finite(optimizer, loss, epoch - 1, history)})")
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

MODELS = {"LinearRegression": LinearRegression, "TwoLayerNet": TwoLayerNet, "DeepNet": DeepNet, "MLP": MLP,
          "Neuron": Neuron, "Layer": Layer}

# Each model's config keys: whole numbers ≥ 1 ("width"), a list of them ("widths") or an activation name.
CONFIG_KEYS = {"LinearRegression": {"n_features": "width"},
               "TwoLayerNet": {"n_features": "width", "n_hidden": "width"},
               "DeepNet": {"n_inputs": "width", "layer_sizes": "widths", "activation": "activation",
                           "output_activation": "activation"},
               "MLP": {"nin": "width", "nouts": "widths"},
               "Neuron": {"nin": "width", "nonlin": "flag"},
               "Layer": {"nin": "width", "nout": "width", "nonlin": "flag"}}


def _parameter_count(name, config):
    """How many parameters the config asks for, in Python ints (no allocation, no overflow)."""
    if name == "LinearRegression":
        return config["n_features"] + 1
    if name == "TwoLayerNet":
        f, h = config["n_features"], config["n_hidden"]
        return h * f + 2 * h + 1
    if name == "Neuron":
        return config["nin"] + 1
    if name == "Layer":
        return config["nout"] * (config["nin"] + 1)
    fan_in, widths = (config["n_inputs"], config["layer_sizes"]) if name == "DeepNet" else (config["nin"], config["nouts"])
    count = 0
    for width in widths:
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
            if kind in ("activation", "flag"):
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
        if kind == "flag" and not isinstance(value, bool):
            raise ModelFileError(f"{path}: key 'config.{key}' must be true or false, got {_short(value)}")


def _is_width(value):
    return type(value) is int and value >= 1


def _short(value):
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


MAX_MODEL_BYTES = 64 * 1024 * 1024     # about 2.5 million parameters as JSON


def _read_model_file(path):
    """The JSON document of a model file, its format and model name checked; errors name file and key."""
    try:
        text = read_input(path, MAX_MODEL_BYTES).decode("utf-8-sig")   # a byte-order mark (Windows editors) is not JSON's
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not a model file: byte {exc.start} is not UTF-8 ({exc.reason})") from None
    try:
        doc = json.loads(text, object_pairs_hook=_one_of_each_key)
    except _DuplicateKey as exc:
        raise ModelFileError(f"{path}: key {exc.args[0]!r} appears twice (which one is meant?)") from None
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: not a model file: its JSON is nested too deeply") from None
    except ValueError as exc:   # e.g. an integer of more than 4300 digits
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "microreg-model":
        raise ModelFileError(f"{path}: key 'format': not a microreg model file")
    version = doc.get("version", 1)
    if version.__class__ is not int or version != 1:
        raise ModelFileError(f"{path}: key 'version': this microreg reads version 1 model files; "
                             f"the file says {_short(version)}")
    for key in ("model", "config", "parameters"):
        if key not in doc:
            raise ModelFileError(f"{path}: key {key!r} is missing")
    if not isinstance(doc["model"], str) or doc["model"] not in MODELS:
        raise ModelFileError(f"{path}: key 'model': unknown model {_short(doc['model'])} (known: {sorted(MODELS)})")
    return doc


class _DuplicateKey(Exception):
    pass


def _one_of_each_key(pairs):
    """A JSON object as a dict, refusing a key given twice (json keeps the last one silently)."""
    doc = dict(pairs)
    if len(doc) < len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return doc


def load_network(path):
    """Rebuild the network of a JSON file written by ``Module.save``; errors name the file and key.

    Returns the `Module` (extra keys of the file in ``.extra``). The config is checked key by key
    and must ask for exactly as many parameters as the file holds, before anything is built.
    """
    doc = _read_model_file(path)
    name = doc["model"]
    if name == "MLP" and isinstance(doc["config"], dict) and "n_inputs" in doc["config"]:
        name = "DeepNet"          # a file from before MLP took micrograd's meaning: document 001's net
    _check_config(path, name, doc["config"])
    if not isinstance(doc["parameters"], dict):
        raise ModelFileError(f"{path}: key 'parameters' must be an object of name: number")
    expected = _parameter_count(name, doc["config"])
    if expected != len(doc["parameters"]):
        raise ModelFileError(f"{path}: key 'config': {name} with this config has {_short(expected)} parameters, "
                             f"key 'parameters' holds {len(doc['parameters'])}")
    saved = random.getstate()    # micrograd's classes draw their first weights from `random`: loading
    try:                         # a file must not move the caller's random numbers
        model = MODELS[name](**doc["config"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: key 'config': {exc}") from None
    finally:
        random.setstate(saved)
    model.load_state_dict(doc["parameters"], source=f"{path}: key 'parameters'")
    model.extra = {k: v for k, v in doc.items() if k not in FILE_KEYS}
    return model


# --- a network with the preparation of its inputs (a model.json from microreg train) ----------------

class TrainedModel:
    """A trained network and the preparation of its inputs: raw rows in, the target's units out.

    Attributes that are not its own (``parameters``, ``state_dict``, ``w1``, …) are the network's.
    """

    def __init__(self, network, preparation, extra=None):
        self.network, self.preparation = network, preparation
        self.extra = dict(extra or {})

    @classmethod
    def from_network(cls, network, path):
        """From a network loaded by `load_network`; an old file (scalers without a preparation) works too."""
        extra = dict(network.extra)
        try:
            if "preparation" in extra:
                prep = Preparation.from_json(extra.pop("preparation"), source=f"{path}: key 'preparation'")
            else:   # a model.json from before the preparation was saved: numbers only, scaled by its scalers
                features, target = extra.pop("features"), extra.pop("target")
                x, y = Standardizer.from_json(extra.pop("x_scaler")), Standardizer.from_json(extra.pop("y_scaler"), True)
                columns = [{"name": str(f), "kind": "number", "median": float(m)} for f, m in zip(features, x.mean)]
                prep = Preparation(str(target), columns, x, y)
        except DataError as exc:
            raise ModelFileError(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: an old model file without a usable preparation ({exc}); "
                                 "train it again with microreg train") from None
        if len(prep.feature_names) != network.n_features:
            raise ModelFileError(f"{path}: key 'preparation': it makes {len(prep.feature_names)} features, "
                                 f"the network takes {network.n_features}")
        return cls(network, prep, extra)

    def __getattr__(self, name):
        if name.startswith("__") or name in ("network", "preparation", "extra"):
            raise AttributeError(name)
        return getattr(self.network, name)

    def table(self, rows):
        """Raw rows as a `Table`: a CSV path, a dict per row, or rows of values in the order of ``inputs``."""
        if isinstance(rows, (str, os.PathLike)):
            return read_table(rows)
        names = self.preparation.inputs
        if isinstance(rows, (dict, int, float, np.number)):
            rows = [rows]
        rows = list(rows.tolist() if isinstance(rows, np.ndarray) else rows)
        if rows and not isinstance(rows[0], (dict, list, tuple, np.ndarray)):
            # values: one per row for a one-column model, else one row of values
            rows = [[v] for v in rows] if len(names) == 1 else [rows]
        cells = []
        for n, row in enumerate(rows, start=1):
            if isinstance(row, dict):
                missing = [k for k in names if k not in row]
                if missing:
                    raise DataError(f"row {n}: no value for {', '.join(map(repr, missing))} "
                                    f"(the model needs {', '.join(names)})")
                row = [row[k] for k in names]
            row = list(row)
            if len(row) != len(names):
                raise DataError(f"row {n}: {len(row)} values, the model needs {len(names)} ({', '.join(names)})")
            cells.append(["" if v is None else repr(float(v)) if isinstance(v, (int, float, np.number))
                          and not isinstance(v, bool) else str(v).strip() for v in row])
        return Table("rows", names, cells, lines=range(1, len(cells) + 1))

    def predict(self, rows, strict=False):
        """(predictions in the target's units, {column: blank cells filled}) for raw rows."""
        table = rows if isinstance(rows, Table) else self.table(rows)
        X, blanks = self.preparation.features(table, strict=strict)
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.atleast_1d(self.network(X).data)
            predictions = self.preparation.y_scaler.inverse(z)
        bad = ~np.isfinite(predictions)
        if bad.any():          # never a silent inf or nan in the output: the first such row, and why
            raise DataError(self._not_finite(table, X, int(np.flatnonzero(bad)[0]), predictions))
        return predictions, blanks

    def _not_finite(self, table, X, i, predictions):
        prep = self.preparation
        where = f"{table.path}: line {table.lines[i]}" if table.lines else f"{table.path}: row {i + 1}"
        with np.errstate(over="ignore", invalid="ignore"):
            far = np.abs(X[i])
        j = int(np.nanargmax(np.where(np.isfinite(far), far, np.inf))) if far.size else None
        if j is not None and not far[j] < 1e6:
            name = prep.feature_names[j]
            column = name.split("=")[0] if prep.columns and name not in prep.inputs else name
            cell = table.rows[i][table.index(column)] if table.has(column) else "?"
            return (f"{where}: the prediction is {predictions[i]} (not a finite number): {column} = {cell} is "
                    f"{float(far[j]):.3g} standard deviations from the training rows' mean, far outside what "
                    "the model learned from")
        biggest = max((abs(p.data) for p in self.network.parameters()), default=0.0)
        return (f"{where}: the prediction is {predictions[i]} (not a finite number) although every input is "
                f"within {float(np.nanmax(far)) if far.size else 0:.3g} standard deviations of the training "
                f"mean: the model's numbers overflow (its largest parameter is {biggest:.3g}; a model file "
                "edited by hand?)")

    def __call__(self, rows):
        return self.predict(rows)[0]

    def save(self, path, **extra):
        """One model.json with the network and its preparation (atomic; refuses NaN parameters)."""
        if "preparation" in extra:
            raise ValueError("cannot save a trained model: the extra 'preparation' would overwrite the "
                             "file's own key (its data preparation); give it another name")
        self.network.save(path, preparation=self.preparation.to_json(), **{**self.extra, **extra})
        return str(path)


def load_model(path):
    """Load a model file: a network saved with ``Module.save``, or a ``microreg train`` model.

    A file written by ``microreg train`` holds the data preparation too: for it, this returns a
    `TrainedModel`, whose call takes raw rows (numbers, a dict per row, or a CSV
    path) and returns predictions in the target's own units (its network is ``.network``).
    Any other file gives the `Module` itself (as `load_network`).
    """
    network = load_network(path)
    if "preparation" in network.extra or "x_scaler" in network.extra:
        return TrainedModel.from_network(network, path)
    return network


__all__ = ["Module", "LinearRegression", "TwoLayerNet", "DeepNet", "MLP", "Layer", "Neuron", "LayerName", "mse",
           "half_mse", "squared_error", "rmse", "SGD", "Adam", "fit", "History", "load_model", "load_network", "ModelFileError",
           "TrainedModel"]
