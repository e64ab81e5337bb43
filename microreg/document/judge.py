r"""Judging a document's claims: each against autograd, at seeded random points of the model.

For every claim (`microreg.document.equations.Claim`) and every link of it, `Judge` builds the model in
force at its line (`microreg.document.model`), evaluates the claim's side and the truth at a few points
(each with its own random parameters and data), and gives a verdict:

- **ok**: equal at every point (a per-sample formula is summed over the samples first, and says so; the
  course's ``dZ = A - Y``, each sample's ∂ℒ/∂z without the 1/m, is read as the course means it);
- **factor**: a constant times the truth, named when a derivation makes it (a missing 1/m, a ½, the 2 of a
  square, a flipped sign), and a formula written for one sample under a loss that takes the mean over the
  samples is said to be exactly that;
- **wrong**: with the simplest explanation that holds at every point (one name where another belongs, a
  function where its derivative belongs, an extra or a forgotten local derivative, a reversed difference,
  a transpose), or "no single mistake explains it" with both numbers;
- **unchecked**: with the reason (a name never defined, a derivative of a vector, a value outside a domain at
  every point tried).
"""

import math
import re
from dataclasses import asdict, dataclass

import numpy as np

from ..engine import MathDomainError, Value
from ..notation import Node, Symbol, rewrite, show, show_symbol
from . import values as V
from .equations import in_scope, is_number
from .search import explain_claim
from .model import (LOSS_NAMES, SIZES, Ctx, Evaluator, Key, Model, Point, ReadError, Reading, Unresolved,
                    key_of)
from .values import Arr, ShapeError

__all__ = ["ClaimResult", "Judge", "factor_words"]

RTOL, ATOL = 1e-6, 1e-9
_EVAL_ERRORS = (ReadError, ShapeError, MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError,
                KeyError, IndexError)


@dataclass
class ClaimResult:
    """One row of the report: where, what, and the verdict.

    ``verdict`` is "ok", "factor", "wrong" or "unchecked"; ``factor`` is k for a "factor" verdict (your value
    = k × autograd); ``wrt`` names the variable of the derivative (None if there is none); ``cell`` is the
    notebook cell (None for other documents); ``kind`` says what was checked ("derivative", "identity",
    "update", "equation", "arithmetic", "example", "prose", "picture", "code"); ``mistake`` is the kind of the
    mistake the one search (`microreg.mistakes`) named, as `verify` names it, or None."""

    line: int
    column: int
    claim: str
    wrt: str | None
    verdict: str
    explanation: str
    factor: float | None = None
    cell: int | None = None
    kind: str = "derivative"
    mistake: str | None = None

    def to_dict(self):
        return asdict(self)


def factor_words(k, m, letter="m"):
    """What a constant factor k (yours = k × autograd) usually means, with m samples; None if nothing."""
    cases = [(m, f"the 1/{letter} is missing (a sum where the loss takes the mean)"),
             (2 * m, f"the 1/{letter} and a ½ are missing"),
             (m / 2, f"the 1/{letter} and the 2 of a square are missing"),
             (1 / m, f"a spurious 1/{letter}"),
             (2.0, "a dropped ½, or a term counted twice"),
             (0.5, "the 2 of a square (d(u²) = 2u du) left out, or a spurious ½"),
             (-1.0, "the sign is flipped"),
             (-2.0, "the sign is flipped and a ½ dropped"),
             (-0.5, "the sign is flipped and the 2 of a square left out"),
             (-float(m), f"the sign is flipped and the 1/{letter} is missing")]
    for i, (value, text) in enumerate(cases):
        if m == 1 and (i < 4 or i == len(cases) - 1):
            continue
        if math.isclose(k, value, rel_tol=1e-6):
            return text
    return None


def _once(method):
    """A judge's fact about the whole document, worked out once (every claim's model asks for it)."""
    name = "_once_" + method.__name__

    def cached(self):
        if name not in self.__dict__:
            self.__dict__[name] = method(self)
        return self.__dict__[name]
    cached.__name__, cached.__doc__ = method.__name__, method.__doc__
    return cached


def _names_something(node):
    """Does the left side of an identity name a quantity (a name, a function of something, a derivative)?"""
    return node.kind in ("sym", "apply", "deriv", "dname", "func", "partial", "nabla", "num") or (
        node.kind == "pow" and node.args[0].kind in ("sym", "apply", "func"))


def _free_sample(tree, model):
    """Does the formula name one sample (x⁽ⁱ⁾, yᵢ) outside any sum over it?"""
    def walk(node, bound):
        if node.kind == "sum" and node.value and node.value[0]:
            bound = bound | {node.value[0]}
        if node.kind == "sym":
            sample = node.value.sample
            if sample and sample not in bound:
                return True
        return any(walk(a, bound) for a in node.args)
    return walk(tree, frozenset())


def substitute_index(node, letter, value):
    """The tree with the index ``letter`` replaced by ``value`` in every subscript (θⱼ → θ₁), except inside a
    sum over that letter."""
    def change(n):
        if n.kind == "sym":
            if letter in n.value.sub:
                return Node("sym", (), n.value.with_(sub=tuple(value if s == letter else s for s in n.value.sub)),
                            n.column)
            return n
        if n.kind == "sum" and n.value and n.value[0] == letter:
            return n
        return None
    return rewrite(node, change)


def _agree(h, t):
    h, t = np.asarray(h, dtype=np.float64), np.asarray(t, dtype=np.float64)
    if h.shape != t.shape:
        return False
    return bool(np.all(np.abs(h - t) <= ATOL + RTOL * np.abs(t)))


def _factor(H, T):
    """k with H = k·T at every point and element (k ≠ 1), or None."""
    H = np.concatenate([np.atleast_1d(np.asarray(h, dtype=np.float64)).ravel() for h in H])
    T = np.concatenate([np.atleast_1d(np.asarray(t, dtype=np.float64)).ravel() for t in T])
    if H.shape != T.shape or not T.size:
        return None
    big = np.abs(T) > 1e-8 * max(1.0, float(np.abs(T).max()))
    if not big.any():
        return None
    k = float(np.median(H[big] / T[big]))
    if abs(k) < 1e-12 or not np.isfinite(k) or not np.all(np.abs(H - k * T) <= ATOL + RTOL * np.abs(k * T)):
        return None
    if math.isclose(k, 1.0, rel_tol=1e-9):
        return None
    return k


class Judge:
    """Judges every claim of a sorted document under one `Reading`."""

    def __init__(self, sorter, reading, seed=0, points=4, prose=""):
        self.s, self.reading, self.seed, self.n_points = sorter, reading, seed, points
        self.prose = prose
        self.conventions = {}            # Key → "per sample": the course's dZ read as each sample's ∂ℒ/∂Z
        self.assume = {}                 # Key → a number the text gives just before a claim (λ = 0)
        self.restating = False           # judging a cost written again: the model without its new definition
        self.layer = {}                  # {"l": k}: a template claim judged at layer k
        self.parts = None                # the document's parts (the text around a claim), when known
        self.mistake = None              # the kind of the mistake the one search named for the claim being judged
        self._models = {}

    # --- the model at a row ---------------------------------------------------------------------------
    def model_at(self, row, reading=None):
        reading = reading or self.reading
        before = self.restating
        cache_key = (_place(row) if row else None, row.section if row else None, reading, before)
        if cache_key in self._models:
            return self._models[cache_key]
        defs, funcs, named = {}, {}, {}
        for d in self.s.definitions:
            if row is not None and not d.first and (_place(d.row) > _place(row) or not in_scope(d.section, row.section)):
                continue
            if before and row is not None and d.row is row:
                continue                  # a restated cost is judged against the cost before it
            if d.params or d.key in self.s.functions and self.s.functions[d.key] is d:
                funcs[d.key] = d
                defs.pop(d.key, None)           # a later definition of a name replaces the earlier one
            else:
                defs[d.key] = d
                funcs.pop(d.key, None)
        for k, n in self.s.named.items():
            if row is None or n.line <= row.line or True:
                named[k] = n
                if k in self.conventions:
                    n.convention = self.conventions[k]
        losses = self.losses(defs, funcs, row)
        model = Model(dict(defs), funcs, named, reading, losses, activations=self.activations(),
                      sample_letters=self.sample_letters(), one_hot=self.one_hot(), binary=self.binary(),
                      indexed=self.indexed_leaves())
        model.conventions = self.conventions
        model.vectors = self.vectors()
        model.not_sizes = self.not_sizes()
        model.failed = self.s.failed
        model.dropped = self.s.dropped
        self._models[cache_key] = model
        return model

    def losses(self, defs, funcs, row=None):
        """The loss candidates, most likely first: (Key, per_sample): the latest defined before ``row``, then
        those defined after it (a section "for one example" uses ℒ even if J comes later)."""
        out = []
        here = _place(row) if row is not None else None
        for key, d in list(defs.items()) + list(funcs.items()):
            if key.name in LOSS_NAMES or key.name.lower() in ("loss", "cost"):
                per_sample = not any(n.kind in ("sum",) for n in d.tree.walk()) and not any(
                    n.kind == "apply" and n.args[0].kind == "func" and n.args[0].value in ("np.sum", "np.mean",
                                                                                             "sum", "mean")
                    for n in d.tree.walk())
                after = here is not None and _place(d.row) > here
                out.append((after, tuple(-x for x in _place(d.row)), key, per_sample))
        out.sort(key=lambda t: (t[0], t[1]))
        return [(k, p) for _, _, k, p in out]

    @_once
    def activations(self):
        """An activation written as g (or φ) but never defined, read from the prose when it names one."""
        words = self.prose.lower()
        found = [name for name, pats in (("sigmoid", ("sigmoid", "logistic")), ("tanh", ("tanh",)),
                                         ("relu", ("relu", "rectified")))
                 if any(p in words for p in pats)]
        out = {}
        if len(found) == 1:
            for letter in ("g", "phi", "f"):
                out[Key(letter)] = found[0]
        elif len(found) == 2 and "sigmoid" in found:
            # "ReLU for l < L, the sigmoid for l = L": the hidden layers' and the output's, by the argument's layer
            hidden = next(f for f in found if f != "sigmoid")
            for letter in ("g", "phi", "f"):
                out[Key(letter)] = ("by layer", hidden, "sigmoid")
        out.update(self.s.aliases)           # g^{[1]} = \tanh said in an equation wins over the prose
        return out

    @_once
    def not_sizes(self):
        """Letters that usually count the samples (m, n, N) but here are something else: ŷᵢ = m xᵢ + b with
        sums to n makes m the slope. A letter is a size when a sum runs to it or no other letter is."""
        limits = set()
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "sum" and n.value[2]:
                        limits.add(str(n.value[2]).replace(" ", ""))
        counting = {x for x in limits if SIZES.get(x) == "samples"}
        if not counting:
            return set()
        return {x for x, what in SIZES.items() if what == "samples" and x not in counting}

    @_once
    def sample_letters(self):
        letters = set()
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "sum" and n.value[2] in SIZES and SIZES.get(n.value[2]) == "samples" and n.value[0]:
                        letters.add(n.value[0])
                    if n.kind == "sym" and n.value.sample:
                        letters.add(n.value.sample)
        return letters

    @_once
    def vectors(self):
        """Names written both as a vector (wᵀ, θᵀx) and element by element (w₁, w₂): {name: first index}."""
        transposed, digits = set(), {}
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "transpose" and n.args[0].kind == "sym" and not n.args[0].value.sub:
                        transposed.add(n.args[0].value.base)
                    if n.kind == "sym" and len(n.value.sub) == 1 and n.value.sub[0].isdigit() and not n.value.layer:
                        digits.setdefault(n.value.base, set()).add(int(n.value.sub[0]))
        out = {}
        for name in ("w", "x", "theta", "beta"):
            vec = name in transposed or (name == "x" and transposed & {"w", "theta", "beta"})
            if vec and name in digits:
                out[name] = 0 if 0 in digits[name] else 1
        return out

    @_once
    def tuple_elements(self):
        """Names whose numbered elements are gathered into a vector: w = (w₁, w₂, w₃)ᵀ, θ = [θ₀; θ₁]."""
        out = set()
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind in ("tuple", "vector", "rowvec") and len(n.args) > 1 and all(
                            a.kind == "sym" and len(a.value.sub) == 1 and a.value.sub[0].isdigit()
                            for a in n.args):
                        out.update(a.value.base for a in n.args)
        return out

    @_once
    def indexed_leaves(self):
        """Names written with an element index (z_i, w_{jk}) that no definition gives: vectors, not numbers."""
        out = {}
        samples = self.sample_letters()
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "sym":
                        key, letters, sample = key_of(n.value)
                        letters = [x for x in letters if x not in samples or x == "i"]
                        if letters:
                            out[key] = max(out.get(key, 0), len(letters))
        return out

    @_once
    def one_hot(self):
        for row in self.s.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "sym" and any(re.fullmatch(r"[yt](_?\{?[in]\}?)?", i.replace(" ", ""))
                                               for i in n.value.sub):
                        return True                   # p_{y_i}: the probability of the label: one-hot labels
                    if n.kind == "func" and n.value == "indicator":
                        return True
                    if n.kind == "func" and n.value == "softmax":
                        return True
                    if n.kind == "sum" and n.value[0] and n.value[2] not in ("m", "n", "N"):
                        body = list(n.args[0].walk())
                        has_log = any(b.kind == "func" and b.value == "log" for b in body)
                        has_y = any(b.kind == "sym" and b.value.base in ("y", "t") and n.value[0] in b.value.sub
                                    for b in body)
                        if has_log and has_y:
                            return True               # −Σ_k y_k log p_k: a one-hot (categorical) target
        return any("softmax" in (d.text or "") for d in self.s.definitions)

    @_once
    def binary(self):
        for d in self.s.definitions:
            t = d.tree
            if any(n.kind == "apply" and n.args[0].kind == "func" and n.args[0].value == "log" for n in t.walk()) \
                    and any(n.kind == "add" and len(n.args) == 2 and n.args[0].kind == "num" and n.args[0].value == 1
                            for n in t.walk()):
                return True
        return False

    def make_points(self, model, row, salt=0, count=None):
        count = count or self.n_points
        out = []
        for k in range(count):
            rng = np.random.default_rng([self.seed, row.line if row else 0, salt, k])
            out.append(Point(model, rng))
        return out

    # --- judging a claim --------------------------------------------------------------------------------
    def judge(self, claim):
        """[ClaimResult] for every link of ``claim`` (for a gradient vector, every row)."""
        if claim.restates:
            # a cost written again under another heading: it agrees with the one before, or it is that
            # section's own cost (a redefinition, not a claim)
            self.restating = True
            try:
                rows = self._judge(claim)
            finally:
                self.restating = False
            return rows if all(r.verdict == "ok" for r in rows) else []
        return self._judge(claim)

    def _judge(self, claim):
        out = []
        if claim.kind == "gradient":
            for member in claim.members:
                out.extend(self.judge_gradient(claim, member))
            return out
        before = claim.target if claim.kind == "arithmetic" or is_number(claim.target) else None
        for member in claim.members:
            tree, line, col, text = member
            shown = self.claim_text(claim, member)
            wrt = self.wrt_text(claim)
            if is_number(tree):
                if before is not None:
                    verdict, factor, words = self.arithmetic(claim, before, tree)
                    shown = f"{show(before)} = {show(tree)}"
                else:
                    verdict, factor, words = self.number_claim(claim, tree)
                before = tree
                out.append(ClaimResult(line, col, shown, wrt, verdict, words, factor, claim.row.cell,
                                       "arithmetic" if verdict != "unchecked" else claim.kind))
                continue
            before = None
            self.mistake = None
            try:
                verdict, factor, words = self.judge_member(claim, tree)
            except Unresolved as exc:
                verdict, factor, words = "unchecked", None, str(exc)
                each = self.each_element(claim, tree, exc.name)
                if each is not None:
                    verdict, factor, words = each
                elif exc.column is not None and claim.row.lines is not None:
                    line, col = claim.row.lines(exc.column)      # the name that is never defined
            except ReadError as exc:
                verdict, factor, words = "unchecked", None, str(exc)
            except ShapeError as exc:
                verdict, factor, words = "wrong", None, str(exc)
            except MathDomainError as exc:
                verdict, factor, words = "unchecked", None, f"outside the domain at every point tried: {exc}"
            except RecursionError:
                verdict, factor, words = "unchecked", None, "nested too deeply to evaluate"
            except Exception as exc:  # noqa: BLE001 - a document never crashes the checker: say what failed
                verdict, factor, words = "unchecked", None, (f"could not check this equation "
                                                             f"({type(exc).__name__}: {exc})")
            out.append(ClaimResult(line, col, shown, wrt, verdict, words, factor, claim.row.cell, claim.kind,
                                   self.mistake if verdict in ("wrong", "factor") else None))
        return out

    def nearby_values(self, row):
        """Numbers given to names on the claim's line or the two before it, in its section: {Key: float}."""
        out = {}
        for key, value, at in self.s.examples:
            if at.section == row.section and _place(at) <= _place(row) and row.line - at.line <= 2 \
                    and value.kind != "tuple" and (at.part == row.part):
                try:
                    pt = Point(self.model_at(row), np.random.default_rng(0))
                    out[key] = float(np.ravel(Evaluator(pt, Ctx()).run(value).numbers().v)[0])
                except (*_EVAL_ERRORS, Unresolved):
                    continue
        return out

    def number_claim(self, claim, tree):
        """``∂q/∂x = 1`` (true everywhere), or ``∂f/∂x = 2`` at a worked example's values (x = −3, y = 4 given
        before it): judged at random points when the truth is the same number everywhere, else at the example."""
        try:
            verdict = self.judge_member(claim, tree)
        except (*_EVAL_ERRORS, Unresolved) as exc:
            return "unchecked", None, str(exc)
        except Exception as exc:  # noqa: BLE001 - a document never crashes the checker: say what failed
            return "unchecked", None, f"could not check this equation ({type(exc).__name__}: {exc})"
        if verdict[0] in ("ok", "unchecked"):
            return verdict
        model = self.model_at(claim.row)
        try:
            _, _, T, _, _ = self.sample(claim, tree, model, claim.row)
            constant = all(np.allclose(np.asarray(t, dtype=float), np.asarray(T[0], dtype=float)) for t in T)
        except (*_EVAL_ERRORS, Unresolved):
            constant = False
        if constant and verdict[0] in ("wrong", "factor"):
            return verdict
        example = self.at_example(claim, tree, model)
        if example is not None:
            return example
        return "unchecked", None, ("a worked example whose values are not all given as equations before it (write "
                                   "x = 2, w = (1, −2)); the arithmetic that follows is checked")

    def at_example(self, claim, tree, model):
        """The claim at the worked example's values (the latest given before it), or None when the claim needs
        a value the example does not give."""
        here = _place(claim.row)
        fixed, shown = {}, {}
        elements = self.element_numbers()
        for key, value, row in self.s.examples:
            if _place(row) > here:
                continue
            if value.kind == "tuple":
                first = 0 if 0 in elements.get((key.name, "", None), ()) else 1
                for k, v in enumerate(value.args):
                    fixed[Key(key.name, str(k + first))] = v
                    shown[key] = f"{show_symbol(_symbol_of(key))} = {show(value)}"
            else:
                fixed[key] = value
                shown[key] = f"{show_symbol(_symbol_of(key))} = {show(value)}"
        if not fixed:
            return None
        pt = Point(model, np.random.default_rng([self.seed, 0]))
        try:
            for key, v in fixed.items():
                number = float(np.ravel(Evaluator(pt, Ctx()).run(v).numbers().v)[0])
                pt.fixed[key] = Arr(V._obj(np.array(Value(number, label=str(key)))))
            pt.made = []
            truth, _ = self.truth(claim, Evaluator(pt, self.ctx()), pt)
            yours = Evaluator(pt, self.ctx()).run(tree).numbers()
        except (*_EVAL_ERRORS, Unresolved):
            return None
        if pt.made:
            return None
        a, b = np.ravel(np.asarray(truth.v, dtype=float)), np.ravel(np.asarray(yours.v, dtype=float))
        if a.shape != b.shape:
            return None
        used = {Key(k.name) if Key(k.name) in shown else k for k in pt.used}
        at = ", ".join(v for k, v in shown.items() if k in used) or ", ".join(shown.values())
        if np.allclose(a, b, rtol=1e-6, atol=1e-9):
            return "ok", None, f"right at the worked example ({at})"
        return "wrong", None, f"at the worked example ({at}) it is {V.nice(float(a[0]))}, not {V.nice(float(b[0]))}"

    def each_element(self, claim, tree, name):
        """θⱼ := θⱼ − α ∂J/∂θⱼ beside θ₀ and θ₁ (never θⱼ itself): a template over the elements the document
        writes; judged for each (None when the name is not such an element)."""
        if not isinstance(name, Symbol) or len(name.sub) != 1 or not re.fullmatch(r"[a-z]", name.sub[0]):
            return None
        letter = name.sub[0]
        found = sorted(self.element_numbers().get((name.base, name.accent, name.layer), ()))
        if not found:
            return None
        verdicts = []
        for k in found:
            def put(node):
                return substitute_index(node, letter, str(k)) if node is not None else None
            sub = type(claim)(claim.kind, put(claim.target), [(put(tree), *claim.members[0][1:])], claim.row,
                              param=put(claim.param), sign=claim.sign, named=claim.named, note=claim.note)
            try:
                verdict = self.judge_member(sub, put(tree))
            except (*_EVAL_ERRORS, Unresolved) as exc:
                verdict = ("wrong" if isinstance(exc, ShapeError) else "unchecked"), None, str(exc)
            verdicts.append((k, verdict))
        shown = ", ".join(str(k) for k, _ in verdicts)
        for k, (verdict, factor, words) in verdicts:
            if verdict != "ok":
                return verdict, factor, f"for {letter} = {k}: {words}"
        return "ok", None, f"matches autograd for {letter} = {shown} (each {show_symbol(name)} the document writes)"

    def element_numbers(self):
        """{(base, accent, layer): {numbers}}: the elements written with a number index (θ₀, θ₁, w_2)."""
        if getattr(self, "_elements", None) is None:
            out = {}
            for row in self.s.rows:
                for m in row.eq.members:
                    for n in m.walk():
                        if n.kind == "sym" and len(n.value.sub) == 1 and n.value.sub[0].isdigit():
                            out.setdefault((n.value.base, n.value.accent, n.value.layer), set()).add(
                                int(n.value.sub[0]))
            self._elements = out
        return self._elements

    def arithmetic(self, claim, left, right):
        """``1/3((1 − 2)·1 + (2 − 4)·2) = −5/3``: two numbers written out, compared."""
        pt = Point(self.model_at(claim.row), np.random.default_rng([self.seed, 0]))
        try:
            a = Evaluator(pt, Ctx()).run(left).numbers().v
            b = Evaluator(pt, Ctx()).run(right).numbers().v
        except (*_EVAL_ERRORS, Unresolved) as exc:
            return "unchecked", None, str(exc)
        if np.shape(a) != np.shape(b):
            return "wrong", None, f"{show(left)} and {show(right)} have different shapes"
        if np.allclose(a, b, rtol=1e-6, atol=1e-9):
            return "ok", None, "the arithmetic is right"
        return "wrong", None, f"arithmetic: {show(left)} = {V.nice(float(np.ravel(a)[0]))}, not " \
                              f"{V.nice(float(np.ravel(b)[0]))}"

    def judge_gradient(self, claim, member):
        """∇U = [row; row; …]: each row against the derivative by the parameter of that rank (parameters in the
        order of their names: β₀ before β₁, w₁ before w₂)."""
        tree, line, col, text = member
        of = claim.target.args[0]
        row = claim.row
        model = self.model_at(row)
        try:
            pt = Point(model, np.random.default_rng([self.seed, row.line, 5]))
            Evaluator(pt, Ctx()).run(of)
            params = sorted(pt.params, key=lambda k: _natural(str(k)))
            value = Evaluator(pt, Ctx()).run(tree)
        except (*_EVAL_ERRORS, Unresolved) as exc:
            return [ClaimResult(line, col, f"∇{show(of)} = {show(tree)}", None, "unchecked", str(exc), None,
                                row.cell, "gradient")]
        except Exception as exc:  # noqa: BLE001 - a document never crashes the checker: say what failed
            return [ClaimResult(line, col, f"∇{show(of)} = {show(tree)}", None, "unchecked",
                                f"could not check this equation ({type(exc).__name__}: {exc})", None, row.cell,
                                "gradient")]
        rows = value.shape[value.axes.index("row")] if "row" in value.axes else 1
        if rows != len(params):
            names = ", ".join(show_symbol(_symbol_of(k)) for k in params)
            return [ClaimResult(line, col, f"∇{show(of)} = {show(tree)}", None, "unchecked",
                                f"a column of {rows} where {show(of)} has {len(params)} parameter(s) ({names})", None,
                                row.cell, "gradient")]
        out = []
        for k, p in enumerate(params):
            part = _Row(tree, k)
            sym = _symbol_of(p)
            target = Node("deriv", (of, Node("sym", (), sym, None)), 1, claim.target.column)
            sub = type(claim)("derivative", target, [(part, line, col, text)], row)
            try:
                verdict, factor, words = self.judge_member(sub, part)
            except (*_EVAL_ERRORS, Unresolved) as exc:
                verdict, factor, words = ("wrong" if isinstance(exc, ShapeError) else "unchecked"), None, str(exc)
            except Exception as exc:  # noqa: BLE001 - a document never crashes the checker
                verdict, factor, words = "unchecked", None, f"could not check this row ({type(exc).__name__}: {exc})"
            shown = f"∂{show(of)}/∂{show_symbol(sym)} = row {k + 1} of {show(tree)}"
            out.append(ClaimResult(line, col, shown, show_symbol(sym), verdict, words, factor, row.cell, "derivative"))
        return out

    def claim_text(self, claim, member):
        tree = member[0]
        if claim.kind == "update":
            p = show(claim.param)
            sign = "−" if claim.sign < 0 else "+"
            return f"{p} ← {p} {sign} {claim.note}·({show(tree)})" if tree.kind in ("add",) else \
                f"{p} ← {p} {sign} {claim.note} {show(tree)}"
        return f"{show(claim.target)} = {show(tree)}"

    def wrt_text(self, claim):
        t = claim.target
        if claim.kind == "update":
            return show(claim.param)
        if t.kind == "deriv":
            return show(t.args[1])
        if t.kind == "dname":
            return show(t.args[0])
        if claim.named is not None:
            return show(claim.named.wrt) if claim.named.wrt is not None else None
        return None

    def readings(self, claim, tree, model, points):
        """(H, T, summed, alt) at every point: yours and the truth, in the same shape; ``alt`` the truth in the
        course's per-sample convention for a dZ-like target, or None."""
        H, T, ALT = [], [], []
        summed = False
        for pt in points:
            h, t, alt, s = self.values_at(claim, tree, pt)
            H.append(h)
            T.append(t)
            ALT.append(alt)
            summed |= s
        return H, T, summed, (ALT if all(a is not None for a in ALT) else None)

    def values_at(self, claim, tree, pt):
        strict = claim.kind != "identity"        # σ'(z) = σ(z)(1 − σ(z)): z may be any number
        ev = Evaluator(pt, self.ctx(), strict=strict)
        t, alt = self.truth(claim, ev, pt)
        ev2 = Evaluator(pt, self.ctx(), strict=strict)
        h = ev2.run(tree).numbers()
        if claim.kind == "update":
            h = V.product(h, Arr(float(-claim.sign)))
        h, t, summed = fit(h, t, claim)
        if alt is not None:
            _, alt, _ = fit(h, alt, claim)
        return h.v, t.v, (alt.v if alt is not None else None), summed

    def truth(self, claim, ev, pt):
        """The truth of a claim at a point (numbers), and the per-sample alternative for a course dZ."""
        t = claim.target
        model = pt.model
        if claim.kind == "identity":
            return ev.run(t).numbers(), None
        if claim.kind == "update":
            loss = model.the_loss()
            if loss is None:
                raise ReadError("an update rule, but no loss is defined (J, L, C, …)")
            return self.gradient_of(ev, loss, claim.param), None
        if claim.named is not None and t.kind == "sym":
            n = claim.named
            if n.of is None:
                return self.dname_truth(ev, n.wrt, pt, claim)
            value = ev.derivative(n.of, _rescript(n.wrt, t.value, n))
            return value, None
        if t.kind == "deriv":
            return ev.derivative(t.args[0], t.args[1], t.value).numbers(), None
        if t.kind == "dname":
            return self.dname_truth(ev, t.args[0], pt, claim)
        if t.kind == "sym" and key_of(t.value)[0].name in ("delta", "Delta"):
            # Nielsen's δ^l = ∂C/∂z^l, a convention stated in words
            loss = model.the_loss()
            if loss is None:
                raise ReadError(f"{show(t)}: no loss is defined, so ∂loss/∂z is unknown")
            z = Node("sym", (), t.value.with_(base="z", accent=""), t.column)
            return ev.derivative(Node("sym", (), Symbol(loss.name) if not loss.slot else Symbol(loss.name),
                                      t.column), z), None
        return ev.run(t).numbers(), None

    def dname_truth(self, ev, wrt, pt, claim):
        """The course's dX: ∂J/∂X for the cost J; for a quantity that varies by sample (dZ, dA), also each
        sample's ∂ℒ/∂X (m × ∂J/∂X when J is the mean), the course's convention."""
        model = pt.model
        loss = model.the_loss()
        if loss is None:
            raise ReadError(f"d{show(wrt)}: no loss is defined (J, L, C, …), so ∂loss/∂{show(wrt)} is unknown")
        value = self.gradient_of(ev, loss, wrt)
        if ("S" in value.axes or "s" in value.axes) and not model.per_sample(loss):
            return value, V.product(value, Arr(float(self.reading.samples)))
        return value, None

    def gradient_of(self, ev, loss_key, wrt):
        of = Node("sym", (), _symbol_of(loss_key), None)
        return ev.derivative(of, wrt)

    def stochastic(self, row):
        """Does the claim's own line say it is about one example at a time (stochastic gradient descent)?"""
        parts = self.parts or ()
        if row is None or not 0 <= row.part < len(parts):
            return False
        lines = parts[row.part].text.splitlines()
        line = lines[row.line - 1] if 0 < row.line <= len(lines) else ""
        return bool(re.search(r"stochastic|\bSGD\b|one (example|sample) at a time", line, re.I))

    def ctx(self):
        """Where a claim is evaluated: the template's layer l bound when the claim is judged layer by layer."""
        return Ctx(layers=dict(self.layer))

    def layers_of_claim(self, claim, tree):
        """The layers a claim written for layer l holds at (l from 1, and l ± k inside the net), or ()."""
        offsets = set()
        for node in list(tree.walk()) + list(claim.target.walk()) + (list(claim.param.walk()) if claim.param
                                                                       else []):
            if node.kind == "sym":
                slot = key_of(node.value)[0].slot.split(",")[0].replace(" ", "")
                m = re.fullmatch(r"l(?:([+-])(\d+))?", slot)
                if m:
                    offsets.add(int(m.group(2)) * (1 if m.group(1) == "+" else -1) if m.group(1) else 0)
        L, first = self.reading.layers, self.reading.first
        if not offsets or L < 2 or claim.kind not in ("derivative", "update"):
            return ()
        # weights from the layer after the input (a⁰ = x, or Nielsen's a¹ = x), every l ± k inside the net
        return tuple(range(max(first + 1, first - min(offsets)), L - max(offsets) + 1))

    def judge_member(self, claim, tree):
        layers = self.layers_of_claim(claim, tree) if not self.layer else ()
        if len(layers) > 1:
            # δ^{(l)} = ((W^{(l+1)})ᵀ δ^{(l+1)}) ⊙ σ'(z^{(l)}) holds for every layer it can be written at
            said = []
            for k in layers:
                self.layer = {"l": k}
                try:
                    verdict = self.judge_member(claim, tree)
                finally:
                    self.layer = {}
                if verdict[0] != "ok":
                    return verdict[0], verdict[1], f"for l = {k}: {verdict[2]}"
                said.append(k)
            return "ok", None, f"matches autograd at every layer (l = {', '.join(map(str, said))})"
        try:
            verdict = self._judge_member(claim, tree)
        except ShapeError as exc:
            verdict = ("wrong", None, str(exc))
            model = self.model_at(claim.row)
            points = self.make_points(model, claim.row)
            why = None
            for use_alt in ((True, False) if claim.target.kind == "dname" or claim.named is not None else (False,)):
                try:
                    why = self.explain(claim, tree, model, points, [], [], self.letter(model), use_alt, shapes=True)
                except _EVAL_ERRORS:
                    why = None
                if why:
                    break
            if why:
                verdict = ("wrong", None, f"{why} (as written: {exc})")
        if verdict[0] in ("wrong", "factor"):
            # "without regularization (λ = 0) the gradient is …": a value given just before the claim holds for it
            near = self.nearby_values(claim.row)
            if any(SIZES.get(k.name) == "samples" and not k.slot and v == 1 for k, v in near.items()) \
                    and self.right_for_one_sample(claim, tree, claim.row):
                return "ok", None, "matches autograd with one sample, as the text says just before it"
            near = {k: v for k, v in near.items() if SIZES.get(k.name) is None}
            if near:
                self.assume = near
                try:
                    again = self._judge_member(claim, tree)
                except (*_EVAL_ERRORS, Unresolved):
                    again = None
                finally:
                    self.assume = {}
                if again is not None and again[0] == "ok":
                    said = ", ".join(f"{show_symbol(_symbol_of(k))} = {V.nice(v)}".replace("-", "−")
                                     for k, v in near.items())
                    return "ok", None, f"matches autograd with {said}, as the text says just before it"
        if verdict[0] in ("wrong", "factor") and self.reading.vector and _scalar_looking(claim, tree):
            # "with one feature this is the familiar dl/dw = x(wx + b − y)": a formula written with numbers only,
            # in a document read with vectors, is read as the one-feature case it is written as
            shapes = verdict[2].startswith(("a ", "the ")) and ("matrix" in verdict[2] or "column" in verdict[2]
                                                                 or "row" in verdict[2])
            saved = self.reading
            try:
                self.reading = Reading(False, samples=saved.samples, layers=saved.layers)
                scalar = self._judge_member(claim, tree)
            except (*_EVAL_ERRORS, Unresolved):
                scalar = None
            finally:
                self.reading = saved
            if scalar is not None and (scalar[0] == "ok" or shapes):
                return scalar[0], scalar[1], scalar[2] + (" (read with one unit per layer, as it is written: no "
                                                          "vector in it)")
        return verdict

    def _judge_member(self, claim, tree):
        row = claim.row
        model = self.model_at(row)
        points, H, T, summed, ALT = self.sample(claim, tree, model, row)
        if all(not np.any(t) for t in T) and not (tree.kind == "num" and tree.value == 0):
            if all(not np.any(h) for h in H):
                raise ReadError(f"both sides are 0 at every point tried: does {_of_words(claim)} depend on "
                                f"{self.wrt_text(claim) or 'its variable'} in the model read?")
        m = self.reading.samples
        letter = self.letter(model)
        what = "the gradient this rule steps along" if claim.kind == "update" else "yours"
        if all(_agree(h, t) for h, t in zip(H, T)):
            if claim.kind in ("derivative",) and claim.target.kind == "dname" and ALT is not None:
                self.note_convention(claim, "mean")
            return "ok", None, "matches autograd" + (" (read per sample, summed over the samples)" if summed else "")
        if ALT is not None and all(_agree(h, t) for h, t in zip(H, ALT)):
            self.note_convention(claim, "per sample")
            return "ok", None, ("matches autograd, read as the course reads it: each sample's ∂ℒ/∂"
                                f"{self.wrt_text(claim)} (one column per sample, without the 1/{letter}: it enters "
                                "at dW and db)")
        use_alt = ALT is not None
        if use_alt:
            T = ALT                  # the course's dZ: judged against each sample's ∂ℒ/∂Z, its own convention
        k = _factor(H, T)
        climbs = claim.kind == "update" and claim.sign > 0 and k is not None and math.isclose(k, -1.0, rel_tol=1e-6)
        if climbs and re.search(r"\bascent\b|maximi[sz]|log[- ]?likelihood", self.prose):
            # θ := θ + α ∇ℓ: the text maximises (gradient ascent on a log-likelihood), so the rule climbs on purpose
            return "ok", None, "matches autograd: a step up the gradient, gradient ascent as the text says"
        if claim.kind == "identity" and not _names_something(claim.target):
            # Xᵀ X θ = Xᵀ y: an equation that holds where it is solved (at the minimum), not at every point
            return "unchecked", None, ("an equation to solve (it holds at particular values, such as the minimum), "
                                       "not an identity: nothing to check at random points")
        found = None if climbs else explain_claim(self, claim, tree, model, points, H, T, letter, use_alt)
        if found is not None:
            # the one mistake search verify and the quiz use: the same slip in the same words
            self.mistake = found.explanations[0].kind
            words = found.words()
            if f"1/{letter}" in words:
                words += f" ({self.mean_note(model)})"
            if k is not None and found.explanations[0].kind == "one sample" and self.stochastic(claim.row):
                return "ok", None, ("right for one example: stochastic gradient descent, one example at a time, as "
                                    "the text says")
            if k is not None and found.explanations[0].kind == "one sample" and _free_sample(tree, model):
                # ∂J/∂b = a⁽ⁱ⁾ − y⁽ⁱ⁾: one sample's value, not a multiple of the mean's gradient
                return "wrong", None, words
            return ("factor" if k is not None else "wrong"), k, words
        if k is not None:
            words = factor_words(k, m, letter)
            one = self.right_for_one_sample(claim, tree, row) if m > 1 else None
            if one and any(math.isclose(k, v, rel_tol=1e-6) for v in (m, 2 * m, m / 2, -m)) \
                    and self.stochastic(row):
                return "ok", None, ("right for one example: stochastic gradient descent, one example at a time, as "
                                    "the text says")
            if one and any(math.isclose(k, v, rel_tol=1e-6) for v in (m, 2 * m, m / 2, -m)):
                mean = self.mean_note(model)
                what_missing = (f"its 1/{letter} is missing" if math.isclose(k, m, rel_tol=1e-6)
                                else (words or "a constant factor"))
                return ("wrong" if _free_sample(tree, model) else "factor"), (None if _free_sample(tree, model)
                                                                          else k), (
                    f"right for one sample; over {letter} = {m} samples {what} is {V.nice(k)} × "
                                     f"autograd: written per sample, but {mean}, and {what_missing}")
            if claim.kind == "update" and math.isclose(k, -1.0, rel_tol=1e-6):
                return "factor", k, ("the rule climbs the gradient: it adds the step along ∂/∂" + show(claim.param) +
                                     " where gradient descent subtracts it")
            if math.isclose(k, -1.0, rel_tol=1e-6):
                flipped = reversed_difference(tree)
                if flipped:
                    return "factor", k, f"{what} = −1 × autograd: {flipped}"
            return "factor", k, f"{what} = {V.nice(k)} × autograd" + (f": {words}" if words else "")
        explanation = self.explain(claim, tree, model, points, H, T, letter, use_alt)
        if explanation:
            return "wrong", None, explanation
        worst = int(np.argmax([float(np.max(np.abs(np.asarray(h) - np.asarray(t)))) for h, t in zip(H, T)]))
        hs, ts = np.ravel(H[worst]), np.ravel(T[worst])
        at = int(np.argmax(np.abs(hs - ts))) if hs.shape == ts.shape else 0
        one = self.right_for_one_sample(claim, tree, row) if m > 1 else None
        extra = " (right for one sample, though)" if one else ""
        return "wrong", None, (f"autograd gives {ts[at]:.6g}, {what} {hs[at]:.6g} at a random point, and no single "
                               f"mistake explains it{extra}")

    def sample(self, claim, tree, model, row, reading=None):
        """Points where the claim and its truth can both be evaluated (a point outside a domain is replaced)."""
        points, H, T, ALT = [], [], [], []
        summed = False
        last = None
        tries = 0
        salt = 0
        while len(points) < self.n_points and tries < 4 * self.n_points:
            rng = np.random.default_rng([self.seed, row.line, salt, tries])
            pt = Point(model, rng, fixed={k: Arr(V._obj(np.array(Value(v, label=str(k)))))
                                          for k, v in self.assume.items()})
            tries += 1
            try:
                h, t, alt, s = self.values_at(claim, tree, pt)
            except (MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError) as exc:
                last = exc
                continue
            if not (np.all(np.isfinite(h)) and np.all(np.isfinite(t))):
                last = MathDomainError("a value that is not finite")
                continue
            points.append(pt)
            H.append(h)
            T.append(t)
            ALT.append(alt)
            summed |= s
        if not points:
            raise last if last is not None else ReadError("no point where the claim can be evaluated")
        return points, H, T, summed, (ALT if all(a is not None for a in ALT) else None)

    def right_for_one_sample(self, claim, tree, row):
        if self.reading.samples == 1:
            return None
        from dataclasses import replace
        one = replace(self.reading, samples=1)
        model = self.model_at(row, one)
        saved = self.reading
        try:
            self.reading = one
            _, H, T, _, _ = self.sample(claim, tree, model, row)
        except _EVAL_ERRORS:
            return None
        finally:
            self.reading = saved
        return all(_agree(h, t) for h, t in zip(H, T))

    def note_convention(self, claim, convention):
        t = claim.target
        if t.kind == "dname" and t.args[0].kind == "sym":
            self.conventions[key_of(t.args[0].value)[0]] = convention
        if claim.named is not None:
            claim.named.convention = convention
            self.conventions[claim.named.key] = convention

    def letter(self, model):
        for d in model.definitions.values():
            for n in d.tree.walk():
                if n.kind == "sym" and n.value.base in ("m", "n", "N") and not n.value.sub \
                        and n.value.base not in model.not_sizes:
                    return n.value.base
        return "m"

    def mean_note(self, model):
        loss = model.the_loss()
        d = model.definitions.get(loss) if loss else None
        if d is None:
            return f"the loss takes the mean over the {self.letter(model)} samples"
        return f"{show_symbol(d.symbol) if d.symbol else loss.name} (line {d.line}) is a mean over the samples"

    # --- explanations ----------------------------------------------------------------------------------
    def explain(self, claim, tree, model, points, H, T, letter, use_alt=False, shapes=False):
        """The simplest single change to your formula that makes it right at every point (or right up to a
        factor a derivation makes), in your notation; None when nothing simple fits. ``shapes``: the formula's
        shapes do not fit, so a transpose is tried first."""
        m = self.reading.samples
        found = []
        tries = list(candidates(tree, model, self.s))
        if shapes:
            tries.sort(key=lambda c: "transpose" not in c[0])
        for what, new_tree in tries:
            try:
                pick = (lambda r: (r[0], r[2])) if use_alt else (lambda r: r[:2])
                R = [pick(self.values_at(claim, new_tree, pt)) for pt in points[:1]]
                if not _agree(R[0][0], R[0][1]) and _factor([R[0][0]], [R[0][1]]) is None:
                    continue
                R = [pick(self.values_at(claim, new_tree, pt)) for pt in points]
            except _EVAL_ERRORS:
                continue
            except Exception:  # noqa: BLE001 - a candidate that cannot be evaluated explains nothing
                continue
            Hn, Tn = [r[0] for r in R], [r[1] for r in R]
            if all(_agree(h, t) for h, t in zip(Hn, Tn)):
                return what
            k = _factor(Hn, Tn)
            if k is not None and factor_words(k, m, letter) is not None:
                found.append((what, k))
        if found:
            what, k = found[0]
            about_m = m > 1 and any(math.isclose(k, v, rel_tol=1e-6) for v in (m, 2 * m, m / 2, 1 / m, -m))
            return (f"{what}; and {factor_words(k, m, letter)} ({V.nice(k)} × autograd"
                    + (f" with {letter} = {m})" if about_m else ")"))
        return None


class _Row(Node):
    """Row ``k`` of a written column (a gradient vector's entry), evaluated through the whole column."""

    __slots__ = ()

    def __init__(self, tree, k):
        super().__init__("row", (tree,), k, tree.column)


def _natural(text):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _of_words(claim):
    t = claim.target
    if t.kind == "deriv":
        return show(t.args[0])
    return "the loss"


def _scalar_looking(claim, tree):
    """A formula with nothing of a vector in it: no transpose, no ⊙, no capital-letter matrix, no element index."""
    nodes = list(tree.walk()) + list(claim.target.walk())
    for n in nodes:
        if n.kind in ("transpose", "vector", "rowvec", "matrix", "indexed"):
            return False
        if n.kind == "mul" and "odot" in n.value:
            return False
        if n.kind == "sym":
            s = n.value
            if len(s.base) == 1 and s.base.isupper() and s.base not in ("L", "J", "C", "E", "ℒ", "𝒥", "𝒞", "ℰ"):
                return False
            if any(len(i) == 1 and i.isalpha() and i not in ("i", "n") for i in s.sub):
                return False
        if n.kind == "func" and str(n.value).startswith(("np.", "softmax")):
            return False
    return True


def _place(row):
    """Where a row stands in the document: (part, line), so a notebook's cells keep their order."""
    return (row.part, row.line) if row is not None else (0, 0)


def _rescript(wrt, named_sym, n):
    """The variable of a named derivative at the layer the claim names: δ⁽ᴸ⁻¹⁾ := ∂C/∂z⁽ᴸ⁻¹⁾ under δ^{(l)}."""
    if wrt.kind != "sym" or n.symbol is None:
        return wrt
    src = n.symbol
    if src.layer is not None and named_sym.layer is not None and wrt.value.layer == src.layer:
        return Node("sym", (), wrt.value.with_(layer=named_sym.layer), wrt.column)
    return wrt


def _symbol_of(key):
    """A `Symbol` for a key (a loss's, a parameter's): a digit slot reads as a subscript (β₀), a layer as ⁽ˡ⁾."""
    name, accent = key.name, ""
    if name.endswith(("_hat", "_bar", "_tilde")):
        name, accent = name.rsplit("_", 1)
    if key.slot and key.slot.isdigit():
        return Symbol(name, accent, sub=(key.slot,))
    if key.slot:
        return Symbol(name, accent, layer=key.slot, bracket="(")
    return Symbol(name, accent)


def fit(h, t, claim):
    """Your value in the truth's shape: a per-sample value summed over the samples (``summed``), size-1 axes
    dropped, axes matched by name (index letters reorder: ``a_k δ_j`` is the (j, k) element). Shapes that do
    not fit are a `ShapeError` in words."""
    summed = False
    h, t = V._same_samples(h, t)
    if "s" in h.axes and "s" not in t.axes and "S" not in t.axes:
        h = V.reduce_sum(h, "s")
        summed = True
    if "S" in h.axes and "S" not in t.axes and "s" not in t.axes:
        h = V.reduce_sum(h, "S")
        summed = True
    if "s" in t.axes and "s" not in h.axes and "S" not in h.axes:
        h = Arr(np.broadcast_to(V._expand(h, t.axes), t.shape).copy() if h.axes else
                np.broadcast_to(np.asarray(h.v, dtype=np.float64), t.shape).copy(), t.axes)
    hd, td = V._same_samples(h.drop_ones(), t.drop_ones())
    hd, td = _samples_first(hd), _samples_first(td)
    if hd.axes == td.axes:
        return Arr(np.asarray(hd.v, dtype=np.float64).reshape(td.shape), td.axes), td, summed
    if not hd.axes:
        return Arr(np.broadcast_to(np.asarray(hd.v, dtype=np.float64), td.shape).copy(), td.axes), td, summed
    by_letters = _by_letters(hd, td)
    if by_letters is not None:
        return by_letters, td, summed
    if sorted(hd.axes) == sorted(td.axes):
        letters_h = [x for x in hd.letters]
        letters_t = [x for x in td.letters]
        if any(x is not None for x in letters_h) and (any(x is not None for x in letters_t) or True):
            moved = hd.move_to(td.axes)
            return Arr(np.asarray(moved.v, dtype=np.float64), td.axes), td, summed
        raise ShapeError(f"{V.shape_words(hd)} where {_target_words(claim)} is {V.shape_words(td)}: the transpose "
                         "of the right shape (rows and columns swapped)")
    raise ShapeError(f"{V.shape_words(hd)} where {_target_words(claim)} is {V.shape_words(td)}")


def _by_letters(h, t):
    """Your value arranged as the truth's by index letters (``∂C/∂w_{jk} = a_k δ_j``), or None."""
    tl = [(x, l) for x, l in zip(t.axes, t.letters) if x != "s"]
    hl = [(x, l) for x, l in zip(h.axes, h.letters) if x != "s"]
    if not tl or any(l is None for _, l in tl) or any(l is None for _, l in hl):
        return None
    if sorted(l for _, l in tl) != sorted(l for _, l in hl) or len(set(l for _, l in hl)) != len(hl):
        return None
    for x, letter in tl:
        mine = next(y for y, l in hl if l == letter)
        if mine != x:
            # ∂C/∂w_{jk} = a_j δ_k: j counts the units of w's rows, but a's here
            raise ShapeError(f"the index {letter} runs over the {V.axis_words(x)} on the left and over the "
                             f"{V.axis_words(mine)} on the right (the indices swapped?)")
    order = (["s"] if "s" in h.axes else []) + [next(x for x, l in hl if l == letter) for _, letter in tl]
    moved = h.move_to(order)
    if moved is None or moved.shape != t.shape:
        return None
    return Arr(np.asarray(moved.v, dtype=np.float64), t.axes, t.letters)


def _samples_first(a):
    """The same value with its sample axis first (the samples are not part of a shape's order)."""
    for axis in ("s",):
        if axis in a.axes and a.axes[0] != axis:
            order = [axis] + [x for x in a.axes if x != axis]
            return a.move_to(order)
    return a


def _target_words(claim):
    t = claim.target
    if claim.kind == "update":
        return f"the gradient of {show(claim.param)}"
    if t.kind in ("deriv", "dname", "sym"):
        return show(t)
    return "the left side"


def reversed_difference(tree):
    """"you wrote y − ŷ where ŷ − y belongs": the first two-term difference of a formula, said the right way
    round (only a difference the learner wrote)."""
    for n in tree.walk():
        if n.kind == "add" and len(n.args) == 2 and n.value == ("+", "-"):
            a, b = show(n.args[0]), show(n.args[1])
            return f"you wrote {a} − {b} where {b} − {a} belongs (a reversed difference: the sign is flipped)"
    return None


# --- candidate changes to a formula -----------------------------------------------------------------------------

def _occurrences(tree):
    """Every name of a formula (outside derivatives), with a path to it."""
    out = []

    def walk(node, path):
        if node.kind == "sym":
            out.append((path, node))
            return
        if node.kind in ("deriv", "dname", "num", "func"):
            return
        for i, a in enumerate(node.args):
            if node.kind == "apply" and i == 0 and (a.kind != "sym" or a.value.primes):
                continue                      # a function's name is not a quantity (β₁(…) is a product: kept)
            walk(a, path + (i,))
    walk(tree, ())
    return out


def _functions(tree):
    out = []

    def walk(node, path):
        if node.kind == "apply" and node.args[0].kind in ("func", "sym"):
            out.append((path, node))
        for i, a in enumerate(node.args):
            walk(a, path + (i,))
    walk(tree, ())
    return out


def _replace(tree, path, new):
    if not path:
        return new
    i = path[0]
    args = list(tree.args)
    args[i] = _replace(args[i], path[1:], new)
    return Node(tree.kind, args, tree.value, tree.column)


_DERIVATIVE_OF = {"sigmoid": "sigmoid'", "tanh": "tanh'", "relu": "relu'", "leaky_relu": "leaky_relu'"}
_FUNCTION_OF = {v: k for k, v in _DERIVATIVE_OF.items()}
_FUNC_WORDS = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU"}


def candidates(tree, model, sorter):
    """(words, changed tree): one change at a time, simplest first: a name where another belongs (the same
    name at another layer first), a function where its derivative belongs (or the reverse), an extra factor
    (a name taken out), a transpose."""
    occ = _occurrences(tree)
    if len(occ) > 24:
        return
    keys = _model_names(model, sorter)
    layers = model.reading.layers
    for path, node in occ:
        sym = node.value
        key = key_of(sym)[0]
        if key.symbolic():
            # w^{(l)} written where w^{(l+1)} belongs: the other layers, said as the document says layers
            m = re.match(r"^\s*([lL])\s*(?:([+-])\s*(\d+))?", sym.layer or "")
            if m:
                letter = m.group(1)
                here = (layers if letter == "L" else layers - 1) + (int(m.group(3)) * (1 if m.group(2) == "+" else -1)
                                                                     if m.group(2) else 0)
                for n in range(0, layers + 1):
                    if n == here:
                        continue
                    off = n - here + (int(m.group(3)) * (1 if m.group(2) == "+" else -1) if m.group(2) else 0)
                    new_layer = letter + (f"{off:+d}" if off else "")
                    new_sym = sym.with_(layer=new_layer)
                    yield (f"{show_symbol(sym)} where {show_symbol(new_sym)} belongs: the wrong layer",
                           _replace(tree, path, Node("sym", (), new_sym, node.column)))
        same_base = [s for s in keys if s.base == sym.base and key_of(s)[0] != key and not key.symbolic()]
        others = [s for s in keys if s.base != sym.base and key_of(s)[0] != key]
        for other in same_base + others:
            letters = tuple(i for i in sym.sub if len(i) == 1 and i.isalpha())
            new_sym = Symbol(other.base, other.accent, other.sub + letters, other.layer,
                             sym.sample if other.sample is None else other.sample, 0, other.bracket)
            if key_of(new_sym)[0] == key:
                continue
            words = f"{show_symbol(sym)} where {show_symbol(new_sym)} belongs"
            if other.base == sym.base and other.layer != sym.layer:
                words += ": the wrong layer"
            yield words, _replace(tree, path, Node("sym", (), new_sym, node.column))
    # a function where its derivative belongs, and the reverse
    for path, node in _functions(tree):
        head = node.args[0]
        name = head.value if head.kind == "func" else None
        if head.kind == "sym" and head.value.base == "sigma":
            name = "sigmoid" + "'" * head.value.primes
        elif head.kind == "sym" and head.value.primes <= 1 and (
                head.value.base in ("g", "f", "phi", "varphi", "psi", "h")
                or key_of(head.value.with_(primes=0))[0] in model.functions):
            # g^{[l]}(z) and g^{[l]}'(z): the document's own activation, its derivative and back
            sym = head.value
            other = sym.with_(primes=1 - sym.primes)
            arg = show(node.args[1]) if len(node.args) > 1 else "z"
            new = Node("apply", (Node("sym", (), other, head.column), *node.args[1:]), None, node.column)
            if sym.primes == 0:
                words = (f"{show_symbol(sym)}({arg}) where {show_symbol(other)}({arg}) belongs (the function where "
                         "its derivative belongs)")
            else:
                words = (f"{show_symbol(sym)}({arg}) where {show_symbol(other)}({arg}) belongs (the derivative "
                         "where the function belongs)")
            yield words, _replace(tree, path, new)
            continue
        if name is None:
            continue
        if name in _DERIVATIVE_OF:
            new = Node("apply", (Node("func", (), _DERIVATIVE_OF[name], head.column), *node.args[1:]), None, node.column)
            arg = show(node.args[1]) if len(node.args) > 1 else "z"
            f = _FUNC_WORDS[name]
            yield (f"{f}({arg}) where {f}'({arg}) belongs (the function where its derivative belongs)",
                   _replace(tree, path, new))
        elif name in _FUNCTION_OF:
            base = _FUNCTION_OF[name]
            new = Node("apply", (Node("func", (), base, head.column), *node.args[1:]), None, node.column)
            arg = show(node.args[1]) if len(node.args) > 1 else "z"
            f = _FUNC_WORDS[base]
            yield (f"{f}'({arg}) where {f}({arg}) belongs (the derivative where the function belongs)",
                   _replace(tree, path, new))
    # a wrong local derivative: an expression of an activation's output where its derivative belongs
    for path, node, a_sym, f, z in _activation_slots(tree, model):
        right = _DERIVATIVE_FORMS[f](show_symbol(a_sym), show(z))
        fname = _FUNC_WORDS.get(f, f)
        new = Node("apply", (Node("func", (), f + "'", node.column), z), None, node.column)
        what = (f"{show(node)} where {fname}'({show(z)}) = {right} belongs" if node.kind != "sym" else
                f"{show(node)} where {fname}'({show(z)}) = {right} belongs (the function's value where its "
                "derivative belongs)")
        if node.kind != "sym":
            what += f" (the wrong local derivative of {fname})"
        yield what, _replace(tree, path, new)
    # a forgotten local derivative, or one too many: your formula times (or over) ∂a/∂b of a definition
    for a, b in _edges(model):
        d = Node("deriv", (Node("sym", (), a, None), Node("sym", (), b, None)), 1, None)
        words = f"∂{show_symbol(a)}/∂{show_symbol(b)}"
        yield (f"{words} left out (a forgotten local derivative): your formula times it matches autograd",
               Node("mul", (tree, d), ("dot",), tree.column))
        yield (f"an extra local derivative {words}: your formula over it matches autograd (applied twice, or one "
               "that does not belong)", Node("mul", (tree, d), ("div",), tree.column))
    # an extra factor: a name (or a function's value) that does not belong
    for path, node in occ:
        yield (f"an extra factor {show_symbol(node.value)}: without it your formula holds",
               _replace(tree, path, Node("num", (), 1.0, node.column)))
    for path, node in _functions(tree):
        yield (f"an extra factor {show(node)}: without it your formula holds",
               _replace(tree, path, Node("num", (), 1.0, node.column)))
    # a transpose missing or extra
    for path, node in occ:
        yield (f"a transpose of {show_symbol(node.value)} missing or extra",
               _replace(tree, path, Node("transpose", (node,), None, node.column)))


_DERIVATIVE_FORMS = {
    "sigmoid": lambda a, z: f"{a}(1 − {a})",
    "tanh": lambda a, z: f"1 − {a}²",
    "relu": lambda a, z: f"1 where {z} > 0, else 0",
    "leaky_relu": lambda a, z: f"1 where {z} > 0, else the slope",
}


def activation_of(tree):
    """(function, argument) when a definition's right side is an activation: σ(z), tanh(z), ReLU(z),
    1/(1 + e^{−z}), max(0, z); else None."""
    if tree.kind == "apply" and tree.args[0].kind == "func" and tree.args[0].value in _DERIVATIVE_FORMS \
            and len(tree.args) == 2:
        return tree.args[0].value, tree.args[1]
    if tree.kind == "apply" and tree.args[0].kind == "sym" and tree.args[0].value.base == "sigma" \
            and not tree.args[0].value.primes and len(tree.args) == 2:
        return "sigmoid", tree.args[1]
    if tree.kind == "apply" and tree.args[0].kind == "func" and tree.args[0].value == "max" and len(tree.args) == 3 \
            and tree.args[1].kind == "num" and tree.args[1].value == 0:
        return "relu", tree.args[2]
    if tree.kind == "mul" and tree.value == ("div",) and tree.args[0].kind == "num" and tree.args[0].value == 1:
        den = tree.args[1]
        if den.kind == "add" and len(den.args) == 2 and den.args[0].kind == "num" and den.args[0].value == 1 \
                and den.value == ("+", "+"):
            e = den.args[1]
            if e.kind == "pow" and e.args[0].kind == "sym" and e.args[0].value == Symbol("e") \
                    and e.args[1].kind == "neg":
                return "sigmoid", e.args[1].args[0]
            if e.kind == "apply" and e.args[0].kind == "func" and e.args[0].value == "exp" and e.args[1].kind == "neg":
                return "sigmoid", e.args[1].args[0]
    return None


def _activation_slots(tree, model):
    """(path, sub-expression, a, function, z): parts of a formula made only of one activation's output a
    (a = f(z) in the model), where f'(z) might have been meant."""
    acts = {}
    for d in list(model.definitions.values()) + list(model.templates.values()):
        found = activation_of(d.tree)
        if found and d.symbol is not None:
            acts[key_of(d.symbol)[0]] = (d.symbol, found[0], found[1])
    if not acts:
        return []
    out = []

    def keys_in(node):
        ks = set()
        for n in node.walk():
            if n.kind == "sym":
                ks.add(key_of(n.value.with_(primes=0))[0])
            elif n.kind in ("deriv", "dname", "apply") and n.kind != "apply":
                return None
        return ks

    def walk(node, path):
        ks = keys_in(node)
        if ks is not None and len(ks) == 1:
            (k,) = ks
            if k in acts:
                a_sym, f, z = acts[k]
                out.append((path, node, a_sym, f, z))
                return
        for i, a in enumerate(node.args):
            walk(a, path + (i,))
    walk(tree, ())
    return out[:8]


def _edges(model):
    """(a, b): each definition a = f(…, b, …) of the model, a and b as written (templates at their own layer)."""
    out, seen = [], set()
    for d in list(model.definitions.values()) + list(model.templates.values()):
        if d.symbol is None:
            continue
        a = d.symbol.with_(sub=tuple(i for i in d.symbol.sub if not (len(i) == 1 and i.isalpha())), sample=None)
        for n in d.tree.walk():
            if n.kind != "sym" or n.value.base in ("m", "n", "N", "e"):
                continue
            b = n.value.with_(sub=tuple(i for i in n.value.sub if not (len(i) == 1 and i.isalpha())), sample=None,
                              primes=0)
            if (a, b) not in seen and key_of(a)[0] != key_of(b)[0]:
                seen.add((a, b))
                out.append((a, b))
    return out[:30]


def _model_names(model, sorter):
    """The quantities a formula could have meant: every name written in the model's definitions."""
    seen, out = set(), []
    for d in list(model.definitions.values()) + list(model.templates.values()):
        syms = [d.symbol] if d.symbol is not None else []
        syms += [n.value for n in d.tree.walk() if n.kind == "sym"]
        for s in syms:
            if s is None:
                continue
            s = s.with_(primes=0)
            if s.base in ("m", "n", "N", "e") and not s.sub:
                continue
            k = key_of(s)[0]
            if k.symbolic():
                for layer in range(0, model.reading.layers + 1):
                    concrete = s.with_(layer=str(layer)) if s.layer is not None else s
                    kk = key_of(concrete)[0]
                    if kk not in seen:
                        seen.add(kk)
                        out.append(concrete.with_(sub=tuple(i for i in concrete.sub if not i.isalpha()),
                                                  sample=None))
                continue
            if k not in seen:
                seen.add(k)
                out.append(s.with_(sub=tuple(i for i in s.sub if not (len(i) == 1 and i.isalpha())), sample=None))
    return out
