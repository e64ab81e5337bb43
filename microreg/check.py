"""Check a gradient you derived by hand, and say precisely where and how it differs.

- ``verify(loss, hand, at)``: compare your formulas with autograd, at the points you give and at
  random points near them, and get a diagnosis: *matches*; *off by a constant factor k* (with
  the usual suspects named: a dropped ½, the 2 of a square, a missing 1/n, a flipped sign);
  *wrong*, with the worst point and element and both numbers; or a *kink* (relu at 0), where
  only a subgradient exists. With sympy expressions instead of functions it tries to *prove*
  the formula, and falls back to numeric spot checks.
- ``gradcheck(f, *inputs)``: autograd against central finite differences, element by element.
- ``check_documents()``: every formula of the three source documents (``microreg.derivations``)
  through ``verify``; what ``microreg check`` prints.

    >>> from microreg.check import verify
    >>> report = verify(lambda w: (w * 3.0 - 1.0) ** 2,       # L = (3w − 1)²
    ...                 {"w": lambda w: 3.0 * (3 * w - 1)},    # forgot the 2 of the square
    ...                 at={"w": 0.5})
    >>> report["w"].diagnosis
    'off by a constant factor 0.5: half of autograd: the 2 of a square (d(u²) = 2u du) left out, or a spurious ½'
"""

import html
import math
import multiprocessing

import numpy as np

from .engine import Value

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


def _autograd(loss, point):
    """(loss value, {name: ∂loss/∂name}) at one point."""
    values = {name: _to_values(name, v) for name, v in point.items()}
    out = loss(**values)
    if not isinstance(out, Value):
        raise TypeError(f"verify: loss must return a Value, got {type(out).__name__}")
    if out.data.__class__ is ndarray:
        raise ValueError(f"verify: loss must return a scalar Value, got a batch of {out.data.shape[0]} "
                         "(reduce it with .sum() or .mean())")
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


# --- naming a constant factor --------------------------------------------------------------------

def name_factor(k, n=None):
    """Say what a constant factor k (hand = k × autograd) usually means."""
    known = [(2.0, "twice autograd: a dropped ½ (the ½ of ½(ŷ − y)² forgotten), or a term counted twice"),
             (0.5, "half of autograd: the 2 of a square (d(u²) = 2u du) left out, or a spurious ½"),
             (-1.0, "the sign is flipped (ŷ − y where y − ŷ belongs, or a minus lost)"),
             (-2.0, "the sign is flipped and a ½ dropped"),
             (-0.5, "the sign is flipped and the 2 of a square left out")]
    if n and n > 1:
        known += [(float(n), f"n = {n} times autograd: a sum where the loss takes a mean (a missing 1/n)"),
                  (1.0 / n, f"1/n = 1/{n} of autograd: a spurious 1/n (a mean where the loss sums)"),
                  (2.0 * n, f"2n: a missing 1/n and a dropped ½ (n = {n})"),
                  (n / 2.0, f"n/2: a missing 1/n and the 2 of a square left out (n = {n})"),
                  (0.5 / n, f"1/(2n): a spurious 1/n and the 2 of a square left out (n = {n})")]
    for value, text in known:
        if math.isclose(k, value, rel_tol=1e-6):
            return text
    r = round(k)
    if abs(r) >= 3 and math.isclose(k, r, rel_tol=1e-6):
        return f"{r} times autograd: is {abs(r)} your number of samples? (a sum where the loss takes a mean)"
    if abs(k) > 0 and abs(round(1 / k)) >= 3 and math.isclose(1 / k, round(1 / k), rel_tol=1e-6):
        return f"1/{round(1 / k)} of autograd: a spurious 1/{abs(round(1 / k))}?"
    return "a constant factor"


# --- the report -----------------------------------------------------------------------------------

class Verdict:
    """The verdict for one argument: ``ok``, ``kind``, ``diagnosis`` and the numbers behind it.

    ``kind`` is one of "match", "factor", "wrong", "kink" (numeric path) or "proved",
    "numerically consistent", "refuted" (symbolic path). ``autograd`` and ``hand`` are the
    two gradients at the first point; ``factor`` is k for a constant factor; ``worst`` the worst
    mismatch (point, element, both numbers) for a wrong one.
    """

    def __init__(self, name, ok, kind, diagnosis, autograd=None, hand=None, factor=None, worst=None,
                 max_abs_error=None, max_rel_error=None):
        self.name, self.ok, self.kind, self.diagnosis = name, ok, kind, diagnosis
        self.autograd, self.hand, self.factor, self.worst = autograd, hand, factor, worst
        self.max_abs_error, self.max_rel_error = max_abs_error, max_rel_error

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
        return [(v.name, "ok" if v.ok else "MISMATCH", _fmt(v.autograd), _fmt(v.hand), v.diagnosis)
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
        lines.append(f"checked at {self.points} point(s): {'all ok' if self.ok else 'some formulas differ'}")
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


# --- the numeric verifier ---------------------------------------------------------------------------

def verify(loss, hand, at=None, n=None, rtol=1e-6, atol=1e-9, nearby=4, seed=0, timeout=5.0):
    """Compare hand-derived partial derivatives with autograd; return a `Report`.

    ``loss(**args)`` builds a scalar Value; ``hand`` maps each argument name to your formula for
    ∂loss/∂name, a function of the same named arguments (given floats or numpy arrays) returning
    a float or an array of that argument's shape. ``at`` is a dict of name → float or array (an
    array reaches ``loss`` as a numpy object array of Values), or a list of such dicts.
    Besides the given points, ``nearby`` random points near each (seeded) are checked, so that a
    "constant factor" is one that holds everywhere checked, not at one lucky point.
    ``n`` (the number of samples) lets the diagnosis name n and 1/n factors.

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
    rng = np.random.default_rng(seed)
    points, is_given = [], []
    for p in given:
        p = _as_float_point(p)
        points.append(p)
        points += [_nearby(p, rng) for _ in range(nearby)]
        is_given += [True] + [False] * nearby
    for name in hand:
        if name not in given[0]:
            raise KeyError(f"verify: hand has a formula for {name!r}, but 'at' gives no value for it "
                           f"(arguments: {sorted(given[0])})")
    auto, mine = {name: [] for name in hand}, {name: [] for name in hand}
    for point in points:
        _, grads = _autograd(loss, point)
        for name, formula in hand.items():
            h = np.asarray(formula(**point), dtype=np.float64)
            a = np.asarray(grads[name], dtype=np.float64)
            if h.shape != a.shape:
                if h.size == a.size == 1:
                    h = h.reshape(a.shape)
                else:
                    raise ValueError(f"verify: hand[{name!r}] returned shape {h.shape}, "
                                     f"but {name} has shape {a.shape}")
            auto[name].append(a)
            mine[name].append(h)
    verdicts = {name: _diagnose(name, auto[name], mine[name], points, is_given, loss, n, rtol, atol)
                for name in hand}
    return Report(verdicts, len(points))


def _diagnose(name, autos, hands, points, is_given, loss, n, rtol, atol):
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
    if not bad.any():
        return Verdict(name, True, "match", f"matches autograd (max abs error {_error_text(err.max(), A)})",
                       **common)

    # a kink: every mismatch sits where the loss has different one-sided slopes
    kinks = _kinks(name, points, autos[0].shape, bad, H, loss)
    if kinks is not None:
        inside = all(lo - 1e-6 <= h <= hi + 1e-6 for lo, hi, h in kinks)
        lo, hi, h = kinks[0]
        text = (f"a kink: at {len(kinks)} element(s) the loss has no derivative (left slope {lo:.6g}, "
                f"right slope {hi:.6g}); only a subgradient exists, any value between is valid; yours "
                + ("is one" if inside else f"({h:.6g}) is not"))
        return Verdict(name, inside, "kink", text, **common)

    # a constant factor k with hand = k × autograd at every point checked
    big = np.abs(A) > 1e-8 * max(1.0, float(np.abs(A).max()))
    if big.any():
        k = float(np.median(H[big] / A[big]))
        if np.all(np.abs(H - k * A) <= atol + rtol * np.abs(k * A)) and not math.isclose(k, 1.0, rel_tol=rtol):
            return Verdict(name, False, "factor",
                           f"off by a constant factor {k:.6g}: {name_factor(k, n)}", factor=k, **common)

    # plainly wrong: the worst element, at a point you gave if it is wrong there
    ratio = err / tol
    given = np.array(is_given)
    if bad[given].any():
        ratio = np.where(given[:, None], ratio, -1.0)
    p, e = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    where = (f"the given point {_short(points[p])}" if is_given[p]
             else f"the random point {_short(points[p])} near a given one")
    text = (f"wrong: at {where}{_element(autos[0], e)} autograd gives {A[p, e]:.6g}, "
            f"your formula {H[p, e]:.6g} (not a constant factor: the ratio varies from point to point)")
    return Verdict(name, False, "wrong", text, worst=(int(p), int(e), float(A[p, e]), float(H[p, e])), **common)


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
    """For each mismatched element, one-sided finite differences; None unless all show a kink."""
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

        f0 = value_at(x0)
        left, right = (f0 - value_at(x0 - h)) / h, (value_at(x0 + h) - f0) / h
        if abs(left - right) <= 1e-3 * max(1.0, abs(left), abs(right)):
            return None
        lo, hi = min(left, right), max(left, right)
        found.append((lo, hi, float(H[p, e])))
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
    "refuted" with the counter-example.
    """
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
        f_true = sympy.lambdify(free, derivative, "math")
        f_hand = sympy.lambdify(free, formula, "math")
        pts = []
        if at is not None:
            pts += [at] if isinstance(at, dict) else list(at)
        pts += [{t.name: float(rng.uniform(-2, 2)) for t in free} for _ in range(samples)]
        counter = None
        checked = 0
        for pt in pts:
            args = [float(pt.get(t.name, pt.get(t, 0.0))) for t in free]
            try:
                a, b = complex(f_true(*args)), complex(f_hand(*args))
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            if a.imag or b.imag or not (math.isfinite(a.real) and math.isfinite(b.real)):
                continue
            checked += 1
            if not math.isclose(a.real, b.real, rel_tol=1e-9, abs_tol=1e-12):
                counter = ({t.name: v for t, v in zip(free, args)}, a.real, b.real)
                break
        name = s.name
        if counter is not None:
            point, a, b = counter
            text = f"refuted: at {point} the derivative is {a:.6g}, your formula gives {b:.6g}"
            verdicts[name] = Verdict(name, False, "refuted", text, autograd=a, hand=b, worst=counter)
        elif proved:
            verdicts[name] = Verdict(name, True, "proved", f"proved: ∂/∂{name} simplifies to your formula")
        else:
            text = (f"numerically consistent at {checked} random points (not proved: sympy could not "
                    f"simplify the difference to 0 within {timeout:g}s)")
            verdicts[name] = Verdict(name, checked > 0, "numerically consistent", text)
    return Report(verdicts, samples)


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
            ups, downs = [a.copy() for a in raw], [a.copy() for a in raw]
            ups[i][idx] += h
            downs[i][idx] -= h
            numeric = (f(*build(ups)).data - f(*build(downs)).data) / (2 * h)
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
    return [(f, verify(f.loss, f.hand, f.at, n=f.n)) for f in FORMULAS]


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
