"""The `Value` node: build an expression, then get every gradient by the chain rule.

    >>> from microreg import Value
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a ** 2          # every op records its inputs, in order
    >>> c.backward()                # reverse topological order, chain rule at each node
    >>> a.grad, b.grad              # ∂c/∂a = b + 2a = 1, ∂c/∂b = a = 2
    (1.0, 2.0)

What this module lets you do:

- ``Value(data, label=None)``: a node holding a float, or a 1-D numpy batch (one value per
  sample). ``+ - * / **`` (number or Value exponent), ``exp log tanh sigmoid relu``, and the
  batch reductions ``sum mean``. It is micrograd's API: code written for micrograd runs as is.
- ``backward()``: every gradient of the graph, by one iterative walk in reverse topological
  order (no recursion: a million-node chain is fine). Grads of *non-leaf* nodes are reset at
  the start, so calling it twice does not over-count them; grads of *leaves* accumulate, as in
  PyTorch, so reset them yourself between steps (``Module.zero_grad()`` or ``p.grad = 0.0``).
- ``backward_steps()``: the same walk as a generator of `Step` records, one per chain-rule
  application (what the stepper shows).
- ``backward(create_graph=True)`` and ``grad(output, inputs, create_graph=True)``: gradients that
  are Values themselves, so they can be differentiated again.

Every derivative comes from the rule table in `microreg.ops`; this module only walks the graph.
"""

import numbers

import numpy as np

from . import ops
from .ops import ADD, AFFINE, DIV, EXP, LOG, MEAN, MUL, NEG, POWV, RELU, SIGMOID, SUB, SUM, TANH, DomainProblem

ndarray = np.ndarray


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
    if node.label is not None:
        return f"node {node.label!r}"
    if node._rule is None:
        return f"an unlabelled input ({_summary(node.data)})"
    return f"the unlabelled result of {node._rule.name} ({_summary(node.data)})"


def _summary(data, fmt="{:.4g}"):
    if data.__class__ is ndarray:
        head = ", ".join(fmt.format(v) for v in data[:3])
        more = ", …" if data.shape[0] > 3 else ""
        return f"[{head}{more}] (N={data.shape[0]})"
    return repr(data)


def _as_data(data):
    """Turn what a user gave into a float or a 1-D float64 array, or say clearly what is wrong."""
    cls = data.__class__
    if cls is float:
        return data
    if cls is int or cls is bool:
        return float(data)
    if isinstance(data, Value):
        raise TypeError("Value(...) got a Value; use the node itself (or Value(node.data) for a copy)")
    if isinstance(data, (list, tuple)):
        try:
            data = np.asarray(data)
        except ValueError as exc:
            raise ValueError(f"a batch must be a flat list of numbers: {exc}") from None
    if isinstance(data, ndarray):
        if data.dtype.kind not in "biuf":
            raise TypeError(f"Value data must be numeric; got an array of dtype {data.dtype}")
        if data.ndim == 0:
            return float(data)
        if data.ndim != 1:
            raise ValueError(f"a batch Value holds a 1-D array (one value per sample); got shape {data.shape}")
        if data.shape[0] == 0:
            raise ValueError("a batch Value needs at least one sample; got an empty array")
        return np.asarray(data, dtype=np.float64)
    if isinstance(data, numbers.Complex) and not isinstance(data, numbers.Real):
        raise TypeError(f"Value data must be real; got the complex number {data!r}")
    if isinstance(data, numbers.Real):
        return float(data)
    raise TypeError(f"Value data must be a number or a 1-D array of numbers; got {type(data).__name__} {data!r}")


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
    shapes = [c.data.shape[0] for c in children if c.data.__class__ is ndarray]
    if len(set(shapes)) > 1:
        parts = ", ".join(f"{describe(c)} has {c.data.shape[0]} samples" for c in children
                          if c.data.__class__ is ndarray)
        return ValueError(f"{rule.name}: batch lengths differ: {parts}")
    return None


def _unary(rule, a, context=None):
    try:
        data = rule.forward(a.data)
    except DomainProblem as problem:
        raise _domain_error(rule, (a,), problem, context) from None
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, (a,), rule, 0
    return v


def _binary(rule, a, b):
    try:
        data = rule.forward(a.data, b.data)
    except DomainProblem as problem:
        raise _domain_error(rule, (a, b), problem) from None
    except ValueError:
        err = _length_error(rule, (a, b))
        if err is None:
            raise
        raise err from None
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, (a, b), rule, 0
    return v


def _wrap(x):
    """x itself if it is a node (of any subclass of Value), else a new constant leaf holding it."""
    return x if isinstance(x, Value) else _constant(x)


class Value:
    """A node of a computation graph: a float (or a batch of floats) and its gradient.

    ``data``: a float, or a 1-D float64 numpy array with one value per sample.
    ``grad``: ∂(output)/∂(this node) after ``output.backward()``; 0.0 before.
    ``label``: an optional name shown in pictures, steps and error messages.
    The node also keeps the op that made it and its inputs, in order (``_prev``, a tuple).
    """

    __slots__ = ("data", "grad", "label", "_prev", "_rule", "_mark")
    __array_ufunc__ = None  # ndarray * Value gives a Value (numpy defers to our operators)

    def __init__(self, data, label=None):
        self.data = _as_data(data)
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
        return _binary(ADD, self, other if other.__class__ is Value else _wrap(other))

    def __radd__(self, other):
        return _binary(ADD, _wrap(other), self)

    def __mul__(self, other):
        return _binary(MUL, self, other if other.__class__ is Value else _wrap(other))

    def __rmul__(self, other):
        return _binary(MUL, _wrap(other), self)

    def __pow__(self, other):
        if isinstance(other, numbers.Real):
            return _unary(ops.pow_const(float(other)), self)
        return _binary(POWV, self, _wrap(other))

    def __rpow__(self, other):
        return _binary(POWV, _wrap(other), self)

    # subtraction, division and negation are primitives too (ops.py says why)
    def __neg__(self):
        return _unary(NEG, self)

    def __sub__(self, other):
        return _binary(SUB, self, other if other.__class__ is Value else _wrap(other))

    def __rsub__(self, other):
        return _binary(SUB, _wrap(other), self)

    def __truediv__(self, other):
        return _binary(DIV, self, other if other.__class__ is Value else _wrap(other))

    def __rtruediv__(self, other):
        return _binary(DIV, _wrap(other), self)

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

    # --- gradients ----------------------------------------------------------------------------
    def backward(self, gradient=None, create_graph=False):
        """Fill ``.grad`` of every node this one depends on with ∂self/∂node.

        Non-leaf grads are reset first (so a second call does not over-count them); leaf grads
        accumulate, as in PyTorch: reset them between optimisation steps. A batch output needs
        an explicit ``gradient`` (or reduce it first with ``.sum()`` / ``.mean()``).
        With ``create_graph=True`` the grads are Values, themselves differentiable.
        """
        if create_graph or gradient is not None or self.data.__class__ is ndarray:
            for _ in _backprop(self, gradient, create_graph, record=True):
                pass
            return
        # The fast path: the same rules as backward_steps(), without the records
        # (tests/test_engine.py proves the two give identical grads).
        order = topological_order(self, leaves=False, zero=True)
        self.grad = 1.0 if self._prev else self.grad + 1.0
        try:
            for node in reversed(order):
                rule = node._rule
                upstream = node.grad
                children = node._prev
                ans = node.data
                d = rule.d
                if ans.__class__ is not float:   # a batch node: scalar inputs get the batch-sum
                    _accumulate_batch(node, rule, children, ans, upstream)
                elif rule is AFFINE:             # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1 (ops._affine_locals)
                    if len(children) == 3:
                        w, x, b = children
                        w.grad += x.data * upstream
                        x.grad += w.data * upstream
                        b.grad += upstream
                        continue
                    n = len(children) >> 1
                    for w, x in zip(children[:n], children[n:-1]):
                        w.grad += x.data * upstream
                        x.grad += w.data * upstream
                    children[-1].grad += upstream
                elif d is None:
                    for child, local in zip(children, rule.d_all([c.data for c in children], ans)):
                        child.grad += local * upstream
                elif len(d) == 1:
                    child = children[0]
                    child.grad += d[0](child.data, ans) * upstream
                else:
                    a, b = children
                    a_data, b_data = a.data, b.data
                    a.grad += d[0](a_data, b_data, ans) * upstream
                    b.grad += d[1](a_data, b_data, ans) * upstream
        except DomainProblem as problem:   # e.g. ∂(a^b)/∂b needs ln(a) and a < 0
            raise _domain_error(node._rule, node._prev, problem) from None

    def backward_steps(self, gradient=None):
        """Run ``backward()`` one chain-rule application at a time, yielding a `Step` for each.

        The grads change as you consume the generator; when it is exhausted they equal what
        ``backward()`` gives (it is the same code).
        """
        return _backprop(self, gradient, False, record=True)


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
        data = AFFINE.forward([c.data for c in children])
    except ValueError:
        err = _length_error(AFFINE, children)
        if err is None:
            raise
        raise err from None
    v = _new(Value)
    v.data, v.grad, v.label, v._prev, v._rule, v._mark = data, 0.0, None, children, AFFINE, 0
    return v


# --- the backward walk --------------------------------------------------------------------------

_epoch = [0]


def topological_order(root, leaves=True, zero=False):
    """Every node ``root`` depends on, each after all of its inputs (children first, in order).

    Iterative depth-first search: no recursion limit. Deterministic: inputs are visited in the
    order the op received them. Marks live on the nodes, so no visited-set is allocated.
    With ``leaves=False`` only nodes made by an op are listed (what the backward walk needs);
    ``zero=True`` also sets their grads to 0.0 on the way (the start of a backward pass).
    """
    _epoch[0] += 2
    entered = _epoch[0]
    done = entered + 1
    order = []
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = stack[-1]
        mark = node._mark
        if mark == entered:      # all inputs finished: the node is next in order
            pop()
            node._mark = done
            if zero:
                node.grad = 0.0
            emit(node)
        elif mark == done:       # a second copy, pushed by another parent before we finished it
            pop()
        elif not node._prev:     # the root itself is a leaf
            pop()
            node._mark = done
            if leaves:
                emit(node)
        else:
            node._mark = entered
            if leaves:
                for child in node._prev:     # a leaf has nothing to wait for: finished at once
                    if not child._prev and child._mark < entered:
                        child._mark = done
                        emit(child)
                for child in reversed(node._prev):
                    if child._prev and child._mark < entered:
                        push(child)
            else:                # the backward walk skips leaves: do not even mark them
                for child in reversed(node._prev):
                    if child._prev and child._mark < entered:
                        push(child)
    return order


class Step:
    """One chain-rule application: ``input.grad += local × upstream``.

    ``k``: its position (0-based); ``node``: the node whose op is applied (its grad is the
    ``upstream``); ``input``: the input receiving a ``contribution``; ``position``: which input of
    the op it is; ``op``: the rule-table entry; ``local``: ∂node/∂input; ``grad``: the input's
    accumulated grad after this step; ``fan_in``: how many contributions the input receives in
    all (more than 1 means the node fans out, and its grad is a running sum).
    """

    __slots__ = ("k", "node", "input", "position", "op", "local", "upstream", "contribution", "grad",
                 "before")

    def __init__(self, k, node, input, position, op, local, upstream, contribution, grad, before):
        self.k, self.node, self.input, self.position, self.op = k, node, input, position, op
        self.local, self.upstream, self.contribution, self.grad = local, upstream, contribution, grad
        self.before = before

    def formula(self, names=None, latex=False):
        """The rule-table formula of this local derivative, with the given node names."""
        return self.op.formula(self.position, names, latex)

    def __repr__(self):
        return (f"Step({self.k}: {describe(self.input)} += {_summary(self.local)} × {_summary(self.upstream)}"
                f" = {_summary(self.contribution)} → {_summary(self.grad)})")


def _snapshot(x):
    return x.copy() if x.__class__ is ndarray else x


def _backprop(root, gradient, create_graph, record):
    """The one backward walk. ``backward()`` drains it; ``backward_steps()`` yields its Steps."""
    if gradient is None:
        if root.data.__class__ is ndarray:
            raise ValueError(
                f"backward() needs a scalar output, but {describe(root)} is a batch of "
                f"{root.data.shape[0]} values: reduce it first (.sum() or .mean()) or pass gradient=")
        gradient = 1.0
    else:
        gradient = _as_data(gradient) if gradient.__class__ is not Value else gradient
    if create_graph:
        if gradient.__class__ is not Value:
            gradient = Value(gradient)
        _backprop_graph(root, gradient)
        return
    order = topological_order(root, leaves=False, zero=True)
    root.grad = gradient if root._prev else root.grad + gradient
    k = 0
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
            before = _snapshot(child.grad) if record else None
            child.grad = child.grad + contribution
            if record:
                yield Step(k, node, child, position, rule, local[position], upstream, contribution,
                           _snapshot(child.grad), before)
                k += 1


def _locals(rule, children, ans):
    """∂node/∂input for every input of a node, from the rule table (data in, data out)."""
    d = rule.d
    if d is None:
        return rule.d_all([c.data for c in children], ans)
    if len(d) == 1:
        return (d[0](children[0].data, ans),)
    a, b = children[0].data, children[1].data
    return (d[0](a, b, ans), d[1](a, b, ans))


def _batch_contribution(child, local, upstream):
    """local × upstream for a batch ``upstream``, summed over the samples when ``child`` is a scalar.

    The one place this arithmetic happens, for ``backward()`` and ``backward_steps()`` alike.
    A scalar's sum is a dot product (no temporary array); a batch child gets a fresh array it owns.
    """
    if child.data.__class__ is not ndarray:
        if local.__class__ is ndarray:
            return float(np.dot(local, upstream))
        return local * float(upstream.sum())
    if local.__class__ is float and local == 1.0:
        return upstream.copy()
    return local * upstream


def _accumulate_batch(node, rule, children, ans, upstream):
    """Backward through one batch node: every input's grad += its contribution (in place when the
    input already owns a grad array)."""
    if rule is AFFINE:      # ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1, without building the locals tuple
        n = len(children) >> 1
        pairs = [(children[i], children[n + i].data) for i in range(n)]
        pairs += [(children[n + i], children[i].data) for i in range(n)]
        pairs.append((children[-1], 1.0))
    else:
        pairs = zip(children, _locals(rule, children, ans))
    for child, local in pairs:
        contribution = _batch_contribution(child, local, upstream)
        grad = child.grad
        if grad.__class__ is ndarray:
            grad += contribution
        elif grad == 0.0:
            child.grad = contribution
        else:
            child.grad = grad + contribution


def _is_zero(g):
    return g.__class__ is float and g == 0.0


def _backprop_graph(root, seed):
    """``backward(create_graph=True)``: the same walk, with Value grads built from Value locals."""
    order = topological_order(root, leaves=False, zero=True)
    root.grad = seed if root._prev or _is_zero(root.grad) else root.grad + seed
    for node in reversed(order):
        rule = node._rule
        if _is_zero(node.grad):
            continue
        upstream = node.grad
        if upstream.__class__ is not Value:
            upstream = Value(upstream)
        children = node._prev
        for child, local in zip(children, rule.locals(children, node)):
            contribution = upstream if local.__class__ is float and local == 1.0 else local * upstream
            if contribution.__class__ is not Value:
                contribution = Value(contribution)
            if contribution.data.__class__ is ndarray and child.data.__class__ is not ndarray:
                contribution = contribution.sum()
            child.grad = contribution if _is_zero(child.grad) else child.grad + contribution


def grad(output, inputs, gradient=None, create_graph=False):
    """∂output/∂x for each x in ``inputs`` (a list), without touching any node's ``.grad``.

    Like ``torch.autograd.grad``. With ``create_graph=True`` the results are Values, so they can
    be differentiated again: ``grad(grad(y, [x], create_graph=True)[0], [x])`` is d²y/dx².
    An input that ``output`` does not depend on gets 0.0.
    """
    single = isinstance(inputs, Value)
    inputs = [inputs] if single else list(inputs)
    order = topological_order(output)
    saved = [n.grad for n in order]
    saved_inputs = [x.grad for x in inputs]
    try:
        for n in order:
            n.grad = 0.0
        for x in inputs:
            x.grad = 0.0
        output.backward(gradient, create_graph=create_graph)
        result = [x.grad for x in inputs]
    finally:
        for n, g in zip(order, saved):
            n.grad = g
        for x, g in zip(inputs, saved_inputs):
            x.grad = g
    return result[0] if single else result

