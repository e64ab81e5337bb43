"""The `Value` node: build an expression, then get every gradient by the chain rule.

    >>> from microreg import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a ** 2          # every op records its inputs, in order
    >>> c.backward()                # reverse topological order, chain rule at each node
    >>> a.grad, b.grad              # ∂c/∂a = b + 2a = 1, ∂c/∂b = a = 2
    (1.0, 2.0)

What this module lets you do:

- ``Value(data, label=None)``: a node holding a float, or a 1-D numpy batch (one value per
  sample). ``+ - * / **`` (number or Value exponent), ``exp log tanh sigmoid relu abs sqrt``, and
  the batch reductions ``sum mean``. It is micrograd's API: code written for micrograd runs as is.
- numpy code on object arrays of Values: ``< <= > >=`` and ``float()`` read the numbers held (a
  max or a relu mask chosen by a comparison is a constant, as in PyTorch; ``==`` stays identity),
  and a Value beside a numpy array that is not a batch (of Values, 2-D, 0-d) runs element by
  element, as numpy runs the op on Python numbers (see `microreg.trace` for whole forward passes).
- ``backward()``: every gradient of the graph, by one iterative walk in reverse topological
  order (no recursion: a million-node chain is fine). Grads of *non-leaf* nodes are reset at
  the start, so calling it twice does not over-count them; grads of *leaves* accumulate, as in
  PyTorch, so reset them yourself between steps (``Module.zero_grad()`` or ``p.grad = 0.0``).
- ``backward_steps()``: the same walk as a generator of `Step` records, one per chain-rule
  application (what the stepper shows).
- ``backward(create_graph=True)`` and ``grad(output, inputs, create_graph=True)``: gradients that
  are Values themselves, so they can be differentiated again.
- ``.data`` set by hand (or by an optimiser) to another kind of number (``np.float64``, ``np.int64``,
  an ``int``) works as that number's float; anything else is refused, naming the node. The
  checks for it run only where an op or the walk meets such a number, off the hot path.
- A ``backward()`` that meets a rule outside its domain raises before it writes any grad, so it
  changes nothing; one stopped part-way by anything else (Ctrl-C) leaves the grads part-way, as
  in PyTorch (``backward()`` says why; ``backward_steps()`` undoes it all). Batches of different
  lengths are refused, a 1-sample batch included (never stretched).
- Threads: ``grad()`` and ``topological_order()`` write nothing on the nodes, so any number of
  threads may run them at once, even on one graph or on graphs sharing parameters. ``backward()``
  writes ``.grad``: run it in several threads only on graphs that share no node (for graphs
  sharing parameters, use ``grad()``).
- ``pickle`` and ``copy.deepcopy`` work on graphs of any depth (the node pickled first carries its
  whole graph as one flat list, children first, so nothing recurses).

Every derivative comes from the rule table in `microreg.ops`; this module only walks the graph.
"""

import itertools
import numbers
import operator
import weakref
from math import inf

import numpy as np

from . import ops
from .ops import ADD, AFFINE, DIV, EXP, LOG, MEAN, MUL, NEG, POWV, RELU, SIGMOID, SUB, SUM, TANH, DomainProblem

ndarray = np.ndarray
_LT, _LE, _GT, _GE = operator.lt, operator.le, operator.gt, operator.ge


class MathDomainError(ValueError):
    """An op got an input outside its domain (log of 0, a negative base to a fractional power…).

    ``op`` is the op's name, ``node`` the offending input node, ``value`` its bad value and
    ``index`` the first bad sample of a batch (None for a scalar).
    """

    def __init__(self, message, op=None, node=None, value=None, index=None):
        super().__init__(message)
        self.op, self.node, self.value, self.index = op, node, value, index


class DivisionByZeroError(MathDomainError, ZeroDivisionError):
    """A division by zero (``x / 0`` or ``0 ** -1``); also a ``ZeroDivisionError``, as in Python."""


class Constant(str):
    """The label of a number the user wrote in an expression (``2 * x``, ``x - 1``, ``0.5 * e``).

    Operators wrap such numbers into leaf Values labelled with the one shared `CONSTANT`, so the
    stepper and the pictures can fold them into the op (``×½``, ``− 1``) instead of giving them a
    box and a gradient step. Why a label and not a flag: a new ``__slots__`` field would cost
    8 bytes on every node of every graph (the hot path), while a label marker costs nothing,
    survives copying and pickling (it is a ``str``), and a user who labels the node takes it
    back as their own. The marker's text is empty, so code that only reads labels sees an
    unlabelled number, as before. Test with `is_constant`.
    """

    __slots__ = ()


class Data(str):
    """The label of a sample or a target (``x``, ``y``) that `microreg.nn` wraps: shown in pictures
    and formulas under its name, never given a gradient step by default. Make one with `data`;
    test with `is_data`."""

    __slots__ = ()


CONSTANT = Constant("")      # empty: to anything that only reads labels, an unlabelled number


def is_constant(node):
    """Whether ``node`` is a number the user wrote, wrapped by an operator (see `Constant`)."""
    return node.label.__class__ is Constant


def is_data(node):
    """Whether ``node`` is a sample or a target wrapped as data (see `Data`)."""
    return node.label.__class__ is Data


def data(value, label="x"):
    """A leaf holding data (a sample ``x`` or a target ``y``): drawn, named, never stepped.

    ``label`` is its name (``"y"``); the node's ``.label`` compares equal to it.
    """
    v = Value(value)
    v.label = Data(label)
    return v


def _constant(x):
    """A number the user wrote, as a leaf labelled `CONSTANT`."""
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = _as_data(x), 0.0, CONSTANT, (), None, 0
    return v


def describe(node):
    """How an error message names a node: its label, or what made it."""
    if node.label.__class__ is Constant:
        return f"the constant {_summary(node.data)}"
    if node.label is not None and node.label != "":     # '' (micrograd's default) is no name
        return f"node {node.label!r}"
    if node._rule is None:
        return f"an unlabelled input ({_summary(node.data)})"
    return f"the unlabelled result of {node._rule.name} ({_summary(node.data)})"


def _summary(data, fmt="{:.4g}"):
    if data.__class__ is ndarray:
        head = ", ".join(fmt.format(v) for v in data[:3])
        more = ", …" if data.shape[0] > 3 else ""
        return f"[{head}{more}] (N={data.shape[0]})"
    if isinstance(data, np.generic) and data.shape == ():      # np.float64(2.0) reads as 2.0
        return repr(data.item())
    return repr(data)


def _as_data(data):
    """Turn what a user gave into a float or a 1-D float64 array, or say clearly what is wrong."""
    cls = data.__class__
    if cls is float:
        return data
    if cls is int or cls is bool:
        return _to_float(data)
    if isinstance(data, Value):
        raise TypeError("Value(...) got a Value; use the node itself (or Value(node.data) for a copy)")
    if isinstance(data, (list, tuple)):
        try:
            data = np.asarray(data)
        except ValueError as exc:
            raise ValueError(f"a batch must be a flat list of numbers: {exc}") from None
    if isinstance(data, ndarray):
        if data.__class__ is ndarray and data.dtype is _FLOAT64 and data.ndim == 1 and data.shape[0]:
            return data                      # a float64 batch (the usual case): nothing to check or convert
        if data.__class__ is not ndarray and isinstance(data, np.ma.MaskedArray):
            masked = int(np.ma.count_masked(data))
            if masked:     # asarray would drop the mask: masked values would count
                raise ValueError(f"Value data: a masked array with {masked} masked value(s) of {data.size}: "
                                 f"fill them (a.filled(0.0)) or drop them (a.compressed()) first")
            data = data.data
        if data.dtype.kind not in "biuf":
            if data.dtype.kind == "O" and any(isinstance(v, Value) for v in data.ravel()[:1000]):
                raise TypeError(f"Value data must be numbers; got {data.size} Value nodes (a list of outputs?): "
                                f"use the nodes themselves, or give one node per value")
            raise TypeError(f"Value data must be numeric; got an array of dtype {data.dtype}")
        if data.ndim == 0:
            return _to_float(data[()])
        if data.ndim != 1:
            raise ValueError(f"a batch Value holds a 1-D array (one value per sample); got shape {data.shape}")
        if data.shape[0] == 0:
            raise ValueError("a batch Value needs at least one sample; got an empty array")
        if data.dtype.itemsize > 8 and data.dtype.kind == "f":      # np.longdouble: it may not fit
            with np.errstate(over="ignore"):
                out = np.asarray(data, dtype=np.float64)
            lost = np.isinf(out) & ~np.isinf(data)
            if lost.any():
                i = int(np.flatnonzero(lost)[0])
                _to_float(data[i], f"Value data at sample {i}:")
            return out
        return np.asarray(data, dtype=np.float64)
    if isinstance(data, np.bool_):      # numpy's bool is not a numbers.Real; Python's is
        return float(data)
    if isinstance(data, numbers.Complex) and not isinstance(data, numbers.Real):
        raise TypeError(f"Value data must be real; got the complex number {data!r}")
    if isinstance(data, numbers.Real):
        return _to_float(data)
    raise TypeError(f"Value data must be a number or a 1-D array of numbers; got {type(data).__name__} {data!r}")


def _to_float(number, what="Value data"):
    try:
        f = float(number)
        if -inf < f < inf or f != f or f == number:
            return f
        raise OverflowError     # float() made inf of a finite number (np.longdouble(1e400), Decimal)
    except OverflowError:
        text = str(number)
        shown = text if len(text) <= 24 else f"{text[:12]}…{text[-4:]} ({len(text.lstrip('-'))} digits)"
        raise OverflowError(f"{what} {shown} is too large for a float (the largest is about 1.8e308)") \
            from None


_new = object.__new__


def _domain_error(rule, children, problem, context=None):
    bad = children[problem.which]
    where = f" at sample {problem.index}" if problem.index is not None else ""
    if context is not None:  # a division a / b, computed as a · b^(-1)
        name = "division"
        msg = f"division by zero in {describe(context[0])} / {describe(context[1])}: the divisor is 0.0{where}"
    else:
        name = rule.name
        msg = f"{rule.name}: {problem.need}; got {problem.value!r}{where} from {describe(bad)}"
    if rule is DIV and problem.zero_division:
        name = "division"
        msg = f"division by zero in {describe(children[0])} / {describe(children[1])}: the divisor is 0.0{where}"
    cls = DivisionByZeroError if problem.zero_division else MathDomainError
    return cls(msg, op=name, node=bad, value=problem.value, index=problem.index)


def _length_error(rule, children):
    """The error for inputs that are batches of different lengths (None if they agree).

    A 1-sample batch is a batch too: it is never stretched to another batch's length (numpy would
    broadcast it silently, and its grad would come back N long).
    """
    batches = [c for c in children if c.data.__class__ is ndarray and c.data.ndim == 1]
    if len({c.data.shape[0] for c in batches}) > 1:
        parts = ", ".join(f"{describe(c)} has {c.data.shape[0]} samples" for c in batches)
        return ValueError(f"{rule.name}: batch lengths differ: {parts}")
    return None


def _unary(rule, a, context=None):
    try:
        data = rule.forward(a.data)
    except DomainProblem as problem:
        raise _domain_error(rule, (a,), problem, context) from None
    except Exception:
        data = _plain_forward(rule, (a,), context)
        if data is None:        # every input held a float or an array: a real failure
            raise
    if data.__class__ is not float and _plain_data(data) is None:
        plain = _plain_forward(rule, (a,), context)   # an input of another number type: as floats
        if plain is not None:
            data = plain
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, (a,), rule, 0
    return v


def _binary(rule, a, b):
    try:
        data = rule.forward(a.data, b.data)
    except DomainProblem as problem:
        raise _domain_error(rule, (a, b), problem) from None
    except Exception as exc:
        if exc.__class__ is _Elementwise:     # a numpy array that is not a batch: numpy's own op
            return _each(rule, a, b)
        err = _length_error(rule, (a, b)) if exc.__class__ is ValueError else None
        if err is not None:
            raise err from None
        data = _plain_forward(rule, (a, b))
        if data is None:
            raise
    if data.__class__ is not float:
        if data.__class__ is ndarray:
            if _plain_data(data) is None:     # an integer, 2-D or empty array in an input's .data
                plain = _plain_forward(rule, (a, b))
                data = data if plain is None else plain
            if a.data.__class__ is ndarray and b.data.__class__ is ndarray and a.data.shape != b.data.shape:
                data = _plain_forward(rule, (a, b))       # a 0-d array input: computed again as a float
                if data is None:       # numpy broadcast a 1-sample batch: refuse it
                    raise _length_error(rule, (a, b))
        else:      # an input's .data is a number of another type (np.float64, an int): as floats
            plain = _plain_forward(rule, (a, b))
            if plain is not None:
                data = plain
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, (a, b), rule, 0
    return v


_FLOAT64 = np.dtype(np.float64)


def _plain_data(data):
    """``data`` if it is what a node holds (a float, a 1-D float64 array), else None."""
    if data.__class__ is float:
        return data
    if data.__class__ is ndarray and data.ndim == 1 and data.dtype is _FLOAT64 and data.shape[0]:
        return data
    return None


def _plain_inputs(rule, children):
    """The inputs' data as floats and 1-D float64 arrays, or None if they all were already.

    Only for the rare node whose ``.data`` was set by hand (or by an optimiser) to a number of
    another type: ``np.float64`` (a subclass of float that numpy arithmetic keeps), ``np.int64``,
    a Python ``int``, an integer array (``uint8`` pixels: numpy would compute them with
    wrap-around). Anything that is not a number at all is refused, naming the node. The converted
    data (a new float or array) is stored back in the node, as ``Value(...)`` would have stored it,
    so the backward pass reads floats too (the user's own array is never changed).
    """
    fixed, changed = [], False
    for child in children:
        data = child.data
        if _plain_data(data) is None:
            try:
                data = _as_data(data)
            except (TypeError, ValueError, OverflowError) as exc:
                raise TypeError(f"{rule.name}: {describe(child)} holds {type(data).__name__} in .data, "
                                f"not a number or a 1-D array of numbers ({exc})") from None
            child.data = data
            changed = True
        fixed.append(data)
    return fixed if changed else None


def _plain_forward(rule, children, context=None):
    """The forward result computed again on plain inputs (see `_plain_inputs`); None if there was
    nothing to convert. Off the hot path: only after a forward failed or gave an odd type."""
    inputs = _plain_inputs(rule, children)
    if inputs is None:
        return None
    err = _length_error(rule, children)     # a 1-sample batch is never stretched, as converted data
    if err is not None:
        raise err
    try:
        return rule.apply(inputs)
    except DomainProblem as problem:
        raise _domain_error(rule, children, problem, context) from None
    except ValueError:
        err = _length_error(rule, children)
        if err is None:
            raise
        raise err from None


def _pow_by_number(base, exponent):
    """``base ** exponent`` for an exponent that is a number but not a ``numbers.Real``: a 0-d
    array or ``np.bool_`` is the number it holds (``x ** 2.0``); a per-sample array of exponents
    is a constant (like any number the user writes), so only the base gets a gradient."""
    k = _constant(exponent)
    if k.data.__class__ is float:
        return _unary(ops.pow_const(k.data), base)
    return _binary(ops.POW_BY_CONSTANTS, base, k)


def _wrap(x):
    """x itself if it is a node (of any subclass of Value), else a new constant leaf holding it."""
    return x if isinstance(x, Value) else _constant(x)


# --- a Value beside a numpy array that is not a batch ----------------------------------------------
# Learners' numpy code meets Values inside arrays: ``np.dot(w.T, X) + b`` with a scalar parameter b
# (an array of Values plus a Value), ``w * X`` with X of shape (1, m). A batch is a 1-D array of
# numbers (one node holding it); any other array (of Values, 2-D, a 0-d array holding a Value) is
# numpy's business: the op runs element by element, as numpy runs it on Python numbers, and the
# result is an array of nodes of the array's class. The operators hand such an array to `_binary`
# as an `_ArrayOperand`, whose ``.data`` raises `_Elementwise` inside the forward's ``try``: the
# op's hot path does not test for it.

class _Elementwise(Exception):
    """Raised by `_ArrayOperand.data`: the op must run element by element (`_each`)."""


class _ArrayOperand:
    """A numpy array on one side of a binary operator, to be computed element by element."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    @property
    def data(self):
        raise _Elementwise


def _operand(x):
    """The other side of a binary operator: itself if a node, an `_ArrayOperand` for a numpy array
    that is not a batch (of Values, or of numbers with more than one axis), else a constant."""
    if x.__class__ is float:
        return _constant(x)
    if isinstance(x, ndarray) and (x.dtype.kind == "O" or x.ndim > 1):
        return _ArrayOperand(x)
    return _wrap(x)


def _boxed(x):
    """The array of an `_ArrayOperand`, or a node as a 0-d object array (numpy's scalar)."""
    if x.__class__ is _ArrayOperand:
        return x.array
    box = np.empty((), dtype=object)
    box[()] = x
    return box


def _each(rule, a, b):
    """``a op b`` with an array on one side: numpy's ufunc over objects, each element through the
    Value operators (broadcasting as numpy does; a subclass of ndarray keeps its own handling)."""
    return _ARRAY_UFUNCS[rule.name](_boxed(a), _boxed(b))


_ARRAY_UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
                 "pow": np.power}


def _compare(op, node, other):
    """``node < other`` (and the others) on the numbers held: a bool, or a bool array for a batch
    or an array. Never a node: a choice made by a comparison (a relu mask, the max of a softmax
    shift) is a constant, as in PyTorch."""
    if isinstance(other, Value):
        other = other.data
    elif isinstance(other, ndarray) and other.dtype.kind == "O":
        return op(_boxed(node), other)        # numpy compares element by element
    return op(node.data, other)


class Value:
    """A node of a computation graph: a float (or a batch of floats) and its gradient.

    ``data``: a float, or a 1-D float64 numpy array with one value per sample (a batch Value holds
    its own copy of the array it is given, as ``torch.tensor(array)`` does: changing one never
    changes the other).
    ``grad``: ∂(output)/∂(this node) after ``output.backward()``; 0.0 before.
    ``label``: an optional name shown in pictures, steps and error messages.
    The node also keeps the op that made it and its inputs, in order (``_prev``, a tuple).
    """

    __slots__ = ("data", "grad", "label", "_prev", "_rule", "_mark")
    __array_ufunc__ = None  # ndarray * Value gives a Value (numpy defers to our operators)

    def __init__(self, data, label=None):
        value = _as_data(data)
        if value is data and value.__class__ is ndarray:   # the caller's own array: copy it
            value = value.copy()
        self.data = value
        self.grad = 0.0
        self.label = label
        self._prev = ()
        self._rule = None
        self._mark = 0

    # micrograd reads ``_op`` as a string ('' for a leaf)
    @property
    def _op(self):
        return self._rule.name if self._rule is not None else ""

    @property
    def op(self):
        """The op that made this node (an `ops.Op` entry of the rule table), or None for a leaf."""
        return self._rule

    @property
    def children(self):
        """The inputs of the op that made this node, in order."""
        return self._prev

    @property
    def is_batch(self):
        return self.data.__class__ is ndarray

    def __repr__(self):
        label = f"label={self.label!r}, " if self.label is not None else ""
        return f"Value({label}data={_summary(self.data)}, grad={_summary(self.grad)})"

    # --- arithmetic: one rule-table primitive per operator ----------------------------------------
    # A number on either side becomes a leaf labelled CONSTANT (see `Constant`).
    def __add__(self, other):
        return _binary(ADD, self, other if other.__class__ is Value else _operand(other))

    def __radd__(self, other):
        return _binary(ADD, _operand(other), self)

    def __mul__(self, other):
        return _binary(MUL, self, other if other.__class__ is Value else _operand(other))

    def __rmul__(self, other):
        return _binary(MUL, _operand(other), self)

    def __pow__(self, other):
        if isinstance(other, numbers.Real):
            try:
                k = float(other)
            except OverflowError:
                k = _to_float(other, "pow: the exponent")
            return _unary(ops.pow_const(k), self)
        if isinstance(other, Value):
            return _binary(POWV, self, other)
        return _pow_by_number(self, other)

    def __rpow__(self, other):
        return _binary(POWV, _operand(other), self)

    # subtraction, division and negation are primitives too (ops.py says why)
    def __neg__(self):
        return _unary(NEG, self)

    def __sub__(self, other):
        return _binary(SUB, self, other if other.__class__ is Value else _operand(other))

    def __rsub__(self, other):
        return _binary(SUB, _operand(other), self)

    def __truediv__(self, other):
        return _binary(DIV, self, other if other.__class__ is Value else _operand(other))

    def __rtruediv__(self, other):
        return _binary(DIV, _operand(other), self)

    # --- functions ----------------------------------------------------------------------------
    def exp(self):
        return _unary(EXP, self)

    def log(self):
        return _unary(LOG, self)

    def tanh(self):
        return _unary(TANH, self)

    def sigmoid(self):
        return _unary(SIGMOID, self)

    def relu(self):
        return _unary(RELU, self)

    def sum(self):
        """Σ over the batch: a scalar node (a scalar node is returned through a ``sum`` op too)."""
        return _unary(SUM, self)

    def mean(self):
        """The batch mean: a scalar node."""
        return _unary(MEAN, self)

    def sqrt(self):
        """√self, as ``self ** 0.5`` (what ``np.sqrt`` calls on an array of Values)."""
        return _unary(ops.pow_const(0.5), self)

    def __abs__(self):
        """|self| (``abs(v)``, ``np.abs`` on an array of Values); ∂|a|/∂a = sign(a), 0 at 0."""
        return _unary(ops.ABS, self)

    # --- comparisons and float(): the numbers held, not nodes ----------------------------------
    # So numpy code runs on arrays of Values: ``np.maximum(0, Z)``, ``np.max(scores, axis=1)``,
    # ``np.where(Z > 0, ...)``, ``float(cost)``. ``==`` stays identity (nodes are dict keys).
    def __lt__(self, other):
        return _compare(_LT, self, other)

    def __le__(self, other):
        return _compare(_LE, self, other)

    def __gt__(self, other):
        return _compare(_GT, self, other)

    def __ge__(self, other):
        return _compare(_GE, self, other)

    def __float__(self):
        """``float(v)``: the number a scalar node holds, as ``float(tensor)`` in PyTorch; the graph
        does not follow it (a number computed from it is a constant)."""
        data = self.data
        if data.__class__ is ndarray:
            raise TypeError(f"float(): {describe(self)} is a batch of {data.shape[0]} values, not one number "
                            "(reduce it first with .sum() or .mean())")
        return float(data)

    # --- gradients ----------------------------------------------------------------------------
    def backward(self, gradient=None, create_graph=False):
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Non-leaf grads are reset first (so a second call does not over-count them); leaf grads
        accumulate, as in PyTorch: reset them between optimisation steps (``p.grad = 0.0``, or
        ``None`` as in PyTorch, which counts as 0.0; a grad that is not a number is refused). A batch output needs an explicit ``gradient``, one
        per sample (or reduce it first with ``.sum()`` / ``.mean()``); ``gradient`` may be a
        Value, whose data is used. With ``create_graph=True`` the grads are Values, themselves
        differentiable; without it they are numbers.
        A rule outside its domain (``x ** y`` with x < 0: ∂/∂y needs ln x) raises before any
        grad is written, so it changes nothing. Anything else that stops the walk part-way
        (Ctrl-C, MemoryError, an exception from a rule that does not declare ``d_raises``)
        leaves the grads part-way, as in PyTorch (keeping every old grad for an undo would cost
        the common, small graph about 10 %): call ``zero_grad()`` and run it again, or use
        ``backward_steps()``, which undoes it all. A grad array you kept a reference to is never
        changed in place.
        """
        if gradient is None and not create_graph and self.data.__class__ is float:
            seed = 1.0                   # the common case, without a call
        else:
            seed = _seed(self, gradient, create_graph)
        if create_graph:
            _backward_graph(self, seed)
            return
        if not self._prev:              # a leaf: its own gradient is the seed
            _check_grads((self,))
            self.grad = self.grad + seed
            return
        order, risky = _backward_order(self)
        if risky:                       # a rule outside its domain raises here, before any write
            _check_locals(risky)
        for node in order:              # the start of a pass: every non-leaf grad is 0
            node.grad = 0.0
        this_pass = self._mark          # the mark the ordering left on every node it listed
        self.grad = seed
        node = self
        try:
            for node in reversed(order):
                # the chain rule at one node: child.grad += ∂node/∂child × node.grad, for each
                # input (child) of the op, the local derivative ∂node/∂child read from the rule table
                rule = node._rule
                upstream = node.grad
                children = node._prev
                ans = node.data
                if ans.__class__ is not float:   # a batch node (scalar inputs get the batch-sum)
                    _accumulate_batch(node, upstream, this_pass)
                    continue
                arity = rule.arity
                if arity == 1:
                    child = children[0]
                    child.grad = child.grad + rule.d[0](child.data, ans) * upstream
                elif arity is None:              # any number of inputs (affine)
                    if len(children) == 3:       # one (a first layer's neuron): no list to build
                        a, b, c = children
                        local_a, local_b, local_c = rule.d_all((a.data, b.data, c.data), ans)
                        a.grad = a.grad + local_a * upstream
                        b.grad = b.grad + local_b * upstream
                        c.grad = c.grad + local_c * upstream
                        continue
                    for child, local in zip(children, rule.d_all([c.data for c in children], ans)):
                        child.grad = child.grad + local * upstream
                elif arity == 2:                 # both locals first: a rule that raises adds nothing
                    a, b = children
                    a_data, b_data = a.data, b.data
                    d = rule.d
                    local_a = d[0](a_data, b_data, ans)
                    local_b = d[1](a_data, b_data, ans)
                    a.grad = a.grad + local_a * upstream
                    b.grad = b.grad + local_b * upstream
                else:                            # any other number of inputs: all locals at once
                    for child, local in zip(children, _locals(rule, children, ans)):
                        child.grad = child.grad + local * upstream
        except DomainProblem as problem:       # a rule that did not declare d_raises
            raise _domain_error(node._rule, node._prev, problem) from None
        except TypeError:
            if not _finish_after_none(order, node, this_pass):
                err = _bad_grad_error(node._prev)
                if err is None:
                    raise
                raise err from None

    def backward_steps(self, gradient=None):
        """Run ``backward()`` one chain-rule application at a time, yielding a `Step` for each.

        The grads change as you consume the generator; when it is exhausted they equal what
        ``backward()`` gives (the same rules, the same order, the same arithmetic).
        """
        return _backprop(self, _seed(self, gradient, False))

    # --- for the rule table: nodes a local derivative builds (``backward(create_graph=True)``) ----
    # The rule table (``ops``) never imports the engine: a local derivative that needs a node of an
    # op variant, or a constant leaf, asks a Value it was given for one through these two.
    @staticmethod
    def _node_of(rule, *inputs):
        """A new node made by ``rule`` from ``inputs`` (Values, or numbers that become constants)."""
        inputs = [_wrap(x) for x in inputs]
        return _unary(rule, *inputs) if len(inputs) == 1 else _binary(rule, *inputs)

    @staticmethod
    def _leaf_of(data):
        """A new plain leaf holding ``data`` (never the class of a node the user subclassed, whose
        constructor may want other arguments)."""
        return Value(data)

    # --- pickle and copy: a graph of any depth, without recursion ---------------------------------
    def __reduce__(self):
        return _restore_node, (self.__class__,), _node_state(self)

    def __setstate__(self, state):
        _, slots, rule, extra = state
        for name, value in slots.items():
            object.__setattr__(self, name, value)
        self._rule = _rule_from_key(rule)
        self._mark = 0
        if extra:
            self.__dict__.update(extra)

    def __copy__(self):
        """A new node with the same data, grad, label, op and inputs (the inputs are shared)."""
        new = object.__new__(self.__class__)
        for name in _slot_names(self.__class__):
            if hasattr(self, name):
                object.__setattr__(new, name, getattr(self, name))
        new._mark = 0
        if hasattr(self, "__dict__"):
            new.__dict__.update(self.__dict__)
        return new


def affine(weights, inputs, bias):
    """Σ wᵢ·xᵢ + b as one node (one rule, one step), with one input edge per wᵢ, xᵢ and b.

    It is what a neuron computes; ``nn`` uses it so a layer's graph reads like the documents'
    ``z = w·a + b``, and so a net has far fewer nodes than a chain of ``*`` and ``+``.
    Numbers and arrays are accepted anywhere a Value is (they become constant leaves).
    """
    weights, inputs = tuple(map(_wrap, weights)), tuple(map(_wrap, inputs))
    if len(weights) != len(inputs):
        raise ValueError(f"affine: {len(weights)} weights but {len(inputs)} inputs")
    return _affine_node(weights + inputs + (_wrap(bias),))


def _affine_node(children):
    """The ``affine`` node over children (w_1..w_n, x_1..x_n, b), all Values already."""
    try:
        if len(children) == 3:       # one input (a first layer's neuron): no list to build
            w, x, b = children
            data = AFFINE.forward((w.data, x.data, b.data))
        else:
            data = AFFINE.forward([c.data for c in children])
    except Exception as exc:
        err = _length_error(AFFINE, children) if exc.__class__ is ValueError else None
        if err is not None:
            raise err from None
        data = _plain_forward(AFFINE, children)
        if data is None:
            raise
    if data.__class__ is not float:
        if data.__class__ is ndarray:   # numpy broadcast a 1-sample batch: refuse it
            if _plain_data(data) is None:     # an integer, 2-D or empty array in an input's .data
                plain = _plain_forward(AFFINE, children)
                data = data if plain is None else plain
            shape = data.shape
            for c in children:
                if c.data.__class__ is ndarray and c.data.shape != shape:
                    data = _plain_forward(AFFINE, children)    # a 0-d array input: as a float
                    if data is None:
                        raise _length_error(AFFINE, children)
                    break
        else:      # an input's .data is a number of another type (np.float64, an int): as floats
            plain = _plain_forward(AFFINE, children)
            if plain is not None:
                data = plain
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, children, AFFINE, 0
    return v


# --- the backward walk --------------------------------------------------------------------------

_epochs = itertools.count(2, 2)   # one pair of marks per walk; next() on it is atomic (thread-safe)


def topological_order(root, leaves=True):
    """Every node ``root`` depends on, each after all of its inputs (children first, in order).

    Iterative depth-first search: no recursion limit. Deterministic: inputs are visited in the
    order the op received them. With ``leaves=False`` only nodes made by an op are listed.
    It writes nothing on the nodes (its visited set is its own), so any number of threads may
    call it at once, on one graph or on several.
    """
    state = {}                   # id(node) → ENTERED while its inputs are being listed, then DONE
    order = []
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = stack[-1]
        key = id(node)
        mark = state.get(key)
        if mark is _ENTERED:     # all inputs finished: the node is next in order
            pop()
            state[key] = _DONE
            emit(node)
        elif mark is _DONE:      # a second copy, pushed by another parent before we finished it
            pop()
        elif not node._prev:     # the root itself is a leaf
            pop()
            state[key] = _DONE
            if leaves:
                emit(node)
        else:
            state[key] = _ENTERED
            if leaves:
                for child in node._prev:     # a leaf has nothing to wait for: finished at once
                    if not child._prev and id(child) not in state:
                        state[id(child)] = _DONE
                        emit(child)
            for child in reversed(node._prev):
                if child._prev and id(child) not in state:
                    push(child)
    return order


_ENTERED, _DONE = object(), object()


def _backward_order(root):
    """``topological_order(root, leaves=False)`` for ``backward()``, faster, writing only marks.

    Marks live on the nodes (``_mark``; each walk takes fresh numbers), so no visited-set is
    allocated; every listed node is left marked with this walk's number (``root._mark``).
    Also returns the listed nodes whose rule declares that a local derivative can raise
    (``Op.d_raises``), which ``_check_locals`` computes before any grad is written.
    Safe for separate graphs in separate threads; not for one graph in two threads at once.
    """
    entered = next(_epochs)
    done = entered + 1
    order, risky = [], []
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark != entered:
            if mark == done:     # a second copy, pushed by another parent before we finished it
                pop()
                continue
            node._mark = entered
            waiting = False
            for child in reversed(node._prev):
                if child._prev and child._mark < entered:
                    push(child)
                    waiting = True
            if waiting:          # inputs to finish first; else (only leaves below) finished now
                continue
        pop()                    # all inputs finished: the node is next in order
        node._mark = done
        if node._rule.d_raises:
            risky.append(node)
        emit(node)
    return order, risky


def _bad_grad_error(nodes, partway=True):
    """The error for a node among ``nodes`` whose ``.grad`` is not a number (None if all are).
    Called only after the walk failed (``partway``: it had added some grads) or off the hot path."""
    for node in nodes:
        g = node.grad
        if g is not None and g.__class__ is not float and g.__class__ is not ndarray \
                and not isinstance(g, (numbers.Real, Value)):
            then = ("; the grads this backward() added before it stopped stay, so reset them all and run "
                    "it again") if partway else ""
            return TypeError(f"backward(): the grad of {describe(node)} is {type(g).__name__} {_summary(g)}, "
                             f"not a number: reset grads with p.grad = 0.0 or Module.zero_grad(){then}")
    return None


def _check_grads(nodes):
    """Off the hot path, before anything is written: a grad set to None (PyTorch's way to reset
    it) becomes 0.0; a grad that is not a number is refused, naming the node."""
    err = _bad_grad_error(nodes, partway=False)
    if err is not None:
        raise err
    for node in nodes:
        if node.grad is None:
            node.grad = 0.0


def _finish_after_none(order, failed, this_pass):
    """Finish a ``backward()`` walk that stopped at node ``failed`` on a leaf grad set to None.

    ``p.grad = None`` is PyTorch's way to reset a grad: here it counts as 0.0. The fast walk does
    not look for it (that would cost every edge a check); ``None + number`` raises a TypeError
    before that grad is written, and the walk updates a node's inputs in order, so the inputs of
    ``failed`` before the first None were updated and the rest were not. This finishes the walk
    from there, with the same rules, off the hot path. False if no input of ``failed`` held None.
    """
    children = failed._prev
    start = next((i for i, c in enumerate(children) if c.grad is None), None)
    if start is None or _bad_grad_error(children) is not None:
        return False
    rest = reversed(order)
    for node in rest:                  # skip to the node that failed
        if node is failed:
            break
    _chain_rule_at(failed, start, this_pass)
    for node in rest:
        _chain_rule_at(node, 0, this_pass)
    return True


def _chain_rule_at(node, start, this_pass):
    """input.grad += local × node.grad for the inputs of ``node`` from position ``start`` on (a
    None grad counts as 0.0): the walk's arithmetic, through `_locals` and `_accumulate_batch`."""
    children = node._prev
    for child in children:
        if child.grad is None:
            child.grad = 0.0
    upstream, ans = node.grad, node.data
    try:
        if ans.__class__ is ndarray:
            _accumulate_batch(node, upstream, this_pass, start)
        elif ans.__class__ is not float:
            _accumulate_number(node, upstream, start)
        else:
            local = _locals(node._rule, children, ans)
            for child, l in zip(children[start:], local[start:]):
                child.grad = child.grad + l * upstream
    except DomainProblem as problem:
        raise _domain_error(node._rule, children, problem) from None


def _check_locals(risky):
    """Compute the locals of the nodes whose rule can raise, before any grad is written: if one
    is outside its domain, raise the error naming the node (nothing has changed yet)."""
    for node in risky:
        rule, children = node._rule, node._prev
        try:
            _locals(rule, children, node.data)
        except DomainProblem as problem:
            raise _domain_error(rule, children, problem) from None


def _seed(root, gradient, create_graph, caller="backward"):
    """The gradient the walk starts from (∂root/∂root), checked against the root's shape.

    ``caller`` names the function the user called (``backward`` or ``grad``) in the messages."""
    if gradient is None:
        if root.data.__class__ is ndarray:
            raise ValueError(
                f"{caller}() needs a scalar output, but {describe(root)} is a batch of "
                f"{root.data.shape[0]} values: reduce it first (.sum() or .mean()) or pass gradient=")
        return Value(1.0) if create_graph else 1.0
    if isinstance(gradient, Value):
        data = gradient.data
        if not create_graph:         # as PyTorch: without create_graph the grads are plain numbers
            gradient = data
    else:
        try:
            data = gradient = _as_data(gradient)
        except (TypeError, ValueError, OverflowError) as exc:
            raise type(exc)(f"{caller}(gradient=...): {exc}") from None
    if not np.all(np.isfinite(data)):     # a nan or inf seed would give every grad nan or inf
        raise ValueError(f"{caller}(gradient=...): the gradient holds {_summary(data)}, not finite numbers")
    if data.__class__ is ndarray:
        if root.data.__class__ is not ndarray:
            raise ValueError(f"{caller}(gradient=...): {describe(root)} is a single value, but the gradient "
                             f"is a batch of {data.shape[0]} values; give one number")
        if data.shape != root.data.shape:
            raise ValueError(f"{caller}(gradient=...): {describe(root)} has {root.data.shape[0]} samples, "
                             f"but the gradient has {data.shape[0]}")
    elif root.data.__class__ is ndarray:
        raise ValueError(f"{caller}(gradient=...): {describe(root)} is a batch of {root.data.shape[0]} values, "
                         f"but the gradient is the single number {data!r}; give one per sample "
                         f"(np.full({root.data.shape[0]}, {data!r}) to give each the same)")
    if create_graph and not isinstance(gradient, Value):
        gradient = Value(gradient)
    return gradient


class Step:
    """One chain-rule application: ``input.grad += local × upstream``.

    ``k``: its position (0-based); ``node``: the node whose op is applied (its grad is the
    ``upstream``); ``input``: the input receiving a ``contribution``; ``position``: which input of
    the op it is; ``op``: the rule-table entry; ``local``: ∂node/∂input; ``grad``: the input's
    accumulated grad after this step; ``before``: its grad before the step; ``fan_in``: how many
    contributions the input receives in all during this walk (more than 1 means the input fans
    out, and its grad is a running sum).
    """

    __slots__ = ("k", "node", "input", "position", "op", "local", "upstream", "contribution", "grad",
                 "before", "fan_in")

    def __init__(self, k, node, input, position, op, local, upstream, contribution, grad, before, fan_in=1):
        self.k, self.node, self.input, self.position, self.op = k, node, input, position, op
        self.local, self.upstream, self.contribution, self.grad = local, upstream, contribution, grad
        self.before, self.fan_in = before, fan_in

    def formula(self, names=None, latex=False):
        """The rule-table formula of this local derivative, with the given node names."""
        return self.op.formula(self.position, names, latex)

    def __repr__(self):
        return (f"Step({self.k}: {describe(self.input)} += {_summary(self.local)} × {_summary(self.upstream)}"
                f" = {_summary(self.contribution)} → {_summary(self.grad)})")


def _snapshot(x):
    return x.copy() if x.__class__ is ndarray else x


def _backprop(root, seed):
    """``backward()`` one chain-rule application at a time: a generator of `Step` records.

    The same order and the same arithmetic as ``backward()``; if anything raises part-way (a
    rule, Ctrl-C), every grad is put back as it was, leaf grads too (each step keeps the grad it
    changed). Closing the generator early just stops, as a stepper expects.
    """
    if not root._prev:
        _check_grads((root,))
        root.grad = root.grad + seed
        return
    order, risky = _backward_order(root)
    if risky:
        _check_locals(risky)
    saved = [node.grad for node in order]     # for the undo: steps are not the hot path
    fan_in = {}                               # id(input) → how many steps add to its grad
    for node in order:
        for child in node._prev:
            fan_in[id(child)] = fan_in.get(id(child), 0) + 1
    for node in order:
        node.grad = 0.0
    root.grad = seed
    k = 0
    leaf_before = []            # (leaf, grad before the step): steps are not the hot path
    try:
        for node in reversed(order):
            rule = node._rule
            upstream = node.grad
            children = node._prev
            ans = node.data
            try:
                local = _locals(rule, children, ans)
            except DomainProblem as problem:
                raise _domain_error(rule, children, problem) from None
            batch = ans.__class__ is ndarray
            for position, child in enumerate(children):
                if batch:   # a scalar that fed a batch op receives the batch-sum of its contributions
                    contribution = _batch_contribution(child, local[position], upstream)
                else:
                    contribution = local[position] * upstream
                old = child.grad
                if not child._prev:
                    leaf_before.append((child, old))
                    if old is None:     # PyTorch's reset: 0.0
                        old = 0.0
                before = _snapshot(old)
                child.grad = old + contribution
                yield Step(k, node, child, position, rule, ops.plain(local[position]), upstream, contribution,
                           _snapshot(child.grad), before, fan_in[id(child)])
                k += 1
    except (Exception, KeyboardInterrupt) as exc:
        failed = node
        for node, old in zip(order, saved):
            node.grad = old
        for leaf, old in reversed(leaf_before):
            leaf.grad = old
        err = _bad_grad_error(failed._prev, partway=False) if exc.__class__ is TypeError else None
        if err is None:
            raise
        raise err from None


def _locals(rule, children, ans):
    """∂node/∂input for every input of a node, from the rule table (data in, data out)."""
    d = rule.d
    if d is None:
        return rule.d_all([c.data for c in children], ans)
    if len(d) == 1:
        return (d[0](children[0].data, ans),)
    if len(d) == 2:
        a, b = children[0].data, children[1].data
        return (d[0](a, b, ans), d[1](a, b, ans))
    inputs = [c.data for c in children]
    return tuple(f(*inputs, ans) for f in d)


def _batch_contribution(child, local, upstream):
    """local × upstream for a batch ``upstream``, summed over the samples when ``child`` is a scalar.

    The one place this arithmetic happens, for every walk. A scalar's sum is a dot product (no
    temporary array); a batch child gets a fresh array it owns.
    """
    if child.data.__class__ is not ndarray:
        if local.__class__ is ndarray:
            return float(np.dot(local, upstream))
        return local * float(upstream.sum())
    if local.__class__ is float and local == 1.0:
        return upstream.copy()
    return local * upstream


def _accumulate_batch(node, upstream, this_pass, start=0):
    """Backward through one batch node: every input's grad += its contribution.

    Into an array this pass made, in place (no fresh N-sample array per edge); a grad array from
    before the pass is never changed in place (a reference the user kept keeps its numbers): it
    is replaced by a new one, which this pass then owns. ``this_pass`` is the walk's mark: every
    non-leaf node carries it (their grads were set to 0 by this pass), and a leaf gets it when
    this pass gives it a new grad.
    """
    rule, children, ans = node._rule, node._prev, node.data
    if ans.__class__ is not ndarray:     # not a batch: a number of another type (np.float64…)
        _accumulate_number(node, upstream, start)
        return
    locals_ = _locals(rule, children, ans)
    if start:                            # only when finishing a walk (see `_finish_after_none`)
        children, locals_ = children[start:], locals_[start:]
    for child, local in zip(children, locals_):
        contribution = _batch_contribution(child, local, upstream)
        grad = child.grad
        if child._mark == this_pass and grad.__class__ is ndarray:
            grad += contribution
            continue
        if grad.__class__ is not float or grad != 0.0:
            contribution = grad + contribution
        child.grad = contribution
        child._mark = this_pass


def _accumulate_number(node, upstream, start=0):
    """Backward through a scalar node whose ``.data`` is a number but not a float: an ``int``, or
    an ``np.float64`` (what numpy arithmetic gives when a leaf's ``.data`` was set to one, say by
    ``p.data -= lr * p.grad`` with a numpy ``lr``). The chain rule on the same numbers as floats."""
    rule, children, ans = node._rule, node._prev, node.data
    inputs = _plain_inputs(rule, children) or [c.data for c in children]
    plain = _plain_data(ans)
    if plain is None:
        try:
            plain = _as_data(ans)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(f"backward(): {describe(node)} holds "
                            f"{type(ans).__name__} in .data, not a number ({exc})") from None
    try:
        locals_ = rule.locals(inputs, plain)
    except DomainProblem as problem:
        raise _domain_error(rule, children, problem) from None
    upstream = float(upstream)
    for child, local in zip(children[start:], locals_[start:]):
        child.grad = child.grad + local * upstream


def _is_zero(g):
    return g.__class__ is float and g == 0.0


def _graph_contribution(child, local, upstream):
    """local × upstream as a Value (so it can be differentiated again), summed for a scalar child."""
    contribution = upstream if local.__class__ is float and local == 1.0 else local * upstream
    if not isinstance(contribution, Value):
        contribution = Value(contribution)
    if contribution.data.__class__ is ndarray and child.data.__class__ is not ndarray:
        contribution = contribution.sum()
    return contribution


def _gradients(root, seed, create_graph):
    """Every ∂root/∂node, computed without touching any node: (order, {id: grad}, {id: node}).

    The walk of ``grad()`` and of ``backward(create_graph=True)``: the same rules and the same
    order as ``backward()``, but the sums live in a dict of its own, so nothing is written until
    everything is computed, and threads sharing nodes do not see each other's sums.
    """
    order = topological_order(root, leaves=False)
    grads = {id(root): seed}
    nodes = {id(root): root}
    for node in reversed(order):
        upstream = grads.get(id(node))
        if upstream is None or (create_graph and _is_zero(upstream)):
            continue
        rule, children = node._rule, node._prev
        try:
            if create_graph:
                if not isinstance(upstream, Value):
                    upstream = Value(upstream)
                local = rule.locals(children, node)
            else:
                local = _locals(rule, children, node.data)
        except DomainProblem as problem:
            raise _domain_error(rule, children, problem) from None
        batch = node.data.__class__ is ndarray
        for child, l in zip(children, local):
            if create_graph:
                contribution = _graph_contribution(child, l, upstream)
            elif batch:
                contribution = _batch_contribution(child, l, upstream)
            else:
                contribution = l * upstream
            key = id(child)
            old = grads.get(key)
            if old is None:
                grads[key] = contribution
                nodes[key] = child
            else:
                grads[key] = old + contribution
    return order, grads, nodes


def _backward_graph(root, seed):
    """``backward(create_graph=True)``: compute every grad as a Value first, then store them."""
    order, grads, nodes = _gradients(root, seed, create_graph=True)
    _check_grads([node for node in nodes.values() if not node._prev])   # before anything is written
    for node in order:                    # non-leaf grads: this pass's
        node.grad = grads.get(id(node), 0.0)
    for key, node in nodes.items():       # leaf grads accumulate
        if not node._prev:
            g = grads[key]
            node.grad = g if _is_zero(node.grad) else node.grad + g


def grad(output, inputs, gradient=None, create_graph=False):
    """∂output/∂x for each x in ``inputs`` (a list), without touching any node's ``.grad``.

    Like ``torch.autograd.grad``. With ``create_graph=True`` the results are Values, so they can
    be differentiated again: ``grad(grad(y, [x], create_graph=True)[0], [x])`` is d²y/dx².
    An input that ``output`` does not depend on gets 0.0 (``Value(0.0)`` with ``create_graph=True``,
    zeros for a batch input); anything in ``inputs`` that is not a node is refused. It writes nothing on any node, so
    threads may call it at once, on graphs that share nodes (parameters) or on one graph.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad(): the output must be a Value node, got {type(output).__name__} {output!r}")
    single = isinstance(inputs, Value)
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            hint = (": pass the nodes (model.parameters()), not (name, node) pairs"
                    if x.__class__ is tuple and len(x) == 2 and isinstance(x[1], Value) else "")
            raise TypeError(f"grad(): inputs[{i}] is {type(x).__name__} {_summary(x)}, not a Value node{hint}")
    _, grads, _ = _gradients(output, _seed(output, gradient, create_graph, "grad"), create_graph)
    if create_graph:      # an input the output does not reach: a zero that can be differentiated again
        result = [grads.get(id(x)) or Value(np.zeros_like(x.data) if x.data.__class__ is ndarray else 0.0)
                  for x in inputs]
    else:
        result = [grads.get(id(x), 0.0) for x in inputs]
    return result[0] if single else result


# --- pickle and copy ----------------------------------------------------------------------------
# Pickling a node follows its inputs, and theirs: done naively that recursion is as deep as the
# graph (RecursionError at about 1,000 nodes). So the node pickled first (the "root") puts every
# node it depends on into its state as one flat list, children first: when pickle (or deepcopy)
# reaches a node's inputs, they are already stored, and no recursion goes deeper than one node.
# The nodes of that list are marked (``_mark`` = −token) so their own states skip the list.

_tokens = itertools.count(1)
_live_lists = {}     # token → weak reference to the flat list being pickled


class _Flat(list):
    """The flat node list of a pickled graph (a list that can be weakly referenced)."""

    __slots__ = ("__weakref__",)

    def __reduce__(self):
        return list, (), None, iter(self)


def _slot_names(cls):
    names = []
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return names


def _rule_key(rule):
    if rule is None:
        return None
    if ops.TABLE.get(rule.name) is rule:
        return rule.name
    for name, variant in ops.VARIANTS.items():
        if variant is rule:
            return name
    if rule.const is not None and rule.name == "pow":
        return ("pow", rule.const)
    raise TypeError(f"cannot pickle a node made by the op {rule.name!r}: it is not in microreg.ops.TABLE")


def _rule_from_key(key):
    if key is None:
        return None
    if key.__class__ is tuple:
        return ops.pow_const(key[1])
    return ops.TABLE[key] if key in ops.TABLE else ops.VARIANTS[key]


def _restore_node(cls):
    return object.__new__(cls)


def _node_state(node):
    mark = node._mark
    ref = _live_lists.get(-mark) if mark.__class__ is int and mark < 0 else None
    flat = None
    if ref is None or ref() is None:        # the first node pickled: it carries the whole graph
        below = topological_order(node)[:-1]
        if below:
            flat = _Flat(below)
            token = next(_tokens)
            _live_lists[token] = weakref.ref(flat, lambda _, token=token: _live_lists.pop(token, None))
            for n in below:
                n._mark = -token
    slots = {name: getattr(node, name) for name in _slot_names(node.__class__)
             if name not in ("_rule", "_mark") and hasattr(node, name)}
    extra = getattr(node, "__dict__", None) or None
    return flat, slots, _rule_key(node._rule), extra
