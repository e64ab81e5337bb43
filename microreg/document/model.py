r"""The model a document derives: its definitions built from `microreg.Value` nodes at a random point.

The fourth stage of the reader (find math → layout → parse → **resolve**): a name written in a formula
(a `microreg.notation.Symbol`) is resolved against the document, as a teacher reads it:

- **its key**: the letter (with its accent: ``\hat{y}``), then the layer (``^{[1]}``, ``^{(1)}``, ``^1`` in
  a document that writes layers as superscripts, ``_1``), so ``a_1``, ``a^{(1)}`` and ``a^{[1]}`` are one
  quantity, and a symbolic layer (``z^{[l]}``, ``w^{l+1}``, ``a^{L-1}``, ``W_l``) makes a template that holds
  for every layer;
- **its indices**: ``x^{(i)}`` and ``y_i`` under a sum over the samples pick a sample; ``w_{jk}``, ``\delta_j``,
  ``z_i`` under a softmax's ``\sum_k`` pick elements (index notation);
- **what it is**: defined (``z = w x + b``), a function (``g(z) = …``, ``J(w,b) = …``, ``\sigma``, ``\tanh``), a
  derivative named earlier (``\delta^{(l)} := \frac{\partial C}{\partial z^{(l)}}``, the course's ``dW^{[2]}``),
  data (``x``, ``X``, ``y``, ``Y``, ``t``), a size (``m``, ``n``, ``N``, ``K``), a hyper-parameter (``\alpha``,
  ``\eta``, ``\lambda``), or a parameter (everything else).

A `Reading` says how big things are: the scalar reading (one unit per layer, ``m`` samples) for documents
written with numbers, or a vector reading (``f`` input features, ``h`` hidden units, samples as a batch or as
the columns or rows of ``X``) for documents written with vectors and matrices. `Point` builds the model at
one seeded random point and differentiates it.
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..engine import Value, grad
from ..notation import FUNCTION_ALIASES, Node, Symbol, show, show_symbol
from . import values as V
from .values import Arr

__all__ = ["Key", "key_of", "Definition", "Reading", "Model", "Point", "Unresolved", "ReadError"]


class ReadError(ValueError):
    """A formula the model cannot use: the message says what and where (column, 0-based in the row)."""

    def __init__(self, message, column=None):
        super().__init__(message)
        self.column = column


class Unresolved(ReadError):
    """A name the model does not define (``name`` is the `Symbol`)."""

    def __init__(self, name, message, column=None):
        super().__init__(message, column)
        self.name = name


# --- keys: what a name refers to ---------------------------------------------------------------------

#: letters that are the data, and their role
DATA = {"x": "input", "X": "input", "y": "target", "Y": "target", "t": "target", "T": "target"}
#: sizes: m, n, N samples; K, C classes
SIZES = {"m": "samples", "n": "samples", "N": "samples", "K": "classes"}
#: hyper-parameters: positive constants, not differentiated
HYPER = {"alpha", "eta", "lambda", "mu", "gamma", "rho", "kappa"}
#: loss names, most likely first
LOSS_NAMES = ("J", "C", "L", "ℒ", "𝒥", "E", "U", "ℓ", "Loss", "loss", "Cost", "cost", "MSE", "RMSE", "SSE", "BCE",
              "CE", "NLL", "Error", "error", "Err", "err", "R")
#: letters written as activation functions (g(z), f(x), φ(z)) when the document does not define them
ACTIVATION_LETTERS = {"g", "f", "phi", "h", "varphi", "psi"}
_LAYER_RX = re.compile(r"^\s*([lL])\s*(?:([+-])\s*(\d+))?\s*$")


@dataclass(frozen=True)
class Key:
    """What a name refers to: ``name`` (the letter with its accent: ``w``, ``y_hat``, ``ℒ``) and ``slot``
    (the layer or other number that tells instances apart: ``"1"``, ``"2"``; a symbolic layer ``"l"``,
    ``"l+1"``, ``"L-1"`` in a template; ``""`` for none)."""
    name: str
    slot: str = ""

    def symbolic(self):
        return bool(_LAYER_RX.match(self.slot)) if self.slot else False

    def __str__(self):
        return self.name + (f"[{self.slot}]" if self.slot else "")


def base_name(sym):
    return sym.base + ("_" + sym.accent if sym.accent and sym.accent != "vec" else "")


def split_sub(items):
    """Subscript items → (slot items, index letters): digits, words and layers ``l``/``L-1`` name the
    quantity; single letters (``i``, ``j``, ``k``) are indices, and so are two letters together (``W_{k,l}``)."""
    slot, letters = [], []
    if len(items) >= 2 and all(len(i.strip()) == 1 and i.strip().isalpha() for i in items):
        return [], [i.strip() for i in items]
    for item in items:
        it = item.replace(" ", "")
        if not it:
            continue
        if it.isdigit() or _LAYER_RX.match(it):
            slot.append(it)
        elif len(it) == 1 and it.isalpha() and it not in ("x", "X"):
            letters.append(it)
        elif re.fullmatch(r"[a-z]=\d+", it):
            letters.append(it[0])
        else:
            slot.append(it)
    return slot, letters


def key_of(sym, layered_sup=False):
    """The `Key` of a `Symbol` and its index letters (subscript letters, then the sample letter)."""
    slot_items, letters = split_sub(sym.sub)
    if base_name(sym) in LOSS_NAMES and letters == ["i"] and sym.layer is None:
        slot_items, letters = ["i"], []           # L_i: the loss of example i, beside the total L
    slot = ""
    if sym.layer is not None:
        slot = sym.layer.replace(" ", "")
        if sym.bracket == "[" and re.fullmatch(r"N([+-]\d+)?", slot):
            slot = "L" + slot[1:]                     # a^{[N]}: the last layer, as L is elsewhere
    if slot_items:
        extra = ",".join(slot_items)
        slot = extra if not slot else slot + "," + extra
    sample = sym.sample
    return Key(base_name(sym), slot), tuple(letters), sample


def bind_slot(slot, layers):
    """A symbolic slot with its layer symbols bound: ``l+1`` with l = 2 → ``3``; ``L-1`` with L = 3 → ``2``."""
    if not slot:
        return slot
    parts = slot.split(",")
    m = _LAYER_RX.match(parts[0])
    if not m or m.group(1) not in layers:
        return slot
    v = layers[m.group(1)] + (int(m.group(3)) * (1 if m.group(2) == "+" else -1) if m.group(2) else 0)
    return ",".join([str(v)] + parts[1:])


# --- definitions -------------------------------------------------------------------------------------------

@dataclass
class Definition:
    """``key := tree`` (a function of ``params`` when it has them), read at ``line`` in ``section``."""
    key: Key
    tree: Node
    line: int
    section: tuple
    first: bool = True
    params: tuple = ()                   # formal parameters of a function: Keys
    text: str = ""
    symbol: Symbol | None = None
    row: object = None
    column: int = 0
    defaults: tuple = ()                 # loss(f(x⁽ⁱ⁾), y⁽ⁱ⁾) = …: the arguments it was written at (Nodes)

    def template(self):
        return self.key.symbolic()


@dataclass
class Named:
    """A derivative given a name: ``δ^{(l)} := ∂C/∂z^{(l)}``, or the course's ``dZ^{[2]}`` (∂J/∂Z⁽²⁾)."""
    key: Key
    of: Node
    wrt: Node
    line: int
    section: tuple
    convention: str = "as written"        # "per sample" for the course's dZ, dA when the loss is a mean
    symbol: Symbol | None = None


# --- readings: how big things are ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """How the model is sized: ``vector`` (False: one unit per layer), ``f`` input features, ``h`` units in
    each hidden layer, ``o`` outputs (``classes`` for a softmax), ``samples``; ``data`` is ``"batch"`` (one
    sample at a time, ``x`` a vector), ``"columns"`` (``X`` is features × samples) or ``"rows"`` (samples ×
    features); ``weights`` ``"out_in"`` (``z = W a``) or ``"in_out"`` (``z = Wᵀa``, ``z = aW``);
    ``columns`` the one-output weights read as columns (``ŷ = w₂ᵀa₁``)."""
    vector: bool = False
    f: int = 2
    h: int = 3
    o: int = 1
    samples: int = 5
    data: str = "batch"
    weights: str = "out_in"
    columns: frozenset = frozenset()
    layers: int = 1
    sizes: tuple = ()                    # (layer, units) set by --dims n1=…
    first: int = 0                       # the input's layer: 0 (a⁽⁰⁾ = x), or 1 in Nielsen's a¹ = x

    def units(self, k):
        if not self.vector:
            return 1
        given = dict(self.sizes)
        if k in given:
            return given[k]
        if k <= self.first:
            return self.f
        if k >= self.layers:
            return self.o
        return self.h + (k - self.first - 1)       # hidden layers of different sizes: a wrong layer shows

    def words(self):
        if not self.vector:
            return f"one unit per layer, {self.samples} random samples of the data"
        sizes = " → ".join(str(self.units(k)) for k in range(self.first, self.layers + 1))
        data = {"batch": f"{self.samples} samples, one at a time", "columns": f"X holds the {self.samples} samples "
                f"as columns (features × samples)", "rows": f"X holds the {self.samples} samples as rows "
                "(samples × features)"}[self.data]
        extra = "; weights read as z = Wᵀa (W is inputs × units)" if self.weights == "in_out" else ""
        return f"vectors: {sizes} units from the input to the output; {data}{extra}"


# --- the model: definitions in force at one place --------------------------------------------------------------

class Model:
    """The definitions, functions and named derivatives in force at one place of the document."""

    def __init__(self, definitions, functions, named, reading, losses, activations=None, data_kinds=None,
                 sample_letters=(), layered_superscripts=False, one_hot=False, binary=False, indexed=None):
        self.definitions = definitions        # Key → Definition (concrete keys)
        self.templates = {}                   # name → Definition with a symbolic layer
        for k, d in list(definitions.items()):
            if k.symbolic():
                self.templates[k.name] = d
                del definitions[k]
        self.functions = functions            # Key → Definition with params
        self.named = named                    # Key → Named (also templates by name)
        self.reading = reading
        self.losses = losses                  # [(Key, per_sample: bool)]: the loss, last first
        self.activations = activations or {}  # Key → builtin name, read from the prose
        self.sample_letters = set(sample_letters)       # letters declared to run over the samples
        self.layered_superscripts = layered_superscripts
        self.one_hot, self.binary = one_hot, binary
        self.indexed = indexed or {}          # Key → how many element indices a leaf is written with
        self.not_sizes = set()                # m, n, N used as something else than the number of samples
        self.vectors = {}                     # name → 0 or 1: w written as wᵀ too, its elements counted from …
        self.conventions = {}                 # Key → "per sample" or "mean": how the document's dZ reads
        self.failed = {}                      # Key → line: a definition that could not be read
        self.dropped = {}                     # Key → (line, why): a definition that could not be built
        self.mentioned = set()                # every key a definition names: what a claim may use
        for d in list(definitions.values()) + list(self.templates.values()) + list(functions.values()):
            self.mentioned.add(d.key)
            self.mentioned.update(d.params)
            for n in d.tree.walk():
                if n.kind == "sym":
                    self.mentioned.add(key_of(n.value)[0])
        for k in list(self.mentioned):
            if k.symbolic():
                for layer in range(0, reading.layers + 2):
                    self.mentioned.add(Key(k.name, bind_slot(k.slot, {"l": layer, "L": layer})))

    def source(self, key):
        """(Definition, layer binding) that defines ``key``, or None."""
        d = self.definitions.get(key)
        if d is not None:
            return d, {}
        if key.slot and key.slot.split(",")[0].lstrip("-").isdigit():
            t = self.templates.get(key.name)
            if t is not None:
                k = int(key.slot.split(",")[0])
                m = _LAYER_RX.match(t.key.slot.split(",")[0])
                sym, sign, off = m.group(1), m.group(2), m.group(3)
                offset = int(off) * (1 if sign == "+" else -1) if sign else 0
                value = k - offset
                if 1 <= k <= self.reading.layers and 1 <= value + (0 if sym == "l" else 0) <= self.reading.layers + 1:
                    bind = {"L": self.reading.layers, "l": self.reading.layers - 1}
                    bind[sym] = value
                    return t, bind
        return None

    def named_of(self, key):
        """A named derivative (δ⁽ˡ⁾, dZ⁽²⁾) at a concrete key: (Named, layer binding), or None."""
        n = self.named.get(key)
        if n is not None:
            return n, {}
        if key.slot and key.slot.split(",")[0].isdigit():
            for nk, n in self.named.items():
                if nk.name == key.name and nk.symbolic():
                    m = _LAYER_RX.match(nk.slot.split(",")[0])
                    sym, sign, off = m.group(1), m.group(2), m.group(3)
                    offset = int(off) * (1 if sign == "+" else -1) if sign else 0
                    bind = {"L": self.reading.layers, "l": self.reading.layers - 1}
                    bind[sym] = int(key.slot.split(",")[0]) - offset
                    return n, bind
        return None

    def knows(self, key):
        return (key in self.definitions or self.source(key) is not None or key in self.functions
                or self.named_of(key) is not None)

    def layer_of(self, key):
        """The layer a key belongs to (its slot's number), or None."""
        if key.slot and key.slot.split(",")[0].isdigit():
            return int(key.slot.split(",")[0])
        return None

    def the_loss(self, per_sample_ok=True):
        for key, per_sample in self.losses:
            if per_sample_ok or not per_sample:
                return key
        return None

    def per_sample(self, key):
        """Is the loss ``key`` one sample's (ℒ(a, y) with no sum), rather than a sum or mean over them?"""
        return any(k == key and p for k, p in self.losses)


# --- a point: the model built from Values ---------------------------------------------------------------------

@dataclass
class Ctx:
    """Where a formula is evaluated: layer symbols bound (l = 2), function parameters bound, letters seen."""
    layers: dict = field(default_factory=dict)
    locals: dict = field(default_factory=dict)     # Key → Arr (a function's parameters)
    sample_letters: frozenset = frozenset()


class Point:
    """The model at one seeded random point: every quantity an `Arr` of Values, derivatives by autograd."""

    def __init__(self, model, rng, fixed=None):
        self.model, self.rng = model, rng
        self.r = model.reading
        self.nodes = {}            # Key → Arr (Values)
        self.params = {}           # Key → Arr (parameter leaves)
        self.partials = {}
        self.fixed = fixed or {}   # Key → Arr: values a claim replaces (a parameter's update)
        self.made = None           # a list: the leaves made at random (a worked example checks it stays empty)
        self.used = set()          # the fixed values a worked example used
        self.expr_labels = set()   # ids of Values labelled with their expression (a name replaces it)
        self.shown = {}            # id(node) → show(node), for those labels
        self._building = set()

    # --- leaves ---------------------------------------------------------------------------------------------
    def leaf(self, key, sym=None):
        """A name nothing defines: data, a size, a hyper-parameter or a parameter, created once."""
        if key in self.nodes:
            return self.nodes[key]
        if key.name in ("X", "Y", "T") and not self.model.knows(key):
            twin = Key(key.name.lower(), key.slot)       # Y and y are the same labels, X and x the same inputs
            if twin in self.nodes:
                self.nodes[key] = self.nodes[twin]
                return self.nodes[key]
            if self.r.data == "batch" and not self.model.knows(twin):
                self.nodes[key] = self.leaf(twin, sym)   # one sample per row of the batch: y's twin
                return self.nodes[key]
        if key.name in ("x", "y", "t") and self.r.data in ("columns", "rows"):
            twin = Key(key.name.upper(), key.slot)
            if key.name == "x" and self.r.data == "rows" and not self.model.knows(twin):
                # X holds the samples as rows; x is one of them, a column: the same numbers, per sample
                whole = self.leaf(twin)
                self.nodes[key] = Arr(whole.v, tuple("s" if a == "S" else a for a in whole.axes))
                return self.nodes[key]
            if twin in self.nodes and not self.model.knows(twin):
                self.nodes[key] = self.nodes[twin]
                return self.nodes[key]
        name = key.name
        r = self.r
        if name in SIZES and not key.slot and name not in self.model.not_sizes:
            if SIZES[name] == "samples":
                return Arr(float(r.samples))
            return Arr(float(r.units(r.layers)))
        if name == "e" and not key.slot:
            return Arr(math.e)
        if name == "pi" and not key.slot:
            return Arr(math.pi)
        if key in self.model.failed:
            what = show_symbol(sym) if sym is not None else str(key)
            raise Unresolved(sym, f"{what} is defined on line {self.model.failed[key]}, which could not be read")
        rng = self.rng
        label = _concrete_label(key, sym)
        if name in HYPER or (name == "epsilon" and not self.model.knows(key)) and False:
            out = Arr(float(rng.uniform(0.05, 0.5)))
            self.nodes[key] = out
            return out
        if self.made is not None:
            self.made.append(key)                 # a worked example needs a value it does not give
        if self.is_data(key):
            out = self.data(key, label)
        else:
            out = self.parameter(key, label)
            self.params[key] = out
        self.nodes[key] = out
        return out

    def is_data(self, key):
        name = key.name
        if name in DATA:
            return True
        if name in ("a", "A", "h", "H") and key.slot == "0":
            return True
        return False

    def _values(self, numbers, label):
        arr = np.asarray(numbers, dtype=np.float64)
        out = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(arr.shape):
            out[idx] = Value(float(arr[idx]), label=label + "".join(f"[{i}]" for i in idx))
        return out

    def data(self, key, label):
        r = self.r
        m = r.samples
        name = key.name
        role = DATA.get(name, "input")
        L = r.layers
        if role == "input":
            units = r.units(r.first) if not (key.slot.isdigit() and not r.vector) else 1
            vals = self.rng.uniform(-2.0, 2.0, size=(m, units))
            axes_unit = f"u{r.first}"
        else:
            units = r.units(L)
            if self.model.one_hot and units > 1:
                vals = np.zeros((m, units))
                vals[np.arange(m), self.rng.integers(0, units, size=m)] = 1.0
            elif self.model.binary:
                vals = self.rng.integers(0, 2, size=(m, units)).astype(np.float64)
            else:
                vals = self.rng.normal(size=(m, units))
            axes_unit = f"u{L}"
        if not r.vector:
            return Arr(self._values(vals[:, 0], label), ("s",))
        if r.data in ("columns", "rows"):
            if r.data == "columns":
                return Arr(self._values(vals.T, label), (axes_unit, "S"))
            return Arr(self._values(vals, label), ("S", axes_unit))
        if units == 1:
            return Arr(self._values(vals[:, 0], label), ("s",))
        return Arr(self._values(vals, label), ("s", axes_unit))

    def parameter(self, key, label):
        """A parameter's Values: a weight of layer k is units(k) × units(k−1), a bias units(k); else a number
        (or, in a vector reading with one layer, the weights of the input features)."""
        r = self.r
        role = weight_or_bias(key)
        if r.vector and role is None and self.model.indexed.get(key):
            # z_i, w_{jk}: a leaf written with element indices is a vector (a matrix) of the output's units
            L = r.layers
            if self.model.indexed[key] >= 2:
                return Arr(self._values(self.rng.normal(size=(r.units(L), r.units(L - 1))), label), (f"u{L}",
                                                                                                      f"u{L - 1}"))
            return Arr(self._values(self.rng.normal(size=r.units(L)), label), (f"u{L}",))
        if not r.vector or role is None:
            if key.name in HYPER:
                return Arr(self._values(self.rng.uniform(0.05, 0.5), label))
            return Arr(self._values(self.rng.normal(), label))
        kind, k = role
        if k is None:
            k = r.layers
        if kind == "bias":
            n = r.units(k)
            if n == 1:
                return Arr(self._values(self.rng.normal(), label))
            return Arr(self._values(self.rng.normal(size=n), label), (f"u{k}",))
        rows, cols = r.units(k), r.units(k - 1)
        if rows == 1 and (str(key) in r.columns or key.name in r.columns):
            return Arr(self._values(self.rng.normal(size=cols), label), (f"u{k - 1}",))
        if r.weights == "in_out":
            return Arr(self._values(self.rng.normal(size=(cols, rows)), label), (f"u{k - 1}", f"u{k}"))
        return Arr(self._values(self.rng.normal(size=(rows, cols)), label), (f"u{k}", f"u{k - 1}"))

    # --- quantities -------------------------------------------------------------------------------------------
    def quantity(self, key, sym=None, ctx=None):
        """The value of a key: defined (built now), named derivative, or a leaf."""
        if key in self.fixed:
            if self.made is not None:
                self.used.add(key)
            return self.fixed[key]
        if key in self.nodes:
            return self.nodes[key]
        model = self.model
        src = model.source(key)
        if src is not None:
            d, bind = src
            if key in self._building:
                raise ReadError(f"{show_symbol(sym) if sym else key} is defined in terms of itself (line {d.line})")
            self._building.add(key)
            try:
                out = Evaluator(self, Ctx(layers=bind)).run(d.tree)
            finally:
                self._building.discard(key)
            out = _label(out, _concrete_label(key, sym if sym is not None else d.symbol), self.expr_labels)
            self.nodes[key] = out.unbound()
            return self.nodes[key]
        named = model.named_of(key)
        if named is not None:
            n, bind = named
            return self.named_value(n, bind)
        fn = model.functions.get(key)
        if fn is not None:
            # J(w,b) written J: the function at its own parameters (the model's quantities of those names)
            if key in self._building:
                raise ReadError(f"{show_symbol(sym) if sym else key} is defined in terms of itself (line {fn.line})")
            self._building.add(key)
            try:
                if fn.defaults:
                    # loss written at f(x⁽ⁱ⁾), y⁽ⁱ⁾: the function at those arguments
                    ev = Evaluator(self, Ctx())
                    out = Evaluator(self, Ctx(locals={p: ev.run(a) for p, a in zip(fn.params, fn.defaults)})).run(
                        fn.tree)
                else:
                    out = Evaluator(self, Ctx()).run(fn.tree)
            finally:
                self._building.discard(key)
            self.nodes[key] = out.unbound()
            return self.nodes[key]
        if key.slot == "0" and key.name in model.templates:
            for data_name in ("x", "X"):
                if data_name in ("X",) and self.r.data == "batch":
                    continue
                return self.leaf(Key("X" if key.name.isupper() and self.r.data != "batch" else "x"))
        if key.slot and key.slot.split(",")[0].isdigit() and key.name in model.templates:
            k = int(key.slot.split(",")[0])
            raise Unresolved(sym, f"{show_symbol(sym) if sym else key}: layer {k} is outside the "
                             f"{self.r.layers}-layer net this document is read as")
        return self.leaf(key, sym)

    def named_value(self, n, bind):
        """A named derivative's numbers, in its convention (per sample for the course's dZ)."""
        ctx = Ctx(layers=bind)
        ev = Evaluator(self, ctx)
        out = ev.derivative(n.of, n.wrt)
        if n.convention == "per sample":
            out = V.product(out, Arr(float(self.r.samples)))
        return out

    # --- derivatives -----------------------------------------------------------------------------------------
    def differentiate(self, of, wrt_arr, wrt_label):
        """∂of/∂wrt by autograd: ``of`` a value (summed over its samples; a vector is a Jacobian, refused),
        ``wrt`` an Arr of Values; the result has wrt's axes."""
        for axis in ("S", "s"):
            la = [a for a in of.axes if a != axis]
            if axis in of.axes and axis in wrt_arr.axes and not any(
                    n > 1 for a, n in zip(of.axes, of.shape) if a != axis):
                # Lᵢ by the scores f (one row per example): each example's loss by its own row
                k, j = of.axes.index(axis), wrt_arr.axes.index(axis)
                rows = []
                for i in range(of.shape[k]):
                    one = V._obj(np.take(of.v, i, axis=k))
                    row = V._obj(np.take(wrt_arr.v, i, axis=j))
                    leaves_i = list(row.ravel()) if row.ndim else [row[()]]
                    total = V.reduce_all(Arr(one, la)).item()
                    rows.append(self._gradient(total, leaves_i, row.shape))
                out = np.stack(rows, axis=j)
                return Arr(out, wrt_arr.axes)
        of_la = of.la_axes()
        if of_la and any(n > 1 for a, n in zip(of.axes, of.shape) if a != "s"):
            diagonal = self._diagonal(of, wrt_arr)
            if diagonal is not None:
                return diagonal
            raise ReadError(f"a derivative of {V.shape_words(of)} by {V.shape_words(wrt_arr)} (a Jacobian): "
                            "microreg checks derivatives of one number per sample, and of a map that acts element "
                            "by element")
        leaves = list(wrt_arr.v.ravel()) if wrt_arr.v.ndim else [wrt_arr.v[()]]
        if not all(isinstance(x, Value) for x in leaves):
            raise ReadError(f"∂/∂{wrt_label}: {wrt_label} is not a quantity of the model (a number)")
        if "s" in of.axes and "s" not in wrt_arr.axes:
            # one sample's quantity by a parameter: one derivative per sample (∂z⁽ⁱ⁾/∂w = x⁽ⁱ⁾)
            k = of.axes.index("s")
            rows = []
            for i in range(of.shape[k]):
                one = Arr(np.take(of.v, i, axis=k), of.axes[:k] + of.axes[k + 1:])
                rows.append(self._gradient(V.reduce_all(one).item(), leaves, wrt_arr.shape))
            return Arr(np.stack(rows), ("s",) + wrt_arr.axes)
        total = V.reduce_all(of).item()
        return Arr(self._gradient(total, leaves, wrt_arr.shape), wrt_arr.axes)

    def second_derivative(self, of, wrt_arr, wrt_label):
        """∂²of/∂w² for each element w of ``wrt`` (the Hessian's diagonal), by autograd twice."""
        if of.la_axes() and any(n > 1 for a, n in zip(of.axes, of.shape) if a != "s"):
            raise ReadError(f"a second derivative of {V.shape_words(of)}")
        leaves = list(wrt_arr.v.ravel()) if wrt_arr.v.ndim else [wrt_arr.v[()]]
        total = V.reduce_all(of).item()
        if not isinstance(total, Value) or not all(isinstance(x, Value) for x in leaves):
            return Arr(np.zeros(wrt_arr.shape), wrt_arr.axes)
        first = grad(total, leaves, create_graph=True)
        out = []
        for g, x in zip(first, leaves):
            out.append(float(grad(g, [x])[0]) if isinstance(g, Value) else 0.0)
        return Arr(np.array(out).reshape(wrt_arr.shape), wrt_arr.axes)

    def _diagonal(self, of, wrt_arr):
        """∂a/∂z for a map that acts element by element (a = σ(z), z = W a + b by b): the Jacobian's diagonal,
        when it has no other entry; else None."""
        if "s" in of.axes and "s" not in wrt_arr.axes and sorted(a for a in of.axes if a != "s") == sorted(
                wrt_arr.axes):
            k = of.axes.index("s")
            rows = []
            for i in range(of.shape[k]):
                one = self._diagonal(Arr(np.take(of.v, i, axis=k), of.axes[:k] + of.axes[k + 1:]), wrt_arr)
                if one is None:
                    return None
                rows.append(one.v)
            return Arr(np.stack(rows), ("s",) + wrt_arr.axes)
        if sorted(of.axes) != sorted(wrt_arr.axes):
            return None
        of = of.move_to(wrt_arr.axes)
        if of is None:
            return None
        flat_of = list(of.v.ravel())
        flat_wrt = list(wrt_arr.v.ravel())
        if len(flat_of) > 400 or not all(isinstance(x, Value) for x in flat_of):
            return None
        out = np.zeros(len(flat_of))
        for i, y in enumerate(flat_of):
            gs = grad(y, flat_wrt)
            row = np.array([float(g) for g in gs])
            off = np.delete(row, i)
            if np.any(np.abs(off) > 1e-12):
                return None
            out[i] = row[i]
        return Arr(out.reshape(of.shape), of.axes)

    @staticmethod
    def _gradient(total, leaves, shape):
        if not isinstance(total, Value):
            return np.zeros(shape)
        gs = grad(total, leaves)
        return np.array([float(g) for g in gs], dtype=np.float64).reshape(shape)


_CAL = {"ℒ": "L", "𝒥": "J", "𝒞": "C", "ℰ": "E", "ℓ": "l"}
_FONT_TWINS = {**{k: (v,) for k, v in _CAL.items()}, **{v: (k,) for k, v in _CAL.items() if v != "l"}}


def weight_or_bias(key):
    """("weight" | "bias", layer or None) for a layered parameter name (w, W, θ, Θ, b), else None."""
    name = key.name
    if name in ("w", "W", "theta", "Theta", "omega", "beta") or name.startswith(("w_", "W_")):
        kind = "weight"
    elif name in ("b", "B"):
        kind = "bias"
    else:
        return None
    if name in ("theta", "omega", "beta") and key.slot and not key.slot.isdigit():
        return None
    if key.slot.isdigit():
        return kind, int(key.slot)
    if not key.slot:
        return kind, None
    return None


def _concrete_label(key, sym):
    """A node's label: the name as written, at the layer it stands for (w⁽²⁾, not w⁽ᴸ⁻¹⁾), without indices."""
    if sym is None:
        return str(key)
    clean = sym.with_(sub=tuple(i for i in sym.sub if not (len(i) == 1 and i.isalpha())), sample=None, primes=0)
    if key.slot and (sym.layer is not None or key.slot.split(",")[0].isdigit() and not clean.sub):
        layer = key.slot.split(",")[0]
        if sym.layer is not None:
            clean = clean.with_(layer=layer)
        elif not any(i.isdigit() for i in clean.sub):
            clean = clean.with_(sub=(layer,))
    return show_symbol(clean)


def _label(arr, label, provisional=None):
    """Values of a definition without a label get its name: ``z1``, ``a1[2]``, ``A1[0][3]`` (a label the
    evaluation gave provisionally, the expression as written, is replaced by the name)."""
    v = arr.v
    if v.dtype != object:
        return arr
    provisional = provisional if provisional is not None else set()
    for idx in np.ndindex(v.shape):
        x = v[idx]
        if isinstance(x, Value) and (x.label is None or id(x) in provisional):
            x.label = label + "".join(f"[{i}]" for i in idx)
            provisional.discard(id(x))
    return arr


#: expressions whose values are labelled with the expression as written (the mistake search names them)
_NAMED_PARTS = frozenset(("add", "mul", "neg", "pow", "apply", "transpose", "sum"))


# --- evaluating a tree ---------------------------------------------------------------------------------------

class Evaluator:
    """A formula's value at a `Point`: an `Arr` (Values where the model's quantities are Values)."""

    def __init__(self, point, ctx=None, strict=False):
        self.point, self.model, self.ctx = point, point.model, ctx or Ctx()
        self.r = point.r
        self.strict = strict          # a claim: a name the model never mentions is an error, not a new parameter

    def run(self, node):
        return self.ev(node)

    def ev(self, node):
        method = getattr(self, "e_" + node.kind, None)
        if method is None:
            raise ReadError(f"cannot evaluate {node.kind}", node.column)
        out = method(node)
        if node.kind in _NAMED_PARTS and isinstance(out, Arr) and out.v.dtype == object:
            # W⁽¹⁾x + b⁽¹⁾ inside tanh(…): its values are called so (a definition's name replaces it)
            v = out.v
            text = None
            labels = self.point.expr_labels
            for idx in np.ndindex(v.shape):
                x = v[idx]
                if isinstance(x, Value) and x.label is None:
                    if text is None:
                        text = self.point.shown.get(id(node))
                        if text is None:
                            text = self.point.shown[id(node)] = show(node)
                    x.label = text + "".join(f"[{i}]" for i in idx)
                    labels.add(id(x))
        return out

    # numbers and names ------------------------------------------------------------------------------------
    def e_num(self, node):
        return Arr(float(node.value))

    def e_sym(self, node):
        sym = node.value
        key, letters, sample = key_of(sym)
        if key.symbolic():
            bound = bind_slot(key.slot, {**{"L": self.r.layers, "l": self.r.layers - 1}, **self.ctx.layers})
            key = Key(key.name, bound)
        if key in self.ctx.locals:
            value = self.ctx.locals[key]
        else:
            value = self.lookup(key, sym, sample, node)
        if sym.primes:
            raise ReadError(f"{show_symbol(sym)} is written as a derivative: apply it, e.g. {show_symbol(sym)}(z)",
                            node.column)
        return self.bind(value, letters, sample, sym, node)

    def lookup(self, key, sym, sample, node):
        point, model = self.point, self.model
        if model.knows(key) or key in point.nodes or key in point.fixed:
            return point.quantity(key, sym, self.ctx)
        # w₁, x₁ beside wᵀx: the first element of the vector (a document that writes both, in one model)
        whole = model.definitions.get(Key(key.name))
        if key.slot.isdigit() and key.name in ("w", "x", "theta", "beta") and Key(key.name) in model.mentioned \
                and self.r.vector and not model.knows(key) and key.name in model.vectors \
                and not (whole is not None and any(n.kind == "sym" and key_of(n.value)[0] == key
                                                   for n in whole.tree.walk())):
            base = point.quantity(Key(key.name), None, self.ctx).drop_ones()     # θ as a 1 × n row: its n
            units = [a for a in base.axes if a not in ("s", "S")]
            if len(units) == 1:
                k = int(key.slot) - (0 if model.vectors[key.name] == 0 else 1)
                if 0 <= k < base.shape[base.axes.index(units[0])]:
                    return base.select(units[0], k)
        # p_{y_i}: the entry of p at the label y_i (CS231n's correct-class probability), with y one-hot
        if key.slot and re.fullmatch(r"[yt](_?\{?[in]\}?|\^\{?\([in]\)\}?)?", key.slot.replace(" ", "")) \
                and model.knows(Key(key.name)):
            base = point.quantity(Key(key.name), sym, self.ctx)
            labels = point.quantity(Key(key.slot[0]), None, self.ctx)
            units = [a for a in labels.axes if a not in ("s", "S")]
            if units:
                return V.reduce_sum(V.hadamard(base, labels), units[0])
        # 𝒥, ℒ, 𝒞 when only J, L, C is defined (and the reverse): the same letter in another font
        for other in _FONT_TWINS.get(key.name, ()):
            if model.knows(Key(other, key.slot)):
                return point.quantity(Key(other, key.slot), sym, self.ctx)
        # C^{(L)} when only C is defined (a loss written with the layer it is computed at): C
        if key.slot and not model.knows(key) and model.knows(Key(key.name)) and key.name not in model.templates \
                and key.name in LOSS_NAMES \
                and not any(k.name == key.name and k.slot for k in model.definitions):
            return point.quantity(Key(key.name), sym, self.ctx)
        # C_x (Nielsen's cost of the sample x): C, one sample at a time
        if key.slot in ("x", "X") and model.knows(Key(key.name)):
            return point.quantity(Key(key.name), sym, self.ctx)
        # a lower-case name for one sample of an upper-case quantity: a^{[2](i)} is a column of A^{[2]}
        if key.name[:1].islower() and (len(key.name) == 1 or key.name[1] == "_"):
            upper = Key(key.name[0].upper() + key.name[1:], key.slot)     # ŷ⁽ⁱ⁾: a column of Ŷ
            if model.knows(upper):
                return point.quantity(upper, sym, self.ctx)
            if key.name == "x" and self.r.data == "rows" and not model.knows(upper):
                return point.leaf(key, sym)               # one row of X, as a column per sample
            if key.name in DATA and self.r.data in ("columns", "rows"):
                return point.quantity(Key(key.name.upper(), key.slot), sym, self.ctx)
        if key.name.isupper() and len(key.name) == 1 and not model.knows(key):
            lower = Key(key.name.lower(), key.slot)
            if model.knows(lower):
                # A^{[1]} beside a^{[1](i)} = tanh(z^{[1](i)}): the samples side by side, as X holds them
                return self.as_matrix(point.quantity(lower, sym, self.ctx))
        # a name without its layer: the output layer's (∇_a C is ∂C/∂a^L)
        if not key.slot:
            if key.name in model.templates or any(k.name == key.name and k.slot.isdigit() for k in model.definitions):
                top = Key(key.name, str(self.r.layers))
                if model.knows(top):
                    return point.quantity(top, sym, self.ctx)
        # ℒ beside J = (1/m) Σᵢ (…) that never defines it: the course's loss of one example, J's term for each
        if key.name in ("ℒ", "ℓ", "L") and not key.slot and not model.knows(key):
            per = self.per_example_loss()
            if per is not None:
                return per
        if key.name in FUNCTION_ALIASES and not key.slot and key.name not in ("e",):
            raise ReadError(f"{show_symbol(sym)} is a function: apply it, e.g. {show_symbol(sym)}(z)", node.column)
        if (key.name in ACTIVATION_LETTERS or key.name in ("sigma",)) and Key(key.name) in model.functions:
            raise ReadError(f"{show_symbol(sym)} is a function: apply it", node.column)
        if self.strict and key in model.dropped and not model.knows(key):
            line, why = model.dropped[key]
            raise Unresolved(sym, f"{show_symbol(sym)} (line {line}) could not be built: {why}", node.column)
        if self.strict and any(Key(o, key.slot) in model.mentioned for o in _FONT_TWINS.get(key.name, ())):
            return point.quantity(key, sym, self.ctx)
        if self.strict and key not in model.mentioned and not point.is_data(key) \
                and (key.name not in SIZES or key.name in model.not_sizes) \
                and key.name not in ("e", "pi") and key not in point.nodes:
            raise Unresolved(sym, f"{show_symbol(sym)} is never defined (the model read from the document has no "
                             f"{show_symbol(sym)})", node.column)
        return point.quantity(key, sym, self.ctx)

    def as_matrix(self, value):
        """A quantity per sample as the matrix of all samples, the way X holds them (columns or rows)."""
        if "s" not in value.axes or self.r.data not in ("columns", "rows"):
            return value
        k = value.axes.index("s")
        order = [i for i in range(len(value.axes)) if i != k]
        order = order + [k] if self.r.data == "columns" else [k] + order
        v = np.transpose(value.v, order)
        axes = tuple("S" if value.axes[i] == "s" else value.axes[i] for i in order)
        return Arr(v, axes, tuple(value.letters[i] for i in order))

    def per_example_loss(self):
        """Each sample's term of the cost J = (1/m) Σᵢ ℓ⁽ⁱ⁾ (m × the term when J is a mean), or None."""
        loss = self.model.the_loss()
        d = self.model.definitions.get(loss) if loss is not None else None
        if d is None:
            return None
        letters = set()

        def unwrap(node):
            if node.kind == "sum" and node.value[0] and (node.value[0] in self.model.sample_letters
                                                         or SIZES.get(str(node.value[2])) == "samples"):
                letters.add(node.value[0])
                return unwrap(node.args[0])
            if node.args:
                return Node(node.kind, [unwrap(a) for a in node.args], node.value, node.column)
            return node
        tree = unwrap(d.tree)
        if not letters:
            return None
        sizes = {n.value.base for n in tree.walk() if n.kind == "sym" and SIZES.get(n.value.base) == "samples"
                 and not n.value.sub}
        if len(sizes) == 1:
            tree = Node("mul", (Node("sym", (), Symbol(sizes.pop()), None), tree), ("juxt",), None)
        ev = Evaluator(self.point, Ctx(self.ctx.layers, self.ctx.locals, self.ctx.sample_letters | letters),
                       self.strict)
        out = ev.run(tree).drop_ones()
        if self.r.data in ("columns", "rows"):            # one sample of X's columns: the same samples, in order
            return Arr(out.v, tuple("S" if a == "s" else a for a in out.axes))
        return Arr(out.v, out.axes)

    def bind(self, value, letters, sample, sym, node):
        """Index letters on a name pick axes: a sample letter the samples, others the element axes in order."""
        if not letters and sample is None:
            return value
        axes = list(value.axes)
        marks = list(value.letters)
        sample_axis = "s" if "s" in axes else ("S" if "S" in axes else None)
        todo = list(letters)
        if sample is not None and sample_axis is not None:
            marks[axes.index(sample_axis)] = sample
        unit_axes = [i for i, a in enumerate(axes) if a not in ("s", "S", "1")]
        unit_letters = [x for x in todo if not (x in self.ctx.sample_letters or x in self.model.sample_letters)]
        if len(unit_letters) < len(unit_axes):
            # w_j of a 1 × n weight (one output unit): the letter runs over the n, not over the one
            wide = [i for i in unit_axes if value.shape[i] > 1]
            if len(wide) >= len(unit_letters):
                unit_axes = wide
        for letter in todo:
            declared = letter in self.ctx.sample_letters or letter in self.model.sample_letters
            if sample_axis and letter not in marks and (declared or (sample_axis == "S" and letter in ("i", "n"))):
                marks[axes.index(sample_axis)] = letter        # X_i: a row (a column) of the samples
                continue
            free = [i for i in unit_axes if marks[i] is None]
            if free:
                marks[free[0]] = letter
            elif sample_axis is not None and marks[axes.index(sample_axis)] is None and letter in ("i", "n", "t"):
                marks[axes.index(sample_axis)] = letter        # x_i of a number per sample: the sample i
            # more letters than axes: an index on a number (one unit): nothing to pick
        if "S" in axes and marks[axes.index("S")] is not None:
            # x_i, a^{[2](i)}: one sample of a matrix of samples is a vector per sample, outside the linear algebra
            axes[axes.index("S")] = "s"
        return Arr(value.v, axes, marks)

    # operations ------------------------------------------------------------------------------------------
    def e_add(self, node):
        out = None
        for sign, term in zip(node.value, node.args):
            v = self.ev(term)
            if out is None:
                out = V.negate(v) if sign == "-" else v
            else:
                out = V.sub(out, v) if sign == "-" else V.add(out, v)
        return out

    def e_mul(self, node):
        factors, ops = list(node.args), list(node.value)
        out = None
        k = 0
        while k < len(factors):
            f = factors[k]
            if (f.kind == "func" or (f.kind == "pow" and f.args[0].kind == "func")) and k + 1 < len(factors) \
                    and ops[k] == "juxt":
                # a function written without brackets takes the next factor: \log \hat{y}, \ln x
                v = self.call(f, [factors[k + 1]], node)
                op = ops[k - 1] if k else None
                k += 2
            else:
                v = self.ev(f)
                op = ops[k - 1] if k else None
                k += 1
            if out is None:
                out = v
                continue
            if op == "div":
                out = V.divide(out, v)
            elif op == "odot":
                out = V.hadamard(out, v)
            elif op == "matmul":
                out = V.product(out, v, "dot")
            else:
                out = V.product(out, v, op)
        return out

    def e_pow(self, node):
        base, exp = node.args
        e = self.ev(exp)
        if base.kind == "sym" and base.value == Symbol("e") and not self.model.knows(Key("e")):
            return V.apply("exp", e)                          # e^{z_i}: element by element
        if e.la_axes() or "s" in e.axes:
            raise ReadError("a power whose exponent is not one number", node.column)
        if base.kind == "apply" and len(base.args) == 2 and base.args[0].kind == "sym" and not self.is_function(
                base.args[0]):
            # w(1 − w)²: the square belongs to the bracket, not to the product
            return V.product(self.ev(base.args[0]), V.power(self.ev(base.args[1]), e), "juxt")
        b = self.ev(base)
        return V.power(b, e)

    def is_function(self, head):
        sym = head.value
        key = key_of(sym.with_(primes=0))[0]
        if sym.primes:
            return True
        try:
            return self.function_of(key, sym) is not None
        except ReadError:
            return True

    def e_neg(self, node):
        return V.negate(self.ev(node.args[0]))

    def e_transpose(self, node):
        base = node.args[0]
        if base.kind == "tuple":
            return self.e_vector(base)                 # (w₁, w₂, w₃)ᵀ: the column of the elements
        if base.kind == "apply" and len(base.args) == 2 and base.args[0].kind == "sym" and not self.is_function(
                base.args[0]):
            return V.product(self.ev(base.args[0]), self.ev(base.args[1]).transpose(), "juxt")
        return self.ev(base).transpose()

    def e_indexed(self, node):
        inner = self.ev(node.args[0])
        letters = [i for i in node.value if len(i) == 1 and i.isalpha()]
        return self.bind(inner, letters, None, None, node)

    def e_index(self, node):
        inner = self.ev(node.args[0])
        la = [a for a in inner.axes if a != "s"]
        if not la:
            raise ReadError("an index on a number", node.column)
        return inner.select(la[0], node.value)

    def e_sum(self, node):
        every = self._every_layer(node)
        if every is not None:
            return every
        return self._sum(node)

    def _every_layer(self, node):
        """``½λ Σₖ Σₗ W²ₖₗ`` beside W₁ and W₂: the sum taken for every layer's W and added (L2 on all weights)."""
        bare = {key_of(n.value)[0] for n in node.args[0].walk() if n.kind == "sym" and n.value.base in ("W", "w")
                and not n.value.layer and not any(i.isdigit() for i in n.value.sub)}
        bare = {k for k in bare if not self.model.knows(k) and not k.slot}
        if len(bare) != 1:
            return None
        (k,) = bare
        layers = sorted({int(d.slot) for d in list(self.model.definitions) + list(self.model.mentioned)
                         if d.name == k.name and d.slot.isdigit()})
        if len(layers) < 2 or self.ctx.locals:
            return None
        out = None
        for layer in layers:
            ctx = Ctx(self.ctx.layers, {k: self.point.quantity(Key(k.name, str(layer)))}, self.ctx.sample_letters)
            part = Evaluator(self.point, ctx, self.strict)._sum(node)
            out = part if out is None else V.add(out, part)
        return out

    def _sum(self, node):
        letter, lower, upper = node.value
        samples = letter in self.model.sample_letters or (upper in SIZES and SIZES.get(upper) == "samples"
                                                          and upper not in self.model.not_sizes) \
            or letter in ("x",) or (lower is not None and upper is not None and str(upper).replace(" ", "") in
                                    ("m-1", "n-1", "N-1"))
        ctx = self.ctx
        if letter and samples:
            self.ctx = Ctx(ctx.layers, ctx.locals, ctx.sample_letters | {letter})
        try:
            body = self.ev(node.args[0])
        finally:
            self.ctx = ctx
        if letter and letter in body.letters:
            axis = body.axes[body.letters.index(letter)]
            if axis in ("s", "S") or not samples or True:
                return V.reduce_sum(body, axis).with_letters(
                    [x for a, x in zip(body.axes, body.letters) if a != axis])
        if samples or upper in ("m", "n", "N") or letter in ("i", "n"):
            for axis in ("s", "S"):
                if axis in body.axes:
                    return V.reduce_sum(body, axis)
            if self.r.samples == 1 or not self.r.vector:
                n = self.r.samples
                return V.product(body, Arr(float(n)))
            return body
        if letter is None:
            # ∑ with no index: over the samples if the body varies by sample, else over a vector's elements
            for axis in ("s", "S"):
                if axis in body.axes:
                    return V.reduce_sum(body, axis)
            return V.reduce_all(body)
        # a letter that picks nothing in the body: over a vector's elements
        la = [a for a in body.axes if a not in ("s",)]
        if len(la) == 1:
            return V.reduce_sum(body, la[0])
        if not la:
            return body                   # Σⱼ over the one unit of a one-unit layer
        raise ReadError(f"Σ over {letter}: which axis of {V.shape_words(body)}?", node.column)

    def e_prod(self, node):
        raise ReadError("a product ∏ over an index", node.column)

    def e_tuple(self, node):
        """``w = (w_1, w_2, w_3)^T``: the elements as a column, like ``[w_1; w_2; w_3]``."""
        return self.e_vector(node)

    def e_vector(self, node):
        """``[a; b]`` (a column written out): entries of the same shape stacked on a new last axis ``row``."""
        items = [self.ev(a) for a in node.args]
        if any(x.la_axes() for x in items):
            raise ReadError("a column whose entries are vectors (a block matrix)", node.column)
        axes = ("s",) if any("s" in x.axes for x in items) else ()
        shaped = []
        for x in items:
            v = x.v
            if axes and "s" not in x.axes:
                v = np.broadcast_to(v, (self.r.samples,))
            shaped.append(np.asarray(v, dtype=object if any(V._is_values(y.v) for y in items) else np.float64))
        return Arr(np.stack(shaped, axis=-1), axes + ("row",))

    def e_cases(self, node):
        out = None
        taken = None
        pairs = list(zip(node.args[::2], node.args[1::2]))
        for value, cond in pairs:
            v = self.ev(value)
            if cond.kind == "text":
                c = Arr(1.0)
            else:
                c = self.condition(cond)
            if taken is not None:
                c = V.elementwise(lambda a, b: a * (1.0 - b), c, taken, "·")
            part = V.product(c, v)
            out = part if out is None else V.add(out, part)
            taken = c if taken is None else V.add(taken, c)
        return out

    def condition(self, node):
        if node.kind != "compare":
            raise ReadError("a condition that is not a comparison", node.column)
        rels = node.value if isinstance(node.value, tuple) else (node.value,)
        if rels == ("=",) and len(node.args) == 2:
            a, b = node.args
            for label, index in ((a, b), (b, a)):
                if index.kind == "sym" and len(index.value.base) == 1 and index.value.base in "jkcl" \
                        and not index.value.sub and not self.model.knows(key_of(index.value)[0]) \
                        and label.kind == "sym" and label.value.base in ("y", "t", "Y"):
                    # 1(yᵢ = k): the one-hot label of example i at class k
                    value = self.ev(label)
                    return self.bind(value.unbound(), [index.value.base], None, None, node)
        out = None
        for k, rel in enumerate(rels):
            c = V.compare(rel, self.ev(node.args[k]), self.ev(node.args[k + 1]))
            out = c if out is None else V.hadamard(out, c)
        return out

    def e_compare(self, node):
        return self.condition(node)

    def e_text(self, node):
        raise ReadError(f"words in the formula ({node.value!r})", node.column)

    def e_ellipsis(self, node):
        raise ReadError("elided terms (…): a pattern, not a formula", node.column)

    def e_deriv(self, node):
        of, wrt = node.args
        if node.value not in (1, 2):
            raise ReadError(f"a derivative of order {node.value}", node.column)
        return self.derivative(of, wrt, node.value)

    def e_dname(self, node):
        """The course's ``dZ^{[2]}`` inside a formula: ∂J/∂Z⁽²⁾ for the cost J; for a quantity that varies by
        sample, each sample's ∂ℒ/∂z (m × ∂J/∂Z: the course's convention, unless the document's own dZ claim
        said ∂J/∂Z)."""
        wrt = node.args[0]
        loss = self.model.the_loss()
        if loss is None:
            raise ReadError(f"d{show(wrt)}: no loss is defined (J, L, C, …)", node.column)
        from ..notation import Symbol as _Sym
        of = Node("sym", (), _Sym(loss.name, "", (loss.slot,) if loss.slot.isdigit() else ()), node.column)
        value = self.derivative(of, wrt)
        key = key_of(wrt.value)[0] if wrt.kind == "sym" else None
        if ("s" in value.axes or "S" in value.axes) and self.model.conventions.get(key, "per sample") == "per sample" \
                and not self.model.per_sample(loss):      # one sample's loss: its derivative is already per sample
            value = V.product(value, Arr(float(self.r.samples)))
        return value

    def e_func(self, node):
        raise ReadError(f"{show(node)} needs an argument, e.g. {show(node)}(z)", node.column)

    def e_partial(self, node):
        raise ReadError("∂ outside a derivative", node.column)

    e_nabla = e_partial

    def e_kwarg(self, node):
        raise ReadError("a keyword argument outside a numpy call", node.column)

    def e_rowvec(self, node):
        items = [self.ev(a).numbers() for a in node.args]
        return Arr(np.array([[float(i.v[()]) for i in items]]), ("1", "?"))

    def e_matrix(self, node):
        raise ReadError("a matrix written out element by element", node.column)

    # functions -------------------------------------------------------------------------------------------
    def e_apply(self, node):
        head, *args = node.args
        return self.call(head, args, node)

    def call(self, head, args, node):
        """``head(args)``: a built-in function, the document's own function, a derivative of one, or a product."""
        primes = 0
        if head.kind == "pow" and head.args[0].kind in ("func", "sym"):      # \tanh^2(z) = (tanh z)²
            inner = self.call(head.args[0], args, node)
            return V.power(inner, self.ev(head.args[1]))
        if head.kind == "func":
            name = head.value if isinstance(head.value, str) else head.value[0]
            primes = len(name) - len(name.rstrip("'"))
            return self.builtin(name.rstrip("'"), args, primes, node)
        if head.kind == "sym":
            sym = head.value
            key, letters, sample = key_of(sym.with_(primes=0))
            if key.symbolic():
                key = Key(key.name, bind_slot(key.slot, {**{"L": self.r.layers, "l": self.r.layers - 1},
                                                         **self.ctx.layers}))
            fn = self.function_of(key, sym)
            if fn is not None:
                kind, what = fn
                if kind == "builtin":
                    if isinstance(what, tuple):
                        what = self.by_layer(what, args, sym)
                    return self.builtin(what, args, sym.primes, node)
                return self.user_function(what, args, sym.primes, node, letters)
            if sym.primes:
                raise ReadError(f"{show_symbol(sym)}: {show_symbol(sym.with_(primes=0))} is not a function this "
                                f"document defines (write {show_symbol(sym.with_(primes=0))}(z) = …)", node.column)
        if head.kind == "deriv" or head.kind == "dop":
            raise ReadError("a derivative applied to arguments", node.column)
        if len(args) != 1 or args[0].kind == "kwarg":
            raise ReadError(f"{show(head)}(…) with {len(args)} arguments: {show(head)} is not a function here",
                            node.column)
        return V.product(self.ev(head), self.ev(args[0]), "juxt")

    def function_of(self, key, sym):
        """("builtin", name) or ("user", Definition) when ``key`` names a function, else None."""
        model = self.model
        d = model.functions.get(key) or model.functions.get(Key(key.name))
        if d is not None and not model.knows(key) or (d is not None and key in model.functions):
            return "user", d
        if model.knows(key) and key not in model.functions:
            return None
        if key in model.activations:
            return "builtin", model.activations[key]
        if Key(key.name) in model.activations and key.slot == "":
            return "builtin", model.activations[Key(key.name)]
        by_layer = model.activations.get(Key(key.name))
        if isinstance(by_layer, tuple) and key.slot.isdigit():
            # g^{[l]}: "ReLU for l < N, the sigmoid for the output": this layer's
            return "builtin", by_layer[2] if int(key.slot) >= self.r.layers else by_layer[1]
        canon = FUNCTION_ALIASES.get(key.name)
        if canon is not None and not key.slot:
            return "builtin", canon
        if key.name in ACTIVATION_LETTERS and (sym.primes or key.slot or key.name in ("g", "phi", "varphi")):
            raise ReadError(f"{show_symbol(sym.with_(primes=0))} is never defined: write what it is "
                            f"({show_symbol(sym.with_(primes=0))}(z) = \\tanh(z), say)", None)
        return None

    def by_layer(self, what, args, sym):
        """g(Z^{[l]}) where the prose says "ReLU for the hidden layers, sigmoid for the output": the activation
        of the argument's layer."""
        _, hidden, output = what
        arg = args[0] if len(args) == 1 else None
        if arg is not None and arg.kind == "sym":
            slot = key_of(arg.value)[0].slot
            if slot:
                k = bind_slot(slot, {**{"L": self.r.layers, "l": self.r.layers - 1}, **self.ctx.layers})
                if str(k).lstrip("-").isdigit():
                    return output if int(k) >= self.r.layers else hidden
        raise ReadError(f"{show_symbol(sym.with_(primes=0))}: the text names {hidden} for the hidden layers and "
                        f"{output} for the output; which one this is cannot be told (write g^{{[l]}})", None)

    def builtin(self, name, args, primes, node):
        values = [a for a in args if a.kind != "kwarg"]
        kwargs = {a.value: a.args[0] for a in args if a.kind == "kwarg"}
        if name.startswith("np."):
            return self.numpy(name[3:], values, kwargs, node)
        if name in ("max", "min") and len(values) == 2:
            a, b = self.ev(values[0]), self.ev(values[1])
            if primes:
                raise ReadError("the derivative of max", node.column)
            return V.maximum(a, b) if name == "max" else V.minimum(a, b)
        if name == "leaky_relu" and len(values) == 2:
            slope = self.ev(values[1]).numbers().v
            return V.apply("leaky_relu", self.ev(values[0]), primes, slope=float(slope))
        if len(values) != 1:
            raise ReadError(f"{name} takes one argument, got {len(values)}", node.column)
        x = self.ev(values[0])
        if name == "softmax":
            if primes:
                raise ReadError("softmax' (a Jacobian)", node.column)
            return V.softmax(x)
        if name in ("sum", "mean"):
            total = V.reduce_all(x)
            if name == "mean":
                return V.divide(total, Arr(float(max(1, x.v.size))))
            return total
        if name == "norm":
            squares = V.hadamard(x, x)
            for axis in [a for a, l in zip(squares.axes, squares.letters) if a not in ("s",) and not (
                    a == "S" and l is not None)]:
                squares = V.reduce_sum(squares, axis)     # ‖Sᵢ − Yᵢ‖: over the units, one per sample
            return V.apply("sqrt", squares)
        if name == "indicator":
            return x
        if name == "transpose":
            return x.transpose()
        try:
            return V.apply(name, x, primes)
        except KeyError:
            raise ReadError(f"{name}{chr(39) * primes} is not a function microreg evaluates", node.column) from None

    def numpy(self, name, values, kwargs, node):
        axis = kwargs.get("axis")
        if name in ("sum", "mean"):
            x = self.ev(values[0])
            if axis is None:
                out = V.reduce_all(x)
                return V.divide(out, Arr(float(x.v.size))) if name == "mean" else out
            k = int(self.ev(axis).numbers().v[()])
            la = [a for a in x.axes if a != "s"]
            if k >= len(la) or k < -len(la):
                raise ReadError(f"np.{name}(…, axis={k}) of {V.shape_words(x)}: no such axis", node.column)
            ax = la[k]
            out = V.reduce_sum(x, ax)
            if name == "mean":
                out = V.divide(out, Arr(float(x.shape[x.axes.index(ax)])))
            return out
        if name in ("dot", "matmul"):
            a, b = self.ev(values[0]), self.ev(values[1])
            return V.product(a, b, "dot")
        if name == "multiply":
            return V.hadamard(self.ev(values[0]), self.ev(values[1]))
        if name == "power":
            return V.power(self.ev(values[0]), self.ev(values[1]))
        if name in ("max", "amax"):
            raise ReadError("np.max over an axis", node.column)
        if name == "max":
            return V.maximum(self.ev(values[0]), self.ev(values[1]))
        if name in ("divide", "subtract", "add"):
            a, b = self.ev(values[0]), self.ev(values[1])
            return {"divide": V.divide, "subtract": V.sub, "add": V.add}[name](a, b)
        if name == "transpose":
            return self.ev(values[0]).transpose()
        if name == "outer":
            return V.product(self.ev(values[0]), self.ev(values[1]).transpose(), "dot")
        if name in ("squeeze", "reshape"):
            return self.ev(values[0])
        try:
            return V.apply(name if name != "square" else "square", self.ev(values[0]))
        except KeyError:
            raise ReadError(f"np.{name} is not a function microreg evaluates", node.column) from None

    def user_function(self, d, args, primes, node, letters=()):
        """The document's own function: its body with the arguments in place of its parameters; with a
        prime, its derivative (one argument), element by element, by autograd."""
        values = [a for a in args if a.kind != "kwarg"]
        if len(values) != len(d.params):
            if not d.params:
                raise ReadError(f"{show_symbol(d.symbol) if d.symbol else d.key} takes no arguments", node.column)
            raise ReadError(f"{show_symbol(d.symbol) if d.symbol else d.key} takes {len(d.params)} argument(s), "
                            f"got {len(values)}", node.column)
        actual = [self.ev(a) for a in values]
        if primes:
            if len(actual) != 1 or primes > 1:
                raise ReadError("a derivative of a function of several arguments", node.column)
            return self.derivative_of_function(d, actual[0])
        locals_ = dict(self.ctx.locals)
        for p, a in zip(d.params, actual):
            locals_[p] = a
        ctx = Ctx(self.ctx.layers, locals_, self.ctx.sample_letters)
        out = Evaluator(self.point, ctx).run(d.tree)
        # h_θ(x⁽ⁱ⁾): the sample letter of the argument stays on the value's samples (h_θ(x⁽ⁱ⁾) − y⁽ⁱ⁾ pairs them)
        for a in actual:
            for axis, letter in zip(a.axes, a.letters):
                if axis in ("s", "S") and letter is not None and axis in out.axes \
                        and out.letters[out.axes.index(axis)] is None:
                    marks = list(out.letters)
                    marks[out.axes.index(axis)] = letter
                    out = Arr(out.v, out.axes, marks)
        return out

    def derivative_of_function(self, d, x):
        """f'(x) for the document's f, at every element of x (numbers: a claim's value)."""
        numbers = x.numbers()
        out = np.empty(numbers.shape, dtype=np.float64)
        for idx in np.ndindex(numbers.shape):
            leaf = Value(float(numbers.v[idx]))
            ctx = Ctx(self.ctx.layers, {**self.ctx.locals, d.params[0]: Arr(leaf)}, self.ctx.sample_letters)
            y = Evaluator(self.point, ctx).run(d.tree)
            total = V.reduce_all(y).item()
            out[idx] = float(grad(total, [leaf])[0]) if isinstance(total, Value) else 0.0
        return Arr(out, x.axes, x.letters)

    # derivatives ----------------------------------------------------------------------------------------
    def derivative(self, of, wrt, order=1):
        """∂of/∂wrt at this point, by autograd (``order`` 2: ∂²of/∂wrt², element by element)."""
        point = self.point
        if wrt.kind == "all":
            raise ReadError("∇ with no variable: write the gradient with respect to each parameter", wrt.column)
        if wrt.kind not in ("sym",):
            raise ReadError(f"a derivative with respect to {show(wrt)}, not a name", wrt.column)
        sym = wrt.value
        key, letters, sample = key_of(sym)
        if key.symbolic():
            key = Key(key.name, bind_slot(key.slot, {**{"L": self.r.layers, "l": self.r.layers - 1},
                                                     **self.ctx.layers}))
        if of.kind == "sym" and not of.value.sub and of.value.layer is None:
            of_key = key_of(of.value)[0]
            if not self.model.knows(of_key) or of_key in self.model.functions:
                try:
                    fn = self.function_of(of_key, of.value)
                except ReadError:
                    fn = None
                if fn is not None and of_key.name not in LOSS_NAMES and (fn[0] == "builtin" or (
                        len(fn[1].params) == 1 and not self.model.knows(
                        self.concrete(fn[1].params[0])) and not self.point.is_data(fn[1].params[0]))):
                    # dσ/dz, dg/dz: the function's derivative at z
                    return self.call(Node("sym", (), of.value.with_(primes=1), of.column), [wrt], wrt).numbers()
        of_value = self.ev(of)
        target = self.lookup(key, sym, sample, wrt)
        if self.model.named_of(key) is not None:
            raise ReadError(f"a derivative with respect to {show_symbol(sym)}, itself a derivative", wrt.column)
        # letters on the variable pick elements of the gradient: ∂C/∂w_{jk}
        if order == 2:
            d = point.second_derivative(of_value.unbound(), target.unbound(), show_symbol(sym))
        else:
            d = point.differentiate(of_value.unbound(), target.unbound(), show_symbol(sym))
        # one sample's derivative: the variable is one sample's (x^{(i)}, z^{(i)}) and so is the result
        return self.bind(d, letters, sample, sym, wrt)

    def concrete(self, key):
        """A key with its layer symbols bound (l, L) as this evaluation binds them."""
        if key.symbolic():
            return Key(key.name, bind_slot(key.slot, {**{"L": self.r.layers, "l": self.r.layers - 1},
                                                      **self.ctx.layers}))
        return key

    def e_row(self, node):
        value = self.ev(node.args[0])
        if "row" not in value.axes:
            raise ReadError("a row of something that is not a column", node.column)
        return value.select("row", node.value)

    def e_all(self, node):
        raise ReadError("∇ alone", node.column)
