"""The rule table: every primitive operation microreg knows, in one place.

Each entry (an `Op`) holds, for one primitive:

- ``forward``: how to compute the result from the inputs' data (floats or 1-D numpy batches);
- ``d``: one *local derivative* per input, each a function of the inputs and the result ``ans``;
- ``expr`` and ``dexpr``: the same two things written for people, in plain text and in LaTeX,
  as templates whose ``${a}``, ``${b}`` are filled with generic names ("a", "b") or with the
  names of real nodes ("w2[3]", "a1[3]").

The engine's ``backward()``, ``backward_steps()`` and the stepper all read these entries, so
an explanation printed by microreg is the arithmetic it did, never a separate copy.

The local-derivative functions are written with ordinary arithmetic, so they work unchanged on
floats, on numpy batches, and on `Value` nodes (that is how ``backward(create_graph=True)``
builds gradients that can be differentiated again). Only a few (the step of ``relu``, the
exponent rule of ``pow``, the batch reductions) need to look at what they were given.

Subtraction, division and negation are not primitives: ``a - b = a + (-1)·b`` and
``a / b = a · b^(-1)``, as in micrograd.
"""

import math
from operator import mul as _mul
from string import Template

import numpy as np

ndarray = np.ndarray
inf = math.inf


class DomainProblem(Exception):
    """Raised inside a rule when an input is outside the op's domain.

    The engine catches it and raises a `MathDomainError` that names the op and the nodes.
    ``which`` is the input position, ``value`` the offending value, ``index`` the first bad
    sample of a batch (or None), ``zero_division`` marks a division by zero.
    """

    def __init__(self, which, value, need, index=None, zero_division=False):
        super().__init__(need)
        self.which, self.value, self.need = which, value, need
        self.index, self.zero_division = index, zero_division


def _first_bad(mask):
    return int(np.flatnonzero(mask)[0])


def _is_value(x):
    return x.__class__ is not float and x.__class__ is not ndarray and hasattr(x, "_prev")


# --- helpers that work on floats, batches and Value nodes alike -----------------------------

def step_any(x):
    """The derivative of relu: 1 where x > 0, else 0 (a constant even for a Value)."""
    if x.__class__ is float:
        return 1.0 if x > 0 else 0.0
    if x.__class__ is ndarray:
        return (x > 0).astype(np.float64)
    return x.__class__((x.data > 0) * 1.0 if x.data.__class__ is float else (x.data > 0).astype(np.float64))


def ones_like(x):
    return np.ones_like(x) if x.__class__ is ndarray else 1.0


# --- forward functions ------------------------------------------------------------------------

def _exp(a):
    if a.__class__ is float:
        try:
            return math.exp(a)
        except OverflowError:  # like numpy: overflow gives inf, not an exception
            return inf
    with np.errstate(over="ignore"):
        return np.exp(a)


def _log(a):
    if a.__class__ is float:
        if a > 0:
            return math.log(a)
        raise DomainProblem(0, a, "log(a) needs a > 0")
    bad = ~(a > 0)
    if bad.any():
        i = _first_bad(bad)
        raise DomainProblem(0, float(a[i]), "log(a) needs a > 0", index=i)
    return np.log(a)


def _tanh(a):
    return math.tanh(a) if a.__class__ is float else np.tanh(a)


def _sigmoid(a):
    # Stable for any finite input: never exp of a large positive number.
    if a.__class__ is float:
        if a >= 0:
            return 1.0 / (1.0 + math.exp(-a))
        e = math.exp(a)
        return e / (1.0 + e)
    # 1/(1 + e^(−a)) is accurate for every a: where e^(−a) overflows (a < −709) it gives
    # 1/(1 + inf) = 0.0, the right limit. Four passes over the batch, one new array.
    s = np.negative(a)
    with np.errstate(over="ignore"):
        np.exp(s, out=s)
    s += 1.0
    np.reciprocal(s, out=s)
    return s


def _relu(a):
    if a.__class__ is float:
        return 0.0 if a <= 0 else a      # nan stays nan, as numpy's maximum and PyTorch give
    return np.maximum(a, 0.0)


def _check_pow(a, k, which_base=0):
    """Raise a DomainProblem for a negative base to a non-integer power or 0 to a negative power."""
    if a.__class__ is float and k.__class__ is float:
        if a < 0 and not k.is_integer():
            raise DomainProblem(which_base, a, f"a^k with a < 0 needs a whole-number k, got k = {k!r}")
        if a == 0 and k < 0:
            raise DomainProblem(which_base, a, f"a^k with k = {k!r} < 0 divides by zero at a = 0",
                                zero_division=True)
        return
    a_arr, k_arr = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(k, dtype=np.float64))
    bad = (a_arr < 0) & (k_arr != np.round(k_arr))
    if bad.any():
        i = _first_bad(bad)
        raise DomainProblem(which_base, float(a_arr[i]),
                            f"a^k with a < 0 needs a whole-number k, got k = {float(k_arr[i])!r}",
                            index=i if a_arr.ndim else None)
    bad = (a_arr == 0) & (k_arr < 0)
    if bad.any():
        i = _first_bad(bad)
        raise DomainProblem(which_base, 0.0,
                            f"a^k with k = {float(k_arr[i])!r} < 0 divides by zero at a = 0",
                            index=i if a_arr.ndim else None, zero_division=True)


def _pow_data(a, k):
    """a ** k on floats or batches, after the domain checks; never a complex number."""
    _check_pow(a, k)
    if a.__class__ is float and k.__class__ is float:
        try:
            return a ** k
        except OverflowError:
            return inf if a > 0 or k % 2 == 0 else -inf
    with np.errstate(over="ignore"):
        return np.power(a, k)


def _pow_local(a, k):
    """k·a^(k−1), the derivative of a^k: ±inf (not an error) where it is infinite, e.g. √a at 0."""
    if a.__class__ is float:
        if a == 0.0 and k < 1:
            return 0.0 if k == 0 else math.copysign(inf, k)
        try:
            return k * a ** (k - 1.0)
        except OverflowError:
            return math.copysign(inf, k)
    if a.__class__ is ndarray:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = k * np.power(a, k - 1.0)
        return np.where(a == 0.0, 0.0, out) if k == 0 else out
    # a Value: build the derivative as a graph
    if k == 0:
        return 0.0                       # d(a^0)/da = 0 everywhere (no a^(−1) to build)
    if k < 1 and (np.asarray(a.data) == 0).any():
        return _pow_local(a.data, k)     # ±inf at a = 0, as plain backward gives: a constant
    return k * a ** (k - 1.0)


def _powv_local_exponent(a, b, ans):
    """∂(a^b)/∂b = a^b·ln(a). Zero where a^b is 0 (its limit for b > 0); undefined for a < 0."""
    if _is_value(a):
        data = np.asarray(a.data)
        if (data <= 0).any():  # check as plain backward does; where a = 0 the local is 0 (a constant)
            _powv_local_exponent(a.data, b.data if _is_value(b) else b, ans.data)
            keep = (data > 0) * 1.0 if data.ndim else float(data > 0)
            return ans * (a * keep + (1.0 - keep)).log()   # ln(1) = 0 where a = 0
        return ans * a.log()
    if a.__class__ is float:
        if a > 0:
            return ans * math.log(a)
        if a == 0:
            return 0.0
        raise DomainProblem(0, a, "∂(a^b)/∂b = a^b·ln(a) needs a ≥ 0 (there is no real ln of a negative number)")
    a_arr = np.asarray(a)
    if (a_arr < 0).any():
        i = _first_bad(np.broadcast_to(a_arr < 0, np.shape(ans)))
        raise DomainProblem(0, float(np.broadcast_to(a_arr, np.shape(ans))[i]),
                            "∂(a^b)/∂b = a^b·ln(a) needs a ≥ 0 (there is no real ln of a negative number)",
                            index=i)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a_arr > 0, ans * np.log(np.where(a_arr > 0, a_arr, 1.0)), 0.0)


def _powv_local_base(a, b, ans):
    """∂(a^b)/∂a = b·a^(b−1); 0 where b = 0 (a^0 is constant, even at a = 0)."""
    if _is_value(a) or _is_value(b):
        a_data, b_data = (x.data if _is_value(x) else x for x in (a, b))
        if ((np.asarray(a_data) == 0) & (np.asarray(b_data) < 1)).any():
            # at a = 0 with b < 1, b·a^(b−1) would divide by zero: the plain local (0 or ±inf),
            # as a constant, as plain backward gives
            return _powv_local_base(a_data, b_data, ans.data if _is_value(ans) else ans)
        return b * a ** (b - 1.0)
    if a.__class__ is float and b.__class__ is float:
        return _pow_local(a, b)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = b * np.power(a, b - 1.0)
    return np.where(np.asarray(b) == 0.0, 0.0, out)


def _sum(a):
    return float(a.sum()) if a.__class__ is ndarray else a


def _mean(a):
    return float(a.mean()) if a.__class__ is ndarray else a


def _mean_local(a, ans):
    if a.__class__ is ndarray:
        return np.full(a.shape, 1.0 / a.shape[0])
    if _is_value(a) and a.data.__class__ is ndarray:
        return np.full(a.data.shape, 1.0 / a.data.shape[0])
    return 1.0


def _sum_local(a, ans):
    if _is_value(a):
        a = a.data
    return ones_like(a)


def _affine(ins):
    # ins = [w_1..w_n, x_1..x_n, b] (one sequence: the op takes any number of inputs);
    # the result is b + Σ w_i·x_i
    if len(ins) == 3:  # one input: a neuron of a first layer with one feature
        return ins[0] * ins[1] + ins[2]
    n = len(ins) // 2
    return sum(map(_mul, ins[:n], ins[n:2 * n]), ins[-1])


def _affine_locals(ins, ans):
    # ∂/∂w_i = x_i, ∂/∂x_i = w_i, ∂/∂b = 1 (the one place this is written: every walk reads it)
    if len(ins) == 3:   # one input (a first layer's neuron): the same, without slicing
        w, x, _ = ins
        return x, w, 1.0
    n = len(ins) // 2
    return (*ins[n:2 * n], *ins[:n], 1.0)


# --- the table --------------------------------------------------------------------------------

class Op:
    """One primitive: forward, one local derivative per input, and the formulas for people.

    ``d`` is a tuple of functions ``f(*inputs, ans)``, one per input (for fixed arity); an op
    with any number of inputs (``affine``, ``arity=None``) takes its inputs as one sequence,
    ``forward(inputs)``, and gives ``d_all(inputs, ans)`` instead of ``d``.
    ``expr``/``dexpr`` are (text, latex) templates; ``${a}``, ``${b}`` name the inputs,
    ``${k}`` a constant of the op (the exponent of ``pow``).
    """

    __slots__ = ("name", "arity", "forward", "d", "d_all", "expr", "dexpr", "const")

    def __init__(self, name, arity, forward, d=None, expr=("", ""), dexpr=(), d_all=None, const=None):
        self.name, self.arity, self.forward = name, arity, forward
        self.d, self.d_all = d, d_all
        self.expr, self.dexpr, self.const = expr, dexpr, const

    def __repr__(self):
        return f"Op({self.name!r})"

    def apply(self, inputs):
        """The forward result for a list of input data (whatever the op's arity)."""
        return self.forward(inputs) if self.arity is None else self.forward(*inputs)

    def locals(self, inputs, ans):
        """The local derivative of the result with respect to each input, in input order."""
        if self.d_all is not None:
            return self.d_all(inputs, ans)
        return tuple(f(*inputs, ans) for f in self.d)

    # formulas ---------------------------------------------------------------------------------
    def _mapping(self, names):
        mapping = dict(zip(("a", "b"), names or ("a", "b")))
        if self.const is not None:
            mapping["k"], mapping["km1"] = _num(self.const), _num(self.const - 1)
        return mapping

    def expression(self, names=None, latex=False):
        """The op's result written with its inputs' names, e.g. ``a·b`` or ``σ(z1[0])``."""
        if self.arity is None:  # affine: inputs are (w_1..w_n, x_1..x_n, b)
            if not names:
                return r"\sum_i w_i x_i + b" if latex else "Σᵢ wᵢ·xᵢ + b"
            n = (len(names) - 1) // 2
            dot = r" \cdot " if latex else "·"
            return " + ".join([f"{names[j]}{dot}{names[n + j]}" for j in range(n)] + [names[-1]])
        return Template(self.expr[1 if latex else 0]).substitute(self._mapping(names))

    def local_expression(self, i=0, names=None, latex=False):
        """(name of input i, its local derivative written out), e.g. ``("w2[3]", "a1[3]")``."""
        if self.arity is None:
            names = names or (("w_i", "x_i", "b") if latex else ("wᵢ", "xᵢ", "b"))
            n = (len(names) - 1) // 2
            if i == len(names) - 1:
                return names[i], "1"
            return names[i], names[i + n] if i < n else names[i - n]
        mapping = self._mapping(names)
        return mapping["ab"[i]], Template(self.dexpr[i][1 if latex else 0]).substitute(mapping)

    def formula(self, i=0, names=None, latex=False):
        """Human formula of the local derivative for input ``i``, e.g. ``∂(a·b)/∂a = b``.

        With ``names`` (the inputs' names, in order) the formula speaks of real nodes.
        """
        out = self.expression(names, latex)
        wrt, local = self.local_expression(i, names, latex)
        if latex:
            return rf"\frac{{\partial ({out})}}{{\partial {wrt}}} = {local}"
        return f"∂({out})/∂{wrt} = {local}"


def _num(k):
    return str(int(k)) if float(k).is_integer() else repr(float(k))


ADD = Op("add", 2, lambda a, b: a + b,
         d=(lambda a, b, ans: 1.0,
            lambda a, b, ans: 1.0),
         expr=("${a} + ${b}", "${a} + ${b}"),
         dexpr=(("1", "1"), ("1", "1")))

MUL = Op("mul", 2, lambda a, b: a * b,
         d=(lambda a, b, ans: b,
            lambda a, b, ans: a),
         expr=("${a}·${b}", r"${a} \cdot ${b}"),
         dexpr=(("${b}", "${b}"), ("${a}", "${a}")))

POWV = Op("pow", 2, _pow_data,
          d=(_powv_local_base,
             _powv_local_exponent),
          expr=("${a}^${b}", "{${a}}^{${b}}"),
          dexpr=(("${b}·${a}^(${b} − 1)", r"${b} \cdot {${a}}^{${b} - 1}"),
                 ("${a}^${b}·ln(${a})", r"{${a}}^{${b}} \ln ${a}")))

EXP = Op("exp", 1, _exp,
         d=(lambda a, ans: ans,),
         expr=("exp(${a})", "e^{${a}}"),
         dexpr=(("exp(${a})", "e^{${a}}"),))

LOG = Op("log", 1, _log,
         d=(lambda a, ans: 1.0 / a,),
         expr=("ln(${a})", r"\ln ${a}"),
         dexpr=(("1/${a}", r"\frac{1}{${a}}"),))

TANH = Op("tanh", 1, _tanh,
          d=(lambda a, ans: 1.0 - ans * ans,),
          expr=("tanh(${a})", r"\tanh ${a}"),
          dexpr=(("1 − tanh²(${a})", r"1 - \tanh^2 ${a}"),))

SIGMOID = Op("sigmoid", 1, _sigmoid,
             d=(lambda a, ans: ans * (1.0 - ans),),
             expr=("σ(${a})", r"\sigma(${a})"),
             dexpr=(("σ(${a})(1 − σ(${a}))", r"\sigma(${a})\,(1 - \sigma(${a}))"),))

RELU = Op("relu", 1, _relu,
          d=(lambda a, ans: step_any(a),),
          expr=("relu(${a})", r"\mathrm{relu}(${a})"),
          dexpr=(("1 if ${a} > 0 else 0", r"[${a} > 0]"),))

SUM = Op("sum", 1, _sum,
         d=(_sum_local,),
         expr=("Σ ${a}", r"\sum ${a}"),
         dexpr=(("1", "1"),))

MEAN = Op("mean", 1, _mean,
          d=(_mean_local,),
          expr=("mean(${a})", r"\frac{1}{N}\sum ${a}"),
          dexpr=(("1/N", r"\frac{1}{N}"),))

AFFINE = Op("affine", None, _affine, d_all=_affine_locals)

_POW_CACHE = {}


def pow_const(k):
    """The op ``a^k`` for a constant exponent k (micrograd's ``**``); one Op per k, cached."""
    op = _POW_CACHE.get(k)
    if op is None:
        op = Op("pow", 1, lambda a: _pow_data(a, k),
                d=(lambda a, ans: _pow_local(a, k),),
                expr=("${a}^${k}", "{${a}}^{${k}}"),
                dexpr=(("${k}·${a}^${km1}", r"${k} \cdot {${a}}^{${km1}}"),),
                const=k)
        if len(_POW_CACHE) < 4096:
            _POW_CACHE[k] = op
    return op


#: Every primitive, by name. ``pow`` here is the Value-exponent form; ``pow_const(k)`` makes the
#: number-exponent form. Tests are parametrised over this table: a new op without a test fails.
TABLE = {op.name: op for op in (ADD, MUL, POWV, EXP, LOG, TANH, SIGMOID, RELU, SUM, MEAN, AFFINE)}
