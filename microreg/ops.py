"""The rule table: every primitive operation microreg knows, in one place.

Each entry (an `Op`) holds, for one primitive:

- ``forward``: how to compute the result from the inputs' data (floats or 1-D numpy batches);
- ``d``: one *local derivative* per input, each a function of the inputs and the result ``ans``;
- ``expr`` and ``dexpr``: the same two things written for people, as functions that build a
  formula tree (`microreg.formula`) from the inputs' formulas: generic names ("a", "b"), the
  names of real nodes ("w2[3]", "a1[3]") or numbers. The tree prints itself with the right
  brackets in plain text, LaTeX and MathML, so ``∂L/∂z · (1 − tanh²(z))`` keeps its brackets.

The engine's ``backward()``, ``backward_steps()`` and the stepper all read these entries, so
an explanation printed by microreg is the arithmetic it did, never a separate copy.

The local-derivative functions are written with ordinary arithmetic, so they work unchanged on
floats, on numpy batches, and on `Value` nodes (that is how ``backward(create_graph=True)``
builds gradients that can be differentiated again). Only a few (the step of ``relu``, the
exponent rule of ``pow``, the batch reductions) need to look at what they were given.

Subtraction, division and negation *are* primitives here (``sub``, ``div``, ``neg``), unlike in
micrograd, where ``a - b`` is ``a + (-1)·b`` and ``a / b`` is ``a · b^(-1)``. A learner who
writes ``ŷ - y`` should see one node with ∂/∂ŷ = 1 and ∂/∂y = −1, not a hidden ``−1`` with a
gradient step of its own. Folding the micrograd form at display time was the other choice; a
rule of its own is simpler and safer: the picture, the steps and ``backward()`` all read the
same entry, so they cannot disagree, and each rule is tested against finite differences and
sympy like every other. It costs three short entries below.
"""

import math
import numbers
from operator import mul as _mul

import numpy as np

from .formula import Num, Raw, Sym, call, equation, indicator, number_text, partial

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

def _node(rule, *inputs):
    """A new node made by ``rule`` from ``inputs`` (nodes, or numbers that become constants): how a
    local derivative that needs an op variant of its own (see `pow_limit`) builds it. The rule
    table does not import the engine (the engine imports it): a node among the inputs builds it."""
    maker = next(x for x in inputs if _is_value(x))
    return maker._node_of(rule, *inputs)


def _leaf(data, like):
    """A new plain leaf holding ``data``, made by the engine of the node ``like``."""
    return like._leaf_of(data)


def step_any(x):
    """The derivative of relu: 1 where x > 0, else a hard 0 (relu is constant there: no upstream
    passes, not even ∞; see `HardZero`); a constant even for a Value."""
    if x.__class__ is float:
        return 1.0 if x > 0 else HARD_ZERO
    if x.__class__ is ndarray:
        up = x > 0
        return hard_zeros(up, ~up)
    if not _is_value(x):           # a number of another type (np.float64, an int set by hand)
        return 1.0 if x > 0 else HARD_ZERO
    if x.data.__class__ is ndarray:
        return _leaf((x.data > 0) * 1.0, x)
    return _leaf(1.0, x) if x.data > 0 else HARD_ZERO


def sign_any(x):
    """The derivative of abs: sign(x), 1 above 0, −1 below, 0 at 0 (PyTorch's choice); a constant
    even for a Value."""
    if x.__class__ is float:
        return 1.0 if x > 0 else -1.0 if x < 0 else 0.0
    if x.__class__ is ndarray:
        return np.sign(x)
    if not _is_value(x):
        return sign_any(float(x))
    return _leaf(np.sign(x.data) if x.data.__class__ is ndarray else sign_any(x.data), x)


def ones_like(x):
    return np.ones_like(x) if x.__class__ is ndarray else 1.0


# --- two kinds of number a local derivative can be at the edges of float64 ----------------------
# The walk multiplies local × upstream. Two products that float arithmetic gets wrong are kept
# right by the locals themselves, so the walk (the hot path) does no extra work for them:
#   0 × ∞ = nan, where the op is *constant* around its input (relu left of 0, a⁰), so its true
#   derivative is 0 whatever flows in (√(relu(x)) at x = −1: ∂/∂relu = +∞, ∂/∂x = 0);
#   a local too large for a float (1/a at a subnormal a) whose product with the next local fits:
#   log(σ(z)) at z = −710 has ∂/∂σ = 1/σ ≈ 2.2e308 (too large), but ∂/∂z = (1/σ)·σ(1 − σ) = 1.

class HardZero(float):
    """A local derivative that is 0 because the op is constant around its input: no upstream
    gradient passes it, not even an infinite one (a plain 0 × ∞ is nan). PyTorch selects there
    instead of multiplying (relu's ``threshold_backward``, pow's mask for exponent 0); ChainRules.jl
    calls it a strong zero. Times a number it is a hard zero again, so it stays one down the walk
    (relu(√relu(x)) at x = −1: √'s local ∞ meets it, not a plain 0); added to a number it is that
    number, to a grad still at its start (0.0) itself. Times a batch or a Value: plain zeros."""

    __slots__ = ()

    def __mul__(self, other):
        if other.__class__ is float or other.__class__ is HardZero or other.__class__ is Wide:
            return HARD_ZERO
        return _zeros_like(other)

    __rmul__ = __mul__

    def __add__(self, other):
        if other.__class__ is float and other == 0.0:
            return self
        return other + 0.0

    __radd__ = __add__

    def __reduce__(self):
        return float, (0.0,)


HARD_ZERO = HardZero(0.0)


def _zeros_like(x):
    data = x.data if _is_value(x) else x
    return np.zeros(np.shape(data)) if isinstance(data, ndarray) and data.ndim else 0.0


class HardZeros(ndarray):
    """A batch of local derivatives, hard zeros (see `HardZero`) where ``hard`` is True: their
    products are 0 there whatever the other factor (∞ too), and the plain product elsewhere."""

    def __mul__(self, other):
        plain = self.view(ndarray)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.multiply(plain, other.data if _is_value(other) else other)
        if out.__class__ is not ndarray:
            return out
        out[np.broadcast_to(self.hard, out.shape)] = 0.0
        return out

    __rmul__ = __mul__

    def __array_finalize__(self, obj):
        self.hard = getattr(obj, "hard", None)


def hard_zeros(values, hard):
    """``values`` as `HardZeros`, hard zeros where ``hard`` (values there are set to 0)."""
    values = np.array(values, dtype=np.float64)
    hard = np.broadcast_to(np.asarray(hard, dtype=bool), values.shape)
    if not hard.any():
        return values
    values[hard] = 0.0
    out = values.view(HardZeros)
    out.hard = hard.copy()
    return out


def plain(local):
    """A local derivative as a plain float or array (a `HardZeros` batch as its ndarray), for showing."""
    return local.view(ndarray) if isinstance(local, HardZeros) else local


class Wide(float):
    """A local derivative too large for a float, kept as ``m·2**e``. As a float it is ±inf (what
    plain arithmetic gives); multiplied, divided or added, it gives the exact result, a plain float
    whenever that fits (see the comment above `HardZero`). It prints its true size (``2.236e+308``).
    Only scalar locals become Wide: a batch's overflowing local is ±inf, as before. It is a finite
    number: times 0 it is 0, as any local is (an upstream gradient that underflowed to 0 has lost
    its value before it got here, whatever local it meets)."""

    __slots__ = ("m", "e")

    def __mul__(self, other):
        if other.__class__ is Wide:
            return wide(self.m * other.m, self.e + other.e)
        if other.__class__ is HardZero:
            return other
        if other.__class__ is ndarray:
            m, e = np.frexp(other)
            with np.errstate(over="ignore", invalid="ignore"):
                return np.ldexp(self.m * m, self.e + e)
        if isinstance(other, numbers.Real):
            m, e = math.frexp(other)
            return wide(self.m * m, self.e + e)
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, numbers.Real):
            if other == 0:
                raise ZeroDivisionError("float division by zero")
            m, e = (other.m, other.e) if other.__class__ is Wide else math.frexp(other)
            return wide(self.m / m, self.e - e)
        return NotImplemented

    def __rtruediv__(self, other):
        if isinstance(other, numbers.Real):
            m, e = math.frexp(other)
            return wide(m / self.m, e - self.e)
        return NotImplemented

    def __add__(self, other):
        if isinstance(other, numbers.Real):
            m, e = (other.m, other.e) if other.__class__ is Wide else math.frexp(other)
            if not math.isfinite(m):
                return float(self) + m
            top = max(self.e, e)
            return wide(math.ldexp(self.m, self.e - top) + math.ldexp(m, e - top), top)
        return NotImplemented

    __radd__ = __add__

    def __neg__(self):
        return wide(-self.m, self.e)

    def __sub__(self, other):
        return self + (-other) if isinstance(other, numbers.Real) else NotImplemented

    def __rsub__(self, other):
        return (-self) + other if isinstance(other, numbers.Real) else NotImplemented

    def _decimal(self):
        import decimal
        with decimal.localcontext() as ctx:
            ctx.prec = 40
            return decimal.Decimal(self.m) * decimal.Decimal(2) ** self.e

    def __format__(self, spec):
        return format(self._decimal(), spec or ".17g")

    def __repr__(self):
        return format(self._decimal(), ".17g")

    __str__ = __repr__

    def __reduce__(self):
        return wide, (self.m, self.e)


def wide(m, e):
    """m·2**e as a float when it fits (a subnormal or 0 when it is that small), else a `Wide`."""
    m, shift = math.frexp(m)
    e += shift
    if not math.isfinite(m) or m == 0.0:
        return m
    try:
        return math.ldexp(m, e)
    except OverflowError:
        w = Wide(math.copysign(inf, m))
        w.m, w.e = m, e
        return w


def _quotient(a, b):
    """a / b for a local derivative: exactly, as a `Wide`, where it is too large for a float."""
    if a.__class__ is float and b.__class__ is float:
        q = a / b
        if -inf < q < inf or not math.isfinite(a):
            return q
        (ma, ea), (mb, eb) = math.frexp(a), math.frexp(b)
        return wide(ma / mb, ea - eb)
    if a.__class__ is Wide:
        return a / b
    with np.errstate(over="ignore"):
        return a / b


def _reciprocal(a):
    """1/a (the local derivative of ln a, and of a / b with respect to a)."""
    return _quotient(1.0, a)


# --- forward functions ------------------------------------------------------------------------

def _exp(a):
    if a.__class__ is float:
        try:
            return math.exp(a)
        except OverflowError:  # like numpy: overflow gives inf, not an exception
            return inf
    if a.__class__ is not ndarray:   # a number of another type (np.float32, an int set by hand)
        return _exp(float(a))
    with np.errstate(over="ignore"):
        return np.exp(a)


def _log(a):
    if a.__class__ is float:
        if a > 0:
            return math.log(a)
        raise DomainProblem(0, a, "log(a) needs a > 0")
    if a.__class__ is not ndarray:
        return _log(float(a))
    bad = ~(a > 0)
    if bad.any():
        i = _first_bad(bad)
        raise DomainProblem(0, float(a[i]), "log(a) needs a > 0", index=i)
    return np.log(a)


def _tanh(a):
    if a.__class__ is float:
        return math.tanh(a)
    return np.tanh(a) if a.__class__ is ndarray else math.tanh(float(a))


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
    if a.__class__ is not ndarray:
        return _relu(float(a))
    return np.maximum(a, 0.0)


def _abs(a):
    if a.__class__ is float:
        return math.fabs(a)
    return np.abs(a) if a.__class__ is ndarray else math.fabs(float(a))


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
    if a.__class__ is not ndarray and k.__class__ is not ndarray:   # numbers of other types
        return _pow_data(float(a), float(k))
    with np.errstate(over="ignore"):
        return np.power(a, k)


def _pow_free(a, k):
    """a ** k, except that 0 ** k with k < 0 is +inf (its limit from the right) instead of an error.

    The power inside a derivative graph only: k·a^(k−1) of √a at a = 0 (see `_pow_local`); a base
    outside the domain never gets here (the forward of a^k refused it).
    """
    if a.__class__ is float and k.__class__ is float:
        return inf if a == 0.0 and k < 0 else _pow_data(a, k)
    with np.errstate(divide="ignore", over="ignore"):
        return np.power(a, k)


def _wide_power_local(a, k):
    """k·a^(k−1) where it is too large for a float, as a `Wide` (from log₂ of its size: about 13
    correct digits)."""
    size = math.log2(abs(k)) + (k - 1.0) * math.log2(abs(a))
    whole = math.floor(size)
    return wide(_overflow_sign(a, k) * 2.0 ** (size - whole), whole)


def _overflow_sign(a, k):
    """The sign of k·a^(k−1) (for a result too large for a float): a^(k−1) < 0 when a < 0 and
    k − 1 is odd (k is whole there: a negative base to a fractional power was refused)."""
    negative = (k < 0) != (a < 0 and (k - 1.0) % 2.0 == 1.0)
    return -1.0 if negative else 1.0


def _pow_local(a, k):
    """k·a^(k−1), the derivative of a^k: ±inf (not an error) where it is infinite, e.g. √a at 0."""
    if a.__class__ is float:
        if a == 0.0 and k < 1:
            return HARD_ZERO if k == 0 else math.copysign(inf, k)
        try:
            return k * a ** (k - 1.0)
        except OverflowError:       # too large for a float: e.g. 4x³ at x = −1e200, −4e600
            return HARD_ZERO if k == 0 else _wide_power_local(a, k)
    if a.__class__ is ndarray:
        if k == 0:                       # d(a^0)/da = 0 everywhere (a^(−1) would overflow at a subnormal a)
            return hard_zeros(np.zeros(a.shape), True)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return k * np.power(a, k - 1.0)
    if not _is_value(a):                 # a number of another type (np.float64, an int set by hand)
        return _pow_local(float(a), k)
    # a Value: build the derivative as a graph
    if k == 0:
        return HARD_ZERO                 # d(a^0)/da = 0 everywhere (no a^(−1) to build)
    if k < 1 and (np.asarray(a.data) == 0).any():
        # a^(k−1) at a = 0 (0 < k < 1: a^k with k < 0 refused a = 0) is +inf, which the checked
        # a ** (k − 1) would refuse: built with `pow_limit`, so that every sample, the ones at 0
        # too, keeps derivatives of its own (d²√a/da² at 0 is −inf, as PyTorch gives)
        return k * _node(pow_limit(k - 1.0), a)
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
            out = ans * math.log(a)
            return out if -inf < out < inf or not math.isfinite(ans) else wide(ans, 0) * math.log(a)
        if a == 0:      # a^b·ln a → 0 for b ≥ 0; for b < 0 (only inside a derivative graph) ∞·(−∞)
            if b.__class__ is ndarray:      # 0.0 ** Value(batch): one b per sample
                return np.where(b >= 0, 0.0, -inf)
            return 0.0 if b >= 0 else -inf
        raise DomainProblem(0, a, "∂(a^b)/∂b = a^b·ln(a) needs a ≥ 0 (there is no real ln of a negative number)")
    a_arr = np.asarray(a)
    if (a_arr < 0).any():
        i = _first_bad(np.broadcast_to(a_arr < 0, np.shape(ans)))
        raise DomainProblem(0, float(np.broadcast_to(a_arr, np.shape(ans))[i]),
                            "∂(a^b)/∂b = a^b·ln(a) needs a ≥ 0 (there is no real ln of a negative number)",
                            index=i)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_zero = np.where(np.asarray(b) < 0, -inf, 0.0)     # as for a float, above
        return np.where(a_arr > 0, ans * np.log(np.where(a_arr > 0, a_arr, 1.0)), at_zero)


def _powv_local_base(a, b, ans):
    """∂(a^b)/∂a = b·a^(b−1); 0 where b = 0 (a^0 is constant, even at a = 0)."""
    if _is_value(a) or _is_value(b):
        a_data, b_data = (x.data if _is_value(x) else x for x in (a, b))
        if ((np.asarray(a_data) == 0) & (np.asarray(b_data) < 1)).any():
            # at a = 0 with b < 1, a^(b−1) is +inf, which the checked a ** (b − 1) would refuse:
            # built with `POWV_LIMIT`, so every sample keeps derivatives of its own. Where b = 0
            # the local is 0 (a^0 is constant): those samples get base 1 and a factor 0 (no ∞·0)
            zero_b = np.asarray(b_data) == 0
            if not zero_b.any():
                return b * _node(POWV_LIMIT, _wrap_value(a, b), b - 1.0)
            if zero_b.ndim == 0:
                return HARD_ZERO
            keep = 1.0 - zero_b
            return b * _node(POWV_LIMIT, a * keep + zero_b * 1.0, b - 1.0) * keep
        return b * a ** (b - 1.0)
    if a.__class__ is float and b.__class__ is float:
        return HARD_ZERO if b == 0 else _pow_local(a, b)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        out = b * np.power(a, b - 1.0)
    if np.ndim(a) == 0:      # a scalar base: its contributions are summed over the batch (engine), as plain numbers
        return np.where(np.asarray(b) == 0.0, 0.0, out)
    return hard_zeros(out, np.asarray(b) == 0.0)       # a^0 is constant: a hard 0 there


def _wrap_value(x, like):
    """``x`` itself if it is a node, else a plain leaf holding it (made by ``like``'s engine)."""
    return x if _is_value(x) else _leaf(x, like)


def _sum(a):
    return float(a.sum()) if a.__class__ is ndarray else float(a)


def _mean(a):
    return float(a.mean()) if a.__class__ is ndarray else float(a)


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


def _div(a, b):
    if b.__class__ is float:
        if b == 0.0:
            raise DomainProblem(1, b, "a / b needs b ≠ 0", zero_division=True)
        return a / b
    if b.__class__ is ndarray:
        bad = b == 0.0
        if bad.any():
            raise DomainProblem(1, 0.0, "a / b needs b ≠ 0", index=_first_bad(bad), zero_division=True)
    else:                     # a number of another type (np.float64, an int set by hand)
        return _div(a, float(b))
    with np.errstate(over="ignore"):
        return a / b


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

def _names(names, default):
    """Formula trees for the inputs: names become `Sym`s, formulas stay as they are."""
    names = default if names is None else names
    return [n if hasattr(n, "_text") else Sym(str(n)) for n in names]


class Op:
    """One primitive: forward, one local derivative per input, and the formulas for people.

    ``d`` is a tuple of functions ``f(*inputs, ans)``, one per input (for fixed arity); an op
    with any number of inputs (``affine``, ``arity=None``) takes its inputs as one sequence,
    ``forward(inputs)``, and gives ``d_all(inputs, ans)`` instead of ``d``.
    ``expr(*inputs)`` builds the result as a formula tree from the inputs' formulas and
    ``dexpr[i](*inputs)`` the local derivative for input i (for ``affine``: ``expr(inputs)``
    and ``dexpr(inputs, i)``). ``symbol`` is what a picture writes in the op's circle;
    ``const`` is the exponent of a number-exponent ``pow``.
    ``d_raises`` says that a local derivative can raise a `DomainProblem` for inputs the forward
    accepted (``pow``'s ∂(aᵇ)/∂b = aᵇ·ln a at a < 0): ``backward()`` computes the locals of such
    nodes before it writes any grad, so that error changes nothing.
    """

    __slots__ = ("name", "arity", "forward", "d", "d_all", "expr", "dexpr", "const", "symbol", "d_raises")

    def __init__(self, name, arity, forward, d=None, expr=None, dexpr=(), d_all=None, const=None, symbol=None,
                 d_raises=False):
        self.name, self.arity, self.forward = name, arity, forward
        self.d, self.d_all, self.d_raises = d, d_all, d_raises
        self.expr, self.dexpr, self.const = expr, dexpr, const
        self.symbol = symbol or name

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
    def _default_names(self):
        return ("a", "b")[:self.arity]

    def tree(self, names=None, keep=None):
        """The op's result as a formula tree over ``names`` (strings or formula trees; numbers for a
        numbers line), e.g. ``σ(z1[0])``; generic names ``a``, ``b`` by default. A long ``affine``
        sum is elided in the middle, keeping the term of input ``keep``."""
        if self.arity is None:
            if not names:
                return Raw("Σᵢ wᵢ·xᵢ + b", r"\sum_i w_i x_i + b", prec=1)
            return self.expr(_names(names, ()), keep)
        return self.expr(*_names(names, self._default_names()))

    def local_tree(self, i=0, names=None):
        """The local derivative ∂result/∂(input i) as a formula tree over ``names``."""
        if self.arity is None:
            if not names:
                return Sym("xᵢ", "x_i") if i == 0 else Sym("wᵢ", "w_i") if i == 1 else Num(1)
            return self.dexpr(_names(names, ()), i)
        return self.dexpr[i](*_names(names, self._default_names()))

    def input_tree(self, i=0, names=None):
        """The formula of input i (its name), the variable a local derivative is taken against."""
        if self.arity is None and not names:
            return (Sym("wᵢ", "w_i"), Sym("xᵢ", "x_i"), Sym("b"))[min(i, 2)]
        return _names(names, self._default_names() if self.arity else ())[i]

    def formula_tree(self, i=0, names=None):
        """``∂(result)/∂(input i) = local derivative`` as one formula tree."""
        return equation(partial(self.tree(names, keep=i), self.input_tree(i, names)), self.local_tree(i, names))

    def expression(self, names=None, latex=False):
        """The op's result written with its inputs' names, e.g. ``a·b`` or ``σ(z1[0])``."""
        t = self.tree(names)
        return t.latex if latex else t.text

    def local_expression(self, i=0, names=None, latex=False):
        """(name of input i, its local derivative written out), e.g. ``("w2[3]", "a1[3]")``."""
        wrt, local = self.input_tree(i, names), self.local_tree(i, names)
        return (wrt.latex, local.latex) if latex else (wrt.text, local.text)

    def formula(self, i=0, names=None, latex=False):
        """Human formula of the local derivative for input ``i``, e.g. ``∂(a·b)/∂a = b``.

        With ``names`` (the inputs' names, in order) the formula speaks of real nodes.
        """
        t = self.formula_tree(i, names)
        return t.latex if latex else t.text


#: The constants a learner writes as fractions, folded into an op as such (``×½`` not ``×0.5``).
FRACTIONS = {0.5: "½", 0.25: "¼", 0.75: "¾"}


def constant_text(x, fmt="{:.4g}"):
    """A number the user wrote, as the stepper and the pictures print it: ``½``, ``¼``, ``¾``,
    else `number_text` (``2`` not ``2.0``, a real minus sign)."""
    if x.__class__ is float and x in FRACTIONS:
        return FRACTIONS[x]
    return number_text(x, fmt)


def op_label(node, folded=(), fmt="{:.4g}"):
    """What a picture writes in the circle of the op that made ``node``, with the inputs whose ids
    are in ``folded`` (the numbers the user wrote) folded into it: ``×½``, ``− 1``, ``1 −``, ``/ 2``,
    ``2^``, ``^2``, ``σ``, ``Σ w·x + b``; None for a leaf. The stepper page, the terminal and
    `microreg.viz.draw_graph` all write ops with this one function."""
    rule = node._rule
    if rule is None:
        return None
    symbol = rule.symbol
    if rule.arity != 2:
        return symbol
    a, b = node._prev
    glue = "" if symbol in ("×", "^") else " "
    if id(b) in folded:
        return f"{symbol}{glue}{constant_text(b.data, fmt)}"
    if id(a) in folded:
        if rule.name in ("mul", "add"):          # it commutes: ×½ reads better than ½×
            return f"{symbol}{glue}{constant_text(a.data, fmt)}"
        return f"{constant_text(a.data, fmt)}{glue}{symbol}"
    return symbol


def _num(k):
    return str(int(k)) if float(k).is_integer() else repr(float(k))


#: How many products of an affine node are written out; past that the middle ones are a "…"
#: (a neuron with 64 inputs reads ``w[0]·x[0] + w[1]·x[1] + … + w[63]·x[63] + b``).
AFFINE_TERMS = 4


def _affine_expr(ins, keep=None):
    """w₁·x₁ + … + wₙ·xₙ + b; with many inputs the middle terms are elided, except the one of
    input ``keep`` (the input a local derivative is taken against)."""
    n = len(ins) // 2
    shown = range(n)
    if n > AFFINE_TERMS:
        chosen = {0, 1, n - 1}
        if keep is not None and keep < 2 * n:
            chosen.add(keep % n)
        shown = sorted(chosen)
    out, last = None, -1
    for j in shown:
        if j > last + 1:
            out = out + _ELLIPSIS
        term = ins[j] * ins[n + j]
        out = term if out is None else out + term
        last = j
    return out + ins[-1]


_ELLIPSIS = Raw("…", r"\ldots")


def _affine_dexpr(ins, i):
    n = len(ins) // 2
    if i == len(ins) - 1:
        return Num(1)
    return ins[i + n] if i < n else ins[i - n]


#                name       arity  forward
#                local derivatives (numbers)               formulas (trees): result, then one per input
ADD = Op("add", 2, lambda a, b: a + b,
         d=(lambda a, b, ans: 1.0,
            lambda a, b, ans: 1.0),
         expr=lambda a, b: a + b,
         dexpr=(lambda a, b: Num(1), lambda a, b: Num(1)), symbol="+")

SUB = Op("sub", 2, lambda a, b: a - b,
         d=(lambda a, b, ans: 1.0,
            lambda a, b, ans: -1.0),
         expr=lambda a, b: a - b,
         dexpr=(lambda a, b: Num(1), lambda a, b: Num(-1)), symbol="−")

NEG = Op("neg", 1, lambda a: -a,
         d=(lambda a, ans: -1.0,),
         expr=lambda a: -a,
         dexpr=(lambda a: Num(-1),), symbol="−")

MUL = Op("mul", 2, lambda a, b: a * b,
         d=(lambda a, b, ans: b,
            lambda a, b, ans: a),
         expr=lambda a, b: a * b,
         dexpr=(lambda a, b: b, lambda a, b: a), symbol="×")

DIV = Op("div", 2, _div,
         d=(lambda a, b, ans: _reciprocal(b),     # ∂(a/b)/∂a = 1/b
            lambda a, b, ans: _quotient(-ans, b)),  # ∂(a/b)/∂b = −a/b² = −(a/b)/b
         expr=lambda a, b: a / b,
         dexpr=(lambda a, b: 1 / b, lambda a, b: -a / b ** 2), symbol="/")

POWV = Op("pow", 2, _pow_data,
          d=(_powv_local_base,
             _powv_local_exponent),
          expr=lambda a, b: a ** b,
          dexpr=(lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * call("ln", a)), symbol="^",
          d_raises=True)     # ∂(aᵇ)/∂b = aᵇ·ln a has no real value at a < 0 (a² is fine, its ∂/∂b is not)

EXP = Op("exp", 1, _exp,
         d=(lambda a, ans: ans,),
         expr=lambda a: call("exp", a),
         dexpr=(lambda a: call("exp", a),), symbol="exp")

LOG = Op("log", 1, _log,
         d=(lambda a, ans: _reciprocal(a),),
         expr=lambda a: call("ln", a),
         dexpr=(lambda a: 1 / a,), symbol="ln")

TANH = Op("tanh", 1, _tanh,
          d=(lambda a, ans: 1.0 - ans * ans,),
          expr=lambda a: call("tanh", a),
          dexpr=(lambda a: 1 - call("tanh", a) ** 2,), symbol="tanh")

SIGMOID = Op("sigmoid", 1, _sigmoid,
             d=(lambda a, ans: ans * (1.0 - ans),),
             expr=lambda a: call("σ", a),
             dexpr=(lambda a: call("σ", a) * (1 - call("σ", a)),), symbol="σ")

RELU = Op("relu", 1, _relu,
          d=(lambda a, ans: step_any(a),),
          expr=lambda a: call("relu", a),
          dexpr=(lambda a: indicator(a),), symbol="relu")

ABS = Op("abs", 1, _abs,
         d=(lambda a, ans: sign_any(a),),
         expr=lambda a: call("abs", a),
         dexpr=(lambda a: call("sign", a),), symbol="abs")

SUM = Op("sum", 1, _sum,
         d=(_sum_local,),
         expr=lambda a: call("Σ", a),
         dexpr=(lambda a: Num(1),), symbol="Σ")

MEAN = Op("mean", 1, _mean,
          d=(_mean_local,),
          expr=lambda a: call("mean", a),
          dexpr=(lambda a: 1 / Sym("N"),), symbol="mean")

AFFINE = Op("affine", None, _affine, d_all=_affine_locals, expr=_affine_expr, dexpr=_affine_dexpr,
            symbol="Σ w·x + b")

_POW_CACHE = {}


def _pow_const_dexpr(k):
    """k·a^(k−1), simplified where it reads better: 2·a, not 2·a¹; 1, not 1·a⁰."""
    if k == 0:
        return lambda a: Num(0)
    if k == 1:
        return lambda a: Num(1)
    if k == 2:
        return lambda a: Num(2) * a
    return lambda a: Num(k) * a ** Num(k - 1)


def _zero_local(a, ans):
    """d(a⁰)/da: a hard 0 everywhere (a⁰ = 1 is constant; a^(−1) would overflow at a subnormal a)."""
    data = a.data if _is_value(a) else a
    return hard_zeros(np.zeros(data.shape), True) if data.__class__ is ndarray else HARD_ZERO


def _pow_op(k, forward):
    return Op("pow", 1, forward,
              d=(_zero_local if k == 0 else lambda a, ans: _pow_local(a, k),),
              expr=lambda a: a ** Num(k),
              dexpr=(_pow_const_dexpr(k),),
              const=k, symbol=f"^{_num(k)}")


def pow_const(k):
    """The op ``a^k`` for a constant exponent k (micrograd's ``**``); one Op per k, cached."""
    op = _POW_CACHE.get(k)
    if op is None:
        op = _pow_op(k, lambda a: _pow_data(a, k))
        if len(_POW_CACHE) < 4096:
            _POW_CACHE[k] = op
    return op


def pow_limit(k):
    """``a^k`` as `pow_const` (the same rule), except that its forward gives 0^k = +inf for k < 0
    instead of refusing it. Only local derivatives build it: k·a^(k−1) of √a is +inf at a = 0,
    a limit, not an error; a user's ``a ** k`` always gets the checked `pow_const`."""
    return _pow_op(k, lambda a: _pow_free(a, k))


#: ``a^b`` as `POWV` (the same rule), with 0^b = +inf for b < 0 (see `pow_limit`).
POWV_LIMIT = Op("pow", 2, _pow_free, d=POWV.d, expr=POWV.expr, dexpr=POWV.dexpr, symbol="^", d_raises=True)

def _pow_constants_local(a, k, ans):
    """∂(aᵏ)/∂a = k·a^(k−1) for constant exponents k; for a Value, a graph: a pow by the constants
    k − 1 (where a = 0 and k < 1, the `_pow_free` variant: +inf there, as for `pow_limit`)."""
    if not _is_value(a):
        return _powv_local_base(a, k, ans)
    k = k.data if _is_value(k) else k
    zero = (np.asarray(a.data) == 0) & (k < 1)
    rule = POW_BY_CONSTANTS_LIMIT if zero.any() else POW_BY_CONSTANTS
    zero_k = k == 0
    if zero_k.any():       # k·a^(k−1) is 0 where k = 0: base 1 there (no 0·∞)
        a = a * (1.0 - zero_k) + zero_k * 1.0
    return k * _node(rule, a, k - 1.0)


#: ``a^k`` for a per-sample array of exponents the user wrote (``x ** np.array([2., 3.])``): the
#: exponents are constants, so only the base has a local derivative (b·a^(b−1)); ∂/∂k, which has
#: no real value at a < 0 (``(−1)²`` is fine), is not computed, as PyTorch skips a tensor that
#: does not require grad.
POW_BY_CONSTANTS = Op("pow", 2, _pow_data,
                      d=(_pow_constants_local,
                         lambda a, b, ans: 0.0),
                      expr=POWV.expr,
                      dexpr=(POWV.dexpr[0], lambda a, b: Num(0)), symbol="^")
POW_BY_CONSTANTS_LIMIT = Op("pow", 2, _pow_free, d=POW_BY_CONSTANTS.d, expr=POWV.expr,
                            dexpr=POW_BY_CONSTANTS.dexpr, symbol="^")

#: Rules that are not in `TABLE` but can be in a graph, by a name for pickling.
VARIANTS = {"pow (limit)": POWV_LIMIT, "pow (constant exponents)": POW_BY_CONSTANTS,
            "pow (constant exponents, limit)": POW_BY_CONSTANTS_LIMIT}

#: Every primitive, by name. ``pow`` here is the Value-exponent form; ``pow_const(k)`` makes the
#: number-exponent form. Tests are parametrised over this table: a new op without a test fails.
TABLE = {op.name: op for op in (ADD, SUB, NEG, MUL, DIV, POWV, EXP, LOG, TANH, SIGMOID, RELU, ABS, SUM, MEAN,
                                AFFINE)}
