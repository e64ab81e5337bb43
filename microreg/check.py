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
- For every formula that is not right it **names the mistake**, with the one search the
  document checker and the quiz use (`microreg.mistakes`): mistaken backward passes computed from
  the graph and the rule table, and your formula re-evaluated with one place changed (a name
  replaced by another, a difference reversed, a factor dropped, a transpose); what your numbers
  equal at every point checked is said, simplest first, in your notation: a constant factor (a
  dropped ½, the 2 of a square, a missing 1/n, a flipped sign), a per-element factor, a forgotten
  or an extra local derivative, one at the wrong node, a wrong one (σ for σ'), the wrong factor of
  a product, one quantity where another belongs, a missing path, a transpose, a difference the
  wrong way round, a one-sample rule under a mean loss, or one of these and a factor. When none
  fits: "no single mistake explains it", with the worst element and both numbers. A function's
  arguments can be replaced like a string's names, and a function that only does arithmetic is
  called once with Values to find its differences. A function may return one value per sample
  of a batch (a per-sample rule, summed, as a string's).
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

import inspect
import multiprocessing
import re

import numpy as np

from .backprop import _nearby, verify_code
from .engine import MathDomainError, Value, topological_order
from .mistakes import (ONE, TRANSPOSE, Explanation, Graph, Occurrence, Quantity, _factor_fit, _fits, _worst, explain,
                       name_factor, words)
from .notation import Batch, Formula, FormulaError, Node, display, parse, spellings
from .report import Report, Verdict, _error_text

__all__ = ["verify", "verify_symbolic", "gradcheck", "check_documents", "documents_table", "Report", "Verdict",
           "Explanation", "name_factor"]

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


# --- one point: the graph and the names a formula can use -------------------------------------------

_LABEL = re.compile(r"^(.*?)((?:\[\d+\])+)$")


class _PointGraph:
    """The loss's graph at one point: every node's forward value and adjoint, and the names a
    formula can use (the search for a mistake reads it as a `microreg.mistakes.Graph`)."""

    def __init__(self, loss, point, data):
        self.point, self.data = point, data
        self.out, self.values = _build(loss, point)
        self.out.backward()
        self.order = topological_order(self.out)
        self.batch = next((len(n.data) for n in self.order if n.data.__class__ is ndarray), None)
        self.grads = {name: _grads(v) for name, v in self.values.items()}

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

    def args_of(env, graph, override=None):
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
        args.update(override or {})
        return args

    def run(env, graph, override=None):
        return formula(**args_of(env, graph, override))
    run.uses, run.formula, run.fn, run.args = tuple(wanted), None, formula, args_of
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
           explain=True, letter=None, args=(), kwargs=None, pass_params=None):
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

    If ``hand`` is **one function** (a learner's numpy backward pass returning a dict of
    gradients, ``{"dW1": …, "db1": …}``), ``loss`` is their numpy cost and both are run on
    the parameters ``at`` the way their code takes them (keywords, one dict, or in place), with
    ``args``/``kwargs`` passed on: see `microreg.backprop`.
    """
    if _is_sympy(loss):
        return verify_symbolic(loss, hand, at=at, timeout=timeout, seed=seed)
    if at is None:
        raise TypeError("verify: give the point(s) to check at, e.g. at={'w': 0.5}")
    if callable(hand) and not isinstance(hand, dict):
        return verify_code(loss, hand, at, args=args, kwargs=kwargs, pass_params=pass_params, nearby=nearby,
                           seed=seed, rtol=rtol, atol=atol, explain=explain, letter=letter)
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
    per_sample = {name: [] for name in hand}
    envs = []
    for g in graphs:
        env = g.env(n)
        envs.append(env)
        for name, run in formulas.items():
            a = np.asarray(g.grads[name], dtype=np.float64)
            try:
                value = run(env, g)
            except FormulaError as exc:
                raise FormulaError(f"verify: hand[{name!r}]: {exc}", column=exc.column,
                                   expected=exc.expected, text=exc.text) from None
            if (run.formula is None and isinstance(value, ndarray) and g.batch and value.ndim >= 1
                    and value.shape == (g.batch,) + a.shape):
                value = Batch(value)      # a function's one value per sample: a per-sample rule, summed
            per_sample[name].append(value.data if isinstance(value, Batch) else None)
            h, t = _fit_shape(name, value, a.shape, run.formula is not None)
            flipped[name] |= t
            auto[name].append(a)
            mine[name].append(h)
    points = [g.point for g in graphs]
    verdicts = {}
    for name in hand:
        verdicts[name] = _diagnose(name, auto[name], mine[name], points, is_given, loss, n, rtol, atol,
                                   graphs if explain else None, letter, flipped[name], formulas[name], envs,
                                   per_sample[name])
    return Report(verdicts, len(points))


def _diagnose(name, autos, hands, points, is_given, loss, n, rtol, atol, graphs, letter, transposed, run=None,
              envs=None, samples=None):
    """The verdict for one argument: match, a kink, or the mistake `microreg.mistakes` names."""
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
    shape = autos[0].shape
    sizes = [(letter, n, "samples")] if n and n > 1 else ()
    if transposed and not bad.any():
        ex = Explanation("transpose", (name,), wrt=f"∂L/∂{display(name)}", sizes=sizes,
                         detail={"shapes": (shape[::-1], shape)})
        return Verdict(name, False, "wrong", ex.text, explanations=[ex], **common)
    if not bad.any():
        return Verdict(name, True, "match", f"matches autograd (max abs error {_error_text(err.max(), A)})",
                       **common)

    # a kink: every mismatch sits where the loss has different one-sided slopes
    kinks = _kinks(name, points, shape, bad, H, loss)
    if kinks is not None:
        inside = all(ok for _, _, _, ok in kinks)
        left, right, h, _ = kinks[0]
        text = (f"a kink: at {len(kinks)} element(s) the loss has no derivative (left slope {left:.6g}, "
                f"right slope {right:.6g}); only a subgradient exists, any value between is valid; yours "
                + ("is one" if inside else f"({h:.6g}) is not"))
        return Verdict(name, inside, "kink", text, **common)

    # the worst element, at a point you gave if it is wrong there
    worst = _worst(A, H, rtol, atol, prefer=[i for i, g in enumerate(is_given) if g])
    p, e = worst[0], worst[1]
    if graphs is not None:
        diagnosis = _search(name, A, H, graphs, envs, run, samples, shape, sizes, rtol, atol)
        found, k = diagnosis.explanations, diagnosis.factor
    else:
        k = _factor_fit(H, A, rtol, atol)
        found = [Explanation("factor", (name,), k, sizes=sizes)] if k is not None else []
    turned = (f"your formula has shape {shape[::-1]}, the transpose of {name}'s {shape}; transposed, it is still "
              "wrong: " if transposed else "")
    if found:
        kind = "factor" if k is not None else "wrong"
        text = turned + "; or: ".join(words(x) for x in found)
        return Verdict(name, False, kind, text, factor=k, explanations=found, worst=worst, **common)

    where = (f"the given point {_short(points[p])}" if is_given[p]
             else f"the random point {_short(points[p])} near a given one")
    text = (f"{turned}wrong, and no single mistake explains it: at {where}{_element(autos[0], e)} autograd gives "
            f"{A[p, e]:.6g}, your formula {H[p, e]:.6g}")
    return Verdict(name, False, "wrong", text, worst=worst, **common)


# --- what the search needs from verify: the graphs, the names, the learner's formula ------------------

def _search(name, A, H, graphs, envs, run, samples, shape, sizes, rtol, atol):
    """Ask `microreg.mistakes` for the mistake: the loss's graph at every point, with ∂L/∂name
    checked, the names a formula can use, and the formula's own places to substitute."""
    searched = [Graph(g.out, g.values[name], data=g.data) for g in graphs]
    quantities, keys, label_of = _quantities(graphs, envs)
    occurrences, substitute = (), None
    if run is not None and run.formula is not None:
        occurrences, substitute = _formula_places(name, run.formula, graphs, envs, shape, keys, label_of)
    elif run is not None:
        occurrences, substitute = _argument_places(name, run, graphs, envs, shape, keys, label_of, H)
    one = None
    if samples and all(s is not None for s in samples):
        per = [g.per_sample() for g in searched]
        if all(x is not None for x in per):
            one = all(np.shape(s.reshape(len(s), -1)) == x.shape and _fits(s.reshape(len(s), -1), x, rtol, atol)
                      for s, x in zip(samples, per))
    return explain(searched, H, A, wrt=name, occurrences=occurrences, quantities=quantities, substitute=substitute,
                   sizes=sizes, one_sample=one, rtol=rtol, atol=atol)


def _quantities(graphs, envs):
    """The names a formula can use, once each (as the user wrote them), with their value at every
    point; the formula name (env key) of each; and the user's label of each formula name."""
    g = graphs[0]
    found, seen = [], set()

    def add(label, key):
        shown = display(label)
        if shown in seen or key not in envs[0]:
            return
        seen.add(shown)
        found.append((label, key))

    for k in g.point:
        add(k, k if k in envs[0] else _spell(k)[0])
    for node in g.order:
        lab = _label(node)
        if lab is None or (not node._prev and lab in g.point):
            continue
        base = _LABEL.sub(r"\1", lab)
        add(base, _spell(base)[0])
    for k in (g.data or {}):
        add(k, _spell(k)[0])
    quantities = [Quantity(label, [env[key] for env in envs]) for label, key in found]
    keys = {label: key for label, key in found}
    label_of = {}
    for label, key in found:
        for spelling in _spell(label) + (key,):
            label_of.setdefault(spelling, label)
    return quantities, keys, label_of


def _raw(v):
    return v.data if isinstance(v, Batch) else v


_TREE_OPS = {"add": (" + ", 1), "sub": (" − ", 1), "mul": ("·", 2), "div": ("/", 2), "matmul": (" @ ", 2),
             "hadamard": (" ⊙ ", 2), "pow": ("^", 4)}
_FUNCTION_TEXT = {"sigmoid": "σ", "sigmoid_prime": "σ'", "tanh_prime": "tanh'", "relu_prime": "relu'", "log": "ln",
                  "sum": "Σ"}


def _tree_text(node, label_of):
    """A formula tree written back the way a learner reads it: y − ŷ, w₂·a₁, σ'(z₁)."""
    kind = node.kind
    if kind == "name":
        return display(label_of.get(node.value, node.value))
    if kind == "num":
        v = node.value
        return str(int(v)) if float(v).is_integer() else f"{v:g}"
    if kind in _TREE_OPS:
        op, prec = _TREE_OPS[kind]
        a, b = node.args
        left, right = _tree_text(a, label_of), _tree_text(b, label_of)
        if _TREE_OPS.get(a.kind, (None, 5))[1] < prec or (kind == "pow" and a.kind in ("neg",)):
            left = f"({left})"
        if _TREE_OPS.get(b.kind, (None, 5))[1] < prec + (kind in ("sub", "div")) or b.kind == "neg":
            right = f"({right})"
        if kind == "pow" and b.kind == "num" and float(b.value).is_integer() and 0 <= b.value < 10:
            return left + "⁰¹²³⁴⁵⁶⁷⁸⁹"[int(b.value)]
        return f"{left}{op}{right}"
    if kind == "neg":
        inner = _tree_text(node.args[0], label_of)
        return f"−({inner})" if node.args[0].kind in _TREE_OPS else f"−{inner}"
    if kind == "transpose":
        inner = _tree_text(node.args[0], label_of)
        return f"({inner})ᵀ" if node.args[0].kind in _TREE_OPS else f"{inner}ᵀ"
    if kind == "index":
        return f"{_tree_text(node.args[0], label_of)}[{node.value}]"
    if kind == "abs":
        return f"|{_tree_text(node.args[0], label_of)}|"
    if kind == "call":
        fn = _FUNCTION_TEXT.get(node.value, node.value)
        return f"{fn}({', '.join(_tree_text(a, label_of) for a in node.args)})"
    if kind == "partial":
        of, wrt = node.value
        return f"∂{display(label_of.get(of, of))}/∂{display(label_of.get(wrt, wrt))}"
    return "…"


def _replace(tree, path, make):
    """The tree with the node at ``path`` (child indices from the root) replaced by make(node)."""
    if not path:
        return make(tree)
    args = list(tree.args)
    args[path[0]] = _replace(args[path[0]], path[1:], make)
    return Node(tree.kind, args, tree.value, tree.column)


MAX_PLACES = 40     # a formula with more names than this is searched on the graph only


def _formula_places(name, formula, graphs, envs, shape, keys, label_of):
    """Every name and every difference of a formula string, and how to re-evaluate it with one changed."""
    occurrences = []

    def walk(node, path, parent):
        if node.kind == "name":
            values = [env.get(node.value) for env in envs]
            raw = [_raw(v) for v in values] if all(v is not None for v in values) else None
            transposed = parent is not None and parent.kind == "transpose"
            occurrences.append(Occurrence(path, label_of.get(node.value, node.value), values=raw,
                                          factor=parent is not None and parent.kind in ("mul", "hadamard", "matmul"),
                                          transposed=transposed,
                                          transposable=transposed or (raw is not None and np.ndim(raw[0]) == 2)))
        elif node.kind == "sub":
            a, b = (_tree_text(x, label_of) for x in node.args)
            occurrences.append(Occurrence(path, f"{a} − {b}", kind="difference", reversed=f"{b} − {a}"))
        elif node.kind == "neg" or (node.kind == "num" and node.value < 0):
            occurrences.append(Occurrence(path, "−", kind="negation"))
        for i, child in enumerate(node.args):
            walk(child, path + (i,), node)

    walk(formula.tree, (), None)
    if sum(o.kind == "name" for o in occurrences) > MAX_PLACES:
        return (), None

    def substitute(occ, rep):
        if occ.kind == "difference":
            tree = _replace(formula.tree, occ.key, lambda t: Node("sub", t.args[::-1], None, t.column))
        elif occ.kind == "negation":
            tree = _replace(formula.tree, occ.key, lambda t: t.args[0] if t.kind == "neg" else
                            Node("num", (), -t.value, t.column))
        elif rep is ONE:
            tree = _replace(formula.tree, occ.key, lambda t: Node("num", (), 1.0, t.column))
        elif rep is TRANSPOSE and occ.transposed:
            tree = _replace(formula.tree, occ.key[:-1], lambda t: t.args[0])
        elif rep is TRANSPOSE:
            tree = _replace(formula.tree, occ.key, lambda t: Node("transpose", (t,), None, t.column))
        else:
            tree = _replace(formula.tree, occ.key, lambda t: Node("name", (), keys[rep.label], t.column))
        changed = Formula(formula.text, tree, formula.latex)
        for g, env in zip(graphs, envs):
            yield _fit_shape(name, changed.evaluate(env, partial=g.partial), shape, True)[0]

    return occurrences, substitute


def _argument_places(name, run, graphs, envs, shape, keys, label_of, H):
    """A function's arguments (each replaced by another name's value), and the differences it
    computes, found by calling it once with Values (when it only does arithmetic on its numbers)."""
    occurrences = []
    for arg in run.uses:
        values = [env.get(arg) for env in envs]
        raw = [_raw(v) for v in values] if all(v is not None for v in values) else None
        square = raw is not None and np.ndim(raw[0]) == 2 and np.shape(raw[0])[0] == np.shape(raw[0])[1]
        occurrences.append(Occurrence(("arg", arg), label_of.get(arg, arg), values=raw, transposed=None,
                                      transposable=square))     # a function's own .T cannot be seen
    traced = _trace(run, graphs, envs, label_of, shape, name, H)
    occurrences += [occ for occ, _ in traced]
    replays = dict((id(occ), replay) for occ, replay in traced)

    def substitute(occ, rep):
        if occ.kind in ("difference", "negation"):
            replay = replays[id(occ)]
            for p in range(len(graphs)):
                yield replay(p)
            return
        for g, env in zip(graphs, envs):
            own = _plain(env[occ.key[1]])
            value = run(env, g, {occ.key[1]: np.transpose(own) if rep is TRANSPOSE else _plain(env[keys[rep.label]])})
            yield _fit_shape(name, value, shape, False)[0]

    return occurrences, substitute


def _trace(run, graphs, envs, label_of, shape, name, H):
    """[(difference occurrence, replay(point) with it reversed)] of a function that only does
    arithmetic on its numbers: called once with Values, its graph replayed at every point."""
    args0 = run.args(envs[0], graphs[0])
    batch = graphs[0].batch
    leaves = {}
    for k, v in args0.items():
        if isinstance(v, (int, float)) or (isinstance(v, ndarray) and v.ndim == 0):
            leaves[k] = Value(float(v), label=k)
        elif isinstance(v, ndarray) and v.ndim == 1 and batch and len(v) == batch:
            leaves[k] = Value(v, label=k)
        else:
            return []
    try:
        out = run.fn(**leaves)
    except Exception:  # noqa: BLE001 - a function that is more than arithmetic: not traced
        return []
    if not isinstance(out, Value):
        return []
    order = topological_order(out)
    where = {id(x): i for i, x in enumerate(order)}
    arg_of = {id(x): k for k, x in leaves.items()}
    subs = [i for i, x in enumerate(order) if x._rule is not None and x._rule.name in ("sub", "neg")]
    if not subs:
        return []
    args = [run.args(env, g) for env, g in zip(envs, graphs)]

    def replay(p, flip=None):
        values = []
        for i, x in enumerate(order):
            if not x._prev:
                values.append(float(args[p][arg_of[id(x)]]) if id(x) in arg_of and np.ndim(args[p][arg_of[id(x)]]) == 0
                              else args[p][arg_of[id(x)]] if id(x) in arg_of else x.data)
                continue
            ins = [values[where[id(c)]] for c in x._prev]
            if i == flip and x._rule.name == "neg":
                values.append(ins[0])                   # the minus dropped
                continue
            values.append(x._rule.apply(ins[::-1] if i == flip else ins))
        result = values[-1]
        return _fit_shape(name, Batch(result) if isinstance(result, ndarray) else result, shape, False)[0]

    try:
        if not all(_fits(np.ravel(replay(p)), H[p], 1e-9, 1e-12) for p in range(len(graphs))):
            return []
    except Exception:  # noqa: BLE001 - it does not replay (control flow on its numbers): not traced
        return []
    names = {}
    for x in order:
        if id(x) in arg_of:
            names[id(x)] = display(label_of.get(arg_of[id(x)], arg_of[id(x)]))
        elif not x._prev:
            v = x.data
            names[id(x)] = (str(int(v)) if v.is_integer() else f"{v:g}") if isinstance(v, float) else "a number"
        else:
            names[id(x)] = str(x._rule.expression([names[id(c)] for c in x._prev]))
    out_list = []
    for i in subs:
        if order[i]._rule.name == "neg":
            occ = Occurrence(("neg", i), "−", kind="negation")
        else:
            a, b = (names[id(c)] for c in order[i]._prev)
            occ = Occurrence(("sub", i), f"{a} − {b}", kind="difference", reversed=f"{b} − {a}")
        out_list.append((occ, lambda p, i=i: replay(p, flip=i)))
    return out_list


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
