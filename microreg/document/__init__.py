r"""Check a whole derivation document, claim by claim: ``microreg check NOTES.md`` (or ``.ipynb``, ``.tex``, ``-``).

People derive gradients by hand in Markdown with LaTeX, in notebooks and in LaTeX articles, in the notation
their course, textbook or blog uses. This package reads such a document with microreg's one reader (find the
math, normalize layout away, parse, resolve names against the document) and checks it:

- `microreg.document.equations`: the document's equations, sorted into **definitions** (the model: ``z = w x +
  b``, ``J(w,b) = …``, layer-indexed ``z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}``) and **claims** (derivatives
  ``\frac{\partial L}{\partial w}``, ``dW^{[2]}``, ``\nabla_b L``, ``\delta^l``; identities; update rules; every link
  of a chain);
- `microreg.document.model`: the model built from `microreg.Value` nodes at seeded random points, every name
  resolved as a teacher reads it, sized by a reading (numbers, or vectors with samples as a batch, as the
  columns or as the rows of ``X``);
- `microreg.document.judge`: each claim against autograd: **ok**, **factor** (named), **wrong** (with the
  simplest explanation) or **unchecked** (with the reason);
- `microreg.document.report`: the table, JSON lines, and the exit status.

    >>> from microreg.document import check_document
    >>> text = r'''
    ... $$z = w x + b$$
    ... $$L = (z - y)^2$$
    ... $$\frac{\partial L}{\partial w} = 2(z - y) x$$
    ... $$\frac{\partial L}{\partial b} = (z - y)$$
    ... '''
    >>> [(r.line, r.verdict) for r in check_document(text)]
    [(4, 'ok'), (5, 'factor')]

What this package lets you do:

- ``check_document(text, kind="md")``: the rows (`ClaimResult`: ``line``, ``column``, ``cell``, ``claim``,
  ``wrt``, ``verdict``, ``explanation``, ``factor``, ``kind``), in document order; ``check_report(text)`` and
  ``check_file(path)`` give the whole `Report` (the definitions read, what was skipped, the reading);
  ``format_results(report)`` is the table ``microreg check FILE`` prints, ``to_json(report)`` its ``--json``
  lines, ``exit_status(report)`` its exit status (0 all read and right, 1 a claim wrong, 3 claims not read).
- ``dims`` (``{"f": 2, "h": 3}`` or ``"f=2,h=3"``): read with vectors of those sizes, whatever the document's
  style; a bad value is a `DimsError` naming the key.
"""

import itertools
import re

import numpy as np

from ..engine import MathDomainError
from ..mathspans import MAX_BYTES, SourceError, decode, read_source
from . import values as V
from .equations import read_document, sort_equations
from .judge import ClaimResult, Judge
from .model import LOSS_NAMES, Key, Point, ReadError, Reading, key_of, weight_or_bias
from .report import Report, exit_status, format_results, to_json

__all__ = ["ClaimResult", "Report", "check_document", "check_report", "check_file", "check_source",
           "format_results", "to_json", "exit_status", "DocumentError", "DimsError", "parse_dims"]


class DocumentError(SourceError):
    """A document that cannot be read at all (a missing file, bytes that are not text, not a notebook)."""


class DimsError(ValueError):
    """A ``--dims`` value that cannot be used (an unknown key, a size that is not a whole number ≥ 1)."""


DIMS_KEYS = ("f", "h", "o") + tuple(f"n{k}" for k in range(1, 10))
DIMS_DEFAULTS = {"f": 2, "h": 3, "o": 1}
MAX_SIZE = 12


def parse_dims(dims):
    """``"h=3,f=2"`` or ``{"h": 3, "f": 2}`` → the sizes, defaults filled in; a `DimsError` names what is wrong."""
    if isinstance(dims, str):
        given = {}
        for part in [p.strip() for p in dims.split(",")]:
            key, eq, value = part.partition("=")
            if not eq or not key.strip():
                raise DimsError(f"--dims: {part!r} is not KEY=SIZE (e.g. --dims f=2,h=3)")
            given[key.strip()] = value.strip()
    elif isinstance(dims, dict):
        given = dict(dims)
    else:
        raise DimsError(f"--dims: give a dict or text such as 'f=2,h=3', got {type(dims).__name__}")
    sizes = dict(DIMS_DEFAULTS)
    for key, value in given.items():
        if key not in DIMS_KEYS:
            raise DimsError(f"--dims: unknown key {key!r} (keys: f = input features, h = hidden units, "
                            f"o = outputs, n1…n9 = units of layer 1…9)")
        if isinstance(value, str):
            ok = value.isascii() and value.isdigit()
            value = int(value) if ok else value
        else:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or value < 1:
            raise DimsError(f"--dims: {key}={value}: a size is a whole number ≥ 1")
        if value > MAX_SIZE:
            raise DimsError(f"--dims: {key}={value}: at most {MAX_SIZE} (the check builds every element as a node)")
        sizes[key] = value
    return sizes


def check_document(text, seed=0, points=4, samples=5, dims=None, kind="md"):
    """Check every claim of a derivation document; return a list of `ClaimResult`, in document order.

    ``text`` is the document (Markdown, or LaTeX with ``kind="tex"``). The model is read from its
    definitions, built from `Value` nodes and evaluated at ``points`` seeded random points, each with
    ``samples`` random samples of the data; a claim that does not hold there is also tried with one sample, to
    tell a per-sample formula from a wrong one."""
    return check_report(text, seed=seed, points=points, samples=samples, dims=dims, kind=kind).results


def check_report(text, seed=0, points=4, samples=5, dims=None, kind="md"):
    """Like `check_document`, but returns the whole `Report`."""
    if not isinstance(text, str):
        raise DocumentError(f"a document is text, got {type(text).__name__}")
    if kind == "ipynb":
        source = read_source(text, kind="ipynb", name="<notebook>")
    else:
        source = read_source(text, kind=kind, name="<text>")
    return check_source(source, seed=seed, points=points, samples=samples, dims=dims)


def check_file(path, seed=0, points=4, samples=5, dims=None):
    """Read a document (``.md``, ``.ipynb``, ``.tex``; ``-`` is standard input) and check it: a `Report`. A file
    that cannot be read is a `DocumentError` naming it and why."""
    try:
        if str(path) == "-":
            import sys
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
            text = decode(data, "<stdin>")
            source = read_source(text, kind="ipynb" if text.lstrip().startswith("{") and '"cells"' in text[:20000]
                                 else ("tex" if re.search(r"\\documentclass|\\begin\{document\}", text[:4000])
                                       else "md"), name="<stdin>")
        else:
            source = read_source(str(path))
    except SourceError as exc:
        raise DocumentError(str(exc)) from None
    return check_source(source, seed=seed, points=points, samples=samples, dims=dims)


def _check_options(seed, points, samples):
    for name, value, low, high in (("points", points, 1, 50), ("samples", samples, 1, 200)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"--{name}: a whole number from {low} to {high}, got {value!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"--seed: a whole number ≥ 0, got {seed!r}")


def check_source(source, seed=0, points=4, samples=5, dims=None):
    """Check a `microreg.mathspans.Source` (every part: a notebook's markdown cells, one after another)."""
    _check_options(seed, points, samples)
    sizes = parse_dims(dims) if dims is not None else None
    rows, unread, counts = read_document(source)
    sorter = sort_equations(rows)
    sorter.failed = counts["failed"]
    prose = " ".join(p.text for p in source.parts)
    reading = choose_reading(sorter, samples, sizes, prose, seed)
    judge = Judge(sorter, reading, seed=seed, points=points, prose=_prose_words(prose))
    judge.parts = source.parts
    results = []
    for u in unread + sorter.unread:
        results.append(ClaimResult(u.line, u.column, u.text, None, "unchecked", u.why, None, u.cell, u.kind))
    failed = validate(judge, sorter)
    for d, why in failed:
        results.append(ClaimResult(d.line, d.column or 1, d.text, None, "unchecked", why, None,
                                   d.row.cell if d.row else None, "equation"))
    for claim in sorter.claims:
        try:
            results.extend(judge.judge(claim))
        except RecursionError:
            results.append(_not_checked(claim, "nested too deeply to evaluate"))
        except Exception as exc:  # noqa: BLE001 - one claim never stops the others: say what failed, on its line
            results.append(_not_checked(claim, f"could not check this equation ({type(exc).__name__}: {exc})"))
    results.sort(key=lambda r: (r.cell or 0, r.line, r.column))
    definitions = [(_line(d), d.text + ("" if d.first else "   (a redefinition: until the end of its section)"))
                   for d in sorter.definitions if (d, None) not in [(f, None) for f, _ in failed]]
    notes = list(source.notes)
    if counts["comment_math"]:
        notes.append(f"{counts['comment_math']} math span(s) read inside HTML comments (<!-- … -->)")
    if counts["beyond"]:
        from .equations import MAX_EQUATIONS
        results.append(ClaimResult(results[-1].line if results else 1, 1, "the rest of the document", None,
                                   "unchecked", f"{counts['beyond']:,} more math span(s) not read: microreg reads the "
                                   f"first {MAX_EQUATIONS:,} equations of a document", None, None, "equation"))
    report = Report(results, definitions, counts["mentions"], counts["prose"], reading.samples,
                    reading.words(), notes, counts["derivative_marks"], source.name)
    return report


def _line(d):
    return d.line


def _name_node(n):
    from ..notation import Node
    return Node("sym", (), n.symbol) if n.symbol is not None else Node("text", (), str(n.key))


def _prose_words(text):
    """The words of a document outside its math (for an activation named only in words)."""
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]", " ", text, flags=re.S)


def validate(judge, sorter):
    """Definitions that cannot be built under the reading: (Definition, why), reported once and dropped."""
    failed = []
    model = judge.model_at(None)
    rng = np.random.default_rng([judge.seed, 99])
    for d in list(sorter.definitions):
        if d.params:
            continue
        try:
            pt = Point(model, rng)
            key = d.key
            if key.symbolic():
                key = Key(key.name, str(model.reading.layers))
            pt.quantity(key, d.symbol)
        except (ReadError, V.ShapeError) as exc:
            failed.append((d, f"cannot use this definition: {exc}"))
        except (MathDomainError, ZeroDivisionError, OverflowError) as exc:
            failed.append((d, f"cannot evaluate this definition: {exc}"))
        except RecursionError:
            failed.append((d, "cannot use this definition: nested too deeply"))
    for d, why in failed:
        if d in sorter.definitions:
            sorter.definitions.remove(d)
        sorter.dropped[d.key] = (d.line, why.replace("cannot use this definition: ", "").replace(
            "cannot evaluate this definition: ", ""))
    return failed


# --- choosing a reading ---------------------------------------------------------------------------------------

def vector_signals(sorter):
    """Does the document write vectors and matrices (transposes, ⊙, element indices, ∑ over units, matrices
    with layer superscripts, softmax, numpy calls)?"""
    sample = {"i", "n", "x"}
    for row in sorter.rows:
        for m in row.eq.members:
            for n in m.walk():
                if n.kind == "transpose":
                    return True
                if n.kind == "mul" and "odot" in n.value:
                    return True
                if n.kind == "func" and str(n.value) in ("softmax", "np.dot", "np.sum", "np.multiply", "norm"):
                    return True
                if n.kind == "sum" and n.value[0] and n.value[0] not in sample and n.value[2] not in ("m", "n", "N"):
                    return True
                if n.kind == "sym":
                    s = n.value
                    letters = [i for i in s.sub if len(i) == 1 and i.isalpha() and i not in sample and i not in "lL"]
                    if letters and s.base not in ("x", "y"):
                        return True
                    if s.base in ("W", "Z", "A", "X", "Y") and (s.layer is not None or s.base in ("X", "Y")):
                        return True
                if n.kind == "deriv" and n.args[1].kind == "sym" and n.args[1].value.base in ("W", "X"):
                    return True
    return False


def layers_of(sorter):
    top = 0
    templates = False
    judge = Judge(sorter, Reading())
    elements = set(judge.vectors()) | judge.tuple_elements()   # w₁, w₂ beside wᵀx or in (w₁, w₂)ᵀ: not layers
    for d in sorter.definitions:
        if d.key.symbolic():
            templates = True
    samples = set()
    for row in sorter.rows:
        for m in row.eq.members:
            for t in m.walk():
                # (a^{(1)}, a^{(2)}, …, a^{(m)}): the samples one by one, not layers
                if t.kind == "tuple" and any(n.kind == "sym" and n.value.layer in ("m", "n", "m-1", "n-1")
                                             for n in t.walk()):
                    samples.update(id(n) for n in t.walk())
    for row in sorter.rows:
        for m in row.eq.members:
            for n in m.walk():
                if n.kind == "sym" and id(n) not in samples:
                    key = key_of(n.value)[0]
                    if key.symbolic():
                        templates = True
                    elif key.slot.split(",")[0].isdigit() and n.value.base in ("w", "W", "b", "z", "Z", "a", "A", "h",
                                                                               "delta", "theta", "Theta", "g") \
                            and n.value.base not in elements:
                        top = max(top, int(key.slot.split(",")[0]))
    if templates:
        # z^{[l]} = … for every layer: as many as the loss says (J of a^{[2]}: 2 layers), else 3
        for d in sorter.definitions:
            if d.key.name in LOSS_NAMES:
                said = {int(key_of(n.value)[0].slot.split(",")[0]) for n in d.tree.walk()
                        if n.kind == "sym" and n.value.base in ("a", "A", "h", "H")
                        and key_of(n.value)[0].slot.split(",")[0].isdigit()}
                if said and max(said) >= top:
                    return max(said)
        # two hidden layers of different sizes, so a transpose between them shows (Nielsen's a¹ = x: one more)
        return max(3 + _first_layer(sorter), top)
    return max(1, top)


def _not_checked(claim, why):
    tree, line, column, text = claim.members[0]
    return ClaimResult(line, column, text, None, "unchecked", why, None, claim.row.cell, claim.kind)


def choose_reading(sorter, samples, sizes, prose, seed):
    """The reading under which the most definitions build (ties: the first of the document's style)."""
    layers = layers_of(sorter)
    classes = any(n.kind == "func" and n.value == "softmax" for row in sorter.rows for m in row.eq.members
                  for n in m.walk()) or "softmax" in prose.lower() or Judge(sorter, Reading()).one_hot()
    scalar = Reading(False, samples=samples, layers=layers)
    if sizes is None and not vector_signals(sorter):
        return scalar
    f = sizes["f"] if sizes else 2
    h = sizes["h"] if sizes else 3
    o = sizes["o"] if sizes else (4 if classes else 1)
    layer_sizes = tuple((int(k[1:]), v) for k, v in (sizes or {}).items() if k.startswith("n"))
    capital = any(n.kind == "sym" and n.value.base in ("X", "A", "Z", "Y") for row in sorter.rows
                  for m in row.eq.members for n in m.walk())
    data_modes = ["columns", "rows", "batch"] if capital else ["batch"]
    one_output = [str(Key(d.key.name, d.key.slot)) for d in sorter.definitions] and _one_output_weights(sorter, layers)
    transposed = {n.args[0].value.base for row in sorter.rows for m in row.eq.members for n in m.walk()
                  if n.kind == "transpose" and n.args[0].kind == "sym"}
    combos = [cols for k in range(min(len(one_output), 2) + 1) for cols in itertools.combinations(one_output, k)]
    # wᵀx, θᵀx: a weight written transposed into one output is a column first (ties go to the first reading)
    combos.sort(key=lambda cols: -sum(1 for c in cols if c.split("^")[0].split("_")[0] in transposed
                                      or c in transposed))
    candidates = []
    for data in data_modes:
        for weights in ("out_in", "in_out"):
            for cols in combos:
                    candidates.append(Reading(True, f, h, o, samples, data, weights, frozenset(cols), layers,
                                              layer_sizes, _first_layer(sorter)))
    best = None
    for r in candidates:
        # first every definition built, then the data as the document writes it (X as a matrix before a batch
        # of rows), then the claims whose shapes fit (w₂ as a column or a row)
        built = _failures(sorter, r, seed, prose, claims=False)
        score = (built, r.data == "batch", _failures(sorter, r, seed, prose) - built, data_modes.index(r.data))
        if best is None or score < best[0]:
            best = (score, r)
        if score[0] == 0 and score[2] == 0 and len(data_modes) == 1:
            break
    if sizes is None:
        # the scalar reading fits anything: it wins only when the vectors break more definitions
        if _failures(sorter, scalar, seed, prose, claims=False) < _failures(sorter, best[1], seed, prose, claims=False):
            return scalar
    return best[1]


def _first_layer(sorter):
    """1 when the document says the input is layer 1 (Nielsen's a¹ = x), else 0 (a⁽⁰⁾ = x, A^{[0]} = X)."""
    for d in sorter.definitions:
        if d.key.name in ("a", "A") and d.key.slot == "1" and d.tree.kind == "sym" and d.tree.value.base in ("x", "X"):
            return 1
    return 0


def _one_output_weights(sorter, layers):
    """Weights into a one-unit output layer, which a document may write as a column (``w_2^T a_1``)."""
    out = []
    seen = set()
    for row in sorter.rows:
        for m in row.eq.members:
            for n in m.walk():
                if n.kind == "sym":
                    key = key_of(n.value)[0]
                    role = weight_or_bias(key)
                    if role and role[0] == "weight" and (role[1] is None or role[1] == layers) and key not in seen:
                        seen.add(key)
                        out.append(str(key) if key.slot else key.name)
    return out[:3]


def _failures(sorter, reading, seed, prose, claims=True):
    judge = Judge(sorter, reading, seed=seed, points=1, prose=_prose_words(prose))
    model = judge.model_at(None)
    failures = 0
    pt = Point(model, np.random.default_rng([seed, 7]))
    for d in sorter.definitions:
        if d.params:
            continue
        key = d.key
        if key.symbolic():
            key = Key(key.name, str(reading.layers))
        try:
            pt.quantity(key, d.symbol)
        except (ReadError, V.ShapeError, MathDomainError, ZeroDivisionError, OverflowError, KeyError, IndexError):
            failures += 1
        except RecursionError:
            failures += 1
    loss = model.the_loss()
    if loss is not None:
        try:
            value = pt.quantity(loss)
            if any(n > 1 for a, n in zip(value.axes, value.shape) if a not in ("s",)):
                failures += 2
        except Exception:  # noqa: BLE001 - counted above
            pass
    # claims whose shapes do not fit count against a reading too (a little)
    for claim in (sorter.claims[:40] if claims else ()):
        for tree, *_ in claim.members[:2]:
            try:
                judge.values_at(claim, tree, pt)
            except (MathDomainError, ZeroDivisionError, OverflowError):
                pass                          # a point outside a domain says nothing about the reading
            except Exception:  # noqa: BLE001 - a claim that does not fit counts a little against a reading
                failures += 0.25
    return failures
