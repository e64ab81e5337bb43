r"""The document checker's side of the one mistake search (`microreg.mistakes`).

A claim about a gradient (``\frac{\partial J}{\partial W^{[1]}} = …``, ``dW^{[1]} = …``, an update rule) that
autograd disagrees with is handed to `microreg.mistakes.explain`, the search `verify` and the stepper's quiz
use, so all three name a slip in the same words. This module gives it what only the document knows:

- the graph at each point: the loss the claim is about (a scalar `Value`, summed over the samples) and the
  quantity it differentiates by, element by element, in the order of the claim's value;
- the places of the learner's formula that one change could fix (`Occurrence`: a name, a difference, a
  minus), the names the learner could have written instead (`Quantity`: the same letter at another layer,
  the document's other quantities), and ``substitute``: the claim's tree evaluated with one change.

`explain_claim` returns the search's words, or None when the claim is not a gradient of the model's loss (an
identity such as ``σ'(z) = σ(z)(1 − σ(z))``, or the course's per-sample dZ convention), where the judge's
own candidates (`microreg.document.judge.candidates`) are tried instead.
"""

import re

import numpy as np

from ..engine import topological_order
from ..mistakes import ONE, REVERSED, TRANSPOSE, Graph, Occurrence, Quantity, explain
from ..notation import Node, show, show_symbol
from . import values as V
from .model import Ctx, Evaluator, Key, key_of

#: at most this many places of a formula and names to try (a long formula stays fast)
MAX_PLACES = 40
MAX_NAMES = 30


def explain_claim(judge, claim, tree, model, points, H, T, letter, use_alt=False):
    """The search's words for a gradient claim that autograd disagrees with (a `Diagnosis` with at least one
    explanation), or None when the search cannot take this claim or finds nothing."""
    if use_alt or claim.kind not in ("derivative", "update"):
        return None
    target = _target(claim, model)
    if target is None:
        return None
    of, wrt = target
    graphs, hands, truths, split = [], [], [], []      # split: per point, None (one graph) or n (one per sample)
    try:
        for pt, h, t in zip(points, H, T):
            ev = Evaluator(pt, judge.ctx())
            value = ev.run(of)
            nodes = ev.run(wrt).v
            truth = np.ravel(np.asarray(t, dtype=np.float64))
            hand = np.ravel(np.asarray(h, dtype=np.float64))
            total = V.reduce_all(value).item()
            if not hasattr(total, "_prev"):
                return None
            g = _fitted(Graph(total, nodes), total, nodes, truth)
            if g is not None:
                graphs.append(g)
                hands.append(hand)
                truths.append(truth)
                split.append(None)
                continue
            # a loss per sample (L = ½(ŷ − y)² over 5 samples) and a claim per sample: one graph per sample
            if "s" not in value.axes or len(value.axes) != 1 or truth.size % value.shape[0]:
                return None
            n = value.shape[0]
            for i, (hi, ti) in enumerate(zip(np.split(hand, n), np.split(truth, n))):
                one = value.v[i]
                # each sample's graph names its nodes without the sample's index: ŷ, not ŷ[3]
                names = {id(x): m.group(1) for x in topological_order(one)
                         if isinstance(x.label, str) and (m := re.fullmatch(r"(.+)\[\d+\]", x.label))}
                gi = _fitted(Graph(one, nodes, names=names), one, nodes, ti)
                if gi is None:
                    return None
                graphs.append(gi)
                hands.append(hi)
                truths.append(ti)
            split.append(n)
    except Exception:  # noqa: BLE001 - a claim the graph cannot be built for is left to the judge's own candidates
        return None
    places, names = occurrences(tree), quantities(tree, model, points, split, judge.ctx())
    by_label = {label: node for label, node, _ in names}

    def substitute(occurrence, replacement):
        new = changed(tree, occurrence, replacement, by_label)
        if new is None:
            raise ValueError("no such change")
        for pt, n in zip(points, split):
            h, _, _, _ = judge.values_at(claim, new, pt)
            h = np.ravel(np.asarray(h, dtype=np.float64))
            if n is None:
                yield h
            else:
                yield from np.split(h, n)

    r = judge.reading
    sizes = [(letter, r.samples, "samples")] if r.samples > 1 else []
    if r.vector:
        sizes += [("f", r.f, "features"), ("h", r.h, "hidden units")]
    one = judge.right_for_one_sample(claim, tree, claim.row) if r.samples > 1 else None
    try:
        with np.errstate(all="ignore"):      # a graph holding inf: its candidates are dropped, not warned about
            d = explain(graphs, hands, truths,
                        wrt=f"∂{show(of)}/∂{show(wrt)}", occurrences=places,
                        quantities=[Quantity(label, values) for label, _, values in names], substitute=substitute,
                        sizes=sizes, one_sample=one, mean=True if one else None)
    except Exception:  # noqa: BLE001 - the search failing on one claim says nothing about the claim
        return None
    return d if d.explanations else None


def _fitted(g, out, nodes, truth):
    """The graph whose autograd side is ``truth`` (``nodes`` in the claim's order, or transposed), or None."""
    if g.truth.shape == truth.shape and np.allclose(g.truth, truth, rtol=1e-6, atol=1e-9):
        return g
    if np.ndim(nodes) == 2:
        g = Graph(out, np.transpose(nodes), base=g)
        if g.truth.shape == truth.shape and np.allclose(g.truth, truth, rtol=1e-6, atol=1e-9):
            return g
    return None


def _target(claim, model):
    """(what is differentiated, by what) as trees, for a claim about the model's loss, or None."""
    t = claim.target
    if claim.kind == "update":
        loss = model.the_loss()
        return (_sym(loss), claim.param) if loss is not None and claim.param.kind == "sym" else None
    if t.kind == "deriv" and t.value == 1 and t.args[1].kind == "sym" and t.args[0].kind == "sym":
        return t.args[0], t.args[1]
    n = claim.named
    if n is not None and t.kind == "sym" and n.of is not None and n.of.kind == "sym" and n.wrt is not None \
            and n.wrt.kind == "sym" and not n.key.symbolic():
        return n.of, n.wrt                       # δ₁ named ∂L/∂Z₁
    if t.kind == "dname" and t.args[0].kind == "sym":
        loss = model.the_loss()
        return (_sym(loss), t.args[0]) if loss is not None else None
    return None


def _sym(key):
    from .judge import _symbol_of
    return Node("sym", (), _symbol_of(key), None)


# --- the places of a formula ---------------------------------------------------------------------------

def occurrences(tree):
    """The places one change could fix: each name (a factor or not, written transposed or not), each
    difference a − b, each minus the learner wrote."""
    out = []

    def walk(node, path, parent):
        if len(out) >= MAX_PLACES:
            return
        if node.kind == "transpose" and node.args[0].kind == "sym":
            out.append(Occurrence(("tsym", path), show_symbol(node.args[0].value), factor=True, transposed=True,
                                  transposable=True))
            return
        if node.kind == "sym":
            factor = parent is not None and parent.kind == "mul"
            out.append(Occurrence(("sym", path), show_symbol(node.value), factor=factor, transposable=True))
            return
        if node.kind == "add" and len(node.args) == 2 and tuple(node.value) == ("+", "-"):
            a, b = node.args
            out.append(Occurrence(("diff", path), show(node), kind="difference",
                                  reversed=f"{show(b)} − {_wrapped(a)}"))
        if node.kind == "neg":
            out.append(Occurrence(("neg", path), show(node), kind="negation"))
        for k, a in enumerate(node.args):
            walk(a, path + (k,), node)

    walk(tree, (), None)
    return out


def _wrapped(node):
    text = show(node)
    return f"({text})" if node.kind in ("add", "neg") else text


def quantities(tree, model, points, split=None, ctx=None):
    """[(label, Node, values per point)]: the names the learner could have written instead of one of theirs:
    the same letter at another layer, and the document's other quantities."""
    written = [n for n in tree.walk() if n.kind == "sym"]
    keys = [key_of(n.value)[0] for n in written]
    pool = []
    seen = set()

    def add(sym):
        label = show_symbol(sym)
        if label not in seen:
            seen.add(label)
            pool.append((label, Node("sym", (), sym, None)))
    known = list(model.definitions.keys()) + [k for k in model.mentioned if isinstance(k, Key)]
    for n, key in zip(written, keys):                   # the same letter at another layer
        for other in known:
            if other.name == key.name and other.slot != key.slot and other.slot.isdigit():
                add(n.value.with_(layer=other.slot if n.value.layer is not None else None,
                                  sub=n.value.sub if n.value.layer is not None else (other.slot,)))
    for key, d in model.definitions.items():            # the document's quantities
        if d.symbol is not None and not key.symbolic():
            add(d.symbol)
    out = []
    split = split or [None] * len(points)
    for label, node in pool[:MAX_NAMES]:
        values = []
        try:
            for pt, n in zip(points, split):
                value = Evaluator(pt, ctx or Ctx()).run(node).numbers()
                v = np.asarray(value.v, dtype=np.float64)
                if n is None:
                    values.append(v)
                elif "s" in value.axes and value.shape[value.axes.index("s")] == n:
                    values.extend(np.moveaxis(v, value.axes.index("s"), 0))    # each sample's value
                else:
                    values.extend([v] * n)
        except Exception:  # noqa: BLE001 - a name that cannot be built here is no candidate
            continue
        out.append((label, node, values))
    return out


def changed(tree, occurrence, replacement, by_label):
    """The tree with one change at ``occurrence``, or None when that change does not apply there."""
    kind, path = occurrence.key

    def make(node):
        if kind == "diff" and replacement is REVERSED:
            return Node("add", (node.args[1], node.args[0]), ("+", "-"), node.column)
        if kind == "neg" and replacement is REVERSED:
            return node.args[0]
        if kind in ("sym", "tsym"):
            if replacement is ONE:
                return Node("num", (), 1.0, node.column)
            if replacement is TRANSPOSE:     # xᵀ written: x; x written: xᵀ
                return node.args[0] if kind == "tsym" else Node("transpose", (node,), None, node.column)
            if isinstance(replacement, Quantity) and replacement.label in by_label:
                other = by_label[replacement.label]
                return Node("transpose", (other,), None, node.column) if kind == "tsym" else other
        return None

    return _replace_at(tree, list(path), make)


def _replace_at(node, path, make):
    if not path:
        return make(node)
    k = path[0]
    inner = _replace_at(node.args[k], path[1:], make)
    if inner is None:
        return None
    args = list(node.args)
    args[k] = inner
    return Node(node.kind, args, node.value, node.column)
