r"""Check a gradient you derived by hand, written the way you wrote it, and say what the mistake is.

- ``verify(loss, hand, at, data=None)``: compare your formulas with autograd at the points you
  give and at random points near them. A formula is a **string** in your notation (Python-like
  ``"(y_hat - y) * a1"`` or LaTeX ``r"(\hat{y} - y) \cdot a_1"``, see `microreg.notation`), or
  a function taking only the names it needs (``lambda y_hat, y, a1: (y_hat - y) * a1``).
  Names resolve, in order, to the parameters at the point, the **labelled nodes** of the loss's
  graph (their forward values; labels ``a1[0], a1[1]…`` gather into an array ``a1``, ``w1[j][k]``
  into a 2-D one; a batch node is a `Batch` of its samples), then the ``data=`` mapping; ``n``
  and ``m`` are the batch size. A label is read as a formula reads a name (a node labelled ``ŷ``
  is ``y_hat``, ``ŷ`` or ``\hat{y}`` in a formula; see `microreg.notation.spellings`). A
  ∂-fraction in a LaTeX formula (``\frac{\partial L}{\partial z_2}``) is computed by autograd,
  so a chain-rule step written as a product of partials is checked as that product.
- For every formula that is not right it **names the mistake**, by computing the gradients that
  *mistaken backward passes* give (from the graph and the rule table; no wrong answer is written
  in advance) and keeping those your numbers equal at every point checked: a constant factor
  (a dropped ½, the 2 of a square, a missing 1/n, a flipped sign), a per-element factor, a
  forgotten local derivative (one edge's taken as 1), a local derivative evaluated at the wrong
  node (σ' at z2 where z1 belongs) or at the op's own output (σ'(a1) where σ'(z1) belongs), the wrong factor of a product (∂(u·v)/∂u taken as u), a
  missing path (a node feeding several others, one contribution left out), a transpose, and one
  of these combined with a constant factor. A constant factor equal to a data value x (or 1/x)
  is named as the local derivative x put in or left out, before the bare number. Several that fit are listed simplest first; when
  none fits: "no single mistake explains it", with the worst element and both numbers.
- A kink (relu at 0), where only a subgradient exists, is recognised; nearby points that leave
  the loss's domain are retried closer.
- With sympy expressions it tries to *prove* the formula, else refutes it (naming a constant
  factor); ``gradcheck(f, *inputs)``: autograd against central finite differences.
- ``check_documents()``: every formula of the three source documents (``microreg.derivations``,
  as functions and as strings in the documents' own notation): what ``microreg check`` prints.

    >>> import numpy as np
    >>> from microreg import Value
    >>> from microreg.check import verify
    >>> def loss(w):                                   # L = (σ(3w) − 1)², σ(3w) labelled a
    ...     a = (w * 3.0).sigmoid(); a.label = "a"
    ...     return (a - 1.0) ** 2
    >>> report = verify(loss, {"w": "2 * (a - 1) * 3"}, at={"w": 0.5})   # forgot σ'
    >>> report["w"].explanation.kind
    'forgotten derivative'
"""

import html
import inspect
import math
import multiprocessing
import re

import numpy as np

from .engine import MathDomainError, Value, topological_order
from .notation import Batch, Formula, FormulaError, parse, spellings

ndarray = np.ndarray


# --- turning arguments into Values and back ----------------------------------------------------

def _to_values(name, value):
    """A float becomes a Value; an array becomes a numpy object array of Values (labelled by index)."""
    if isinstance(value, ndarray) or isinstance(value, (list, tuple)):
        arr = np.asarray(value, dtype=np.float64)
        out = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(arr.shape):
            out[idx] = Value(float(arr[idx]), label=f"{name}{''.join(f'[{i}]' for i in idx)}")
        return out
    return Value(float(value), label=name)


def _grads(values):
    if isinstance(values, ndarray):
        out = np.empty(values.shape)
        for idx in np.ndindex(values.shape):
            g = values[idx].grad
            out[idx] = g
        return out
    return float(values.grad)


def _build(loss, point):
    """(output Value, {name: Value or object array of Values}) for one point."""
    values = {name: _to_values(name, v) for name, v in point.items()}
    out = loss(**values)
    if not isinstance(out, Value):
        raise TypeError(f"verify: loss must return a Value, got {type(out).__name__}")
    if out.data.__class__ is ndarray:
        raise ValueError(f"verify: loss must return a scalar Value, got a batch of {out.data.shape[0]} "
                         "(reduce it with .sum() or .mean())")
    return out, values


def _autograd(loss, point):
    """(loss value, {name: ∂loss/∂name}) at one point."""
    out, values = _build(loss, point)
    out.backward()
    return out.data, {name: _grads(v) for name, v in values.items()}


def _as_float_point(point):
    return {k: (np.asarray(v, dtype=np.float64) if isinstance(v, (ndarray, list, tuple)) else float(v))
            for k, v in point.items()}


def _nearby(point, rng, scale=0.1):
    """A random point near ``point``: each number moved by ~10% of its size (at least 0.1·scale)."""
    out = {}
    for k, v in point.items():
        v = np.asarray(v, dtype=np.float64)
        moved = v + rng.normal(size=v.shape) * scale * np.maximum(np.abs(v), 1.0)
        out[k] = moved if moved.ndim else float(moved)
    return out


def _nearby_in_domain(loss, point, rng, tries=6):
    """A nearby point where the loss can be computed: closer and closer on a MathDomainError
    (e.g. ``w ** 0.5`` at w = 0.01); None if every try leaves the domain."""
    scale = 0.1
    for _ in range(tries):
        candidate = _nearby(point, rng, scale)
        try:
            _build(loss, candidate)
            return candidate
        except MathDomainError:
            scale /= 4
    return None


# --- naming a constant factor --------------------------------------------------------------------

def name_factor(k, n=None, letter="n"):
    """Say what a constant factor k (hand = k × autograd) usually means; ``letter`` is the name your
    derivation gives the number of samples n (document 000 says m)."""
    s = letter
    known = [(2.0, "twice autograd: a dropped ½ (the ½ of ½(ŷ − y)² forgotten), or a term counted twice"),
             (0.5, "half of autograd: the 2 of a square (d(u²) = 2u du) left out, or a spurious ½"),
             (-1.0, "the sign is flipped (ŷ − y where y − ŷ belongs, or a minus lost)"),
             (-2.0, "the sign is flipped and a ½ dropped"),
             (-0.5, "the sign is flipped and the 2 of a square left out")]
    if n and n > 1:
        known += [(float(n), f"{s} = {n} times autograd: a sum where the loss takes a mean (a missing 1/{s})"),
                  (1.0 / n, f"1/{s} = 1/{n} of autograd: a spurious 1/{s} (a mean where the loss sums)"),
                  (2.0 * n, f"2{s}: a missing 1/{s} and a dropped ½ ({s} = {n})"),
                  (n / 2.0, f"{s}/2: a missing 1/{s} and the 2 of a square left out ({s} = {n})"),
                  (0.5 / n, f"1/(2{s}): a spurious 1/{s} and the 2 of a square left out ({s} = {n})"),
                  (-float(n), f"−{s}: a missing 1/{s} and a flipped sign ({s} = {n})")]
    for value, text in known:
        if math.isclose(k, value, rel_tol=1e-6):
            return text
    r = round(k)
    if abs(r) >= 3 and math.isclose(k, r, rel_tol=1e-6):
        return f"{r} times autograd: is {abs(r)} your number of samples? (a sum where the loss takes a mean)"
    if abs(k) > 0 and abs(round(1 / k)) >= 3 and math.isclose(1 / k, round(1 / k), rel_tol=1e-6):
        return f"1/{round(1 / k)} of autograd: a spurious 1/{abs(round(1 / k))}?"
    return "a constant factor"


def _nice(k, n):
    """How simple a factor is (0 best): ±1, ±2, ±½, ±n, ±1/n, small integers, then anything."""
    simple = [1.0, -1.0, 2.0, 0.5, -2.0, -0.5]
    if n and n > 1:
        simple += [float(n), 1.0 / n, 2.0 * n, n / 2.0, 0.5 / n, -float(n)]
    if any(math.isclose(k, s, rel_tol=1e-6) for s in simple):
        return 0
    if math.isclose(k, round(k), rel_tol=1e-6) or (k and math.isclose(1 / k, round(1 / k), rel_tol=1e-6)):
        return 1
    return 2


# --- the report -----------------------------------------------------------------------------------

class Explanation:
    """One way a formula can be wrong, that holds at every point checked.

    ``kind``: "factor", "element factor", "transpose", "forgotten derivative", "wrong node",
    "wrong factor", "missing path", "extra factor" (a fixed node's value, data x, multiplied in) or
    "at output" (σ'(a1) where σ'(z1) belongs: an op's local derivative taken at its output); ``nodes``: the nodes involved, by their labels (or what
    made them); ``factor``: a constant k with hand = k × (the mistaken gradient), or None
    (for "element factor", a dict {element: k}); ``text``: the sentence a teacher would say.
    """

    __slots__ = ("kind", "nodes", "factor", "text")

    def __init__(self, kind, nodes=(), factor=None, text=""):
        self.kind, self.nodes, self.factor, self.text = kind, tuple(nodes), factor, text

    def __repr__(self):
        return f"Explanation({self.kind!r}, nodes={self.nodes}, factor={self.factor!r})"

    def __str__(self):
        return self.text

    def to_dict(self):
        factor = self.factor
        if isinstance(factor, dict):
            factor = {str(k): v for k, v in factor.items()}
        return {"kind": self.kind, "nodes": list(self.nodes), "factor": factor, "text": self.text}


class Verdict:
    """The verdict for one argument: ``ok``, ``kind``, ``diagnosis`` and the numbers behind it.

    ``kind`` is one of "match", "factor", "wrong", "kink" (numeric path) or "proved",
    "numerically consistent", "refuted", "undecided" (symbolic path). ``autograd`` and ``hand`` are the
    two gradients at the first point; ``factor`` is k for a constant factor; ``worst`` the worst
    mismatch (point, element, both numbers) for a wrong one. ``explanations`` lists every
    `Explanation` that fits, simplest first (``explanation`` is the first, or None).
    """

    def __init__(self, name, ok, kind, diagnosis, autograd=None, hand=None, factor=None, worst=None,
                 max_abs_error=None, max_rel_error=None, explanations=()):
        self.name, self.ok, self.kind, self.diagnosis = name, ok, kind, diagnosis
        self.autograd, self.hand, self.factor, self.worst = autograd, hand, factor, worst
        self.max_abs_error, self.max_rel_error = max_abs_error, max_rel_error
        self.explanations = list(explanations)

    @property
    def explanation(self):
        return self.explanations[0] if self.explanations else None

    def __repr__(self):
        return f"Verdict({self.name!r}, ok={self.ok}, {self.diagnosis!r})"


def _fmt(x, width=None):
    if isinstance(x, ndarray):
        flat = x.ravel()
        body = ", ".join(f"{v:.6g}" for v in flat[:4]) + (", …" if flat.size > 4 else "")
        return f"[{body}]"
    if x is None:
        return ""
    return f"{x:.6g}" if isinstance(x, float) else str(x)


class Report:
    """What ``verify`` returns: ``report.ok``, ``report[name]`` (a `Verdict`), ``str(report)``."""

    def __init__(self, verdicts, points):
        self.verdicts = verdicts
        self.points = points

    @property
    def ok(self):
        return all(v.ok for v in self.verdicts.values())

    def __getitem__(self, name):
        return self.verdicts[name]

    def __iter__(self):
        return iter(self.verdicts.values())

    def __len__(self):
        return len(self.verdicts)

    HEAD = ("argument", "verdict", "autograd", "hand", "diagnosis")

    def rows(self):
        return [(v.name, "ok" if v.ok else "UNDECIDED" if v.kind == "undecided" else "MISMATCH", _fmt(v.autograd),
                 _fmt(v.hand), v.diagnosis)
                for v in self.verdicts.values()]

    def __str__(self):
        head = self.HEAD
        rows = [head] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)] + [len(head[-1])]
        lines = []
        for i, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        verdict = ("all ok" if self.ok else "some formulas differ" if any(not v.ok and v.kind != "undecided" for v in self)
                   else "not enough evidence to decide")
        lines.append(f"checked at {self.points} point(s): {verdict}")
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        head = "".join(f"<th>{h}</th>" for h in self.HEAD)
        body = ""
        for r, v in zip(self.rows(), self.verdicts.values()):
            colour = "#e6f4ea" if v.ok else "#fce8e6"
            body += f'<tr style="background:{colour}">' + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                f"<p>checked at {self.points} point(s)</p>")


# --- one point: the graph, its names, and the mistaken backward passes ------------------------------

_LABEL = re.compile(r"^(.*?)((?:\[\d+\])+)$")


class _PointGraph:
    """The loss's graph at one point: every node's forward value and adjoint, the names a formula
    can use, and (on demand) the gradients of mistaken backward passes."""

    def __init__(self, loss, point, data):
        self.point, self.data = point, data
        self.out, self.values = _build(loss, point)
        self.out.backward()
        self.order = topological_order(self.out)
        self.batch = next((len(n.data) for n in self.order if n.data.__class__ is ndarray), None)
        self.grads = {name: _grads(v) for name, v in self.values.items()}
        self._names = None

    # names a formula can use --------------------------------------------------------------------
    def env(self, extra_n=None):
        env = {}
        if self.data:
            for k, v in self.data.items():
                arr = np.asarray(v, dtype=np.float64)
                value = Batch(arr) if (self.batch and arr.ndim >= 1 and arr.shape[0] == self.batch) else (
                    arr if arr.ndim else float(arr))
                env.update(dict.fromkeys(_spell(k), value))
        groups = {}
        for node in self.order:
            if _label(node) is None or (not node._prev and _label(node) in self.point):
                continue
            m = _LABEL.match(_label(node))
            if m:
                idx = tuple(int(i) for i in re.findall(r"\d+", m.group(2)))
                groups.setdefault(m.group(1), {})[idx] = node.data
            else:
                value = Batch(node.data) if node.data.__class__ is ndarray else node.data
                env.update(dict.fromkeys(_spell(_label(node)), value))
        for base, items in groups.items():
            if base in self.point:
                continue
            shape = tuple(max(i[d] for i in items) + 1 for d in range(len(next(iter(items)))))
            sample = next(iter(items.values()))
            if sample.__class__ is ndarray:       # batch nodes: samples first, then the label's indices
                arr = np.zeros((len(sample),) + shape)
                for idx, v in items.items():
                    arr[(slice(None),) + idx] = v
                env.update(dict.fromkeys(_spell(base), Batch(arr)))
            else:
                arr = np.zeros(shape)
                for idx, v in items.items():
                    arr[idx] = v
                env.update(dict.fromkeys(_spell(base), arr))
        for k, v in self.point.items():
            env.update(dict.fromkeys(_spell(k), v))
        size = self.batch or extra_n
        if size:
            env.setdefault("n", float(size))
            env.setdefault("m", float(size))
        return env

    # ∂-fractions inside a formula, by autograd ----------------------------------------------------------
    def partial(self, of, wrt):
        """∂of/∂wrt at this point: ``of`` a labelled scalar node (or, if no node has that label, the
        loss itself: the document's L, C or U), ``wrt`` a parameter or labelled node(s)."""
        from .engine import grad
        target = self._labelled(of)
        if target is None:
            target = [self.out]
        if len(target) != 1 or target[0].data.__class__ is ndarray:
            raise FormulaError(f"∂{of}/∂{wrt}: {of} must be one number (a scalar node or the loss)")
        inputs = self._labelled(wrt)
        if inputs is None:
            known = sorted({s for n in self.order if _label(n) for s in _spell(_LABEL.sub(r"\1", _label(n)))})
            raise FormulaError(f"∂{of}/∂{wrt}: no node is named {wrt!r}; names that exist: {', '.join(known)}")
        grads = grad(target[0], inputs)
        arrays = [np.asarray(g, dtype=np.float64) for g in grads]
        if len(inputs) == 1 and not _LABEL.match(_label(inputs[0]) or ""):
            g = arrays[0]
            return Batch(g) if g.ndim else float(g)
        stacked = np.stack(arrays, axis=-1)
        shape = self._label_shape(wrt)
        if stacked.ndim == 2:        # batch nodes: samples first
            return Batch(stacked.reshape((stacked.shape[0],) + shape))
        return stacked.reshape(shape)

    def _labelled(self, name):
        exact = [n for n in self.order if _label(n) and name in _spell(_label(n))]
        if exact:
            return exact[:1]
        found = [(tuple(int(i) for i in re.findall(r"\d+", m.group(2))), n) for n in self.order
                 if _label(n) and (m := _LABEL.match(_label(n))) and name in _spell(m.group(1))]
        return [n for _, n in sorted(found, key=lambda t: t[0])] or None

    def _label_shape(self, name):
        idx = [tuple(int(i) for i in re.findall(r"\d+", m.group(2))) for n in self.order
               if _label(n) and (m := _LABEL.match(_label(n))) and name in _spell(m.group(1))]
        return tuple(max(i[d] for i in idx) + 1 for d in range(len(idx[0])))

    # names of nodes, for explanations --------------------------------------------------------------
    def names(self):
        if self._names is None:
            names = {}
            data = {k: np.asarray(v, dtype=np.float64) for k, v in (self.data or {}).items()}
            for node in self.order:
                if _label(node) is not None:
                    names[id(node)] = _label(node)
                elif not node._prev:
                    names[id(node)] = self._constant_name(node, data)
                else:
                    kids = [names[id(c)] for c in node._prev]
                    text = _expression(node._rule, kids)
                    names[id(node)] = text if len(text) <= 28 else f"the {node._rule.name} node"
            self._names = names
        return self._names

    @staticmethod
    def _constant_name(node, data):
        v = node.data
        if v.__class__ is ndarray:
            for k, arr in data.items():
                if arr.shape == v.shape and np.array_equal(arr, v):
                    return k
                if arr.ndim == 2 and arr.shape[0] == v.shape[0]:
                    for j in range(arr.shape[1]):
                        if np.array_equal(arr[:, j], v):
                            return f"{k}[{j}]"
                if arr.shape == v.shape and np.array_equal(-arr, v):
                    return f"−{k}"
            return "a data column"
        for k, arr in data.items():
            if arr.ndim == 0 and float(arr) == v:
                return k
        return f"{v:g}"

    # mistaken backward passes ----------------------------------------------------------------------
    def mistakes(self, name):
        """{key: (kind, node ids, gradient of ``name`` the mistaken pass gives)} at this point.

        Backward is linear in each edge's contribution, so changing edge (v → c)'s local
        derivative from l to l' changes ∂L/∂p by (l' − l)·∂L/∂v·∂c/∂p; ∂c/∂p comes from one
        forward-mode pass (`_tangents`). Exact, and one small numpy product per candidate.
        """
        leaves = self.values[name]
        flat = list(leaves.ravel()) if isinstance(leaves, ndarray) else [leaves]
        shape = leaves.shape if isinstance(leaves, ndarray) else ()
        tangent, local = self._tangents(flat)
        truth = np.array([p.grad for p in flat], dtype=np.float64)
        fan = {}
        for node in self.order:
            for c in node._prev:
                fan.setdefault(id(c), []).append(node)
        by_op = {}
        for node in self.order:
            if node._prev and len(node._prev) == 1:
                by_op.setdefault(_op_key(node._rule), []).append(node)
        out, groups = {}, {}

        def add(key, kind, ids, v, c, new, old, other=None):
            t = tangent.get(id(c))
            if t is None:
                return
            coef = _sub(new, old) * v.grad
            delta = np.asarray(coef, dtype=np.float64)[..., None] * t
            if delta.ndim == 2:
                delta = delta.sum(axis=0)
            if not np.any(delta):
                return
            out[key] = (kind, ids, (truth + delta).reshape(shape))
            # the same mistake on every element of a labelled layer (h2[0], h2[1], …): one mistake in
            # a vector formula. The layer's nodes are side by side, so their changes simply add up.
            group = _layer(v), _layer(c), _layer(other) if other is not None else None
            if group[0] is not None and (other is None or (group[2] is not None and
                                                             _index(other) == _index(v))):
                gkey = ("layer", kind, *group, pos)
                if gkey in groups:
                    groups[gkey][2] += delta
                    groups[gkey][3] += 1
                else:
                    groups[gkey] = [kind, ids + ("layer",), delta.copy(), 1]

        for k, v in enumerate(self.order):
            if not v._prev:
                continue
            locs = local[id(v)]
            rule = v._rule
            for pos, c in enumerate(v._prev):
                if id(c) not in tangent:
                    continue
                old = locs[pos]
                # a forgotten local derivative: taken as 1
                if not (old.__class__ is float and old == 1.0):
                    add((k, pos, "forgot"), "forgotten derivative", (id(v), id(c), pos), v, c, 1.0, old)
                # a missing path: one of several contributions to c left out
                if len(fan.get(id(c), ())) >= 2:
                    add((k, pos, "path"), "missing path", (id(v), id(c), pos), v, c, 0.0, old)
                # the wrong factor of a product: ∂(u·v)/∂u taken as u
                if len(v._prev) >= 2 and not any(o is c for j, o in enumerate(v._prev) if j != pos):
                    add((k, pos, "factor"), "wrong factor", (id(v), id(c), pos), v, c, c.data, old)
                # the rule evaluated at the op's output instead of its input: σ'(a1) where σ'(z1) belongs
                if len(v._prev) == 1:
                    try:
                        wrong = rule.locals([v.data], rule.apply([v.data]))[0]
                    except Exception:  # noqa: BLE001 - outside the rule's domain: not a candidate
                        wrong = None
                    if wrong is not None:
                        add((k, pos, "output"), "at output", (id(v), id(c), pos), v, c, wrong, old)
                # the same rule evaluated at another node of the same op
                if len(v._prev) == 1:
                    for j, other in enumerate(by_op.get(_op_key(rule), ())):
                        if other is v or np.shape(other.data) != np.shape(v.data):
                            continue
                        try:
                            wrong = rule.locals([other._prev[0].data], other.data)[0]
                        except Exception:  # noqa: BLE001 - a rule outside its domain is not a candidate
                            continue
                        add((k, pos, "node", j), "wrong node", (id(v), id(c), pos, id(other)), v, c, wrong, old,
                            other)
        for gkey, (kind, ids, delta, count) in groups.items():
            if count >= 2:
                out[gkey] = (kind, ids, (truth + delta).reshape(shape))
        return out

    def _tangents(self, params):
        """∂node/∂p for every node that depends on the parameters ``params`` (forward mode), as a
        vector over p (with a leading sample axis for a batch node); and every node's locals."""
        tangent = {}
        for i, p in enumerate(params):
            t = np.zeros(len(params))
            t[i] = 1.0
            tangent[id(p)] = t
        local = {}
        for node in self.order:
            if not node._prev:
                continue
            kids = node._prev
            locs = node._rule.locals([c.data for c in kids], node.data)
            local[id(node)] = locs
            acc = None
            for c, l in zip(kids, locs):
                t = tangent.get(id(c))
                if t is None:
                    continue
                term = np.asarray(l, dtype=np.float64)[..., None] * t
                acc = term if acc is None else acc + term
            if acc is not None:
                if node.data.__class__ is not ndarray and acc.ndim == 2:
                    acc = acc.sum(axis=0)
                tangent[id(node)] = acc
        return tangent, local


def _spell(name):
    """The names a formula can use for a label, parameter or data name (``ŷ`` → y_hat, ``z₁`` → z1,
    ``a^{(1)}`` → a1, as `microreg.notation` reads names), and the name itself if it is a Python
    identifier (what a function formula's arguments are called)."""
    names = spellings(name)
    return names + (name,) if name.isidentifier() and name not in names else names


def _label(node):
    """The name a user gave a node, or None: a number an operator wrapped (labelled with the
    engine's ``Constant`` marker, where the engine has one) has no name of its own."""
    label = node.label
    if label is None or type(label).__name__ == "Constant":
        return None
    return str(label)


def _layer(node):
    """The array name of a node labelled like ``h2[3]`` (``h2``), else None."""
    m = _LABEL.match(_label(node)) if _label(node) else None
    return m.group(1) if m else None


def _index(node):
    return _LABEL.match(_label(node)).group(2)


def _sub(a, b):
    return np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)


# --- formulas: strings, functions ----------------------------------------------------------------------

def _prepare(name, formula):
    """A hand formula as a callable ``f(env, graph) -> value``, with ``.uses`` (the names it reads)."""
    if isinstance(formula, str):
        try:
            formula = parse(formula)
        except FormulaError as exc:
            raise FormulaError(f"verify: hand[{name!r}]: {exc}", column=exc.column, expected=exc.expected,
                               text=exc.text) from None
    if isinstance(formula, Formula):
        def run(env, graph, formula=formula):
            return formula.evaluate(env, partial=graph.partial)
        run.uses, run.formula = formula.names + formula.sizes, formula
        return run
    if not callable(formula):
        raise TypeError(f"verify: hand[{name!r}] must be a formula string or a function, "
                        f"got {type(formula).__name__}")
    try:
        sig = inspect.signature(formula)
    except (TypeError, ValueError):
        sig = None
    params = list(sig.parameters.values()) if sig else []
    if any(p.kind is p.VAR_POSITIONAL for p in params) or any(p.kind is p.POSITIONAL_ONLY for p in params):
        raise TypeError(f"verify: hand[{name!r}] takes *args or positional-only arguments; write it with the "
                        "names it needs, e.g. lambda y_hat, y, a1: (y_hat - y) * a1")
    wanted = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
              and p.default is p.empty]
    optional = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and p.default is not p.empty]
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)

    def run(env, graph):
        point = graph.point
        missing = [w for w in wanted if w not in env]
        if missing:
            raise TypeError(f"verify: hand[{name!r}] asks for {', '.join(map(repr, missing))}, which is not a "
                            f"parameter, a labelled node or a data name; names that exist: "
                            f"{', '.join(sorted(env))}")
        args = {w: _plain(env[w]) for w in wanted}
        args.update({w: _plain(env[w]) for w in optional if w in env})
        if var_kw:
            args.update({k: v for k, v in (point or {}).items() if k not in args})
        return formula(**args)
    run.uses, run.formula = tuple(wanted), None
    return run


def _plain(v):
    return v.data if isinstance(v, Batch) else v


def _fit_shape(name, value, target, string):
    """Your formula's value in the shape of ∂L/∂name: a batch not reduced by Σ is summed over the
    samples (a per-sample formula applied to a batch); a formula string's vector where a number
    belongs is a dot product (summed). Returns (array, transposed?)."""
    if isinstance(value, Batch):
        value = value.data.sum(axis=0)
    h = np.asarray(value, dtype=np.float64)
    if h.shape == target:
        return h, False
    if h.size == int(np.prod(target)) and (h.ndim <= 1 or len(target) <= 1):
        return h.reshape(target), False
    if string and target == () and h.ndim >= 1:
        return np.asarray(h.sum()), False
    if len(target) == 2 and h.shape == target[::-1]:
        return h.T, True
    hint = ""
    raise ValueError(f"verify: hand[{name!r}] gives shape {h.shape}, but {name} has shape {target}{hint}")


# --- the numeric verifier ---------------------------------------------------------------------------

def verify(loss, hand, at=None, data=None, n=None, rtol=1e-6, atol=1e-9, nearby=4, seed=0, timeout=5.0,
           explain=True, letter=None):
    """Compare hand-derived partial derivatives with autograd; return a `Report`.

    ``loss(**args)`` builds a scalar Value from the parameters; ``hand`` maps each parameter name
    to your formula for ∂loss/∂name: a string in your notation, or a function of the names it
    needs (see the module docstring for how names resolve; ``data`` maps more names to numbers or
    arrays, e.g. the x and y of a batch). ``at`` is a dict of name → float or array (an array
    reaches ``loss`` as a numpy object array of Values), or a list of such dicts. Besides the
    given points, ``nearby`` random points near each (seeded) are checked, so an explanation is
    one that holds everywhere checked, not at one lucky point. ``n`` (the number of samples) lets
    the diagnosis name n and 1/n factors (it defaults to the batch size of the graph); ``letter``
    is what your derivation calls it ("m" if your formulas use m and not n, else "n").
    ``explain=False`` skips the search for the mistake.

    If ``loss`` is a sympy expression and ``hand`` maps symbols (or their names) to sympy
    expressions, the symbolic path runs instead: see `verify_symbolic`.
    """
    if _is_sympy(loss):
        return verify_symbolic(loss, hand, at=at, timeout=timeout, seed=seed)
    if at is None:
        raise TypeError("verify: give the point(s) to check at, e.g. at={'w': 0.5}")
    given = [at] if isinstance(at, dict) else list(at)
    if not given:
        raise ValueError("verify: 'at' holds no point")
    for name in hand:
        if name not in given[0]:
            raise KeyError(f"verify: hand has a formula for {name!r}, but 'at' gives no value for it "
                           f"(arguments: {sorted(given[0])})")
    formulas = {name: _prepare(name, f) for name, f in hand.items()}
    rng = np.random.default_rng(seed)
    graphs, is_given = [], []
    for p in given:
        p = _as_float_point(p)
        graphs.append(_PointGraph(loss, p, data))
        is_given.append(True)
        for _ in range(nearby):
            q = _nearby_in_domain(loss, p, rng)
            if q is not None:
                graphs.append(_PointGraph(loss, q, data))
                is_given.append(False)
    if n is None:
        n = graphs[0].batch
    if letter is None:
        letter = "m" if any("m" in f.uses and "n" not in f.uses for f in formulas.values()) else "n"
    auto, mine, flipped = {name: [] for name in hand}, {name: [] for name in hand}, {name: False for name in hand}
    for g in graphs:
        env = g.env(n)
        for name, run in formulas.items():
            a = np.asarray(g.grads[name], dtype=np.float64)
            try:
                value = run(env, g)
            except FormulaError as exc:
                raise FormulaError(f"verify: hand[{name!r}]: {exc}", column=exc.column,
                                   expected=exc.expected, text=exc.text) from None
            h, t = _fit_shape(name, value, a.shape, run.formula is not None)
            flipped[name] |= t
            auto[name].append(a)
            mine[name].append(h)
    points = [g.point for g in graphs]
    verdicts = {}
    for name in hand:
        verdicts[name] = _diagnose(name, auto[name], mine[name], points, is_given, loss, n, rtol, atol,
                                   graphs if explain else None, letter, flipped[name])
    return Report(verdicts, len(points))


def _fits(H, G, rtol, atol):
    return bool(np.all(np.abs(H - G) <= atol + rtol * np.abs(G)))


def _factor_fit(H, G, rtol, atol):
    """k with H = k·G at every point and element (k ≠ 1), or None."""
    big = np.abs(G) > 1e-8 * max(1.0, float(np.abs(G).max()))
    if not big.any():
        return None
    k = float(np.median(H[big] / G[big]))
    if not math.isfinite(k) or k == 0 or math.isclose(k, 1.0, rel_tol=rtol):
        return None
    return k if _fits(H, k * G, rtol, atol) else None


def _diagnose(name, autos, hands, points, is_given, loss, n, rtol, atol, graphs, letter, transposed):
    A = np.stack([a.ravel() for a in autos])          # (points, elements)
    H = np.stack([h.ravel() for h in hands])
    first_a = autos[0] if autos[0].ndim else float(autos[0])
    first_h = hands[0] if hands[0].ndim else float(hands[0])
    err = np.abs(H - A)
    tol = atol + rtol * np.abs(A)
    common = dict(autograd=first_a, hand=first_h, max_abs_error=float(err.max()),
                  max_rel_error=float((err / np.maximum(np.abs(A), 1e-300)).max()))
    if not np.isfinite(H).all():
        p, e = np.argwhere(~np.isfinite(H))[0]
        return Verdict(name, False, "wrong", f"wrong: your formula gives {H[p, e]} at point {p}"
                       f"{_element(autos[0], e)} (autograd {A[p, e]:.6g})", worst=(int(p), int(e), A[p, e], H[p, e]),
                       **common)
    bad = err > tol
    if transposed:
        shape = autos[0].shape
        if not bad.any():
            ex = Explanation("transpose", (name,), None,
                             f"your formula has shape {shape[::-1]}, the transpose of {name}'s {shape}: it is "
                             f"autograd's transpose (rows and columns swapped; write it transposed)")
            return Verdict(name, False, "wrong", ex.text, explanations=[ex], **common)
    if not bad.any():
        return Verdict(name, True, "match", f"matches autograd (max abs error {_error_text(err.max(), A)})",
                       **common)

    # a kink: every mismatch sits where the loss has different one-sided slopes
    kinks = _kinks(name, points, autos[0].shape, bad, H, loss)
    if kinks is not None:
        inside = all(ok for _, _, _, ok in kinks)
        left, right, h, _ = kinks[0]
        text = (f"a kink: at {len(kinks)} element(s) the loss has no derivative (left slope {left:.6g}, "
                f"right slope {right:.6g}); only a subgradient exists, any value between is valid; yours "
                + ("is one" if inside else f"({h:.6g}) is not"))
        return Verdict(name, inside, "kink", text, **common)

    # the worst element, at a point you gave if it is wrong there
    ratio = err / tol
    given = np.array(is_given)
    if bad[given].any():
        ratio = np.where(given[:, None], ratio, -1.0)
    p, e = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    worst = (int(p), int(e), float(A[p, e]), float(H[p, e]))

    found = _explain(name, A, H, autos[0].shape, graphs, n, rtol, atol, letter)
    shape = autos[0].shape
    turned = (f"your formula has shape {shape[::-1]}, the transpose of {name}'s {shape}; transposed, it is still "
              "wrong: " if transposed else "")
    if found:
        k = next((e.factor for e in found if e.kind == "factor"), None)
        kind = "factor" if found[0].kind == "factor" else "wrong"
        text = turned + "; or: ".join(e.text for e in found)
        return Verdict(name, False, kind, text, factor=k, explanations=found, worst=worst, **common)

    where = (f"the given point {_short(points[p])}" if is_given[p]
             else f"the random point {_short(points[p])} near a given one")
    text = (f"{turned}wrong, and no single mistake explains it: at {where}{_element(autos[0], e)} autograd gives "
            f"{A[p, e]:.6g}, your formula {H[p, e]:.6g}")
    return Verdict(name, False, "wrong", text, worst=worst, **common)


_ORDER = {"factor": 0, "element factor": 1, "transpose": 2, "forgotten derivative": 3, "wrong node": 4,
          "wrong factor": 5, "missing path": 6, "extra factor": 7, "at output": 4}


def _explain(name, A, H, shape, graphs, n, rtol, atol, letter):
    """Every explanation that holds at every point, simplest first."""
    found = []
    k = _factor_fit(H, A, rtol, atol)
    if k is not None:
        found.append(Explanation("factor", (name,), k, f"off by a constant factor {k:.6g}: {name_factor(k, n, letter)}"))
    if A.shape[1] > 1 and k is None:
        per = _element_factors(A, H, rtol, atol)
        if per:
            parts = []
            for e, ke in per.items():
                words = "sign flipped" if math.isclose(ke, -1.0, rel_tol=1e-6) else f"× {ke:.6g} ({name_factor(ke, n, letter)})"
                parts.append(f"element {_element_index(shape, e)}: {words}")
            found.append(Explanation("element factor", (name,), {_element_index(shape, e): ke for e, ke in per.items()},
                                     "; ".join(parts) + "; the other elements agree"))
    if len(shape) == 2 and shape[0] == shape[1] and k is None:
        T = np.stack([a.reshape(shape).T.ravel() for a in A])
        if _fits(H, T, rtol, atol):
            found.append(Explanation("transpose", (name,), None,
                                     f"your formula is autograd's transpose: rows and columns of {name} swapped"))
    if graphs is None:
        return found
    # a constant factor equal to a fixed node's value (data x, or 1/x) is a local derivative left out
    # or put in: search the mistaken passes too, and name the node before the bare number
    leaf = _fixed_leaf(graphs, k, rtol) if k is not None else None
    if k is not None and leaf is None:   # a plain constant factor: a structural mistake would be a coincidence
        return found
    per_point = [g.mistakes(name) for g in graphs]
    keys = set(per_point[0])
    for m in per_point[1:]:
        keys &= set(m)
    exact, combined = [], []
    for key in sorted(keys, key=lambda t: (_ORDER[per_point[0][t][0]], t[0] == "layer", str(t))):
        kind, ids, _ = per_point[0][key]
        G = np.stack([np.asarray(m[key][2], dtype=np.float64).ravel() for m in per_point])
        if _fits(G, A, rtol, atol):
            continue
        if _factor_fit(G, A, rtol, atol) is not None and leaf is None:    # only a constant factor in disguise
            continue
        if _fits(H, G, rtol, atol):
            exact.append(_structural(graphs[0], kind, ids, None, n, letter))
        else:
            kk = _factor_fit(H, G, rtol, atol)
            if kk is not None and _nice(kk, n) <= 1:     # a factor a derivation makes (2, ½, n, −1, …)
                combined.append((_nice(kk, n), _structural(graphs[0], kind, ids, kk, n, letter)))
    if leaf is not None:
        node, extra = leaf
        if extra:       # hand = x × autograd: the local derivative x of a product, put where it does not belong
            exact.append(_extra_factor(graphs[0], node, name))
        elif not exact:
            exact.append(Explanation("forgotten derivative", (graphs[0].names()[id(node)],), None,
                                     f"a factor {graphs[0].names()[id(node)]} left out (1/{k:.6g} = "
                                     f"{node.data:.6g}: a forgotten local derivative)"))
        if name_factor(k, n, letter) == "a constant factor":    # the node says more than the bare number
            return (exact + found)[:4]
        return (found + exact)[:4]
    found += exact
    found += [e for _, e in sorted(combined, key=lambda t: t[0])]
    return found[:4]


def _fixed_leaf(graphs, k, rtol):
    """(leaf, True) when k equals the value of a leaf that is the same at every point (data, not a
    parameter), (leaf, False) when 1/k does; else None. ±1 and 0 say nothing."""
    params = set()
    for g in graphs[:1]:
        for v in g.values.values():
            params.update(id(p) for p in (v.ravel() if isinstance(v, ndarray) else [v]))
    first = graphs[0].order
    for i, node in enumerate(first):
        if node._prev or id(node) in params or node.data.__class__ is ndarray:
            continue
        x = float(node.data)
        if x == 0 or math.isclose(abs(x), 1.0, rel_tol=rtol):
            continue
        if any(len(g.order) != len(first) or g.order[i]._prev or g.order[i].data != x for g in graphs[1:]):
            continue
        if math.isclose(k, x, rel_tol=1e-6):
            return node, True
        if math.isclose(k * x, 1.0, rel_tol=1e-6):
            return node, False
    return None


def _extra_factor(graph, leaf, name):
    """"an extra factor x (∂(w1·x)/∂w1 = x does not belong in ∂L/∂b1)": hand = x × autograd."""
    names = graph.names()
    ln = names[id(leaf)]
    where = ""
    for v in graph.order:
        kids = v._prev
        if len(kids) == 2 and any(c is leaf for c in kids):
            pos = 0 if kids[1] is leaf else 1
            other = kids[pos]
            kid_names = [names[id(c)] for c in kids]
            if _local_text(v._rule, pos, kid_names) != ln:
                continue
            what = (f"∂{names[id(v)]}/∂{names[id(other)]}" if _label(v)
                    else f"∂({_expression(v._rule, kid_names)})/∂{names[id(other)]}")
            where = f" ({what} = {ln} does not belong in ∂L/∂{name})"
            break
    return Explanation("extra factor", (ln,), None, f"an extra factor {ln}{where}")


def _element_factors(A, H, rtol, atol):
    """{element: k} when every element is a constant multiple of autograd's (some k ≠ 1), else None."""
    out = {}
    for e in range(A.shape[1]):
        a, h = A[:, e], H[:, e]
        if _fits(h, a, rtol, atol):
            continue
        k = _factor_fit(h, a, rtol, atol)
        if k is None:
            return None
        out[e] = k
    return out or None


def _element_index(shape, flat):
    idx = np.unravel_index(flat, shape) if shape else ()
    return "".join(f"[{i}]" for i in idx)


def _structural(graph, kind, ids, factor, n, letter):
    names = graph.names()
    nodes = {id(x): x for x in graph.order}
    v, c, pos = nodes[ids[0]], nodes[ids[1]], ids[2]
    layer = ids[-1] == "layer"

    def name_of(x):          # a layer-wide mistake speaks of h2, not h2[0]
        text = names[id(x)]
        return _LABEL.sub(r"\1", text) if layer and _label(x) else text

    vn, cn = name_of(v), name_of(c)
    kid_names = [name_of(x) for x in v._prev]
    rule = v._rule
    right = _local_text(rule, pos, kid_names)
    what = f"∂{vn}/∂{cn} = {right}" if _label(v) else f"∂({_expression(rule, kid_names)})/∂{cn} = {right}"
    if kind == "forgotten derivative":
        text = f"you left out {what} (a forgotten local derivative)"
        involved = (vn, cn)
    elif kind == "wrong node":
        other = nodes[ids[3]]
        on = name_of(other._prev[0])
        wrong = _local_text(rule, pos, [on])
        right, wrong = _primed(rule, cn, right), _primed(rule, on, wrong)
        which = " (the wrong layer)" if re.sub(r"\d", "", on) == re.sub(r"\d", "", cn) else ""
        text = f"{wrong} where {right} belongs: the local derivative of {vn} evaluated at {on} instead of {cn}{which}"
        involved = (vn, cn, on)
    elif kind == "at output":
        right, wrong = _primed(rule, cn, right), _primed(rule, vn, _local_text(rule, pos, [vn]))
        text = (f"{wrong} where {right} belongs: the local derivative of {vn} evaluated at its output {vn} "
                f"instead of its input {cn}")
        involved = (vn, cn)
    elif kind == "wrong factor":
        text = f"∂({_expression(rule, kid_names)})/∂{cn} taken as {cn} instead of {right} (the wrong factor of a product)"
        involved = (vn, cn)
    else:
        users = [name_of(x) for x in graph.order if any(ch is c for ch in x._prev)]
        text = (f"{cn} reaches the loss through {len(users)} nodes ({', '.join(users)}); your formula leaves out "
                f"the path through {vn}")
        involved = (cn, vn)
    if layer:
        text += " (on every element)"
    if factor is not None:
        text += f", and off by a factor {factor:.6g}: {name_factor(factor, n, letter)}"
    return Explanation(kind, involved, factor, text)


def _op_key(rule):
    """Ops that are "the same rule": same name and same constant (the exponent of a^k)."""
    return rule.name, getattr(rule, "const", None)


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


def _error_text(err, reference):
    """An agreeing error, printed so it does not depend on the last bits of a float (BLAS kernels
    differ by CPU): anything at rounding level, below 1e-12 of the gradient's size (at least 1),
    is "< 1e-12" (or the power of ten above that bound); larger errors to one digit."""
    scale = max(1.0, float(np.abs(reference).max()) if np.size(reference) else 1.0)
    bound = 10.0 ** math.ceil(math.log10(1e-12 * scale) - 1e-9)
    if err < bound:
        return f"< {bound:.0e}"
    return f"{err:.0e}"


def _short(point):
    parts = []
    for k, v in point.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}=array{np.shape(v)}")
    return "(" + ", ".join(parts) + ")"


def _element(example, flat_index):
    if example.ndim == 0:
        return ""
    idx = np.unravel_index(flat_index, example.shape)
    return ", element " + "".join(f"[{i}]" for i in idx)


def _kinks(name, points, shape, bad, H, loss, limit=20):
    """For each mismatched element, one-sided finite differences: (left slope, right slope, yours,
    yours is between them); None unless every mismatch sits on a kink."""
    found = []
    for p, e in np.argwhere(bad)[:limit]:
        point = points[p]
        base = np.asarray(point[name], dtype=np.float64)
        idx = np.unravel_index(e, shape) if shape else ()
        x0 = float(base[idx]) if shape else float(base)
        h = 1e-6 * max(1.0, abs(x0))

        def value_at(x):
            moved = dict(point)
            arr = np.array(base, dtype=np.float64, copy=True)
            if shape:
                arr[idx] = x
                moved[name] = arr
            else:
                moved[name] = x
            return _autograd_value(loss, moved)

        try:
            f0 = value_at(x0)
            left, right = (f0 - value_at(x0 - h)) / h, (value_at(x0 + h) - f0) / h
        except MathDomainError:
            return None
        scale = max(1.0, abs(left), abs(right))
        if abs(left - right) <= 1e-3 * scale:
            return None
        mine = float(H[p, e])
        slack = 1e-4 * scale      # a one-sided difference is exact only to O(h)
        inside = min(left, right) - slack <= mine <= max(left, right) + slack
        found.append((left, right, mine, inside))
    return found


def _autograd_value(loss, point):
    values = {name: _to_values(name, v) for name, v in point.items()}
    return loss(**values).data


# --- the symbolic path ------------------------------------------------------------------------------

def _is_sympy(obj):
    try:
        import sympy
    except ImportError:
        return False
    return isinstance(obj, sympy.Basic)


def _prove(queue, difference):
    import sympy
    try:
        queue.put(sympy.simplify(difference) == 0)
    except Exception:  # noqa: BLE001 - any failure to simplify is "not proved"
        queue.put(False)


def verify_symbolic(loss, hand, at=None, timeout=5.0, seed=0, samples=20):
    """Check sympy formulas: try to prove ∂loss/∂s − hand[s] ≡ 0 (within ``timeout`` seconds,
    in a separate process so a slow simplification cannot hang you), then spot-check numerically
    at ``at`` (if given) and random points. Verdicts: "proved", "numerically consistent", or
    "refuted" with the counter-example; "undecided" (not ok) when too few points could be
    evaluated to say: too little evidence is not a match.

    The points are evaluated with mpmath (30 digits, no overflow or underflow: e^(w⁵⁰) at w = 1.5
    is a number like any other), so a formula missing a term is not "consistent" only because
    every float point overflowed or underflowed to 0 == 0. A point where both sides are exactly 0
    shows nothing and does not count; ``MIN_EVIDENCE`` points that do are needed.
    """
    import mpmath
    import sympy
    symbols = {s.name: s for s in loss.free_symbols}
    verdicts = {}
    rng = np.random.default_rng(seed)
    for key, formula in hand.items():
        s = key if isinstance(key, sympy.Symbol) else symbols.get(key, sympy.Symbol(key))
        formula = sympy.sympify(formula)
        derivative = sympy.diff(loss, s)
        difference = derivative - formula
        proved = _run_with_timeout(_prove, difference, timeout)
        free = sorted(difference.free_symbols | loss.free_symbols | formula.free_symbols, key=lambda t: t.name)
        name = s.name
        try:
            f_true = sympy.lambdify(free, derivative, "mpmath")
            f_hand = sympy.lambdify(free, formula, "mpmath")
        except Exception as exc:  # noqa: BLE001 - a function mpmath has no counterpart for
            f_true = f_hand = None
            unevaluable = f"{type(exc).__name__}: {exc}"
        pts = []
        if at is not None:
            pts += [at] if isinstance(at, dict) else list(at)
        pts += [{t.name: float(rng.uniform(-2, 2)) for t in free} for _ in range(samples)]
        counter = None
        checked = 0
        pairs = []
        skipped = {}
        for pt in pts if f_true is not None else ():
            args = [mpmath.mpf(float(pt.get(t.name, pt.get(t, 0.0)))) for t in free]
            try:
                with mpmath.workdps(30):
                    a, b = mpmath.mpmathify(f_true(*args)), mpmath.mpmathify(f_hand(*args))
            except Exception as exc:  # noqa: BLE001 - outside a function's domain, or mpmath cannot
                why = f"{type(exc).__name__}: {exc}"
                skipped[why] = skipped.get(why, 0) + 1
                continue
            if isinstance(a, mpmath.mpc) or isinstance(b, mpmath.mpc):
                if abs(mpmath.im(a)) or abs(mpmath.im(b)):
                    skipped["a complex value"] = skipped.get("a complex value", 0) + 1
                    continue
                a, b = mpmath.re(a), mpmath.re(b)
            if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
                skipped["an infinite value"] = skipped.get("an infinite value", 0) + 1
                continue
            if a == 0 and b == 0:
                skipped["both sides exactly 0"] = skipped.get("both sides exactly 0", 0) + 1
                continue
            checked += 1
            pairs.append((a, b))
            if counter is None and abs(a - b) > mpmath.mpf(1e-9) * max(abs(a), abs(b)):
                counter = ({t.name: float(v) for t, v in zip(free, args)}, a, b)
        if counter is not None:
            point, a, b = counter
            text = (f"refuted: at {point} the derivative is {mpmath.nstr(a, 6)}, "
                    f"your formula gives {mpmath.nstr(b, 6)}")
            fits = [(float(p), float(q)) for p, q in pairs if abs(p) < 1e300 and abs(q) < 1e300]
            k = _factor_fit(np.array([q for _, q in fits]), np.array([p for p, _ in fits]), 1e-9, 1e-12) \
                if fits else None
            found = []
            if k is not None:       # the same constant at every sample: name it, as the numeric path does
                found = [Explanation("factor", (name,), k, f"off by a constant factor {k:.6g}: {name_factor(k)}")]
                text += f"; {found[0].text}"
            verdicts[name] = Verdict(name, False, "refuted", text, autograd=_number(a), hand=_number(b),
                                     worst=(point, _number(a), _number(b)), factor=k, explanations=found)
        elif proved:
            verdicts[name] = Verdict(name, True, "proved", f"proved: ∂/∂{name} simplifies to your formula")
        elif checked >= MIN_EVIDENCE:
            text = (f"numerically consistent at {checked} random points (not proved: sympy could not "
                    f"simplify the difference to 0 within {timeout:g}s)")
            verdicts[name] = Verdict(name, True, "numerically consistent", text)
        else:
            if f_true is None:
                why = f"the formulas cannot be evaluated ({unevaluable})"
            else:
                why = f"only {checked} of {len(pts)} points could be compared"
                if skipped:
                    why += " (the others: " + ", ".join(f"{n} × {w}" for w, n in skipped.items()) + ")"
            text = (f"undecided: not proved (sympy could not simplify the difference to 0 within {timeout:g}s) "
                    f"and {why}; at least {MIN_EVIDENCE} are needed")
            verdicts[name] = Verdict(name, False, "undecided", text)
    return Report(verdicts, samples)


#: How many points where the two sides are not both 0 `verify_symbolic` needs to call formulas
#: "numerically consistent" without a proof.
MIN_EVIDENCE = 3


def _number(x):
    """An mpmath number as a float where it fits, else as mpmath keeps it (1e-1505 stays itself)."""
    return float(x) if abs(x) < 1e300 and (x == 0 or abs(x) > 1e-300) else x


def _run_with_timeout(target, arg, timeout):
    ctx = multiprocessing.get_context("fork") if hasattr(__import__("os"), "fork") else multiprocessing
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue, arg), daemon=True)
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return False
    return queue.get() if not queue.empty() else False


# --- gradcheck --------------------------------------------------------------------------------------

class GradcheckReport:
    """Element-by-element: autograd, finite difference, absolute and relative error, tolerance."""

    def __init__(self, rows, ok):
        self.rows, self.ok = rows, ok

    def __bool__(self):
        return self.ok

    def __str__(self):
        lines = [f"{'input':<10} {'element':<10} {'autograd':>14} {'numeric':>14} {'abs err':>10} {'rel err':>10} "
                 f"{'tolerance':>10}  ok"]
        for r in self.rows:
            lines.append(f"{r['input']:<10} {r['element']:<10} {r['autograd']:>14.8g} {r['numeric']:>14.8g} "
                         f"{r['abs_error']:>10.2e} {r['rel_error']:>10.2e} {r['tolerance']:>10.2e}  "
                         f"{'ok' if r['ok'] else 'FAIL'}")
        lines.append("gradcheck: " + ("all elements agree" if self.ok else "MISMATCH"))
        return "\n".join(lines)

    __repr__ = __str__


def _central_difference(f, build, raw, i, idx, h, tries=8):
    """(f(x + h) − f(x − h)) / 2h for element ``idx`` of input ``i``; the step shrinks while x ± h
    leaves f's domain (``w ** 0.5`` near 0), and a one-sided difference is the last resort."""
    def at(delta):
        moved = [a.copy() for a in raw]
        moved[i][idx] += delta
        return f(*build(moved)).data

    x0 = abs(float(raw[i][idx]))
    for _ in range(tries):
        try:
            return (at(h) - at(-h)) / (2 * h)
        except MathDomainError:
            h = min(h / 10, x0 / 100) if x0 else h / 10
    for sign in (1.0, -1.0):
        try:
            return sign * (at(sign * h) - at(0.0)) / h
        except MathDomainError:
            continue
    raise MathDomainError(f"gradcheck: input{i}{''.join(f'[{j}]' for j in idx)}: every nearby point leaves "
                          "the function's domain")


def gradcheck(f, *inputs, eps=None, atol=1e-6, rtol=1e-4):
    """Central finite differences in float64 against autograd, for every element of every input.

    ``f`` receives one Value per float input and a numpy object array of Values per array input,
    and returns a scalar Value. ``eps`` defaults to ∛(machine ε)·max(1, |x|) per element.
    """
    raw = [np.asarray(x, dtype=np.float64) for x in inputs]
    names = [f"input{i}" for i in range(len(raw))]

    def build(arrays):
        return [_to_values(nm, a if a.ndim else float(a)) for nm, a in zip(names, arrays)]

    values = build(raw)
    out = f(*values)
    if not isinstance(out, Value) or out.data.__class__ is ndarray:
        raise TypeError("gradcheck: f must return a scalar Value")
    out.backward()
    rows, ok = [], True
    for i, (arr, vals) in enumerate(zip(raw, values)):
        auto = _grads(vals)
        auto = np.asarray(auto)
        for idx in np.ndindex(arr.shape):
            x0 = float(arr[idx])
            h = eps if eps is not None else np.cbrt(np.finfo(float).eps) * max(1.0, abs(x0))
            numeric = _central_difference(f, build, raw, i, idx, h)
            a = float(auto[idx])
            abs_err = abs(a - numeric)
            tol = atol + rtol * abs(numeric)
            good = abs_err <= tol
            ok &= good
            rows.append({"input": names[i], "element": "".join(f"[{j}]" for j in idx) or "-", "autograd": a,
                         "numeric": numeric, "abs_error": abs_err, "rel_error": abs_err / max(abs(numeric), 1e-300),
                         "tolerance": tol, "ok": good})
    return GradcheckReport(rows, bool(ok))


# --- the documents ----------------------------------------------------------------------------------

def check_documents():
    """Run every formula of the three documents through ``verify``.

    Returns a list of (Formula, Report) pairs; see ``microreg.derivations.FORMULAS``.
    """
    from .derivations import FORMULAS
    return [(f, verify(f.loss, f.hand, f.at, n=f.n, data=f.data, letter=f.letter)) for f in FORMULAS]


def documents_table(results):
    """The plain-text table ``microreg check`` prints: document, formula, verdict, diagnosis."""
    lines = []
    for formula, report in results:
        for verdict in report:
            lines.append((formula.document, formula.formula, verdict.name, "ok" if verdict.ok else "WRONG"
                          if verdict.kind == "wrong" else "FACTOR" if verdict.kind == "factor" else
                          verdict.kind.upper(), verdict.diagnosis))
    width = max(len(l[1]) for l in lines)
    out = [f"{'doc':<4} {'formula':<{width}} {'arg':<6} {'verdict':<8} diagnosis",
           f"{'-' * 4} {'-' * width} {'-' * 6} {'-' * 8} {'-' * 9}"]
    for doc, text, arg, verdict, diagnosis in lines:
        out.append(f"{doc:<4} {text:<{width}} {arg:<6} {verdict:<8} {diagnosis}")
    return "\n".join(out)
