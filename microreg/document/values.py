r"""The values of a document's quantities: arrays whose axes have names.

A derivation document says what its quantities are by how it writes them: ``W^{[1]} X`` (a matrix times
the data, samples as columns), ``w^T x`` (two vectors), ``w_{jk} a_k`` (elements, by their indices),
``w x`` (numbers). microreg builds every quantity as an `Arr`: a numpy array of `microreg.Value` (or of
numbers, for a claim) whose axes have names:

- ``s``: the samples, one value each, outside the linear algebra (a per-sample formula, ``x_i``, ``x^{(i)}``);
- ``S``: the samples as a matrix axis (the course convention ``X`` of shape features × m, or CS231n's rows);
- ``u0`` (the input features), ``u1``, ``u2``, … (the units of layer 1, 2, …; the last layer's units are
  the outputs or classes);
- ``1``: a size-1 axis (a row vector ``xᵀ``, or a one-unit layer's side of a matrix).

Products follow linear algebra by these names, so a missing transpose is found even in a square layer:
a matrix times a column contracts the axes that meet (``u1`` with ``u1``), a column times a row is an outer
product, two equal shapes side by side are element by element (the scalar way of writing), two vectors of
different units give their outer product. Index letters (``w_{jk}``, ``δ_j``, ``x_i``) bind axes, and a
product of indexed quantities is element by element by those letters (index notation), summed by ``\sum_k``.
"""

import math

import numpy as np

from ..engine import MathDomainError, Value

__all__ = ["Arr", "ShapeError", "shape_words", "axis_words"]


class ShapeError(ValueError):
    """Shapes that do not fit together in a formula: a finding about a claim, said in words."""


def _is_values(v):
    return isinstance(v, np.ndarray) and v.dtype == object


def _obj(x):
    """A number or Value as a 0-d array (object for Values), an array as itself."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Value):
        out = np.empty((), dtype=object)
        out[()] = x
        return out
    return np.asarray(float(x))


def axis_words(name, size=None):
    """What an axis is, in words: samples, input features, the units of layer k."""
    name = name.split("#")[0]          # a second axis of the same kind (u2#j): the same words
    if name in ("s", "S"):
        return "samples"
    if name == "u0":
        return "input features"
    if name == "1":
        return "one row"
    if name.startswith("u"):
        return f"units of layer {name[1:]}"
    return name


def shape_words(arr):
    """A value's shape as a learner says it: a number, a column of 3, a 3×2 matrix (units of layer 1 ×
    input features), 5 samples of …"""
    axes = [(a, n) for a, n in zip(arr.axes, np.shape(arr.v)) if a != "s"]
    batch = "s" in arr.axes
    if not axes or all(n == 1 for _, n in axes):
        core = "a number"
    elif len(axes) == 1:
        core = f"a column of {axes[0][1]} ({axis_words(axes[0][0])})"
    elif len(axes) == 2 and axes[0][0] == "1":
        core = f"a row of {axes[1][1]} ({axis_words(axes[1][0])})"
    else:
        core = ("a " + "×".join(str(n) for _, n in axes) + " matrix ("
                + " × ".join(axis_words(a) for a, _ in axes) + ")")
    return core + (" per sample" if batch else "")


class Arr:
    """A value with named axes: ``v`` (an array: object of Values, or floats), ``axes`` (a name per axis),
    ``letters`` (the index letter bound to each axis in the formula being evaluated, or None)."""

    __slots__ = ("v", "axes", "letters")

    def __init__(self, v, axes=(), letters=None):
        self.v = _obj(v)
        self.axes = tuple(axes)
        if self.v.ndim != len(self.axes):
            raise AssertionError(f"{self.v.shape} with axes {self.axes}")
        self.letters = tuple(letters) if letters is not None else (None,) * len(self.axes)

    def __repr__(self):
        return f"Arr({np.shape(self.v)}, {self.axes}, {self.letters})"

    # --- looking at it ------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.v.shape

    def numbers(self):
        """The value as floats (a Value's data)."""
        if _is_values(self.v):
            out = np.empty(self.v.shape, dtype=np.float64)
            for idx in np.ndindex(self.v.shape):
                x = self.v[idx]
                out[idx] = x.data if isinstance(x, Value) else float(x)
            return Arr(out, self.axes, self.letters)
        return self

    def la_axes(self):
        """The axes linear algebra sees: all but the per-sample axis ``s``."""
        return tuple(a for a in self.axes if a != "s")

    def bound(self, letter):
        return letter in self.letters

    def with_letters(self, letters):
        return Arr(self.v, self.axes, letters)

    def unbound(self):
        return Arr(self.v, self.axes, None)

    def item(self):
        """The single element of a value with no axes (a Value or a float)."""
        return self.v[()] if self.v.ndim == 0 else None

    # --- reshaping ----------------------------------------------------------------------------------
    def transpose(self):
        """``xᵀ``: a matrix's axes swapped; a column becomes a row (axes ``1``, u); a row a column."""
        la = [i for i, a in enumerate(self.axes) if a != "s"]
        if not la:
            return self
        if len(la) == 1:
            i = la[0]
            v = np.expand_dims(self.v, i)
            axes = self.axes[:i] + ("1",) + self.axes[i:]
            letters = self.letters[:i] + (None,) + self.letters[i:]
            return Arr(v, axes, letters)
        if len(la) == 2 and self.axes[la[0]] == "1":
            v = np.squeeze(self.v, axis=la[0])
            return Arr(v, self.axes[:la[0]] + self.axes[la[0] + 1:], self.letters[:la[0]] + self.letters[la[0] + 1:])
        if len(la) == 2 and self.axes[la[1]] == "1":
            v = np.squeeze(self.v, axis=la[1])
            axes = self.axes[:la[1]] + self.axes[la[1] + 1:]
            letters = self.letters[:la[1]] + self.letters[la[1] + 1:]
            return Arr(v, axes, letters).transpose()
        order = list(range(len(self.axes)))
        order[la[-1]], order[la[-2]] = order[la[-2]], order[la[-1]]
        return Arr(np.transpose(self.v, order), [self.axes[k] for k in order], [self.letters[k] for k in order])

    def drop_ones(self):
        """Size-1 axes dropped (a one-unit layer's axis): a (1, 3) row is a column of 3 for elementwise use."""
        keep = [i for i, (a, n) in enumerate(zip(self.axes, self.v.shape)) if not (n == 1 and a != "s")]
        if len(keep) == len(self.axes):
            return self
        v = self.v.reshape([self.v.shape[i] for i in keep]) if keep else self.v.reshape(())
        return Arr(v, [self.axes[i] for i in keep], [self.letters[i] for i in keep])

    def move_to(self, axes):
        """The same value with its axes in the order ``axes`` (a permutation of its own), or None."""
        if sorted(axes) != sorted(self.axes) or len(set(axes)) != len(axes):
            return None
        order = [self.axes.index(a) for a in axes]
        return Arr(np.transpose(self.v, order), axes, [self.letters[k] for k in order])

    def select(self, axis, index):
        """One slice along ``axis`` (a column ``i`` of the samples axis)."""
        k = self.axes.index(axis)
        return Arr(np.take(self.v, index, axis=k), self.axes[:k] + self.axes[k + 1:],
                   self.letters[:k] + self.letters[k + 1:])


# --- elementwise operations, aligned by axis names ---------------------------------------------------------

def align(a, b, what="+"):
    """Both values expanded to the same axes, aligned by name: (va, vb, axes, letters). A value whose
    axes are a part of the other's broadcasts (a bias b₁ over the samples); the same axes in another order
    are a `ShapeError` (a transpose), unless index letters bind them (index notation)."""
    a, b = _ones(a, b)
    a, b = _same_samples(a, b)
    b = _distinct_letters(a, b)
    if a.axes == b.axes:
        return a.v, b.v, a.axes, _merge_letters(a, b)
    sa, sb = set(a.axes), set(b.axes)
    la_a, la_b = a.la_axes(), b.la_axes()
    indexed = any(x is not None for x in a.letters + b.letters)
    if not indexed and la_a and la_b and sorted(la_a) == sorted(la_b) and la_a != la_b:
        raise ShapeError(f"{shape_words(a)} {what} {shape_words(b)}: the same axes in another order "
                         f"(a transpose?)")
    if not indexed and la_a and la_b and not (set(la_a) <= set(la_b) or set(la_b) <= set(la_a)) and what != "⊗":
        raise ShapeError(f"{shape_words(a)} {what} {shape_words(b)}: shapes that do not fit")
    axes = list(a.axes) + [x for x in b.axes if x not in sa]
    letters = list(a.letters) + [l for x, l in zip(b.axes, b.letters) if x not in sa]
    for i, x in enumerate(axes):
        if x in sb and letters[i] is None:
            letters[i] = b.letters[b.axes.index(x)]
    return _expand(a, axes), _expand(b, axes), tuple(axes), tuple(letters)


def _same_samples(a, b):
    """One example's values (axis ``s``, from ``y_i``) beside the matrix of all examples (axis ``S``): the same
    samples, in the same order."""
    if "s" in a.axes and "S" in b.axes and "S" not in a.axes and "s" not in b.axes:
        a = Arr(a.v, ["S" if x == "s" else x for x in a.axes], a.letters)
    elif "S" in a.axes and "s" in b.axes and "s" not in a.axes and "S" not in b.axes:
        b = Arr(b.v, ["S" if x == "s" else x for x in b.axes], b.letters)
    return a, b


def _distinct_letters(a, b):
    """Index notation: ``a_k δ_j`` with a and δ of the same units is still a matrix (j, k): the same axis under
    two letters is two axes."""
    if not any(a.letters) or not any(b.letters):
        return b
    axes = list(b.axes)
    changed = False
    for i, (x, l) in enumerate(zip(b.axes, b.letters)):
        if l is None or x not in a.axes:
            continue
        la = a.letters[a.axes.index(x)]
        if la is not None and la != l:
            axes[i] = f"{x}#{l}"
            changed = True
    return Arr(b.v, axes, b.letters) if changed else b


def _merge_letters(a, b):
    return tuple(x if x is not None else y for x, y in zip(a.letters, b.letters))


def _ones(a, b):
    """A size-1 side (a one-unit layer, a 1×1 matrix) acts as a number against a larger value; a row (``1``, S)
    beside the output layer's (u, S) of one unit is the same row."""
    if a.axes == b.axes:
        return a, b
    if len(a.axes) == len(b.axes) and all(x == y or (n == 1 and k == 1) for x, y, n, k in
                                          zip(a.axes, b.axes, a.shape, b.shape)):
        names = tuple(y if x == "1" else x for x, y in zip(a.axes, b.axes))
        a = Arr(a.v, names, a.letters)
        b = Arr(b.v, tuple(x if y == "1" else y for x, y in zip(names, b.axes)), b.letters)
        if a.axes == b.axes:
            return a, b
    if a.v.size == 1 and any(n != 1 for n in b.v.shape):
        return Arr(a.v.reshape(()), ()), b
    if b.v.size == 1 and any(n != 1 for n in a.v.shape):
        return a, Arr(b.v.reshape(()), ())
    if set(a.axes) != set(b.axes):
        return a.drop_ones(), b.drop_ones()
    return a, b


def _expand(arr, axes):
    """``arr``'s array with its axes moved into the order of ``axes`` and size-1 axes for the ones it lacks."""
    present = [x for x in axes if x in arr.axes]
    order = [arr.axes.index(x) for x in present]
    v = np.transpose(arr.v, order) if order != list(range(len(order))) else arr.v
    shape = []
    k = 0
    for x in axes:
        if x in arr.axes:
            shape.append(v.shape[k])
            k += 1
        else:
            shape.append(1)
    return v.reshape(shape)


def elementwise(op, a, b, what):
    va, vb, axes, letters = align(a, b, what)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = op(va, vb)
    return Arr(_obj(out), axes, letters)


def add(a, b):
    return elementwise(lambda x, y: x + y, a, b, "+")


def sub(a, b):
    return elementwise(lambda x, y: x - y, a, b, "−")


def hadamard(a, b):
    return elementwise(lambda x, y: x * y, a, b, "⊙")


def divide(a, b):
    if not _is_values(b.v) and np.any(np.asarray(b.v) == 0):
        raise MathDomainError("division by zero")
    return elementwise(lambda x, y: x / y, a, b, "/")


def power(a, b):
    if b.axes and b.v.size > 1:
        return elementwise(_pow, a, b, "^")
    e = b.item() if b.v.ndim == 0 else b.v.reshape(())[()]
    e = e.data if isinstance(e, Value) and not _is_values(a.v) else e
    return Arr(_obj(_pow(a.v, e)), a.axes, a.letters)


def _pow(x, e):
    if not _is_values(np.asarray(x)) and not isinstance(e, Value):
        x = np.asarray(x, dtype=np.float64)
        ef = float(e) if np.ndim(e) == 0 else np.asarray(e, dtype=np.float64)
        if np.any((x < 0) & (np.asarray(ef) != np.round(ef))):
            raise MathDomainError("a fractional power of a negative number")
        if np.any((x == 0) & (np.asarray(ef) < 0)):
            raise MathDomainError("0 to a negative power")
        with np.errstate(over="ignore"):
            return np.power(x, ef)
    return x ** e


def negate(a):
    return Arr(_obj(-a.v), a.axes, a.letters)


def _unit_letters(a):
    """Does an index letter name one of a value's unit axes (z_j, w_{jk}; not the samples' i)?"""
    return any(x is not None and ax not in ("s", "S") for x, ax in zip(a.letters, a.axes))


def product(a, b, op="dot"):
    """``a·b`` (juxtaposition, ``\\cdot``, ``\\times``; ``*``): a number times anything; index letters on both
    sides: element by element by name; equal shapes: element by element; a matrix (or row) times a column or
    a matrix whose first axis is the matrix's last: the matrix product; a column times a row, or two columns
    of different units: the outer product. ``*`` between equal shapes is element by element (numpy's ``*``).
    Anything else is a `ShapeError` in words."""
    la_a, la_b = a.la_axes(), b.la_axes()
    if not la_a or not la_b:
        return elementwise(lambda x, y: x * y, a, b, "·")
    if _unit_letters(a) and _unit_letters(b):
        return elementwise(lambda x, y: x * y, a, b, "·")
    if la_a == la_b:
        return elementwise(lambda x, y: x * y, a, b, "·")
    if op in ("star", "odot") and sorted(la_a) == sorted(la_b):
        return elementwise(lambda x, y: x * y, a, b, "*")         # says: the same axes in another order
    if la_a[-1] == la_b[0]:
        return _contract(a, b)                                     # the matrix product
    if len(la_a) == 1 and len(la_b) == 2 and la_b[0] == "1":
        if la_b[1] == la_a[0]:
            # a column times a row of the same units (δ aᵀ of one layer): a square matrix no gradient has
            n = a.shape[a.axes.index(la_a[0])]
            raise ShapeError(f"{shape_words(a)} times {shape_words(b)}: a {n}×{n} matrix ({axis_words(la_a[0])} "
                             f"× {axis_words(la_a[0])})")
        return elementwise(lambda x, y: x * y, a, b.drop_ones(), "⊗")   # a column times a row
    if len(la_a) == 1 and len(la_b) == 1:
        return elementwise(lambda x, y: x * y, a, b, "⊗")         # two columns of different units: outer
    if len(la_a) == 2 and len(la_b) == 2 and la_a[0] == la_b[0] and la_a[0] != "1":
        # W^{[2]} dZ^{[2]} with both starting at the one-unit layer 2: W^{[2]T} dZ^{[2]} is meant
        raise ShapeError(f"{shape_words(a)} times {shape_words(b)}: the inner sizes do not match (a transpose?)")
    if (a.drop_ones().axes != a.axes or b.drop_ones().axes != b.axes) and not ("S" in a.axes and "S" in b.axes):
        # a one-unit layer's axis is not a shape to keep to (w₂ a 1 × n row or a column of n), except between
        # two matrices of samples, where X(A − Y) needs (A − Y)ᵀ
        return product(a.drop_ones(), b.drop_ones(), op)
    hint = " (a transpose?)" if (la_a[-1] in la_b or la_b[0] in la_a) else ""
    raise ShapeError(f"{shape_words(a)} times {shape_words(b)}: the inner sizes do not match{hint}")


def _contract(a, b):
    """The matrix product over a's last linear-algebra axis and b's first, the sample axes kept apart."""
    xa, xb = a.la_axes()[-1], b.la_axes()[0]
    ia, ib = a.axes.index(xa), b.axes.index(xb)
    if a.shape[ia] != b.shape[ib]:
        raise ShapeError(f"{shape_words(a)} times {shape_words(b)}: the inner sizes do not match")
    # batch axes: s on either side broadcasts
    va, vb = a.v, b.v
    a_rest = [x for i, x in enumerate(a.axes) if i != ia]
    b_rest = [x for i, x in enumerate(b.axes) if i != ib]
    a_let = [l for i, l in enumerate(a.letters) if i != ia]
    b_let = [l for i, l in enumerate(b.letters) if i != ib]
    batch = "s" in a.axes or "s" in b.axes
    va = np.moveaxis(va, ia, -1)
    vb = np.moveaxis(vb, ib, 0)
    if batch:
        sa = "s" in a_rest
        sb = "s" in b_rest
        if sa:
            k = a_rest.index("s")
            va = np.moveaxis(va, k, 0)
            a_rest.insert(0, a_rest.pop(k))
            a_let.insert(0, a_let.pop(k))
        if sb:
            k = b_rest.index("s")
            vb = np.moveaxis(vb, k + 1, 0)
            b_rest.insert(0, b_rest.pop(k))
            b_let.insert(0, b_let.pop(k))
        m = va.shape[0] if sa else vb.shape[0]
        rows = []
        for i in range(m):
            x = va[i] if sa else va
            y = vb[i] if sb else vb
            rows.append(_tensordot(x, y) if x.ndim and y.ndim else x * y)
        out = np.stack([np.asarray(r, dtype=object if _is_values(va) or _is_values(vb) else np.float64)
                        for r in rows])
        axes = ["s"] + [x for x in a_rest if x != "s"] + [x for x in b_rest if x != "s"]
        letters = [None] + [l for x, l in zip(a_rest, a_let) if x != "s"] + [l for x, l in zip(b_rest, b_let)
                                                                           if x != "s"]
        return Arr(_obj(out), axes, letters)
    out = _tensordot(va, vb)
    return Arr(_obj(np.asarray(out, dtype=object if out.dtype == object else np.float64)), a_rest + b_rest,
               a_let + b_let)


def _tensordot(x, y):
    """x's last axis against y's first (``np.tensordot(x, y, 1)``). Arrays of Values go through numpy's
    ufuncs, never ``np.dot``: its loop over Python objects can lose an exception raised inside (a Ctrl-C
    inside ``Value.__mul__``), and the check would then run on."""
    if x.dtype != object and y.dtype != object:
        return np.tensordot(x, y, axes=([x.ndim - 1], [0]))
    k = x.shape[-1]
    xr = x.reshape(x.shape + (1,) * (y.ndim - 1))
    return np.add.reduce(xr * y, axis=x.ndim - 1) if k else np.zeros(x.shape[:-1] + y.shape[1:])


def reduce_sum(a, axis):
    """The sum over one axis (``\\sum_i`` over the samples, ``\\sum_k`` over units)."""
    k = a.axes.index(axis)
    v = a.v
    if _is_values(v):
        moved = np.moveaxis(v, k, 0)
        total = moved[0]
        for i in range(1, moved.shape[0]):
            total = total + moved[i]
        out = _obj(total)
    else:
        out = _obj(np.sum(v, axis=k))
    return Arr(out, a.axes[:k] + a.axes[k + 1:], a.letters[:k] + a.letters[k + 1:])


def reduce_all(a):
    """Every element added up (``\\sum`` of a vector's elements, ``np.sum`` with no axis)."""
    out = a
    while out.axes:
        out = reduce_sum(out, out.axes[0])
    return out


# --- functions ------------------------------------------------------------------------------------------------

def _stable_sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _each(v, on_value, on_number):
    if _is_values(v):
        out = np.empty(v.shape, dtype=object)
        for idx in np.ndindex(v.shape):
            x = v[idx]
            out[idx] = on_value(x) if isinstance(x, Value) else Value(float(on_number(np.float64(x))))
        return out
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return on_number(np.asarray(v, dtype=np.float64))


def _log_number(x):
    if np.any(x <= 0):
        raise MathDomainError(f"log of a number ≤ 0 ({float(np.min(x)):.4g})")
    return np.log(x)


def _sqrt_number(x):
    if np.any(x < 0):
        raise MathDomainError(f"square root of a negative number ({float(np.min(x)):.4g})")
    return np.sqrt(x)


def _leaky(slope):
    return (lambda v: v.relu() - (-v).relu() * slope,
            lambda x: np.where(x > 0, x, slope * x))


#: name → (on a Value, on numbers): the elementwise functions a document may use
ELEMENTWISE = {
    "sigmoid": (lambda v: v.sigmoid(), _stable_sigmoid),
    "tanh": (lambda v: v.tanh(), np.tanh),
    "exp": (lambda v: v.exp(), np.exp),
    "log": (lambda v: v.log(), _log_number),
    "relu": (lambda v: v.relu(), lambda x: np.maximum(x, 0.0)),
    "leaky_relu": _leaky(0.01),
    "sqrt": (lambda v: v ** 0.5, _sqrt_number),
    "abs": (lambda v: (v * v) ** 0.5, np.abs),
    "softplus": (lambda v: (v.exp() + 1.0).log(), lambda x: np.logaddexp(0.0, x)),
    "sign": (lambda v: Value(float(np.sign(v.data))), np.sign),
    "log1p": (lambda v: (v + 1.0).log(), lambda x: _log_number(1.0 + x)),
    "square": (lambda v: v * v, np.square),
    "sinh": (lambda v: (v.exp() - (-v).exp()) * 0.5, np.sinh),
    "cosh": (lambda v: (v.exp() + (-v).exp()) * 0.5, np.cosh),
    "sech": (lambda v: 2.0 / (v.exp() + (-v).exp()), lambda x: 1.0 / np.cosh(x)),
}
#: the derivative of each, as an expression of its input (on a Value, on numbers)
DERIVATIVES = {
    "sigmoid": (lambda v: v.sigmoid() * (1.0 - v.sigmoid()), lambda x: _stable_sigmoid(x) * (1 - _stable_sigmoid(x))),
    "tanh": (lambda v: 1.0 - v.tanh() * v.tanh(), lambda x: 1.0 - np.tanh(x) ** 2),
    "exp": (lambda v: v.exp(), np.exp),
    "log": (lambda v: 1.0 / v, lambda x: 1.0 / x),
    "relu": (lambda v: Value(1.0 if v.data > 0 else 0.0), lambda x: (x > 0).astype(np.float64)),
    "leaky_relu": (lambda v: Value(1.0 if v.data > 0 else 0.01), lambda x: np.where(x > 0, 1.0, 0.01)),
    "softplus": (lambda v: v.sigmoid(), _stable_sigmoid),
    "sqrt": (lambda v: 0.5 * v ** -0.5, lambda x: 0.5 / np.sqrt(x)),
    "abs": (lambda v: Value(float(np.sign(v.data))), np.sign),
    "square": (lambda v: 2.0 * v, lambda x: 2.0 * x),
    "sinh": (lambda v: (v.exp() + (-v).exp()) * 0.5, np.cosh),
    "cosh": (lambda v: (v.exp() - (-v).exp()) * 0.5, np.sinh),
}


def apply(name, a, primes=0, slope=None):
    """An elementwise function (or its derivative, ``primes`` = 1) applied to every element."""
    if name == "leaky_relu" and slope is not None:
        table = {"leaky_relu": _leaky(slope)} if not primes else {
            "leaky_relu": (lambda v: Value(1.0 if v.data > 0 else slope), lambda x: np.where(x > 0, 1.0, slope))}
    else:
        table = ELEMENTWISE if not primes else DERIVATIVES
    if primes > 1 or name not in table:
        raise KeyError(name)
    on_value, on_number = table[name]
    return Arr(_obj(_each(a.v, on_value, on_number)), a.axes, a.letters)


def softmax(a, axis=None):
    """The softmax over the class axis (the one axis besides the samples), stable."""
    la = [x for x in a.axes if x != "s"]
    if axis is None:
        if len(la) != 1:
            raise ShapeError(f"softmax of {shape_words(a)}: over which axis?")
        axis = la[0]
    k = a.axes.index(axis)
    if _is_values(a.v):
        m = np.max(np.vectorize(lambda x: x.data if isinstance(x, Value) else x, otypes=[float])(a.v), axis=k,
                   keepdims=True)
        e = _each(a.v - m, lambda v: v.exp(), np.exp)
        total = np.sum(e, axis=k, keepdims=True)
        return Arr(_obj(e / total), a.axes, a.letters)
    v = np.asarray(a.v, dtype=np.float64)
    e = np.exp(v - v.max(axis=k, keepdims=True))
    return Arr(e / e.sum(axis=k, keepdims=True), a.axes, a.letters)


def maximum(a, b):
    """``\\max(a, b)`` element by element (``\\max(0, z)`` is the relu: the choice is a constant, as in PyTorch)."""
    va, vb, axes, letters = align(a, b, "max")
    va, vb = np.broadcast_arrays(va, vb)
    values = _is_values(va) or _is_values(vb)
    out = np.empty(va.shape, dtype=object if values else np.float64)
    for idx in np.ndindex(va.shape):
        x, y = va[idx], vb[idx]
        if values:
            # max(a, b) = a + relu(b − a): a node of the graph either way (max(0, z) is z's relu), so a
            # quantity defined with it can be differentiated with respect to, as ReLU's output is
            xv = x if isinstance(x, Value) else Value(float(x))
            out[idx] = (y - xv).relu() + xv if not (not isinstance(x, Value) and float(x) == 0.0) else (
                y.relu() if isinstance(y, Value) else Value(max(0.0, float(y))))
        else:
            out[idx] = max(float(x), float(y))
    return Arr(_obj(out), axes, letters)


def minimum(a, b):
    return negate(maximum(negate(a), negate(b)))


def compare(rel, a, b):
    """A comparison as 1.0 or 0.0 per element (a condition of ``cases``, an indicator ``\\mathbb{1}\\{y = k\\}``)."""
    va, vb, axes, letters = align(a.numbers(), b.numbers(), rel)
    va, vb = np.asarray(va, dtype=np.float64), np.asarray(vb, dtype=np.float64)
    ops = {"<": np.less, ">": np.greater, "≤": np.less_equal, "≥": np.greater_equal, "=": np.isclose,
           "≠": lambda x, y: ~np.isclose(x, y)}
    if rel not in ops:
        raise ShapeError(f"a condition with {rel}")
    return Arr((ops[rel](va, vb)).astype(np.float64), axes, letters)


def finite(arr):
    """Are all the numbers finite?"""
    n = arr.numbers().v
    return bool(np.all(np.isfinite(n)))


def nice(k):
    """A factor as a fraction when it is one: 2, 1/2, 5, 1/5, −1."""
    if math.isclose(k, round(k), rel_tol=1e-9):
        return str(int(round(k)))
    for d in range(2, 13):
        if math.isclose(k * d, round(k * d), rel_tol=1e-9):
            return f"{int(round(k * d))}/{d}"
    return f"{k:.6g}"
