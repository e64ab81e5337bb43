"""Check the backprop code a learner wrote in numpy, and say the mistake in the learner's own names.

Three ways to call it, the way course code is written:

- ``verify(cost, grads, at=parameters)`` (`microreg.check.verify` sends a *function* ``grads``
  here): ``cost`` is the learner's forward pass and cost, ``grads`` their backward pass, one
  function returning a dict of gradients keyed by the parameter's name (``W1``), by ``d`` + name
  (``dW1``) or by ``grad_`` + name (a dict inside a returned tuple, as ``propagate`` returns
  ``(grads, cost)``, is found). Both take the parameters the way their code does: as keywords
  (``propagate(w, b, X, Y)``), as one dict (``backward(parameters)``), or in place (a method
  reading ``self.params``); ``args``/``kwargs`` are passed on to both (the data ``X, Y``).
- ``verify_pair(fn, at=params)``: one function returning ``(loss, grads)``, CS231n's
  ``net.loss(X, y, reg)`` (or ``softmax_loss(x, y)`` returning ``(loss, dx)``).
- ``verify_backward(forward, backward, at=inputs)``: a backward helper alone, as a
  vector-Jacobian product. ``forward(*inputs)`` returns ``(out, cache)`` (``relu_forward``,
  ``linear_forward``, the course's ``sigmoid(Z)``); ``backward(dout, cache)`` returns the
  gradient of each input, in the forward's order (``dx``; ``dA_prev, dW, db``). Random upstream
  gradients ``dout`` are fed at every point and the result compared with autograd's
  vector-Jacobian product of the forward: the gradient of L = Σ out ⊙ dout.

At every point checked (the one given and ``nearby`` random points near it, seeded) the cost is run
through `microreg.trace` (so every array of the learner's forward pass is named with their
variable names, ``A1[2][0]``) and the learner's gradients are computed by their own code on plain
numpy arrays. A gradient of the wrong shape is said as a shape problem (a lost ``keepdims``, a sum
over the wrong axis, a missing transpose); wrong numbers are explained by the one mistake search
(`microreg.mistakes`), with the problem's sizes named from the code (the samples m, the
features, the hidden units). The result is a `microreg.check.Report`: print it, or
``report.show()`` in a notebook.

    >>> import numpy as np
    >>> from microreg.check import verify
    >>> X, Y = np.array([[0.5, -1.0, 2.0]]), np.array([[1.0, 0.0, 1.0]])
    >>> def cost(w, b):                              # logistic regression, samples as columns
    ...     A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
    ...     return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    >>> def grads(w, b):
    ...     A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
    ...     return {"dw": np.dot(X, (A - Y).T) / 3, "db": np.sum(A - Y)}     # db without its 1/m
    >>> report = verify(cost, grads, at={"w": np.array([[0.3]]), "b": 0.1})
    >>> report["w"].ok, report["b"].kind
    (True, 'factor')
"""

import inspect

import numpy as np

from .engine import topological_order
from .mistakes import Explanation, Graph, _worst, explain, words
from .notation import display
from .report import Report, Verdict, _error_text
from .trace import TraceError, _data_nodes, _how, _run, trace_at

ndarray = np.ndarray

__all__ = ["verify_code", "verify_pair", "verify_backward", "problem_sizes"]


# --- the points ---------------------------------------------------------------------------------------

def _plain(point):
    """The point as plain numbers, copied (the learner's code may write into its arrays)."""
    return {k: (np.array(v, dtype=np.float64) if np.ndim(v) else float(v)) for k, v in point.items()}


def _given(at):
    if not isinstance(at, dict) or not at:
        raise TypeError("verify: 'at' must be a dict of parameter name → number or numpy array, e.g. "
                        "at=parameters")
    for name, value in at.items():
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"verify: at[{name!r}] must be a number or an array of numbers, got "
                            f"{type(value).__name__}") from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"verify: at[{name!r}] holds a value that is not finite")
    return _plain(at)


def _nearby(point, rng, scale=0.1):
    """A random point near ``point``: each number moved by ~10% of its size (at least 0.1·scale)."""
    out = {}
    for k, v in point.items():
        v = np.asarray(v, dtype=np.float64)
        moved = v + rng.normal(size=v.shape) * scale * np.maximum(np.abs(v), 1.0)
        out[k] = moved if moved.ndim else float(moved)
    return out


def _structure(loss):
    """The ops of a traced graph in order: equal at two points when every constant choice (a max,
    a np.where, the element a stable softmax subtracts) is the same."""
    return tuple(n._rule.name if n._rule is not None else None for n in topological_order(loss))


def _checked_points(at, nearby, seed, check_at, tries=5):
    """[_Point]: ``check_at(point)`` at the given point and at ``nearby`` random points near it (each
    number moved by ~10%, seeded), each drawn again closer while its graph makes other constant
    choices than the given point's (a softmax's max on another element), so that one mistaken
    backward pass can explain the learner's numbers at all of them."""
    given = _given(at)
    rng = np.random.default_rng(seed)
    first = check_at(given)
    shape = _structure(first.traced.loss)
    out = [first]
    for _ in range(nearby):
        scale = 0.1
        for _ in range(tries):
            candidate = check_at(_nearby(given, rng, scale))
            if _structure(candidate.traced.loss) == shape:
                out.append(candidate)
                break
            scale /= 4
    return out


# --- the problem's sizes, named from the code --------------------------------------------------------

#: What learners call each size, most common first.
_LETTERS = {"samples": ("m", "N", "n_samples", "num_train", "num_examples", "batch_size", "n"),
            "features": ("n_x", "D", "n", "d", "num_features", "input_size"),
            "hidden units": ("n_h", "H", "h", "hidden_size", "num_hidden")}
_DEFAULT = {"samples": "m", "features": "n", "hidden units": "n_h"}


def problem_sizes(params, data, named=None):
    """[(letter, value, what)]: the sizes of the problem a factor may equal, from the shapes
    (``params``: name → array; ``data``: the data arrays) and the whole numbers the code named
    (``named``: name → value, e.g. {"m": 5}). The samples are the axis of the data that no
    parameter has; the features the data's other axis; a hidden layer's units a size two weight
    matrices share. Each is called by the code's own name for it, else m, n, n_h."""
    named = dict(named or {})
    pdims = {d for v in params.values() for d in np.shape(v)}
    arrays = [np.asarray(a) for a in data if isinstance(a, ndarray) and a.ndim >= 1 and a.size > 1]
    found = {}
    counts = {}
    for a in arrays:
        for d in a.shape:
            if d > 1 and d not in pdims:
                counts[d] = counts.get(d, 0) + 1
    if counts:
        found["samples"] = max(counts, key=lambda d: (counts[d], d))
    else:
        for letter in _LETTERS["samples"][:-1]:
            if named.get(letter, 0) > 1:
                found["samples"] = named[letter]
                break
    if "samples" in found:
        for a in arrays:
            if a.ndim == 2 and found["samples"] in a.shape and a.dtype.kind == "f":
                other = a.shape[1] if a.shape[0] == found["samples"] else a.shape[0]
                if other > 1 and other != found["samples"]:
                    found["features"] = other
                break
    mats = [np.shape(v) for v in params.values() if np.ndim(v) == 2]
    shared = set()
    for i, a in enumerate(mats):
        for b in mats[i + 1:]:
            shared |= set(a) & set(b)
    hidden = sorted(d for d in shared if d > 1 and d not in found.values())
    out = []
    for what in ("samples", "features"):
        if what in found:
            out.append((_letter(what, found[what], named, out), float(found[what]), what))
    for d in hidden:
        out.append((_letter("hidden units", d, named, out), float(d), "hidden units"))
    return out


def _letter(what, value, named, taken):
    used = {t[0] for t in taken}
    for letter in _LETTERS[what]:
        if named.get(letter) == value and letter not in used:
            return letter
    default = _DEFAULT[what]
    return default if default not in used else f"{default}_{len(taken)}"


# --- the learner's gradients -----------------------------------------------------------------------------

def _keys_for(name):
    return (name, "d" + name, "grad_" + name, "d_" + name, "grad" + name)


def _find_grads(out, names, who):
    """{parameter: array or number} from what the learner's backward returned: a dict keyed by
    name, dname or grad_name (also inside a tuple), or arrays in the parameters' order."""
    if out is None:
        raise TypeError(f"{who} returned None: return the gradients (a dict such as {{'dW1': dW1, …}})")
    if isinstance(out, (tuple, list)):
        dicts = [o for o in out if isinstance(o, dict)]
        if dicts:
            out = dicts[0]
    if isinstance(out, dict):
        got = {}
        for name in names:
            for key in _keys_for(name):
                if key in out:
                    got[name] = out[key]
                    break
        return got, [str(k) for k in out]
    arrays = list(out) if isinstance(out, (tuple, list)) else [out]
    arrays = [a for a in arrays if not np.isscalar(a) or isinstance(a, (float, int, np.floating))]
    if len(arrays) < len(names):
        raise TypeError(f"{who} returned {len(arrays)} gradient(s) for {len(names)} input(s) "
                        f"({', '.join(names)}); return one per input, in the forward's order, or a dict")
    return dict(zip(names, arrays)), None


def _as_array(value, who, name):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: the gradient of {name} must be numbers, got {type(value).__name__}") from None


# --- one check, three front ends ----------------------------------------------------------------------------

class _Point:
    """The learner's cost traced at one point, and their gradients there."""

    def __init__(self, traced, hand, numbers=None):
        self.traced, self.hand = traced, hand
        self.numbers = numbers or {}        # the numbers the code was given by name (reg=0.05), to name them
        self.auto = traced.backward()
        self._base = None

    def graph(self, name):
        target = self.traced.params[name]
        g = Graph(self.traced.loss, target, data=self.numbers, base=self._base)
        if self._base is None:
            self._base = g
        return g


def _check(points, names, params_shape, sizes, rtol, atol, explain_on, who_names=None):
    """The Report of the learner's gradients at the traced points."""
    verdicts = {}
    for name in names:
        verdicts[name] = _verdict(name, points, params_shape[name], sizes, rtol, atol, explain_on,
                                  (who_names or {}).get(name))
    return Report(verdicts, len(points))


def _verdict(name, points, shape, sizes, rtol, atol, explain_on, missing_keys):
    if any(name not in p.hand for p in points):
        keys = missing_keys or []
        text = (f"no gradient for {name}: your gradients have no key {name!r}, 'd{name}' or 'grad_{name}'"
                + (f" (keys: {', '.join(keys)})" if keys is not None else ""))
        return Verdict(name, False, "missing", text)
    autos = [np.asarray(p.auto[name], dtype=np.float64).reshape(shape) for p in points]
    hands = [np.asarray(p.hand[name], dtype=np.float64) for p in points]
    A = np.stack([a.ravel() for a in autos])
    shape_problem = None
    if hands[0].shape != shape:
        loss = points[0].traced.loss
        wrt = f"∂{display(str(loss.label)) if loss.label else 'L'}/∂{display(name)}"
        shape_problem = _shape_explanation(name, hands[0].shape, shape, sizes, autos, hands, rtol, atol, wrt)
        if not shape_problem.detail.get("same size"):
            return Verdict(name, False, "shape", words(shape_problem), autograd=autos[0], hand=hands[0],
                           explanations=[shape_problem])
        hands = [h.T if shape_problem.kind == "transpose" else h.reshape(shape) for h in hands]
    H = np.stack([h.ravel() for h in hands])
    common = dict(autograd=autos[0] if autos[0].ndim else float(autos[0]),
                  hand=hands[0] if hands[0].ndim else float(hands[0]))
    err = np.abs(H - A)
    common.update(max_abs_error=float(err.max()) if err.size else 0.0,
                  max_rel_error=float((err / np.maximum(np.abs(A), 1e-300)).max()) if err.size else 0.0)
    if not np.isfinite(H).all():
        p, e = (int(i) for i in np.argwhere(~np.isfinite(H))[0])
        return Verdict(name, False, "wrong", f"wrong: your gradient is {H[p, e]} at point {p + 1}"
                       f"{_element(shape, e)} (autograd {A[p, e]:.6g})", worst=(p, e, A[p, e], H[p, e]), **common)
    bad = err > atol + rtol * np.abs(A)
    if not bad.any():
        if shape_problem is not None:
            return Verdict(name, False, "shape", words(shape_problem), explanations=[shape_problem], **common)
        return Verdict(name, True, "match", f"matches autograd (max abs error {_error_text(err.max(), A)})",
                       **common)
    worst = _worst(A, H, rtol, atol, prefer=[0])
    found, k = [], None
    if explain_on:
        graphs = [p.graph(name) for p in points]
        d = explain(graphs, H, A, wrt=name, sizes=sizes, rtol=rtol, atol=atol)
        found, k = d.explanations, d.factor
    lead = (words(shape_problem) + "; and the numbers: ") if shape_problem is not None else ""
    if found:
        text = lead + "; or: ".join(words(x) for x in found)
        kind = "shape" if shape_problem is not None else "factor" if k is not None else "wrong"
        return Verdict(name, False, kind, text, factor=k, explanations=([shape_problem] if shape_problem else [])
                       + found, worst=worst, **common)
    p, e = worst[0], worst[1]
    where = "the given point" if p == 0 else f"random point {p} near it"
    text = (f"{lead}wrong, and no single mistake explains it: at {where}{_element(shape, e)} autograd gives "
            f"{A[p, e]:.6g}, yours {H[p, e]:.6g}")
    return Verdict(name, False, "shape" if shape_problem else "wrong", text, worst=worst,
                   explanations=[shape_problem] if shape_problem else [], **common)


def _element(shape, flat):
    if not shape:
        return ""
    return ", element " + "".join(f"[{i}]" for i in np.unravel_index(flat, shape))


def _shape_explanation(name, yours, right, sizes, autos, hands, rtol, atol, wrt):
    """The `Explanation` of a gradient of the wrong shape: transposed, a lost keepdims (the same
    numbers in another shape), or summed over the wrong axis (an axis of a size the gradient does
    not have)."""
    what = {int(v): (letter, w) for letter, v, w in sizes}

    def axes(shape):
        return [what.get(d, (None, None)) + (d,) for d in shape]

    detail = {"yours": tuple(yours), "right": tuple(right), "axes": axes(yours)}
    n_yours, n_right = int(np.prod(yours)), int(np.prod(right))
    if len(right) == 2 and tuple(yours) == tuple(right[::-1]) and right[0] != right[1]:
        detail["same size"] = True
        detail["numbers right"] = all(np.allclose(h.T, a, rtol=rtol * 10, atol=atol * 10) for h, a in zip(hands, autos))
        return Explanation("transpose", (name,), wrt=wrt, sizes=sizes, detail=dict(detail, shapes=(yours, right)))
    if n_yours == n_right:
        detail["same size"] = True
        detail["numbers right"] = all(np.allclose(h.reshape(right), a, rtol=rtol * 10, atol=atol * 10)
                                      for h, a in zip(hands, autos))
        detail["how"] = "keepdims" if len(yours) < len(right) else "reshape"
        return Explanation("shape", (name,), wrt=wrt, sizes=sizes, detail=detail)
    detail["how"] = "axis"
    return Explanation("shape", (name,), wrt=wrt, sizes=sizes, detail=detail)


def _sizes_of(traced, params, data, letter=None):
    sizes = problem_sizes(params, data, traced.sizes)
    if letter:
        sizes = [(letter if w == "samples" else lt, v, w) for lt, v, w in sizes]
    return sizes


def _named_numbers(fn, args, kwargs):
    """{name: number} of the plain numbers ``fn`` is given (``reg=0.05``), so the words can call
    them by name."""
    out = {k: float(v) for k, v in kwargs.items() if isinstance(v, (float, np.floating))}
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return out
    free = [n for n in names if n not in out]
    for name, value in zip(free[-len(args):] if args else [], args):
        if isinstance(value, (float, np.floating)):
            out.setdefault(name, float(value))
    return out


def _run_plain(fn, params, how, dict_name, point, args, kwargs, who):
    try:
        return _run(fn, params, how, dict_name, list(args), dict(kwargs), _plain(point))
    except TraceError:
        raise
    except Exception as exc:
        raise type(exc)(f"{who} failed on plain numbers: {exc}") from exc


def verify_code(loss, grads, at, args=(), kwargs=None, pass_params=None, nearby=4, seed=0, rtol=1e-6, atol=1e-9,
                explain=True, letter=None):
    """Check the gradients ``grads(parameters)`` returns against autograd's of ``loss``: a `Report`.
    See the module docstring; `microreg.check.verify` calls this when ``hand`` is one function."""
    if not callable(loss) or not callable(grads):
        raise TypeError("verify: loss and grads must be functions (the learner's cost and backward pass)")
    kwargs = dict(kwargs or {})
    _given(at)
    how_l, dict_l = _how(loss, at, pass_params)
    how_g, dict_g = _how(grads, at, pass_params)
    who = getattr(grads, "__name__", "grads")
    numbers = _named_numbers(loss, args, kwargs)
    keys = None

    def check_at(point):
        nonlocal keys
        traced = trace_at(loss, at, point, args, kwargs, pass_params=how_l)
        out = _run_plain(grads, at, how_g, dict_g, point, args, kwargs, who)
        hand, keys = _find_grads(out, list(at), who)
        return _Point(traced, {k: _as_array(v, who, k) for k, v in hand.items()}, numbers)
    checked = _checked_points(at, nearby, seed, check_at)
    data = list(args) + list(kwargs.values())
    sizes = _sizes_of(checked[0].traced, at, data, letter)
    shapes = {k: np.shape(v) for k, v in at.items()}
    return _check(checked, list(at), shapes, sizes, rtol, atol, explain, {k: keys for k in at})


def verify_pair(fn, at, args=(), kwargs=None, pass_params=None, nearby=4, seed=0, rtol=1e-6, atol=1e-9,
                explain=True, letter=None):
    """Check a function that returns ``(loss, grads)`` (CS231n's ``net.loss(X, y)``,
    ``softmax_loss(x, y)`` → ``(loss, dx)``): the grads it returns against autograd's gradient of
    the loss it returns. ``at``: the parameters (``net.params`` itself for a method that reads
    them in place). A `Report`."""
    if not callable(fn):
        raise TypeError(f"verify_pair: fn must be a function returning (loss, grads), got {type(fn).__name__}")
    kwargs = dict(kwargs or {})
    _given(at)
    how, dict_name = _how(fn, at, pass_params)
    who = getattr(fn, "__name__", "fn")
    numbers = _named_numbers(fn, args, kwargs)
    keys = None

    def check_at(point):
        nonlocal keys
        out = _run_plain(fn, at, how, dict_name, point, args, kwargs, who)
        if not isinstance(out, (tuple, list)) or len(out) < 2:
            raise TypeError(f"verify_pair: {who} returned {type(out).__name__}; it must return (loss, grads)")
        traced = trace_at(fn, at, point, args, kwargs, pass_params=how)
        rest = [o for o in out if not np.isscalar(o) and not (isinstance(o, ndarray) and o.ndim == 0)]
        hand, keys = _find_grads(rest[0] if len(rest) == 1 else tuple(rest), list(at), who)
        return _Point(traced, {k: _as_array(v, who, k) for k, v in hand.items()}, numbers)
    checked = _checked_points(at, nearby, seed, check_at)
    data = list(args) + list(kwargs.values())
    sizes = _sizes_of(checked[0].traced, at, data, letter)
    shapes = {k: np.shape(v) for k, v in at.items()}
    return _check(checked, list(at), shapes, sizes, rtol, atol, explain, {k: keys for k in at})


def _input_names(forward, at):
    """The forward's inputs as a dict name → array: ``at`` itself, or a tuple matched to the
    forward's first parameters."""
    if isinstance(at, dict):
        return dict(at)
    if not isinstance(at, (tuple, list)):
        at = (at,)
    try:
        names = [p.name for p in inspect.signature(forward).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    if len(names) < len(at):
        names = names + [f"input{i}" for i in range(len(names), len(at))]
    return dict(zip(names, at))


def _first_arg(fn, default="dout"):
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return default
    return params[0].name if params else default


def verify_backward(forward, backward, at, args=(), kwargs=None, backward_args=(), scale=None, nearby=4, seed=0,
                    rtol=1e-6, atol=1e-9, explain=True, letter=None):
    """Check a backward helper alone, as a vector-Jacobian product: a `Report` with one verdict
    per input of the forward.

    ``forward(*inputs, *args, **kwargs)`` returns ``out`` or ``(out, cache)``; ``backward(dout,
    cache, *backward_args)`` returns the inputs' gradients (one array, a tuple in the forward's
    order, or a dict). ``at``: the inputs, a dict by the forward's argument names or a tuple. At
    each point a random ``dout`` (named after the backward's first argument: ``dA``, ``dout``)
    is fed to the backward and the result compared with autograd's gradient of Σ out ⊙ dout.
    ``scale``: {input: k} for a helper whose gradient is k × the vector-Jacobian product by its
    course's convention (the course's ``linear_backward`` divides dW and db by m, the cost's 1/m:
    ``scale={"W": 1 / m, "b": 1 / m}``); the learner's numbers are divided by k before the check.
    """
    if not callable(forward) or not callable(backward):
        raise TypeError("verify_backward: forward and backward must be functions")
    kwargs = dict(kwargs or {})
    inputs = _input_names(forward, at)
    names = list(inputs)
    _given(inputs)
    rng = np.random.default_rng(seed + 1)
    upstream = _first_arg(backward)
    who = getattr(backward, "__name__", "backward")

    def check_at(point):
        plain = _plain(point)
        result = forward(*[plain[n] for n in names], *args, **kwargs)
        out, cache = (result[0], result[1] if len(result) == 2 else result[1:]) \
            if isinstance(result, tuple) else (result, plain[names[0]] if len(names) == 1 else tuple(plain.values()))
        out = np.asarray(out, dtype=np.float64)
        G = rng.normal(size=out.shape)
        G_nodes = _data_nodes(upstream, G) if G.ndim else np.asarray(G)

        def vjp(inputs):
            res = forward(*[inputs[n] for n in names], *args, **kwargs)
            return np.sum((res[0] if isinstance(res, tuple) else res) * G_nodes)
        traced = trace_at(vjp, inputs, point, pass_params="dict")
        try:
            got = backward(G.copy(), cache, *backward_args)
        except Exception as exc:
            raise type(exc)(f"{who} failed on plain numbers: {exc}") from exc
        hand, _ = _find_grads(got, names, who)
        return _Point(traced, {k: _as_array(v, who, k) / float((scale or {}).get(k, 1.0)) for k, v in hand.items()})
    unknown = set(scale or {}) - set(names)
    if unknown:
        raise KeyError(f"verify_backward: scale names {sorted(unknown)}, which are not inputs ({', '.join(names)})")
    checked = _checked_points(inputs, nearby, seed, check_at)
    first, *rest = inputs.values()       # the samples: the axis of the first input no other input has
    sizes = _sizes_of(checked[0].traced, dict(zip(names[1:], rest)), [np.asarray(first, dtype=np.float64)]
                      + list(args) + list(kwargs.values()), letter)
    shapes = {k: np.shape(v) for k, v in inputs.items()}
    return _check(checked, names, shapes, sizes, rtol, atol, explain)
