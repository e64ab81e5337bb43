r"""Name the mistake in a hand-derived gradient: the one search `verify`, ``check FILE`` and the quiz call.

A learner's number is compared with autograd's at several points; when they differ, this module
finds the simple mistakes that give the learner's numbers *at every point checked* and says them
in the learner's notation. Nobody writes a wrong answer in advance: every candidate is computed
from the graph and the rule table (`microreg.ops`), or by re-evaluating the learner's own formula
with one change.

What the search is given
    - ``Graph(out, wrt, data=None, names=None)``, one per point: the loss ``out`` (a scalar
      `Value`) and the node(s) whose gradient the learner states, ``wrt``: a parameter, an
      intermediate node (``z2``), or a list / numpy object array of them (``w1``, ``dZ1``). Their
      gradient, flattened in that order (a batch node gives one element per sample), is
      autograd's side. ``data`` maps names to numbers (an unlabelled number in the graph equal
      to one is called by that name); ``names`` (id(node) → name) overrides how nodes are called.
    - ``hand``: the learner's values, one array per point, with as many elements.
    - Optionally what the front end can re-evaluate: ``occurrences`` (the places of the learner's
      formula: `Occurrence`), ``quantities`` (`Quantity`: names the learner could have written, with
      their value at each point; labelled nodes are found in the graph) and
      ``substitute(occurrence, replacement)`` → the learner's values per point (an iterable; a
      generator lets the search stop at the first point that rules it out) with that one
      occurrence replaced by a `Quantity`, by `ONE` (the factor dropped), by `TRANSPOSE` or, for a
      difference, by `REVERSED`. A failure (an exception) rules the replacement out.
    - ``sizes`` ({"m": 5, "h": 3} or (letter, value, what) triples), ``mean`` (is the loss a mean
      over the samples; None: looked up in the graph) and ``one_sample`` (does the learner's
      formula agree with autograd with one sample; None: not known).
    - ``edges`` / ``paths``: which edges ((node, input position) pairs) may carry a mistaken local
      derivative / be a left-out path (the quiz: the edge of its step); None: every edge.

What it returns
    ``explain(...)`` → `Diagnosis`: ``.explanations`` (`Explanation`: ``kind``, ``nodes``,
    ``factor``, ``substitution``, …, ``.to_dict()``), simplest first, each holding at every point;
    ``.worst`` (point, element, autograd's number, the learner's) for "no single mistake".
    ``words(explanation)`` is the one function that says an explanation, in the learner's notation
    (labels through `microreg.notation.display`: ŷ, a₁, z⁽¹⁾).

The kinds (`KINDS`), each tried alone and times a simple constant factor (±1, ±2, ±½, the
sizes and their reciprocals): a gradient of the wrong shape (numpy code: a lost keepdims, a sum over
the wrong axis; said by `words`, found by `microreg.backprop`), a constant factor (with its usual
cause; a flipped sign names the residual, (A2 − Y)/m for σ with cross-entropy), a per-element factor or
sign, a forgotten local derivative (a missing 1/N named by its size), an extra local derivative
(applied twice, or one that does not belong), a local derivative at the wrong node (wrong layer; at
the op's output), a wrong local derivative (`CONFUSIONS`: σ for σ', tanh' as 1 − a, …; relu's mask
taken from the upstream gradient; the 2 of a square left out, in a regularisation term named as one),
the wrong factor of a product, one quantity where another belongs (a whole array transposed), a
missing path (a regularisation term's gradient left out), a transpose, a reversed difference, a
one-sample rule under a mean loss.

A mistake made on a whole array (every tanh edge from z1 to h1) is one explanation about the array,
and one made by a helper in every layer (relu_backward without its mask: the relu edges of A1 and
A2) one about them all; on a graph of more than `MAX_SINGLES` nodes (numpy code on many samples)
only such whole-array mistakes are tried. Functions the learner wrote out with numpy are seen as the
rule they compute (`_Written`): σ as ``1 / (1 + np.exp(-z))``, tanh as a ratio of exps, and
softmax / log-softmax of a row (a stable softmax; the log-likelihood of a cross-entropy), whose
slips (`_RowRule.confusions`: the one-hot left out, added, or subtracted from every class) are named
at that level; the edges inside them are not tried one by one.

How it stays fast: backward is linear in each edge's contribution, so changing edge (v → c)'s local
derivative from l to l' changes the gradient by (l' − l)·∂L/∂v·∂c/∂wrt, with ∂c/∂wrt from one
forward-mode pass; every candidate of an edge is one row of one numpy product, tried at the first
point, and only the survivors at the others.

    >>> from microreg import Value
    >>> from microreg.mistakes import Graph, explain, words
    >>> def graph(w, x=1.5):                  # z = w·x, a = σ(z), L = (a − 1)², x data
    ...     w = Value(w, label="w")
    ...     z = w * x; z.label = "z"
    ...     a = z.sigmoid(); a.label = "a"
    ...     return Graph((a - 1.0) ** 2, w, data={"x": x}), a.data
    >>> points = [graph(w) for w in (0.3, -0.4, 1.1)]
    >>> hand = [2 * (a - 1) * 1.5 for _, a in points]        # σ'(z) left out
    >>> d = explain([g for g, _ in points], hand)
    >>> d.explanations[0].kind
    'forgotten derivative'
    >>> words(d.explanations[0])
    'you left out ∂a/∂z = σ(z)·(1 − σ(z)) (a forgotten local derivative)'

A front end that holds the learner's formula (the document checker) also says which places of it
can change, and re-evaluates it with one changed; here 2(1 − a)·σ'(z)·x, whose difference is the
wrong way round:

    >>> from microreg.mistakes import Occurrence, REVERSED
    >>> a_at = [a for _, a in points]
    >>> learner = [2 * (1 - a) * a * (1 - a) * 1.5 for a in a_at]
    >>> def substitute(occurrence, replacement):         # REVERSED: (a − 1) in place of (1 − a)
    ...     for a in a_at:
    ...         yield 2 * (a - 1) * a * (1 - a) * 1.5
    >>> place = Occurrence("the difference", "1 − a", kind="difference", reversed="a − 1")
    >>> d = explain([g for g, _ in points], learner, occurrences=[place], substitute=substitute)
    >>> words(d.explanations[0])
    'you wrote 1 − a where a − 1 belongs (the difference the wrong way round)'
"""

import math
import re
from collections import namedtuple

import numpy as np

from .engine import _gradients, topological_order
from .ops import SIGMOID, TANH
from .formula import Num, Sym, call, has_operator
from .notation import Batch, display

ndarray = np.ndarray

__all__ = ["Graph", "Occurrence", "Quantity", "ONE", "TRANSPOSE", "REVERSED", "Explanation", "Diagnosis",
           "explain", "slips", "words", "name_factor", "factor_cause", "KINDS", "CONFUSIONS", "Size"]

#: Every kind an `Explanation` can have, simplest first (the order explanations are listed in).
KINDS = ("shape", "factor", "reversed difference", "one sample", "element factor", "transpose", "forgotten derivative",
         "extra derivative", "wrong node", "wrong derivative", "wrong factor", "wrong quantity", "missing path")
_RANK = {k: i for i, k in enumerate(KINDS)}

#: A named size of the problem: ``letter`` as the learner writes it, its ``value``, ``what`` it counts.
Size = namedtuple("Size", "letter value what")
_WHAT = {"m": "samples", "n": "samples", "N": "samples", "f": "features", "d": "features", "h": "hidden units"}

_LABEL = re.compile(r"^(.*?)((?:\[\d+\])+)$")
#: a digit as a label writes it: 2, ₂, ²
_DIGITS = r"[\d₀-₉⁰¹²³⁴-⁹]"

#: Data arrays up to this size are split into named elements (X[1][0]) for the search.
MAX_DATA = 256


# --- what the front ends give ---------------------------------------------------------------------

class Occurrence:
    """One place of the learner's formula a substitution can change.

    ``key``: the front end's handle (a tree position, an argument name), given back to
    ``substitute``. ``label``: the name written there (or, for ``kind="difference"``, the
    difference as written, ``y − ŷ``); ``reversed``: the difference the other way round (``ŷ − y``).
    ``kind="negation"``: a minus the learner wrote (`REVERSED` drops it), so a formula whose only
    slip is a minus too many is said to have its sign flipped, not a difference reversed.
    ``values``: its value at each point (to prune by shape and value), or None. ``factor``: it is
    a factor of a product (so dropping it, `ONE`, means something). ``transposed``: it is written
    with a transpose (None: not known, as in a function's code); ``transposable``: a transpose of it
    can be tried.
    """

    __slots__ = ("key", "label", "kind", "reversed", "values", "factor", "transposed", "transposable")

    def __init__(self, key, label, kind="name", reversed=None, values=None, factor=False, transposed=False,
                 transposable=False):
        self.key, self.label, self.kind, self.reversed = key, label, kind, reversed
        self.values, self.factor = values, factor
        self.transposed, self.transposable = transposed, transposable

    def __repr__(self):
        return f"Occurrence({self.key!r}, {self.label!r}, {self.kind!r})"


class Quantity:
    """A name the learner could have written (a labelled node, a data name), with its value at each point."""

    __slots__ = ("label", "values")

    def __init__(self, label, values):
        self.label, self.values = label, list(values)

    def __repr__(self):
        return f"Quantity({self.label!r})"


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


#: Replacements a substitution can make besides a `Quantity`: the occurrence replaced by 1 (an
#: extra factor dropped), transposed, or (a difference) taken the other way round.
ONE, TRANSPOSE, REVERSED = _Marker("ONE"), _Marker("TRANSPOSE"), _Marker("REVERSED")


# --- what the search returns ------------------------------------------------------------------------

class Explanation:
    """One mistake that gives the learner's numbers at every point checked.

    ``kind`` (one of `KINDS`); ``nodes``: the quantities involved, as the words name them;
    ``factor``: a constant k with the learner's = k × (the mistaken gradient), or None (a dict
    {element: k} for "element factor"); ``substitution``: (what was written, what belongs), as
    text, for the kinds that replace one thing by another; ``derivative``: (``∂a₁/∂z₁``, its right
    formula) for the kinds about one local derivative; ``layer``: the array a mistake made on
    every element is about, else None; ``wrt``: ``∂L/∂w`` as the words say it; ``sizes``: the
    named sizes, to name a factor; ``detail``: what else a kind needs (the paths of a missing
    path, the note of a wrong derivative, …); ``source``: "graph" (a mistaken backward pass) or
    "formula" (a substitution in the learner's formula). ``text`` (and ``str()``) is ``words(self)``.
    """

    __slots__ = ("kind", "nodes", "factor", "substitution", "derivative", "layer", "wrt", "sizes", "detail",
                 "source")

    def __init__(self, kind, nodes=(), factor=None, text=None, *, substitution=None, derivative=None, layer=None,
                 wrt=None, sizes=(), detail=None, source="graph"):
        # ``text`` is taken from callers of the former Explanation(kind, nodes, factor, text); the
        # words always come from `words`, so an explanation cannot say what its fields do not hold
        self.kind, self.nodes, self.factor = kind, tuple(nodes), factor
        self.substitution, self.derivative, self.layer = substitution, derivative, layer
        self.wrt, self.sizes, self.detail, self.source = wrt, tuple(sizes), dict(detail or {}), source

    @property
    def text(self):
        return words(self)

    def __str__(self):
        return words(self)

    def __repr__(self):
        return f"Explanation({self.kind!r}, nodes={self.nodes}, factor={self.factor!r})"

    def key(self):
        f = self.factor
        f = tuple(sorted(f.items())) if isinstance(f, dict) else (None if f is None else round(f, 6))
        return self.kind, self.nodes, f, self.layer, self.substitution

    def to_dict(self):
        factor = self.factor
        if isinstance(factor, dict):
            factor = {str(k): v for k, v in factor.items()}
        return {"kind": self.kind, "nodes": list(self.nodes), "factor": factor,
                "substitution": list(self.substitution) if self.substitution else None,
                "derivative": list(self.derivative) if self.derivative else None, "layer": self.layer,
                "detail": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.detail.items()},
                "text": words(self)}


class Diagnosis:
    """What `explain` returns: ``explanations`` (simplest first), ``factor`` (k when the learner's
    numbers are k × autograd's everywhere, else None), ``worst`` (point, flat element, autograd's
    number, the learner's: the element furthest off, in tolerances) and ``ok`` (they agree)."""

    __slots__ = ("explanations", "factor", "worst", "ok")

    def __init__(self, explanations, factor, worst, ok):
        self.explanations, self.factor, self.worst, self.ok = list(explanations), factor, worst, ok

    def __repr__(self):
        return f"Diagnosis({self.explanations!r}, ok={self.ok})"

    def words(self):
        """The explanations, "; or: " between them; or "no single mistake explains it" with the numbers."""
        if self.ok:
            return "matches autograd"
        if self.explanations:
            return "; or: ".join(words(e) for e in self.explanations)
        p, e, a, h = self.worst
        return f"no single mistake explains it: at point {p + 1}, element {e}, autograd gives {a:.6g}, yours {h:.6g}"


# --- naming a factor -----------------------------------------------------------------------------------

def _as_sizes(sizes):
    if not sizes:
        return ()
    items = sizes.items() if isinstance(sizes, dict) else sizes
    out = []
    for item in items:
        if isinstance(item, Size):
            out.append(item)
            continue
        letter, value, *what = item
        if value is None or float(value) <= 1:
            continue
        out.append(Size(letter, float(value), what[0] if what else _WHAT.get(letter, "size")))
    return tuple(out)


def _samples(sizes):
    return next((s for s in sizes if s.what == "samples"), None)


def factor_cause(k, sizes=()):
    """What a constant factor k (the learner's = k × autograd's) usually means, or None."""
    sizes = _as_sizes(sizes)
    known = [(2.0, "twice autograd: a dropped ½ (the ½ of a ½(…)² loss), or a term counted twice"),
             (0.5, "half of autograd: the 2 of a square (d(u²) = 2u du) left out, or a spurious ½"),
             (-1.0, "the sign is flipped (a difference the wrong way round, or a minus lost)"),
             (-2.0, "the sign is flipped and a ½ dropped"),
             (-0.5, "the sign is flipped and the 2 of a square left out")]
    s = _samples(sizes)
    if s is not None:
        t, n = s.letter, _num(s.value)
        known += [(s.value, f"{t} = {n} times autograd: a sum where the loss takes a mean (a missing 1/{t})"),
                  (1.0 / s.value, f"1/{t} = 1/{n} of autograd: a spurious 1/{t} (a mean where the loss sums)"),
                  (2.0 * s.value, f"2{t}: a missing 1/{t} and a dropped ½ ({t} = {n})"),
                  (s.value / 2.0, f"{t}/2: a missing 1/{t} and the 2 of a square left out ({t} = {n})"),
                  (0.5 / s.value, f"1/(2{t}): a spurious 1/{t} and the 2 of a square left out ({t} = {n})"),
                  (-s.value, f"−{t}: a missing 1/{t} and a flipped sign ({t} = {n})")]
    for size in sizes:
        if size.what != "samples":
            t, n = size.letter, _num(size.value)
            known += [(size.value, f"{t} = {n} times autograd: {t} is the number of {size.what} (a sum over "
                                   f"the {size.what} where one belongs?)"),
                      (1.0 / size.value, f"1/{t} = 1/{n} of autograd: {t} is the number of {size.what}")]
    for value, text in known:
        if math.isclose(k, value, rel_tol=1e-6):
            return text
    if s is None:
        r = round(k)
        if abs(r) >= 3 and math.isclose(k, r, rel_tol=1e-6):
            return f"{r} times autograd: is {abs(r)} your number of samples? (a sum where the loss takes a mean)"
        if abs(k) > 0 and abs(round(1 / k)) >= 3 and math.isclose(1 / k, round(1 / k), rel_tol=1e-6):
            return f"1/{round(1 / k)} of autograd: a spurious 1/{abs(round(1 / k))}?"
    return None


def name_factor(k, n=None, letter="n"):
    """Say what a constant factor k (hand = k × autograd) usually means; ``n`` is the number of
    samples and ``letter`` the name your derivation gives it (document 000 says m)."""
    return factor_cause(k, [(letter, n, "samples")] if n else ()) or "a constant factor"


def _nice_factors(sizes):
    """The factors a derivation makes: ±1, ±2, ±½, and the sizes (n, 1/n, 2n, n/2, 1/(2n))."""
    out = [-1.0, 2.0, 0.5, -2.0, -0.5]
    for s in _as_sizes(sizes):
        out += [s.value, 1.0 / s.value, 2.0 * s.value, s.value / 2.0, 0.5 / s.value, -s.value]
    return np.array(out)


def _raw(v):
    """A front end's value as numbers: a `Batch` (one value per sample) as its array."""
    return v.data if isinstance(v, Batch) else v


def _num(x):
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


# --- the confusions: what learners write for an op's local derivative -------------------------------

def _c(name, value, tree):
    return {"note": name, "value": value, "tree": tree}


#: What learners confuse with an op's local derivative, per op (and input position): each entry an
#: expression of the op's input ``a`` and output ``ans`` (as the rule table writes its own
#: derivative), its formula from the input's and output's names, and what a teacher calls it.
CONFUSIONS = {
    ("sigmoid", 0): [
        _c("σ where σ' belongs", lambda a, ans: ans, lambda i, o: call("σ", i)),
        _c("tanh's derivative 1 − a² used for σ'", lambda a, ans: 1.0 - ans * ans, lambda i, o: 1 - o ** 2),
        _c("a(1 − a) written with the input for the output", lambda a, ans: a * (1.0 - a),
           lambda i, o: i * (1 - i)),
        _c("σ' taken as 1 − a", lambda a, ans: 1.0 - ans, lambda i, o: 1 - o)],
    ("tanh", 0): [
        _c("tanh where tanh' belongs", lambda a, ans: ans, lambda i, o: call("tanh", i)),
        _c("tanh' taken as 1 − a", lambda a, ans: 1.0 - ans, lambda i, o: 1 - o),
        _c("σ's derivative a(1 − a) used for tanh'", lambda a, ans: ans * (1.0 - ans), lambda i, o: o * (1 - o)),
        _c("1 − a² written with the input for the output", lambda a, ans: 1.0 - a * a, lambda i, o: 1 - i ** 2),
        _c("tanh' taken as a² (the 1 − of 1 − a² left out)", lambda a, ans: ans * ans, lambda i, o: o ** 2)],
    ("relu", 0): [
        _c("relu where relu' belongs", lambda a, ans: ans, lambda i, o: call("relu", i))],
    ("log", 0): [
        _c("ln where its derivative 1/a belongs", lambda a, ans: ans, lambda i, o: call("ln", i))],
    ("exp", 0): [
        _c("the exponent's derivative 1 taken for exp's", lambda a, ans: a * 0.0 + 1.0, lambda i, o: Num(1))],
    ("sub", 1): [
        _c("the minus of the subtracted term lost", lambda a, b, ans: 1.0, lambda a, b: Num(1))],
    ("div", 1): [
        _c("the minus of ∂(a/b)/∂b lost", lambda a, b, ans: ans / b, lambda a, b: a / b ** 2),
        _c("∂(1/b)/∂b taken as 1/b", lambda a, b, ans: 1.0 / b, lambda a, b: 1 / b)],
    ("pow", 0): [        # a constant exponent k: the rule's ``const``
        dict(_c("the exponent not brought down (the 2 of a square left out)", lambda a, ans, k: a ** (k - 1),
                lambda i, o, k: i ** Num(k - 1) if k != 2 else i), arrays=True),
        _c("the power not lowered", lambda a, ans, k: k * ans, lambda i, o, k: Num(k) * i ** Num(k)),
        _c("the function for its derivative", lambda a, ans, k: ans, lambda i, o, k: i ** Num(k))],
}


# --- the graph at one point ----------------------------------------------------------------------------

def _label(node):
    """The name a user gave a node, or None (a number an operator wrapped has no name of its own)."""
    label = node.label
    if label is None or label == "" or type(label).__name__ == "Constant":
        return None
    return str(label)


def _split(name):
    """("h2", "[3]") for ``h2[3]``; (name, "") for a name without indices."""
    m = _LABEL.match(name) if name else None
    return (m.group(1), m.group(2)) if m else (name, "")


def _shape_of(x):
    return x.shape if x.__class__ is ndarray else ()


class _Names(dict):
    """A graph's names, id(node) → words; an unlabelled op node's are made when first asked for
    (inputs first, without recursion: a sum over thousands of elements is a long chain)."""

    def __init__(self, graph, given):
        super().__init__(given)
        self.graph = graph
        self.nodes = {id(n): n for n in graph.order}
        for w in graph.composites:
            self.nodes[id(w)] = w

    def __missing__(self, key):
        g = self.graph
        node = self.nodes[key]
        if isinstance(node, _Written):
            self[key] = value = self[id(node.node)]
            return value
        stack = [node]
        while stack:
            n = stack[-1]
            todo = [c for c in n._prev if id(c) not in self] if n._prev else []
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            if id(n) not in self:
                dict.__setitem__(self, id(n), g._said(n, self) if n._prev else g._constant_name(n))
        return dict.__getitem__(self, key)


class _Written:
    """A function the learner wrote out with numpy (σ as ``1 / (1 + np.exp(-z))``, tanh as a ratio of
    exps), seen as the one node of the rule table it computes: its output ``node``, its input, the
    rule, and the nodes ``inner`` to it (whose own edges are this function's, not the learner's)."""

    __slots__ = ("node", "_prev", "_rule", "data", "label", "inner")

    def __init__(self, node, x, rule, inner):
        xs = tuple(x) if isinstance(x, (list, tuple)) else (x,)
        self.node, self._prev, self._rule, self.data, self.label = node, xs, rule, node.data, node.label
        self.inner = inner


class _RowRule:
    """The rule of softmax (``kind="softmax"``: pₖ = exp(sₖ)/Σⱼ exp(sⱼ)) or log-softmax
    (``"log_softmax"``: log pₖ, the log-likelihood of class k in a cross-entropy) of a row s that
    the learner wrote out in numpy, for its element k: the local derivatives and the slips learners
    make in them (`confusions`), as the rule table gives them for its own ops."""

    def __init__(self, kind, k):
        self.name, self.k, self.const = kind, k, None

    def _p(self, inputs):
        s = np.array([float(x) for x in inputs])
        e = np.exp(s - s.max())
        return e / e.sum(), (np.arange(len(s)) == self.k) * 1.0

    def apply(self, inputs):
        p, _ = self._p(inputs)
        return float(p[self.k]) if self.name == "softmax" else float(np.log(p[self.k]))

    def locals(self, inputs, ans):
        p, onehot = self._p(inputs)
        return list(onehot - p) if self.name == "log_softmax" else list(p[self.k] * (onehot - p))

    def _row(self, names):
        bases = {_split(n)[0] for n in names}
        return bases.pop() if len(bases) == 1 else "s"

    def expression(self, names):
        row = self._row(names)
        return f"softmax({row})[{self.k}]" if self.name == "softmax" else f"log softmax({row})[{self.k}]"

    def local_expression(self, i, names):
        row = self._row(names)
        if self.name == "log_softmax":
            return None, f"one-hot − softmax({row})"
        return None, f"p·(one-hot − p), p = softmax({row})"

    #: what learners get wrong in the cross-entropy's gradient: (note, new locals from p and the one-hot,
    #: the wrong formula); for log-softmax (∂/∂s = one-hot − p), softmax's is p_k times it
    confusions = (
        {"note": "the one-hot of the correct class left out (probs where probs − one-hot belongs)",
         "value": lambda p, onehot: -p, "text": lambda row: f"−softmax({row})"},
        {"note": "the one-hot added, not subtracted (probs + one-hot where probs − one-hot belongs)",
         "value": lambda p, onehot: -onehot - p, "text": lambda row: f"−one-hot − softmax({row})"},
        {"note": "1 subtracted from every class, not only the correct one",
         "value": lambda p, onehot: 1.0 - p, "text": lambda row: f"1 − softmax({row})"},
    )

    def confused(self, ci, inputs):
        p, onehot = self._p(inputs)
        value = self.confusions[ci]["value"](p, onehot)
        return value if self.name == "log_softmax" else p[self.k] * value


#: What a written-out function computes, checked on the numbers: σ and tanh of its input.
_WRITTEN = ((SIGMOID, lambda x: 1.0 / (1.0 + np.exp(-x))), (TANH, np.tanh))
_WRITTEN_DEPTH = 6


def _composites(g):
    """The σ and tanh the learner wrote out in numpy: every div node whose exps all take one input
    x (or −x), built only from x and numbers, used by nothing else, and equal to σ(x) or tanh(x)."""
    found = []
    for v in g.order:
        if v._rule is None or v._rule.name != "div":
            continue
        x = _written_input(v)
        if x is None:
            continue
        inner = _inside(v, x, g)
        if inner is None:
            continue
        xd = np.asarray(x.data, dtype=np.float64)
        vd = np.asarray(v.data, dtype=np.float64)
        with np.errstate(all="ignore"):
            rule = next((r for r, f in _WRITTEN if np.allclose(vd, f(xd), rtol=1e-9, atol=1e-12)), None)
        if rule is not None:
            found.append(_Written(v, x, rule, inner))
    for v in g.order:         # softmax and log-softmax of a row, as a stable softmax writes them
        if v._rule is None or v._rule.name not in ("div", "sub", "log") or v.data.__class__ is ndarray:
            continue
        row = _row_input(v)
        if row is None:
            continue
        inner = _inside(v, row, g, depth=len(row) + _WRITTEN_DEPTH)
        if inner is None:
            continue
        rule = _row_rule(v, row)
        if rule is not None:
            found.append(_Written(v, row, rule, inner))
    return found


def _row_input(v):
    """The row s whose exps (exp(sⱼ) or exp(sⱼ − max s)) make up v, in the order found; else None."""
    row, stack, seen, exps = [], [v], set(), 0
    while stack and len(seen) < 400:
        n = stack.pop()
        for c in n._prev:
            if id(c) in seen or not c._prev:
                continue
            seen.add(id(c))
            if c._rule.name == "exp":
                exps += 1
                a = c._prev[0]
                x = a._prev[0] if a._rule is not None and a._rule.name == "sub" else a
                if all(x is not r for r in row):
                    row.append(x)
                if a._rule is not None and a._rule.name == "sub" and all(a._prev[1] is not r for r in row):
                    row.append(a._prev[1])      # the max a stable softmax subtracts: one of the row
            else:
                stack.append(c)
    if exps < 2 or len(row) != exps:
        return None
    return sorted(row, key=lambda r: _split(str(r.label))[1] if r.label is not None else "")


def _row_rule(v, row):
    """The `_RowRule` v computes from the row, found on the numbers, or None."""
    if any(r.data.__class__ is ndarray for r in row):
        return None
    s = np.array([float(r.data) for r in row])
    e = np.exp(s - s.max())
    p = e / e.sum()
    with np.errstate(divide="ignore"):
        for kind, values in (("softmax", p), ("log_softmax", np.log(p))):
            k = int(np.argmin(np.abs(values - v.data)))
            if math.isclose(values[k], v.data, rel_tol=1e-9, abs_tol=1e-12) and np.sum(
                    np.isclose(values, v.data, rtol=1e-9, atol=1e-12)) == 1:
                return _RowRule(kind, k)
    return None


def _written_input(v):
    """The one x that every exp under v (a few steps down) takes, as x or −x; else None."""
    xs, stack, seen = [], [(v, 0)], set()
    while stack:
        n, depth = stack.pop()
        for c in n._prev:
            if id(c) in seen or not c._prev:
                continue
            seen.add(id(c))
            if c._rule.name == "exp":
                a = c._prev[0]
                xs.append(a._prev[0] if a._rule is not None and a._rule.name == "neg" else a)
            elif depth < 3:
                stack.append((c, depth + 1))
    if not xs or any(x is not xs[0] for x in xs):
        return None
    return xs[0]


def _inside(v, x, g, depth=_WRITTEN_DEPTH):
    """The ids of the nodes between x (a node, or a row of them) and v (v included), if v is built
    only from x and numbers and nothing outside uses them; else None."""
    stops = {id(r) for r in x} if isinstance(x, (list, tuple)) else {id(x)}
    limit = depth
    inner, stack = {id(v)}, [(v, 0)]
    nodes = []
    while stack:
        n, depth = stack.pop()
        for c in n._prev:
            if id(c) in stops or id(c) in inner:
                continue
            if not c._prev:
                if _label(c) is not None:          # a parameter or data inside: not a function of x alone
                    return None
                continue
            if depth >= limit:
                return None
            inner.add(id(c))
            nodes.append(c)
            stack.append((c, depth + 1))
    for n in nodes:
        if any(id(u) not in inner for u in g.users.get(id(n), ())):
            return None
    return inner


class Graph:
    """The loss's graph at one point, as the search reads it (see the module docstring).

    ``base``: this graph for another target (the same ``out``): its order, adjoints, local
    derivatives and names are shared, so a quiz asking one step after another pays for them once.
    """

    def __init__(self, out, wrt, data=None, names=None, base=None):
        if not hasattr(out, "_prev") or out.data.__class__ is ndarray:
            raise ValueError("mistakes.Graph: the loss must be one number (a scalar Value); a batch loss is "
                             "reduced first (.sum() or .mean())")
        self.out = out
        wrt_list = list(np.ravel(np.asarray(wrt, dtype=object))) if isinstance(wrt, (list, tuple, ndarray)) else [wrt]
        self.wrt = wrt_list
        if base is not None and base.out is out:
            self.order, self.index, self.adj, self.data = base.order, base.index, base.adj, base.data
            self._override, self.batch, self.locals, self.users = base._override, base.batch, base.locals, base.users
            self._names, self._pools = base.names(), base._pools
            self.composites, self.inner, self.virtual = base.composites, base.inner, base.virtual
            self._written_at = base._written_at
        else:
            self.order = topological_order(out)
            self.index = {id(n): i for i, n in enumerate(self.order)}
            _, adj, _ = _gradients(out, 1.0, False)
            self.adj = adj
            self.data = {k: np.asarray(v, dtype=np.float64) for k, v in (data or {}).items()}
            self._override = names or {}
            self.batch = next((len(n.data) for n in self.order if n.data.__class__ is ndarray), None)
            self.locals = {}
            for node in self.order:
                if node._prev:
                    try:
                        self.locals[id(node)] = node._rule.locals([c.data for c in node._prev], node.data)
                    except Exception:  # noqa: BLE001 - a local outside its domain (∂(aᵇ)/∂b at a < 0): edge skipped
                        self.locals[id(node)] = None
            self.users = {}
            for node in self.order:
                for c in node._prev:
                    users = self.users.setdefault(id(c), [])
                    if not any(u is node for u in users):
                        users.append(node)
            self._names, self._pools = None, {}
            self.composites = _composites(self)
            self._written_at = {id(w.node): w for w in self.composites}
            self.inner = set()          # ids of the nodes inside a written-out function (their edges are its)
            self.virtual = {}           # index of the output node → its `_Written` node
            for w in self.composites:
                self.inner |= w.inner
                self.virtual[self.index[id(w.node)]] = w
                self.locals[id(w)] = w._rule.locals([x.data for x in w._prev], w.data)
                if id(w.node) in self.adj:
                    self.adj[id(w)] = self.adj[id(w.node)]
        self.truth = np.concatenate([np.ravel(np.asarray(self.adj.get(id(n), 0.0), dtype=np.float64))
                                     if n.data.__class__ is ndarray or id(n) in self.adj
                                     else np.zeros(np.size(n.data)) for n in self.wrt])
        self.size = self.truth.size
        self._tangent = None

    @property
    def tangent(self):
        """{id(node): ∂node/∂wrt} (forward mode, computed when first asked for)."""
        if self._tangent is None:
            self._tangent = self._tangents()
        return self._tangent

    def tangent_of(self, node):
        """∂node/∂wrt, or None where the node does not depend on the target: a lone target node's
        is its seed, without the forward pass."""
        if self._tangent is None and len(self.wrt) == 1 and node is self.wrt[0]:
            if node.data.__class__ is ndarray:
                return np.eye(len(node.data))
            return np.ones(1)
        return self.tangent.get(id(node))

    def _tangents(self):
        """∂node/∂wrt for every node the targets reach (forward mode): a vector over the target's
        elements, with a leading sample axis for a batch node. A target that is an intermediate
        node gets a seed of its own (the gradient with respect to it is the sum over its paths)."""
        P = self.size
        tangent, off = {}, 0
        for node in self.wrt:
            if node.data.__class__ is ndarray:
                n = len(node.data)
                t = np.zeros((n, P))
                t[np.arange(n), off + np.arange(n)] = 1.0
            else:
                n = 1
                t = np.zeros(P)
                t[off] = 1.0
            old = tangent.get(id(node))
            tangent[id(node)] = t if old is None else old + t
            off += n
        for node in self.order:
            if not node._prev:
                continue
            locs = self.locals[id(node)]
            acc = tangent.get(id(node))
            for c, l in zip(node._prev, locs or ()):
                t = tangent.get(id(c))
                if t is None:
                    continue
                term = np.asarray(l, dtype=np.float64)[..., None] * t
                acc = term if acc is None else (acc + term if acc.ndim >= term.ndim else term + acc)
            if acc is not None:
                if node.data.__class__ is not ndarray and acc.ndim == 2:
                    acc = acc.sum(axis=0)
                tangent[id(node)] = acc
        return tangent

    def same_shape(self, other):
        """Whether ``other`` is this graph at another point (the same nodes, ops and labels)."""
        if len(self.order) != len(other.order):
            return False
        return all(a._rule is b._rule or (a._rule is not None and b._rule is not None and a._rule.name == b._rule.name)
                   for a, b in zip(self.order, other.order))

    # names, as the words say them ---------------------------------------------------------------------
    def names(self):
        """{id(node): how the words call it}: its label as the learner reads it (an array of one
        element, a1[0] alone, is a1), a data name for a number equal to one, else what made it."""
        if self._names is None:
            names = {}
            count = {}
            for node in self.order:
                if _label(node) is not None and id(node) not in self._override:
                    base, idx = _split(_label(node))
                    count[base] = count.get(base, 0) + (1 if idx else 2)
            for node in self.order:
                given = self._override.get(id(node))
                if given is not None:
                    names[id(node)] = display(given)
                elif _label(node) is not None:
                    base, idx = _split(_label(node))
                    alone = idx and count.get(base) == 1 and set(re.findall(r"\d+", idx)) == {"0"}
                    names[id(node)] = display(base if alone else _label(node))
                elif not node._prev:
                    names[id(node)] = self._constant_name(node)
            self._names = _Names(self, names)      # what an unlabelled op made: said when first asked for
        return self._names

    def _said(self, node, names):
        """The words for an unlabelled op node: its expression from its inputs' names."""
        w = self._written_at.get(id(node)) if self.composites else None
        if w is not None:                          # σ(Z[0][0]), not 1/(1 + exp(−Z[0][0]))
            return _expression(w._rule, [names[id(x)] for x in w._prev])
        text = _expression(node._rule, [names[id(c)] for c in node._prev])
        long = len(text) > 28 or re.search(r"\bthe \w+ node\b", text)
        return self._input_of(node) if long else text

    def name(self, node):
        return self.names()[id(node)]

    def _input_of(self, node):
        """A long unlabelled expression that only feeds a labelled function (the X.dot(W1) + b1 in
        np.maximum(0, X.dot(W1) + b1)) is "the input of hidden[0][1]"; else "the add node"."""
        users = self.users.get(id(node), ())
        if len(users) == 1 and len(users[0]._prev) == 1 and _label(users[0]) is not None:
            return f"the input of {display(_label(users[0]))}"
        for w in self.composites:       # the z of a σ written out, 1/(1 + np.exp(−z)), labelled A
            if len(w._prev) == 1 and w._prev[0] is node and _label(w.node) is not None:
                return f"the input of {display(_label(w.node))}"
        return f"the {node._rule.name} node"

    def _constant_name(self, node):
        v = node.data
        for k, arr in self.data.items():
            if v.__class__ is ndarray:
                if arr.shape == v.shape and np.array_equal(arr, v):
                    return display(k)
                if arr.ndim == 2 and arr.shape[0] == v.shape[0]:
                    for j in range(arr.shape[1]):
                        if np.array_equal(arr[:, j], v):
                            return f"{display(k)}[{j}]"
            elif arr.ndim == 0 and float(arr) == v:
                return display(k)
            elif arr.ndim >= 1 and arr.size <= MAX_DATA and (self.batch is None or arr.shape[0] != self.batch):
                hits = np.argwhere(arr == v)
                if len(hits) == 1:           # one element of a data array: X[1][0]
                    return display(k) + "".join(f"[{i}]" for i in hits[0])
        if v.__class__ is ndarray:
            return "a data column"
        return _num(v)

    def destination(self, node):
        """The array (or labelled node) a node's value goes on to: its own name's array if it has a
        label, else that of the node it feeds (``scores`` for a product inside ``hidden.dot(W2)``,
        ``reg_loss`` for ``W2 * W2``)."""
        cache = self._pools.setdefault(("destination",), None)
        if cache is None:
            cache = {}
            for n in reversed(self.order):
                if n._prev and (_label(n) is not None or id(n) in self._override):
                    cache[id(n)] = self.split(n)[0]
                else:
                    users = self.users.get(id(n))
                    cache[id(n)] = cache.get(id(users[0])) if users else None
            self._pools[("destination",)] = cache
        return cache.get(id(getattr(node, "node", node)))

    def layer(self, node):
        """The array a node is an element of (``h2`` for ``h2[3]``, a data element ``X[1][0]``), or
        None (an unlabelled node is no array's element, whatever its expression ends with)."""
        if node._prev and _label(node) is None and id(node) not in self._override:
            return None
        return self.split(node)[0] if self.split(node)[1] else None

    def split(self, node):
        """(array, index) of a node's name: ("h2", "[3]"), or (name, "")."""
        cache = self._pools.setdefault(("split",), {})
        key = id(node)
        if key not in cache:
            cache[key] = _split(self.name(node))
        return cache[key]

    def wrt_words(self):
        """``∂L/∂w1`` for the target, as the words say it."""
        loss = self.name(self.out) if _label(self.out) or id(self.out) in self._override else "L"
        bases = {_split(self.name(n))[0] for n in self.wrt}
        target = bases.pop() if len(bases) == 1 else ", ".join(self.name(n) for n in self.wrt[:3])
        return f"∂{loss}/∂{target}"

    def loss_is_mean(self):
        """Whether the loss takes a mean over the samples (a mean node over a batch)."""
        return any(n._rule is not None and n._rule.name == "mean" and n._prev and
                   n._prev[0].data.__class__ is ndarray for n in self.order)

    def per_sample(self):
        """Each sample's own gradient (the gradient of the loss with that sample alone), an (N, P)
        array, when the loss is a mean or a sum over one batch node (times constants); else None."""
        reduce = [n for n in self.order if n._rule is not None and n._rule.name in ("mean", "sum")
                  and n._prev and n._prev[0].data.__class__ is ndarray]
        if len(reduce) != 1:
            return None
        term = reduce[0]._prev[0]
        t = self.tangent.get(id(term))
        adj = self.adj.get(id(term))
        if t is None or adj is None:
            return None
        if t.ndim == 1:
            t = np.broadcast_to(t, (len(term.data), t.size))
        scale = len(term.data) if reduce[0]._rule.name == "mean" else 1.0
        return scale * np.asarray(adj, dtype=np.float64)[:, None] * t


def _expression(rule, names):
    """The op's result written with its inputs' names, from the rule table (its name as a fallback)."""
    try:
        return str(rule.expression(list(names)))
    except Exception:  # noqa: BLE001 - a wording problem must never hide a verdict
        return f"{rule.name}({', '.join(names)})"


def _local_text(rule, position, names):
    """The rule table's local derivative for input ``position``, with the inputs' names."""
    try:
        return str(rule.local_expression(position, list(names))[1])
    except Exception:  # noqa: BLE001
        return f"its local derivative for input {position + 1}"


def _primed(rule, arg, written):
    """σ'(z2) for the local derivative of a one-input function written f(…), else as the table writes it."""
    m = re.match(r"^([^\W\d]\w*|σ)\((.*)\)$", _expression(rule, [arg]))
    return f"{m.group(1)}'({m.group(2)})" if m else written


def _group(name):
    """(ŷ − y) for a name with an operator outside brackets, so ∂(ŷ − y)²/∂(ŷ − y) reads right."""
    return f"({name})" if has_operator(name) else name


def _op_key(rule):
    return rule.name, getattr(rule, "const", None)


def _residual(g, sizes):
    """The residual of the loss at an output: (z, a, y, scale) when ∂L/∂z = c·(a − y) element by
    element, a = σ(z) (the rule table's or written out) and y a data array of the same indices
    (cross-entropy after σ: ∂J/∂Z2 = (A2 − Y)/m); scale says c (``m`` for 1/m). Else None."""
    outputs = [(n, n._prev[0]) for n in g.order if n._rule is not None and n._rule.name == "sigmoid"]
    outputs += [(w, w._prev[0]) for w in g.composites if w._rule is SIGMOID]
    if not outputs:
        return None
    data = {}
    for n in g.order:
        if not n._prev and _label(n) is not None and _is_data_leaf(n):
            base, idx = _split(_label(n))
            data.setdefault(base, {})[idx] = n
    arrays = {}
    for a, z in outputs:
        base, idx = g.split(a)
        arrays.setdefault(base, []).append((idx, a, z))
    for base, items in arrays.items():
        for ybase, ys in data.items():
            if not all(idx in ys for idx, _, _ in items):
                continue
            diff = np.array([float(np.sum(a.data - ys[idx].data)) for idx, a, _ in items])
            adj = np.array([float(np.sum(g.adj.get(id(getattr(z, "node", z)), 0.0))) for _, _, z in items])
            big = np.abs(diff) > 1e-9
            if not big.any():
                continue
            c = float(np.median(adj[big] / diff[big]))
            if c == 0 or not np.allclose(adj, c * diff, rtol=1e-6, atol=1e-12):
                continue
            scale = _num(c)
            for size in _as_sizes(sizes):
                if math.isclose(c, 1.0 / size.value, rel_tol=1e-6):
                    scale = f"1/{size.letter}"
                elif math.isclose(c, -1.0 / size.value, rel_tol=1e-6):
                    scale = f"−1/{size.letter}"
            zname = g.split(items[0][2])[0]
            return zname, base, display(ybase), scale
    return None


def _is_data_leaf(node):
    from .engine import is_data
    return is_data(node)


# --- fitting ---------------------------------------------------------------------------------------------

def _fits(H, G, rtol, atol):
    return bool(np.all(np.abs(H - G) <= atol + rtol * np.abs(G)))


def _rows_fit(H, G, rtol, atol):
    """Per row of G (candidates × elements): does it equal H (one point's elements)?"""
    return np.all(np.abs(H - G) <= atol + rtol * np.abs(G), axis=-1)


def _factor_fit(H, G, rtol, atol):
    """k with H = k·G at every point and element (k ≠ 1), or None."""
    big = np.abs(G) > 1e-8 * max(1.0, float(np.abs(G).max()) if G.size else 1.0)
    if not big.any():
        return None
    k = float(np.median(H[big] / G[big]))
    if not math.isfinite(k) or k == 0 or math.isclose(k, 1.0, rel_tol=rtol):
        return None
    return k if _fits(H, k * G, rtol, atol) else None


def _nice_rows(H, G, nice, rtol, atol):
    """For each row of G: the nice factor k (≠ 1) with H = k·G at this point, or nan."""
    gg = np.einsum("ij,ij->i", G, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = (G @ H) / gg
    out = np.full(len(G), np.nan)
    near = np.abs(nice[None, :] - k[:, None]) <= 1e-6 * np.abs(k[:, None])     # (rows, nice): NaN is never near
    rows = np.flatnonzero(near.any(axis=1) & (gg > 0))
    if rows.size:
        chosen = nice[np.argmax(near[rows], axis=1)]
        scaled = chosen[:, None] * G[rows]
        ok = np.all(np.abs(H - scaled) <= atol + rtol * np.abs(scaled), axis=1)
        out[rows[ok]] = chosen[ok]
    return out


def _element_factors(A, H, rtol, atol):
    """{element: k} when every element is a constant multiple of autograd's (some k ≠ 1), else None."""
    out = {}
    for e in range(A.shape[1]):
        a, h = A[:, e], H[:, e]
        if _fits(h, a, rtol, atol):
            continue
        k = _factor_fit(h[None, :], a[None, :], rtol, atol)
        if k is None:
            return None
        out[e] = k
    return out or None


# --- candidate mistakes on the graph ----------------------------------------------------------------------

def _pool(g, quantities):
    """Names a learner could write at this point, as candidates for a quantity or a node: the
    labelled nodes and the data names, with a spec that finds them again at another point; by
    shape: {shape: (specs, name patterns, values stacked, (array, index) of each name)}."""
    key = tuple(q.label for q in quantities)
    if key not in g._pools:
        entries = _pool_entries(g, quantities)
        by_shape = {}
        for spec, name, val in entries:
            val = val[0] if isinstance(val, list) else val
            by_shape.setdefault(_shape_of(np.asarray(val, dtype=np.float64)), []).append((spec, name, val))
        g._pools[key] = {shape: ([e[0] for e in items], [_pattern(e[1]) for e in items],
                                 np.array([np.asarray(e[2], dtype=np.float64) for e in items]),
                                 [_split(e[1]) for e in items])
                         for shape, items in by_shape.items()}
    return g._pools[key]


#: Past this many nodes, only mistakes on every element of an array are tried (see `_candidates`).
MAX_SINGLES = 2000

#: Past this many names of one shape, an edge tries only the names that can make an array's mistake
#: (the same element of another array, or its transpose) and those next to it, not every name.
MAX_POOL = 300


def _pool_lookup(g, pool, shape):
    """For the names of one shape: {index: [j]}, {spec: j}, {pattern: [j]} and which are not zero."""
    cache = g._pools.setdefault(("lookup",), {})
    key = (id(pool), shape)
    if key not in cache:
        pspecs, patterns, pvalues, split = pool[shape]
        by_idx, by_pattern = {}, {}
        for j, (base, idx) in enumerate(split):
            by_idx.setdefault(idx, []).append(j)
            by_pattern.setdefault(patterns[j], []).append(j)
        nonzero = np.any(pvalues.reshape(len(pvalues), -1) != 0, axis=1)
        cache[key] = (by_idx, {sp: j for j, sp in enumerate(pspecs)}, by_pattern, nonzero)
    return cache[key]


def _choose(g, e, pool, shape, skip, near, indices):
    """The positions j of the pool's names of ``shape`` an edge tries: every one (a quiz's step: those
    next to it), or on a large graph the same elements of other arrays (``indices``) and the names
    next to the edge."""
    pspecs, patterns, _, _ = pool[shape]
    by_idx, by_spec, by_pattern, nonzero = _pool_lookup(g, pool, shape)
    if near is None and len(pspecs) > MAX_POOL:
        specs, pats = _near(g, e)
        js = {j for idx in indices if idx for j in by_idx.get(idx, ())}
        js |= {by_spec[sp] for sp in specs if sp in by_spec}
        js |= {j for pat in pats for j in by_pattern.get(pat, ())}
        return [j for j in sorted(js) if pspecs[j] not in skip and nonzero[j]]
    return [j for j, sp in enumerate(pspecs) if sp not in skip and nonzero[j] and
            (near is None or sp in near[0] or patterns[j] in near[1])]


def _pool_entries(g, quantities):
    out = []
    seen = set()
    for i, node in enumerate(g.order):
        name = _label(node) or g._override.get(id(node))
        if name is None or _is_constant_leaf(node):    # a number the learner wrote is no name to write
            continue
        out.append((("node", i), g.name(node), node.data))
        seen.add(g.name(node))
    for k, arr in g.data.items():
        name = display(k)
        if arr.ndim == 0:
            if name not in seen:
                out.append((("data", k, ()), name, float(arr)))
        elif arr.ndim == 1 and g.batch is not None and arr.shape[0] == g.batch:
            if name not in seen:
                out.append((("data", k, ()), name, arr))
        elif arr.ndim >= 1 and arr.size <= MAX_DATA:
            for idx in np.ndindex(arr.shape):
                element = name + "".join(f"[{i}]" for i in idx)
                if element not in seen:
                    out.append((("data", k, idx), element, float(arr[idx])))
    for q in quantities:
        name = display(q.label)
        if name not in seen and np.ndim(_raw(q.values[0])) <= 1:
            out.append((("quantity", q.label), name, [_raw(v) for v in q.values]))
    return out


def _is_constant_leaf(node):
    return not node._prev and _label(node) is None


def _pool_value(g, spec, point, quantities_by_label):
    if spec[0] == "node":
        return g.order[spec[1]].data
    if spec[0] == "data":
        arr = g.data[spec[1]]
        return float(arr[spec[2]]) if spec[2] else (float(arr) if arr.ndim == 0 else arr)
    return _raw(quantities_by_label[spec[1]].values[point])


class _Edge:
    __slots__ = ("vi", "pos", "v", "c")

    def __init__(self, vi, pos, v, c):
        self.vi, self.pos, self.v, self.c = vi, pos, v, c


def _other_input(v, pos):
    """The input whose value is this edge's local derivative (w for x in w·x, x_k for w_k in an
    affine node), or None."""
    rule, kids = v._rule, v._prev
    if rule.name == "mul":
        return 1 - pos
    if rule.name == "affine":
        n = len(kids) // 2
        if pos < n:
            return pos + n
        if pos < 2 * n:
            return pos - n
    return None


def _at_nodes(rule, values):
    """The one-input rule's local derivative at each of ``values`` (stacked), or None where it
    cannot be had at all; vectorised, one by one only when some value is outside the domain."""
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(rule.locals([values], rule.apply([values]))[0], dtype=np.float64)
        return np.broadcast_to(out, values.shape)
    except Exception:  # noqa: BLE001 - some value outside the rule's domain: each alone
        pass
    out = np.full(values.shape, np.nan)
    for j in range(len(values)):
        try:
            with np.errstate(all="ignore"):
                out[j] = rule.locals([values[j]], rule.apply([values[j]]))[0]
        except Exception:  # noqa: BLE001 - this one is not a candidate
            continue
    return out


def _same_op_inputs(g, rule):
    """(index, input value) of every one-input node of the same op whose input has no label (the
    labelled ones are in the pool)."""
    cache = g._pools.setdefault(("same op",), {})
    key = _op_key(rule)
    if key not in cache:
        cache[key] = [(j, n._prev[0]) for j, n in enumerate(g.order)
                      if n._prev and len(n._prev) == 1 and _op_key(n._rule) == key and _label(n._prev[0]) is None]
    return cache[key]


def _near(g, e):
    """What a learner answering one step could slip in (a quiz): the quantities next to the step
    (the op's inputs and output, their inputs, the node's other users) and the same quantities at
    another layer or index (w1 for w2, x[0] for x[1]). A test on {spec} and {name pattern}."""
    v, c = e.v, e.c
    other = _other_input(v, e.pos)
    inputs = list(v._prev) if v._rule.name != "affine" else [c, v._prev[-1]] + (
        [v._prev[other]] if other is not None else [])          # a neuron: this term and the bias, not all
    nodes = {id(v)} | {id(x) for x in inputs} | {id(x) for x in c._prev}
    nodes |= {id(x) for x in g.users.get(id(c), ())} | {id(x) for x in g.users.get(id(v), ())}
    for x in inputs:
        nodes |= {id(y) for y in x._prev}
    specs = {("node", g.index[i]) for i in nodes if i in g.index}
    patterns = {_pattern(g.name(x)) for x in ([c] + ([v._prev[other]] if other is not None else []))}
    return specs, patterns


def _pattern(name):
    """w#[0][0] for w1[0][0] (the same element at another layer); x[#] for x[0] (another element of
    an array whose name has no layer)."""
    base, idx = _split(name)
    if re.search(r"\d", base):
        return re.sub(r"\d+", "#", base) + idx
    return base + re.sub(r"\d+", "#", idx)


def _variants(g, e, pool, near=None):
    """Blocks [(specs, new local values)] for edge e at graph g: every mistaken local derivative
    the kinds try, the many node and quantity candidates as one stacked array each. A spec finds
    the same candidate at another point (`_variant_value`)."""
    v, c, pos = e.v, e.c, e.pos
    l = g.locals[id(v)][pos]
    rule = v._rule
    specs, values = [], []
    one_input = len(v._prev) == 1
    scalar_l = l.__class__ is not ndarray
    if not (scalar_l and l == 1.0) or rule.name == "relu":     # a forgotten local derivative: taken as 1
        # (relu's mask is 1 on some elements: they still belong to the array's group, as at another point)
        specs.append(("forgot",))
        values.append(l * 0.0 + 1.0 if not scalar_l else 1.0)
    if not (scalar_l and abs(l) in (0.0, 1.0)):         # applied twice
        specs.append(("twice",))
        values.append(l * l)
    written = isinstance(v, _Written)
    if len(g.users.get(id(c), ())) >= 2 and not written:   # a missing path: one of several contributions left out
        specs.append(("path",))
        values.append(l * 0.0)
    if rule.name == "mul" and pos == 0 and v._prev[0] is v._prev[1]:   # u·u: the 2 of d(u²) = 2u du left out
        specs.append(("half",))
        values.append(l * 0.0)
    if rule.name == "relu":                            # relu's mask taken from the upstream gradient
        specs.append(("upmask",))
        values.append(_upmask(g, v))
    other = _other_input(v, pos)
    if other is not None and not any(o is c for j, o in enumerate(v._prev) if j != pos):
        specs.append(("wfactor",))                     # the wrong factor of a product: ∂(u·v)/∂u taken as u
        values.append(c.data)
    if isinstance(rule, _RowRule):                     # a cross-entropy's slips, on this element of the row
        inputs = [x.data for x in v._prev]
        for ci in range(len(rule.confusions)):
            specs.append(("conf", ci))
            values.append(float(rule.confused(ci, inputs)[pos]))
    for ci, entry in enumerate(CONFUSIONS.get((rule.name, pos), ())):     # what learners confuse
        if entry.get("arrays") and near is not None:       # said as a factor of one number; tried on arrays
            continue
        try:
            with np.errstate(all="ignore"):
                if rule.name == "pow" and one_input:
                    val = entry["value"](v._prev[0].data, v.data, rule.const)
                elif one_input:
                    val = entry["value"](v._prev[0].data, v.data)
                elif len(v._prev) == 2 and getattr(rule, "const", None) is None:
                    val = entry["value"](v._prev[0].data, v._prev[1].data, v.data)
                else:
                    continue
        except Exception:  # noqa: BLE001 - outside the entry's domain: not a candidate
            continue
        specs.append(("conf", ci))
        values.append(val)
    vl, cl = g.layer(v), g.layer(c)
    arrays = vl is not None or cl is not None
    dest = g.destination(v)
    blocks = [(specs, values, [(sp, vl, cl, dest) if arrays else None for sp in specs])] if specs else []
    if one_input:
        shape = _shape_of(c.data)
        try:                                            # the rule at the op's output: σ'(a1) for σ'(z1)
            out_value = rule.locals([v.data], rule.apply([v.data]))[0]
            blocks.append(([("output",)], [out_value], [(("output",), vl, cl) if arrays else None]))
        except Exception:  # noqa: BLE001 - outside the rule's domain: not a candidate
            pass
        if shape in pool:                               # the rule at another node of c's shape
            pspecs, patterns, pvalues, split = pool[shape]
            skip = {("node", g.index.get(id(c))), ("node", e.vi)}
            idx = g.split(c)[1]
            keep = _choose(g, e, pool, shape, skip, near, [idx])
            if keep:
                at = _at_nodes(rule, pvalues[keep])
                blocks.append(([("node", pspecs[j]) for j in keep], at,
                               [("node", split[j][0], vl, cl) if arrays and idx and split[j][1] == idx else None
                                for j in keep]))
        same = [(j, x) for j, x in _same_op_inputs(g, rule) if x is not c and _shape_of(x.data) == shape
                and (near is None or ("node", g.index[id(x)]) in near[0])]
        if same:
            at = _at_nodes(rule, np.array([np.asarray(x.data, dtype=np.float64) for _, x in same]))
            blocks.append(([("node", ("input", j)) for j, _ in same], at, [None] * len(same)))
    if other is not None:                               # one quantity where another belongs
        o = v._prev[other]
        shape = _shape_of(o.data)
        if shape in pool:
            pspecs, patterns, pvalues, split = pool[shape]
            skip = {("node", g.index.get(id(o))), ("node", g.index.get(id(c)))}
            base, idx = g.split(o)
            flipped = "".join(f"[{i}]" for i in reversed(re.findall(r"\d+", idx)))
            keep = _choose(g, e, pool, shape, skip, near, [idx, flipped])     # (a zero is a left-out path)
            if keep:
                blocks.append(([("qty", pspecs[j]) for j in keep], pvalues[keep],
                               [("qty", split[j][0], vl, cl) if arrays and idx and split[j][1] == idx else
                                ("qtyT", base, vl, cl) if arrays and idx and split[j] == (base, flipped)
                                and flipped != idx else None
                                for j in keep]))
    return blocks


def _variant_value(g, e, spec, point, qmap):
    """The new local value of candidate ``spec`` on edge e, at graph g (another point)."""
    v, c, pos = e.v, e.c, e.pos
    l = g.locals[id(v)][pos]
    rule = v._rule
    kind = spec[0]
    if kind == "forgot":
        return l * 0.0 + 1.0 if l.__class__ is ndarray else 1.0
    if kind == "twice":
        return l * l
    if kind in ("path", "half"):
        return l * 0.0
    if kind == "upmask":
        return _upmask(g, v)
    if kind == "wfactor":
        return c.data
    if kind == "output":
        return rule.locals([v.data], rule.apply([v.data]))[0]
    if kind == "node":
        where = spec[1]
        x = g.order[where[1]]._prev[0].data if where[0] == "input" else _pool_value(g, where, point, qmap)
        return rule.locals([x], rule.apply([x]))[0]
    if kind == "conf" and isinstance(rule, _RowRule):
        return float(rule.confused(spec[1], [x.data for x in v._prev])[pos])
    if kind == "conf":
        entry = CONFUSIONS[(rule.name, pos)][spec[1]]
        if rule.name == "pow":
            return entry["value"](v._prev[0].data, v.data, rule.const)
        if len(v._prev) == 1:
            return entry["value"](v._prev[0].data, v.data)
        return entry["value"](v._prev[0].data, v._prev[1].data, v.data)
    if kind == "qty":
        return _pool_value(g, spec[1], point, qmap)
    raise AssertionError(spec)


def _upmask(g, v):
    """relu's mask taken from the gradient flowing into its output: [∂L/∂v > 0]."""
    adj = g.adj.get(id(v), 0.0)
    return (np.asarray(adj, dtype=np.float64) > 0) * 1.0 if adj.__class__ is ndarray else float(adj > 0)


def _delta(g, e, new_values):
    """The change of the gradient (rows: candidates) when edge e's local becomes each new value."""
    v, c, pos = e.v, e.c, e.pos
    l = np.asarray(g.locals[id(v)][pos], dtype=np.float64)
    adj = np.asarray(g.adj.get(id(v), 0.0), dtype=np.float64)
    t = g.tangent_of(c)
    if isinstance(new_values, ndarray):
        L = new_values if l.ndim == 0 or new_values.ndim == 2 else np.broadcast_to(
            new_values[:, None], (len(new_values),) + l.shape)
    elif l.ndim == 1:                                        # a batch edge: each candidate per sample
        L = np.stack([np.broadcast_to(np.asarray(x, dtype=np.float64), l.shape) for x in new_values])
    else:
        L = np.asarray(new_values, dtype=np.float64)         # (C,)
    with np.errstate(all="ignore"):          # a graph holding inf: such candidates are not finite, and dropped
        coef = (L - l) * adj                                 # (C,) or (C, N)
        if coef.ndim == 2 and t.ndim == 2:
            return coef @ t
        if coef.ndim == 2:
            return coef.sum(axis=1)[:, None] * t
        if t.ndim == 2:
            return coef[:, None] * t.sum(axis=0)
        return coef[:, None] * t


def _spec_name(g, where):
    if where[0] == "node":
        return g.name(g.order[where[1]])
    if where[0] == "data":
        return display(where[1]) + "".join(f"[{i}]" for i in where[2])
    if where[0] == "input":
        return g.name(g.order[where[1]]._prev[0])
    return display(where[1])


# --- the search ----------------------------------------------------------------------------------------

class _Found:
    """A mistake found on the graph: its kind, edge(s), candidate spec(s), factor and whether it is
    on every element of an array."""

    __slots__ = ("kind", "edges", "spec", "k", "layer")

    def __init__(self, kind, edges, spec, k, layer):
        self.kind, self.edges, self.spec, self.k, self.layer = kind, edges, spec, k, layer


_KIND_OF = {"forgot": "forgotten derivative", "twice": "extra derivative", "path": "missing path",
            "half": "wrong derivative", "upmask": "wrong derivative",
            "wfactor": "wrong factor", "output": "wrong node", "node": "wrong node", "conf": "wrong derivative",
            "qty": "wrong quantity", "extra": "extra derivative"}


def _edges_to_try(g0, edges, paths):
    """(edge, may its local derivative be mistaken, may its path be left out) for every edge the
    search considers: those given, else every edge into a node that depends on the target."""
    if edges is not None or paths is not None:
        on_edge = {(id(v), p) for v, p in edges or ()}
        on_path = {(id(v), p) for v, p in paths or ()}
        seen = []
        for v, pos in list(edges or ()) + list(paths or ()):
            if (id(v), pos) in seen or id(v) not in g0.index:
                continue
            seen.append((id(v), pos))
            yield _Edge(g0.index[id(v)], pos, v, v._prev[pos]), (id(v), pos) in on_edge, (id(v), pos) in on_path
        return
    for vi, v in enumerate(g0.order):
        if v._prev and id(v) not in g0.inner:
            for pos, c in enumerate(v._prev):
                yield _Edge(vi, pos, v, c), True, True
        w = g0.virtual.get(vi)
        if w is not None:               # a function written out in numpy: its edges, as its rule's
            for pos, c in enumerate(w._prev):
                yield _Edge(vi, pos, w, c), True, False


def _candidates(g0, A0, quantities, edges, paths):
    """Every mistaken local derivative the kinds try on the graph at the first point, alone and on
    every element of an array: [(spec, [edges], change of the gradient)]."""
    pool = _pool(g0, quantities)
    grouping = edges is None and paths is None
    candidates = []                 # (spec, [edges], delta at point 0)
    groups = {}
    # on a large graph (numpy code on many samples) one element's slip cannot be all a learner's array
    # code got wrong: only mistakes on whole arrays are tried
    singles = not grouping or len(g0.order) <= MAX_SINGLES
    scale = 1e-12 * max(1.0, float(np.abs(A0).max()))
    for e, on_edge, on_path in _edges_to_try(g0, edges, paths):
        v = e.v
        if g0.locals.get(id(v)) is None or (v.data.__class__ is not ndarray and id(v) not in g0.adj):
            continue
        if g0.tangent_of(e.c) is None:
            continue
        for specs, values, keys in _variants(g0, e, pool, None if grouping else _near(g0, e)):
            if not on_path or not on_edge:
                keep = [j for j, sp in enumerate(specs) if (sp[0] == "path" and on_path) or
                        (sp[0] != "path" and on_edge)]
                if not keep:
                    continue
                specs = [specs[j] for j in keep]
                values = [values[j] for j in keep]
                keys = [keys[j] for j in keep]
            try:
                D = _delta(g0, e, values)
            except (ValueError, TypeError):
                continue
            with np.errstate(invalid="ignore"):
                live = np.any(np.abs(D) > scale, axis=1) & np.isfinite(D).all(axis=1)
            finite = np.isfinite(D).all(axis=1)
            for j in np.flatnonzero(finite if grouping else live):
                spec, d = specs[j], D[j]
                if live[j] and singles and not _arrays_only(v, e.pos, spec):
                    candidates.append((spec, [e], d))
                if grouping:        # every element joins its array's group (a slip may change some only)
                    key = keys[j]
                    if key is not None:
                        _join(groups, key, spec, e, d)
                        if spec[0] in _OP_LEVEL:        # a helper called once per layer: every layer's op
                            _join(groups, ("op", spec, _op_key(v._rule)), spec, e, d, layer=key)
    for key, (spec, members, d, specs, layers) in groups.items():
        if len(members) >= 2 and (key[0] != "op" or len(layers) >= 2):
            candidates.append((("group", key, tuple(specs)), members, d))
    return candidates


#: The mistakes a helper function makes on its op wherever it is called (relu_backward without its
#: mask, sigmoid_backward with 1 − s²): tried on every element of every array of that op at once.
_OP_LEVEL = frozenset({"forgot", "twice", "conf", "output", "upmask"})


def _arrays_only(v, pos, spec):
    """A confusion tried only on whole arrays (on one number it is said as a factor: the 2 of a square)."""
    if spec[0] != "conf" or isinstance(v._rule, _RowRule):
        return False
    return CONFUSIONS[(v._rule.name, pos)][spec[1]].get("arrays", False)


def _join(groups, key, spec, e, d, layer=None):
    grp = groups.get(key)
    if grp is None:
        groups[key] = grp = [spec, [], np.zeros_like(d), [], set()]
    grp[1].append(e)
    grp[2] += d
    grp[3].append(spec)
    if layer is not None:
        grp[4].add(layer)


def _graph_search(graphs, A, H, nice, rtol, atol, edges, paths, quantities, exact_only):
    """Every edge mistake (alone, or on every element of an array; exact or times a nice factor)
    that gives H at every point."""
    qmap = {q.label: q for q in quantities}
    candidates = _candidates(graphs[0], A[0], quantities, edges, paths)
    if not candidates:
        return []
    D = np.stack([d for _, _, d in candidates])
    G0 = A[0] + D
    for j, (spec, members, _) in enumerate(candidates):
        if _compounds(spec):
            try:
                G0[j] = _mistaken_gradient(graphs[0], _overrides(graphs[0], spec, members, 0, qmap))
            except Exception:  # noqa: BLE001 - outside a rule's domain: not a candidate
                G0[j] = A[0]
    changes = ~_rows_fit(A[0], G0, rtol, atol)
    exact = _rows_fit(H[0], G0, rtol, atol) & changes
    ks = np.full(len(candidates), np.nan) if exact_only else _nice_rows(H[0], G0, nice, rtol, atol)
    found = []
    for j, (spec, members, _) in enumerate(candidates):
        if not changes[j] or not (exact[j] or math.isfinite(ks[j])):
            continue
        k = None if exact[j] else float(ks[j])
        if _holds(graphs, A, H, spec, members, k, qmap, rtol, atol):
            specs = spec[2] if spec[0] == "group" else [spec] * len(members)
            base = specs[0]
            layer = spec[1] if spec[0] == "group" else False
            found.append(_Found(_KIND_OF[base[0]], members, specs, k, layer))
    return found


def _holds(graphs, A, H, spec, members, k, qmap, rtol, atol):
    """Whether the candidate gives H (times k) at every point, and changes autograd's somewhere."""
    specs = spec[2] if spec[0] == "group" else [spec]
    changed = False
    for p in range(len(graphs)):
        g = graphs[p]
        if _compounds(spec):
            try:
                G = _mistaken_gradient(g, _overrides(g, spec, members, p, qmap))
            except Exception:  # noqa: BLE001 - outside a rule's domain at this point: ruled out
                return False
            changed |= not _fits(G, A[p], rtol, atol)
            if not _fits(H[p], G if k is None else k * G, rtol, atol):
                return False
            continue
        total = np.zeros(A.shape[1])
        for e0, s in zip(members, specs if len(specs) == len(members) else specs * len(members)):
            e = _edge_at(g, e0.vi, e0.pos, isinstance(e0.v, _Written))
            if e is None or g.tangent_of(e.c) is None or g.locals.get(id(e.v)) is None:
                return False
            try:
                new = _variant_value(g, e, s, p, qmap)
                total = total + _delta(g, e, [new])[0]
            except Exception:  # noqa: BLE001 - outside a rule's domain at this point: ruled out
                return False
        G = A[p] + total
        if not _fits(G, A[p], rtol, atol):
            changed = True
        if not _fits(H[p], G if k is None else k * G, rtol, atol):
            return False
    return changed


def _compounds(spec):
    """Whether a candidate changes edges along one path (an op in every layer), so its changes
    multiply and only a backward pass of its own gives the gradient."""
    return spec[0] == "group" and spec[1][0] == "op"


def _overrides(g, spec, members, p, qmap):
    """{(id(node), input position): new local derivative} of a candidate at graph g (point p)."""
    out = {}
    for e0, s in zip(members, spec[2]):
        e = _edge_at(g, e0.vi, e0.pos, isinstance(e0.v, _Written))
        out[(id(e.v), e.pos)] = _UPSTREAM if s[0] == "upmask" else _variant_value(g, e, s, p, qmap)
    return out


#: An override that is relu's mask of the gradient arriving in this (mistaken) pass.
_UPSTREAM = _Marker("UPSTREAM")


def _mistaken_gradient(g, overrides):
    """The target's gradient by a backward pass of its own, with the local derivatives of some
    edges replaced (``overrides``); a written-out function's edges are its rule's."""
    from .engine import _batch_contribution
    adj = {id(g.out): 1.0}
    order = g.order
    for vi in range(len(order) - 1, -1, -1):
        v = order[vi]
        a = adj.get(id(v))
        if a is None or not v._prev:
            continue
        w = g.virtual.get(vi)
        if w is not None:
            pairs = [(c, overrides.get((id(w), pos), g.locals[id(w)][pos])) for pos, c in enumerate(w._prev)]
        else:
            locs = g.locals[id(v)]
            if locs is None:
                raise ValueError("a local derivative outside its domain")
            pairs = [(c, overrides.get((id(v), pos), locs[pos])) for pos, c in enumerate(v._prev)]
        batch = v.data.__class__ is ndarray
        for c, l in pairs:
            if l is _UPSTREAM:
                l = (np.asarray(a, dtype=np.float64) > 0) * 1.0 if batch else float(a > 0)
            contribution = _batch_contribution(c, l, a) if batch else l * a
            old = adj.get(id(c))
            adj[id(c)] = contribution if old is None else old + contribution
    return np.concatenate([np.ravel(np.asarray(adj[id(n)], dtype=np.float64)) if id(n) in adj
                           else np.zeros(np.size(n.data)) for n in g.wrt])


def _extra_search(graphs, A, H, rtol, atol, edges):
    """An extra local derivative that does not belong: H = l ⊙ A, l one edge's local derivative
    (a number at each point) or an array's (one per element of the target)."""
    g0 = graphs[0]
    if edges is not None:        # a step's edge is on the target's path: an extra one there is "applied twice"
        return []
    allowed = None
    big = np.abs(A[0]) > 1e-12 * max(1.0, float(np.abs(A[0]).max()))
    if not big.any():
        return []
    ratio0 = H[0][big] / A[0][big]
    found, seen = [], set()
    layers = {}
    for vi, v in [(vi, v) for vi, v in enumerate(g0.order) if id(v) not in g0.inner] + sorted(g0.virtual.items()):
        locs = g0.locals.get(id(v)) if v._prev else None
        if locs is None:
            continue
        written = isinstance(v, _Written)
        for pos, c in enumerate(v._prev):
            if allowed is not None and (id(v), pos) not in allowed:
                continue
            if g0.tangent_of(c) is not None:     # on the target's path: an extra one is "applied twice"
                continue
            l = locs[pos]
            if l.__class__ is ndarray:
                continue
            l = float(l)
            if l == 0.0 or math.isclose(abs(l), 1.0, rel_tol=rtol):
                continue
            key = (round(l, 12),)
            layer = (g0.layer(v), g0.layer(c))
            if layer[0] is not None and layer[1] is not None:
                layers.setdefault((layer, pos if v._rule.name != "affine" else _affine_role(v, pos)), []).append(
                    (vi, pos, l, written))
            if key in seen or not np.allclose(ratio0, l, rtol=rtol, atol=0):
                continue
            seen.add(key)
            if all(_fits(H[p], _local_at(graphs[p], vi, pos, written) * A[p], rtol, atol)
                   for p in range(1, len(graphs))):
                found.append(_Found("extra derivative", [_Edge(vi, pos, v, c)], [("extra",)], None, False))
    # an array's local derivatives, one per element of the target (σ'(z1[j]) in ∂L/∂b1[j])
    if A.shape[1] > 1 and allowed is None:
        for (layer, _), members in layers.items():
            if len(members) != A.shape[1]:
                continue
            vec = np.array([m[2] for m in members])
            if not _fits(H[0], vec * A[0], rtol, atol) or _fits(A[0], vec * A[0], rtol, atol):
                continue
            if all(_fits(H[p], np.array([_local_at(graphs[p], vi, pos, w) for vi, pos, _, w in members]) * A[p],
                         rtol, atol) for p in range(1, len(graphs))):
                es = [_edge_at(g0, vi, pos, w) for vi, pos, _, w in members]
                found.append(_Found("extra derivative", es, [("extra",)] * len(es), None, True))
    return found


def _numeric_side(difference):
    """Whether a difference as written has a bare number on one side (1 − a², the way a local
    derivative is written; ŷ − y, a residual, has none)."""
    return bool(re.match(r"^[\d.]+ − ", difference) or re.search(r" − [\d.]+$", difference))


def _a_written_number(graphs, f):
    """Whether a mistake is about a number the learner wrote (the ½ of ½(…)², a mean's 1/N): its
    local derivative is the same unnamed number at every point."""
    e = f.edges[0]
    written = isinstance(e.v, _Written)
    values = [graphs[p].locals[id(_edge_at(graphs[p], e.vi, e.pos, written).v)][e.pos] for p in range(len(graphs))]
    if any(np.ndim(x) for x in values) and not all(np.all(np.asarray(x) == np.ravel(x)[0]) for x in values):
        return False
    first = np.ravel(values[0])[0]
    if any(np.ravel(x)[0] != first for x in values):
        return False
    other = _other_input(e.v, e.pos)
    if other is None:
        return True
    o = e.v._prev[other]
    return _label(o) is None and re.fullmatch(r"[−\-+]?[\d.]+(e[−\-+]?\d+)?", graphs[0].name(o)) is not None


def _affine_role(v, pos):
    n = len(v._prev) // 2
    return "w" if pos < n else "x" if pos < 2 * n else "b"


def _edge_at(g, vi, pos, written=False):
    """The edge (vi, pos) of graph g (a written-out function's, for ``written``), or None."""
    if written:
        w = g.virtual.get(vi)
        return None if w is None or pos >= len(w._prev) else _Edge(vi, pos, w, w._prev[pos])
    v = g.order[vi]
    return _Edge(vi, pos, v, v._prev[pos])


def _local_at(g, vi, pos, written=False):
    locs = g.locals.get(id(g.virtual[vi] if written and vi in g.virtual else g.order[vi]))
    return float(locs[pos]) if locs is not None else math.nan


# --- from found mistakes to explanations ---------------------------------------------------------------

def _describe(g, f, sizes, wrt):
    """The `Explanation` of a graph mistake, with the names its words need."""
    names = g.names()
    e = f.edges[0]
    v, c, pos = e.v, e.c, e.pos
    spec = f.spec[0]

    def nm(x):               # a whole-array mistake speaks of h2, not h2[0]
        text = names[id(x)]
        return _split(text)[0] if f.layer and _split(text)[1] else text

    vn, cn = nm(v), nm(c)
    kid_names = [nm(x) for x in v._prev]
    rule = v._rule
    right = _local_text(rule, pos, kid_names)
    partial = (f"∂{_group(vn)}/∂{_group(cn)}" if (_label(v) or id(v) in g._override)
               else f"∂({_expression(rule, kid_names)})/∂{_group(cn)}")
    array = None
    if isinstance(f.layer, tuple) and f.layer[0] == "op":     # every array of one op: A1, A2
        found = {g.layer(m.v) or g.layer(m.c) for m in f.edges} - {None}
        array = ", ".join(sorted(found, key=lambda t: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", t)]))
    elif f.layer:           # the array the mistake is on: the replaced quantity's, else the op's output's
        other = _other_input(v, pos)
        array = next(g.layer(x) for x in ([v._prev[other]] if spec[0] == "qty" else []) + [v, c]
                     if g.layer(x) is not None or x is c)
    common = dict(factor=f.k, layer=array, wrt=wrt, sizes=sizes)
    kind = spec[0]
    if kind == "forgot":
        size = _constant_size(g, f, sizes)
        return Explanation("forgotten derivative", (vn, cn), derivative=(partial, right),
                           detail={"size": size} if size else None, **common)
    if kind == "half":
        return Explanation("wrong derivative", (cn,), substitution=(cn, f"2·{cn}"),
                           derivative=(f"∂({cn}²)/∂{cn}", f"2·{cn}"),
                           detail={"note": "the 2 of a square (d(u²) = 2u du) left out", **_term(g, v)}, **common)
    if kind == "upmask":
        up = "d" + vn
        return Explanation("wrong derivative", (vn, cn), substitution=(f"[{up} > 0]", right),
                           derivative=(partial, right),
                           detail={"note": f"relu's mask taken from the upstream gradient {up} = ∂L/∂{vn}, not from "
                                           f"relu's input"}, **common)
    if kind == "twice":
        return Explanation("extra derivative", (vn, cn), derivative=(partial, right), detail={"twice": True},
                           **common)
    if kind == "extra":
        factor = _primed(rule, cn, right) if len(v._prev) == 1 else right
        return Explanation("extra derivative", (factor,), derivative=(partial, right), detail={"twice": False},
                           **common)
    if kind == "path":
        users = [nm(x) for x in g.users.get(id(c), ())]
        detail = {"users": tuple(users)}
        if f.layer:
            detail.update(_term(g, v))
            detail["through"] = g.destination(v) or vn
        return Explanation("missing path", (cn, vn), detail=detail, **common)
    if kind == "wfactor":
        return Explanation("wrong factor", (vn, cn), substitution=(cn, right),
                           derivative=(f"∂({_expression(rule, kid_names)})/∂{_group(cn)}", right), **common)
    if kind == "output":
        wrong = _primed(rule, vn, _local_text(rule, pos, [vn]))
        return Explanation("wrong node", (vn, cn), substitution=(wrong, _primed(rule, cn, right)),
                           derivative=(partial, right), detail={"at": "output", "node": vn, "right": cn}, **common)
    if kind == "node":
        where = spec[1]
        on = _spec_name(g, where)
        if f.layer:
            on = _split(on)[0]
        wrong = _primed(rule, on, _local_text(rule, pos, [on]))
        same_base = re.sub(_DIGITS, "", on) == re.sub(_DIGITS, "", cn)     # z2, z₂, z⁽²⁾: the same letter
        return Explanation("wrong node", (vn, cn, on), substitution=(wrong, _primed(rule, cn, right)),
                           derivative=(partial, right),
                           detail={"at": "node", "node": vn, "right": cn, "wrong": on, "wrong layer": same_base},
                           **common)
    if kind == "conf" and isinstance(rule, _RowRule):
        entry = rule.confusions[spec[1]]
        row = rule._row(kid_names)
        return Explanation("wrong derivative", (vn, cn), substitution=(entry["text"](row), right),
                           derivative=(partial, right), detail={"note": entry["note"]}, **common)
    if kind == "conf":
        entry = CONFUSIONS[(rule.name, pos)][spec[1]]
        if len(v._prev) == 1:
            args = [Sym(kid_names[0]), Sym(vn)] + ([rule.const] if rule.name == "pow" else [])
        else:
            args = [Sym(n) for n in kid_names]
        try:
            wrong = str(entry["tree"](*args))
        except Exception:  # noqa: BLE001
            wrong = entry["note"]
        detail = {"note": entry["note"], **(_term(g, v) if entry.get("arrays") else {})}
        return Explanation("wrong derivative", (vn, cn), substitution=(wrong, right), derivative=(partial, right),
                           detail=detail, **common)
    if kind == "qty" and isinstance(f.layer, tuple) and f.layer[0] == "qtyT":
        o = nm(v._prev[_other_input(v, pos)])
        common["layer"] = None          # the words say the whole array already; the graph cannot tell which way
        return Explanation("transpose", (o,), substitution=(o, f"{o}ᵀ"), derivative=(partial, right),
                           detail={"either": True}, **common)
    if kind == "qty":
        o = v._prev[_other_input(v, pos)]
        on = _spec_name(g, spec[1])
        right_name = nm(o)
        if f.layer:
            on = _split(on)[0]
        return Explanation("wrong quantity", (on, right_name), substitution=(on, right_name),
                           derivative=(partial, right), **common)
    raise AssertionError(kind)


def _constant_size(g, f, sizes):
    """"N = 5" when a forgotten local derivative is the same number 1/N (or N) everywhere: the
    1/N of a mean, a size of the problem."""
    e = f.edges[0]
    local = g.locals.get(id(e.v))
    if local is None or np.ndim(local[e.pos]) or _label(e.c) is not None and not e.c._prev:
        return None
    value = float(local[e.pos])
    for size in _as_sizes(sizes):
        if math.isclose(abs(value), 1.0 / size.value, rel_tol=1e-9):
            return f"1/{size.letter}", f"{size.letter} = {_num(size.value)}", size.what
    return None


def _term(g, v):
    """{"term": …, "regularisation": True, …} when node v feeds a regularisation term: the largest
    part of the loss above v built from parameters and numbers only, no data (reg·(Σ W1² + Σ W2²)),
    called by its label (reg_loss) if it has one, with its number's name (reg) if it has one."""
    data = _data_cones(g)
    if data.get(id(v)):
        return {}
    term = v
    for n in _downstream(g, v, len(g.order)):
        if data.get(id(n)):
            break
        term = n
    if term is v or term is g.out:
        return {}
    stack, seen, named = [term], {id(term)}, []
    while stack:
        n = stack.pop()
        if not n._prev:
            if _label(n) is None and not re.fullmatch(r"[−\-+]?[\d.]+(e[−\-+]?\d+)?", g.name(n)):
                named.append(g.name(n))
            continue
        for c in n._prev:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    label = g.name(term) if (_label(term) is not None or id(term) in g._override) else None
    return {"term": label, "regularisation": True, "coefficient": named[0] if named else None}


def _data_cones(g):
    """{id(node): whether data (a sample, a target) reaches it}."""
    cache = g._pools.get(("data cones",))
    if cache is None:
        cache = {}
        for n in g.order:
            cache[id(n)] = _is_data_leaf(n) if not n._prev else any(cache.get(id(c), False) for c in n._prev)
        g._pools[("data cones",)] = cache
    return cache


def _downstream(g, v, limit):
    out, n = [], v
    for _ in range(limit):
        users = g.users.get(id(n))
        if not users:
            break
        n = users[0]
        out.append(n)
    return out


def _worst(A, H, rtol, atol, prefer=None):
    err = np.abs(H - A)
    ratio = err / (atol + rtol * np.abs(A))
    if prefer is not None:
        rows = np.zeros(len(A), dtype=bool)
        rows[list(prefer)] = True
        bad = err > atol + rtol * np.abs(A)
        if bad[rows].any():
            ratio = np.where(rows[:, None], ratio, -1.0)
    p, e = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    return int(p), int(e), float(A[p, e]), float(H[p, e])


def explain(graphs, hand, truth=None, *, wrt=None, occurrences=(), quantities=(), substitute=None, sizes=None,
            mean=None, one_sample=None, edges=None, paths=None, combined=True, rtol=1e-6, atol=1e-9, limit=4,
            prefer=None):
    """Every simple mistake that gives the learner's ``hand`` values at every point, simplest first:
    a `Diagnosis`. See the module docstring for what each argument is."""
    graphs = list(graphs)
    if not graphs:
        raise ValueError("explain: no point to explain at (graphs is empty)")
    P = graphs[0].size
    A = np.stack([np.ravel(np.asarray(t, dtype=np.float64)) for t in
                  (truth if truth is not None else [g.truth for g in graphs])])
    H = np.stack([np.ravel(np.asarray(h, dtype=np.float64)) for h in hand])
    if A.shape != H.shape:
        raise ValueError(f"explain: the learner's values have {H.shape[1]} element(s) per point, autograd's "
                         f"{A.shape[1]} (shapes must match, flattened in the order of wrt)")
    if A.shape[1] != P and truth is None:
        raise ValueError(f"explain: {A.shape[1]} element(s) per point, but wrt has {P}")
    sizes = _as_sizes(sizes if sizes is not None else ([("n", graphs[0].batch)] if graphs[0].batch else ()))
    quantities = list(quantities)
    for q in quantities:
        if len(q.values) != len(graphs):
            raise ValueError(f"explain: quantity {q.label!r} has {len(q.values)} value(s); one per point is "
                             f"needed ({len(graphs)} points)")
    for o in occurrences:
        if o.values is not None and len(o.values) != len(graphs):
            raise ValueError(f"explain: occurrence {o.label!r} has {len(o.values)} value(s); one per point is "
                             f"needed ({len(graphs)} points), or None")
    wrt_words = wrt if wrt is not None else graphs[0].wrt_words()
    if "∂" not in wrt_words:
        wrt_words = f"{graphs[0].wrt_words().split('/')[0]}/∂{display(wrt_words)}"
    if not np.isfinite(H).all():          # nan or inf: nothing simple gives that
        p, e = (int(i) for i in np.argwhere(~np.isfinite(H))[0])
        return Diagnosis([], None, (p, e, float(A[p, e]), float(H[p, e])), False)
    worst = _worst(A, H, rtol, atol, prefer)
    if _fits(H, A, rtol, atol):
        return Diagnosis([], None, worst, True)
    structured = all(graphs[0].same_shape(g) for g in graphs[1:])
    nice = _nice_factors(sizes)
    # the graph search prunes at its first point: the one where the learner's numbers are furthest off
    # (a slip can be invisible at one point: 1 − tanh²(z) is 1 at z = 0)
    lead = int(np.argmax(np.max(np.abs(H - A) / (atol + rtol * np.abs(A)), axis=1)))
    order = [lead] + [p for p in range(len(graphs)) if p != lead]
    on_graph = ([graphs[p] for p in order], A[order], H[order],
                [Quantity(q.label, [q.values[p] for p in order]) for q in quantities])
    found = []
    k = _factor_fit(H, A, rtol, atol)
    single = A.size == 1             # one number is always some multiple of another: only a simple factor
    if k is not None and single and not np.isclose(nice, k, rtol=1e-6, atol=0).any():
        k = None                     # (−1, 2, ½, the sizes) says something, and after the graph's own slips
    if k is not None:
        cause = factor_cause(k, sizes)
        special = []
        minus = [o for o in occurrences if o.kind == "negation"]
        if k < 0 and substitute is not None and not any(      # a minus too many is said as the sign flipped
                _try(substitute, o, REVERSED, A, H, len(graphs), nice, rtol, atol, True) is True for o in minus):
            special += _substitutions(graphs, A, H, [o for o in occurrences if o.kind == "difference"], (),
                                      substitute, nice, rtol, atol, sizes, wrt_words, only_exact=False)
            residual = [e for e in special if not _numeric_side(e.substitution[0])]
            special = residual or special     # ŷ − y the wrong way round, before 1 − a² (a derivative's form)
        s = _samples(sizes)
        is_mean = mean if mean is not None else graphs[0].loss_is_mean()
        if one_sample and is_mean and s is not None and any(math.isclose(k, x, rel_tol=1e-6)
                                                            for x in (s.value, 2 * s.value, s.value / 2, -s.value)):
            special.append(Explanation("one sample", (), factor=k, wrt=wrt_words, sizes=sizes))
        residual = _residual(graphs[0], sizes) if math.isclose(k, -1.0, rel_tol=1e-6) else None
        plain = Explanation("factor", (), factor=k, wrt=wrt_words, sizes=sizes,
                            detail={"residual": residual} if residual else None)
        if special and any(e.kind == "reversed difference" and e.factor is None for e in special):
            return Diagnosis(special[:limit], k, worst, False)
        if special and special[-1].kind == "one sample":
            return Diagnosis(special[-1:] + special[:-1], k, worst, False)
        structural = []
        if structured:      # a factor that is also one slip on the graph (x left out, x fixed data): both said,
            gs, Ag, Hg, qs = on_graph
            fs = _graph_search(gs, Ag, Hg, nice, rtol, atol, edges, paths, qs, exact_only=True)
            fs += _extra_search(gs, Ag, Hg, rtol, atol, edges)
            if cause is not None:       # but a bare number's local derivative (the ½ written) only as the factor
                fs = [f for f in fs if not _a_written_number(gs, f)]
            structural = _order([_describe(gs[0], f, sizes, wrt_words) for f in fs])
        if cause is not None and not single:
            return Diagnosis((special + [plain] + structural)[:limit], k, worst, False)
        return Diagnosis((special + structural + [plain])[:limit], k, worst, False)
    if A.shape[1] > 1:
        per = _element_factors(A, H, rtol, atol)
        if per:
            shape = _target_shape(graphs[0])
            factors = {_element_index(shape, e): ke for e, ke in per.items()}
            found.append(Explanation("element factor", (), factor=factors, wrt=wrt_words, sizes=sizes))
        shape = _target_shape(graphs[0])
        if len(shape) == 2 and shape[0] == shape[1]:
            T = np.stack([a.reshape(shape).T.ravel() for a in A])
            if _fits(H, T, rtol, atol):
                found.append(Explanation("transpose", (), wrt=wrt_words, sizes=sizes))
    if structured:
        gs, Ag, Hg, qs = on_graph
        fs = _graph_search(gs, Ag, Hg, nice, rtol, atol, edges, paths, qs, exact_only=not combined)
        fs += _extra_search(gs, Ag, Hg, rtol, atol, edges)
        found += [_describe(gs[0], f, sizes, wrt_words) for f in fs]
    if substitute is not None and occurrences:
        found += _substitutions(graphs, A, H, occurrences, quantities, substitute, nice, rtol, atol, sizes,
                                wrt_words, only_exact=not combined)
    return Diagnosis(_order(found)[:limit], None, worst, False)


def slips(graph, truth, *, edges=None, paths=None, wrt=None):
    """[(number, Explanation)]: what each single mistake on ``edges`` (mistaken local derivatives)
    and ``paths`` (left-out paths) gives for a one-number target whose right value is ``truth``, at
    the one point ``graph`` is; simplest first, one explanation per number. A quiz precomputes
    its hints with it (`explain` names the mistake of an answer it is given)."""
    A0 = np.array([float(truth)])
    if graph.size != 1:
        raise ValueError(f"slips: the target has {graph.size} elements; slips are for one number")
    wrt_words = wrt or graph.wrt_words()
    out = []
    for spec, members, d in _candidates(graph, A0, (), edges, paths):
        if spec[0] == "group":
            continue
        value = float(A0[0] + d[0])
        if not math.isfinite(value):
            continue
        out.append((value, _describe(graph, _Found(_KIND_OF[spec[0]], members, [spec], None, False), (), wrt_words)))
    out.sort(key=lambda t: _RANK[t[1].kind])
    if A0[0]:           # a simple factor, after the graph's own slips (one number is some multiple of any other)
        out += [(float(k * A0[0]), Explanation("factor", (), factor=float(k), wrt=wrt_words))
                for k in _nice_factors(())]
    unique = []
    for value, e in out:
        if all(not math.isclose(value, v, rel_tol=1e-9, abs_tol=1e-12) for v, _ in unique):
            unique.append((value, e))
    return unique


def _order(found):
    """Simplest first: by kind, exact before times a factor, one element before a whole array;
    the same mistake found twice (on the graph and in the formula) listed once."""
    ranked = sorted(enumerate(found), key=lambda t: (t[1].factor is not None and t[1].kind != "element factor",
                                                     _RANK[t[1].kind], t[1].source != "graph",
                                                     t[1].layer is not None, t[0]))
    out, seen, said = [], set(), set()
    written = {e.nodes[:1] for _, e in ranked if e.kind == "transpose" and e.source == "formula"}
    forgotten = {(e.nodes[0], e.layer, e.factor) for _, e in ranked if e.kind == "forgotten derivative"
                 or (e.kind == "wrong derivative" and e.substitution and e.substitution[0].startswith("[d"))}
    ranked = [(i, e) for i, e in ranked if not (     # relu' at a node that is positive everywhere: no mask at all
        e.kind == "wrong node" and e.derivative and e.derivative[1].startswith("[")
        and (e.nodes[0], e.layer, e.factor) in forgotten)]
    ranked = [(i, e) for i, e in ranked if not (e.kind == "transpose" and e.source == "graph" and
                                                e.detail.get("either") and e.nodes[:1] in written)]
    for _, e in ranked:
        key = e.key()
        text = words(e)
        if key in seen or text in said or _same_story(e, out):
            continue
        seen.add(key)
        said.add(text)
        out.append(e)
    return out


def _same_story(e, earlier):
    """A formula substitution that says what a graph explanation already said (a₁ where x belongs,
    an extra factor x), in other words."""
    if e.source == "graph":
        return False
    for o in earlier:
        if o.substitution is not None and o.substitution == e.substitution and o.factor == e.factor:
            return True
        if o.kind == e.kind and o.source == "graph" and set(e.nodes) <= set(o.nodes) | set(o.substitution or ()):
            return True
        if e.kind == "wrong quantity" and o.kind == "wrong node" and o.factor == e.factor:
            return True
    return False


def _target_shape(g):
    wrt = g.wrt
    labels = [_split(g.name(n)) for n in wrt]
    if len(wrt) > 1 and all(idx for _, idx in labels) and len({b for b, _ in labels}) == 1:
        idx = [tuple(int(i) for i in re.findall(r"\d+", x)) for _, x in labels]
        if len({len(i) for i in idx}) == 1:
            shape = tuple(max(i[d] for i in idx) + 1 for d in range(len(idx[0])))
            if int(np.prod(shape)) == len(wrt) and idx == sorted(idx):
                return shape
    return (g.size,) if g.size > 1 else ()


def _element_index(shape, flat):
    idx = np.unravel_index(flat, shape) if shape else ()
    return "".join(f"[{i}]" for i in idx)


# --- substitutions in the learner's formula ---------------------------------------------------------------

def _substitutions(graphs, A, H, occurrences, quantities, substitute, nice, rtol, atol, sizes, wrt_words,
                   only_exact, graphs_pool=False):
    """Each occurrence replaced by each compatible quantity, by 1, transposed, or reversed: the
    ones that give autograd's numbers (exactly, or times a nice factor) at every point."""
    n = len(graphs)
    pool = list(quantities)
    if graphs_pool:
        names = {display(q.label) for q in pool}
        for spec, name, val in _pool(graphs[0], ()):
            if name in names or spec[0] == "quantity":
                continue
            try:
                values = [_pool_value(g, spec, p, {}) for p, g in enumerate(graphs)]
            except (IndexError, KeyError):
                continue
            pool.append(Quantity(name, values))
            names.add(name)
    found = []
    for occ in occurrences:
        if occ.kind == "negation":
            continue
        if occ.kind == "difference":
            replacements = [REVERSED]
        else:
            own = _raw(occ.values[0]) if occ.values else None
            replacements = []
            for q in pool:
                if display(q.label) == display(occ.label):
                    continue
                if own is not None:
                    value = _raw(q.values[0])
                    if np.shape(value) != np.shape(own):
                        continue
                    if np.array_equal(np.asarray(value, dtype=np.float64), np.asarray(own, dtype=np.float64)):
                        continue
                replacements.append(q)
            if occ.factor:
                replacements.append(ONE)
            if occ.transposable:
                replacements.append(TRANSPOSE)
        for rep in replacements:
            k = _try(substitute, occ, rep, A, H, n, nice, rtol, atol, only_exact)
            if k is False:
                continue
            found.append(_substitution_explanation(occ, rep, None if k is True else k, sizes, wrt_words))
    return found


def _try(substitute, occ, rep, A, H, n, nice, rtol, atol, only_exact):
    """True (the substitution gives autograd's numbers), a nice factor k (it gives k × autograd's),
    or False; at every point, and changing the learner's numbers somewhere."""
    try:
        values = iter(substitute(occ, rep))
        k, changed = None, False
        for p in range(n):
            h = np.ravel(np.asarray(next(values), dtype=np.float64))
            if h.shape != A[p].shape or not np.isfinite(h).all():
                return False
            changed |= not _fits(h, H[p], rtol, atol)
            if k is None:
                if _fits(h, A[p], rtol, atol):
                    k = 1.0
                elif only_exact:
                    return False
                else:
                    k = float(_nice_rows(h, A[p][None, :], nice, rtol, atol)[0])
                    if not math.isfinite(k):
                        return False
            elif not _fits(h, k * A[p], rtol, atol):
                return False
        if not changed:
            return False
        return True if k == 1.0 else k
    except Exception:  # noqa: BLE001 - a substitution that cannot be evaluated is no explanation
        return False


def _substitution_explanation(occ, rep, k, sizes, wrt_words):
    name = display(occ.label) if occ.kind != "difference" else occ.label
    common = dict(factor=k, wrt=wrt_words, sizes=sizes, source="formula")
    if rep is REVERSED:
        return Explanation("reversed difference", (occ.label, occ.reversed), substitution=(occ.label, occ.reversed),
                           **common)
    if rep is ONE:
        return Explanation("extra derivative", (name,), detail={"twice": False, "formula": True}, **common)
    if rep is TRANSPOSE and occ.transposed is None:       # a function's: whether it wrote .T is not known
        return Explanation("transpose", (name,), substitution=(name, f"{name}ᵀ"), detail={"either": True}, **common)
    if rep is TRANSPOSE:
        written, belongs = (f"{name}ᵀ", name) if occ.transposed else (name, f"{name}ᵀ")
        return Explanation("transpose", (name,), substitution=(written, belongs), **common)
    return Explanation("wrong quantity", (name, display(rep.label)), substitution=(name, display(rep.label)),
                       **common)


# --- words ----------------------------------------------------------------------------------------------

def _k(k):
    return f"{k:.6g}"


def _axis_text(axis):
    letter, what, d = axis
    return f"{letter} = {d} ({what})" if letter else str(d)


def _shape_words(e):
    """A gradient of the wrong shape (numpy code): a lost keepdims, another shape of the same
    numbers, or a sum over the wrong axis, with its axes named by the problem's sizes."""
    d = e.detail
    yours, right = tuple(d["yours"]), tuple(d["right"])
    head = f"shape {yours} where {e.wrt} has shape {right}"
    how = d.get("how")
    if how == "keepdims":
        text = (f"{head}: a lost keepdims (the sum dropped the axis it summed over; np.sum(…, keepdims=True) "
                f"keeps it)")
    elif how == "reshape":
        text = f"{head}: the same number of elements in another shape (reshape it to {right})"
    else:
        extra = [a for a in d.get("axes", ()) if a[2] not in right or (a[1] == "samples")]
        named = [a for a in extra if a[0]]
        if named:
            text = (f"{head}: summed over the wrong axis: yours keeps an axis of {_axis_text(named[0])}, which "
                    f"{e.wrt} does not have; sum over that axis instead")
        else:
            text = f"{head}: summed over the wrong axis (or an axis not summed over)"
    if d.get("numbers right"):
        text += "; the numbers are right"
    return text


def _term_words(d):
    if not d.get("regularisation"):
        return ""
    coefficient = f", coefficient {d['coefficient']}" if d.get("coefficient") else ""
    term = f"{d['term']}, " if d.get("term") else ""
    return f" (in {term}the regularisation term{coefficient})"


def words(e):
    """The sentence a teacher would say for explanation ``e``, in the learner's notation."""
    kind, k = e.kind, e.factor
    d = e.detail
    if kind == "factor" and d.get("residual"):
        z, a, y, scale = d["residual"]
        value = (f"({a} − {y}){scale[1:]}" if scale.startswith("1/") else f"{a} − {y}" if scale == "1"
                 else f"{scale}·({a} − {y})")
        return (f"off by a constant factor {_k(k)}: the sign is flipped: {e.wrt.split('/')[0]}/∂{z} is {value} "
                f"(σ with cross-entropy), so {y} − {a} is the difference the wrong way round (or a minus lost)")
    if kind == "factor":
        return f"off by a constant factor {_k(k)}: {factor_cause(k, e.sizes) or 'a constant factor'}"
    if kind == "one sample":
        s = _samples(e.sizes)
        t, n = s.letter, _num(s.value)
        what = f"a missing 1/{t}" if math.isclose(k, s.value, rel_tol=1e-6) else factor_cause(k, e.sizes)
        return (f"right for one sample, but the loss takes the mean over the {t} = {n} samples: yours is {_k(k)} × "
                f"autograd ({what})")
    if kind == "element factor":
        parts = []
        for idx, ke in k.items():
            said = "sign flipped" if math.isclose(ke, -1.0, rel_tol=1e-6) else \
                f"× {_k(ke)} ({factor_cause(ke, e.sizes) or 'a constant factor'})"
            parts.append(f"element {idx}: {said}")
        return "; ".join(parts) + "; the other elements agree"
    if kind == "shape":
        return _shape_words(e)
    if kind == "transpose" and d.get("shapes") and d.get("numbers right") is False:
        yours, right = d["shapes"]
        text = (f"shape {tuple(yours)} where {e.wrt} has shape {tuple(right)}: the transpose of its shape (a "
                f"transpose missing, or the factors of a product the wrong way round)")
    elif kind == "transpose" and d.get("shapes"):
        yours, right = d["shapes"]
        text = (f"shape {tuple(yours)} where {e.wrt} has shape {tuple(right)}: autograd's transpose (rows and "
                f"columns swapped; write it transposed)")
    elif kind == "transpose" and e.substitution is None:
        text = f"autograd's {e.wrt} transposed: rows and columns swapped"
    elif kind == "transpose" and d.get("either"):
        text = f"{e.nodes[0]} transposed: a transpose missing or one too many"
    elif kind == "transpose":
        written, belongs = e.substitution
        which = "a transpose too many" if written.endswith("ᵀ") else "a transpose missing"
        text = f"{written} where {belongs} belongs ({which})"
    elif kind == "reversed difference":
        written, belongs = e.substitution
        text = f"you wrote {written} where {belongs} belongs (the difference the wrong way round)"
    elif kind == "forgotten derivative" and d.get("size"):
        one_over, size, what = d["size"]
        text = (f"you left out the {one_over} ({size}, the number of {what}) of {e.derivative[0]} (a forgotten "
                f"local derivative: a missing {one_over})")
    elif kind == "forgotten derivative":
        partial, right = e.derivative
        text = f"you left out {partial} = {right} (a forgotten local derivative)"
    elif kind == "extra derivative":
        if d.get("twice"):
            partial, right = e.derivative
            text = f"{partial} = {right} applied twice (an extra local derivative)"
        elif d.get("formula"):
            text = f"an extra factor {e.nodes[0]}: without it the formula holds"
        else:
            partial, right = e.derivative
            text = f"an extra factor {e.nodes[0]} ({partial} = {right} does not belong in {e.wrt})"
    elif kind == "wrong node":
        wrong, right = e.substitution
        if d.get("at") == "output":
            text = (f"{wrong} where {right} belongs: the local derivative of {d['node']} evaluated at its output "
                    f"{d['node']} instead of its input {d['right']}")
        else:
            text = (f"{wrong} where {right} belongs: the local derivative of {d['node']} evaluated at {d['wrong']} "
                    f"instead of {d['right']}" + (" (the wrong layer)" if d.get("wrong layer") else ""))
    elif kind == "wrong derivative":
        wrong, right = e.substitution
        partial = e.derivative[0]
        text = f"{partial} taken as {wrong} instead of {right}: {d['note']}" + _term_words(d)
    elif kind == "wrong factor":
        written, right = e.substitution
        text = f"{e.derivative[0]} taken as {written} instead of {right} (the wrong factor of a product)"
    elif kind == "wrong quantity":
        written, belongs = e.substitution
        text = f"{written} where {belongs} belongs"
    elif kind == "missing path" and d.get("regularisation"):
        coefficient = f" (coefficient {d['coefficient']})" if d.get("coefficient") else ""
        term = f" {d['term']}" if d.get("term") else ""
        text = (f"yours leaves out the gradient of the regularisation term{term}{coefficient}: the path from "
                f"{e.nodes[0]} through it")
    elif kind == "missing path" and d.get("through"):
        text = f"yours leaves out the path from {e.nodes[0]} through {d['through']}"
    elif kind == "missing path":
        c, v = e.nodes
        users = d.get("users", ())
        text = (f"{c} reaches the loss through {len(users)} nodes ({', '.join(users)}); yours leaves out the path "
                f"through {v}")
    else:
        raise ValueError(f"words: unknown kind {kind!r}")
    if e.layer and ", " in e.layer:
        *rest, last = e.layer.split(", ")
        text += f", on every element of {', '.join(rest)} and {last} (the same slip in every layer)"
    elif e.layer:
        text += f", on every element of {e.layer}"
    if k is not None:
        text += f", and off by a factor {_k(k)}: {factor_cause(k, e.sizes) or 'a constant factor'}"
    return text
