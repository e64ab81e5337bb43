r"""Check a whole derivation document, claim by claim: ``microreg check NOTES.md``.

People derive gradients by hand in Markdown with LaTeX. This module reads such a document (or plain
text with ``$…$``), finds its equations with their line and column, and sorts them into

- **definitions** of the model and its loss: ``z_1 = w_1 x + b_1``, ``a_1 = \sigma(z_1)``,
  ``\hat{y} = z_2``, ``L = \frac{1}{2m}\sum_{i=1}^m (\hat{y}_i - y_i)^2`` (layer-indexed ones such as
  ``z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}`` hold for every layer);
- **claims**: ``\frac{\partial L}{\partial w_2} = … = …`` (every step of a chain is checked against
  autograd, a product of partials as that product, each partial by autograd), named derivatives
  (``\delta^{(L)} := \frac{\partial C}{\partial z^{(L)}}``, used later), gradient vectors
  (``\nabla U = \sum [\,\cdot\,; \,\cdot\,]``, rows in the order of the parameters' names),
  identities (``\sigma'(z) = \sigma(z)(1 - \sigma(z))``) and update rules
  (``w = w - \alpha \frac{\partial L}{\partial w}``, checked as the gradient they contain).

The model becomes a graph of `microreg.Value` nodes labelled with the document's names: scalars
(one feature, one unit per layer), ``m`` random samples of the data ``x``, ``y``, parameters at
seeded random points. Each claim gets a verdict: **ok**, **factor** (a constant factor, named: a
formula written per sample under a loss that takes the mean over the samples is right for one
sample and m times too large for m), **wrong** (with the simplest explanation found: one name of
your formula where another belongs, such as σ' taken at the wrong layer) or **unchecked** (with
the line, the column and why: an equation it cannot read, a name never defined).

    >>> from microreg.document import check_document
    >>> text = r'''
    ... $$z = w x + b$$
    ... $$L = (z - y)^2$$
    ... $$\frac{\partial L}{\partial w} = 2(z - y) x$$
    ... $$\frac{\partial L}{\partial b} = (z - y)$$
    ... '''
    >>> [(r.line, r.verdict) for r in check_document(text)]
    [(4, 'ok'), (5, 'factor')]

**The vector reading**, ``check_document(text, dims={"f": 2, "h": 3})`` (``microreg check FILE
--dims f=2,h=3``): one sample whose x has ``f`` features; every hidden layer has ``h`` units (``n1=…``,
``n2=…`` set one layer: layer 1 is the first after the input), the output ``o`` (default 1; defaults
f=2, h=3). A weight of layer k (``w_k``, ``W_k``, ``w^{(k)}``) is then a size(k) × size(k−1) matrix, a
bias ``b_k`` a column of size(k), x a column of f, y a column of o (a number for o = 1); a weight
with one output unit is a 1 × n row, or a column of n when the definitions say ``w_2^\top a_1``;
when the definitions say ``z = W^\top a`` every weight is size(k−1) × size(k) instead.
Each element is a labelled Value (``W1[j][k]``, ``a1[j]``). Products follow linear algebra:
a number times anything, a matrix times a column or a matrix with matching inner sizes, a column
times a row (``\delta x^\top``), and ``\delta_j a_k`` (two different element letters) as the
outer product its indices say; ``⊙``, ``+`` and ``−`` need equal shapes (a size-1 side acts as a
number); ``\sum_j`` (or a ∑ without limits) adds up a vector's elements, while a sum over the
samples (``\sum_{i=1}^m``, ``\sum_x``) has one term. A claim whose shapes do not fit is **wrong** on its
line ("shape (2, 3) where ∂L/∂W₁ has shape (3, 2): a transpose?", "a column of 3 times a column of
3 is not a product: ⊙ …?"); a derivative of a vector (a Jacobian) is **unchecked**. Numbers that
are wrong in shapes that fit are explained as in the scalar reading; for a rule written the scalar way
(two columns side by side) the search also reads those products as ⊙, to name σ' at the wrong layer;
in a square layer, where shapes cannot tell W from Wᵀ, it tries each name (and the result) transposed. Choose sizes
that differ (f ≠ h), or a transpose cannot show.

What this module lets you do:

- ``check_document(text)``: a list of `ClaimResult` (``line``, ``column``, ``claim``, ``wrt``,
  ``verdict``, ``explanation``, ``factor``), in document order; ``check_report(text)`` and
  ``check_file(path)`` give the whole `Report` (also the definitions read and what was skipped);
  ``format_results(report)`` is the table ``microreg check FILE`` prints, ``to_json(report)`` its
  ``--json`` lines.
- Explanations, simplest first: one name where another belongs (checked for every name of your
  formula against every quantity of the model, and the same name at the other layers), an extra
  factor, a forgotten local derivative (your formula times ∂h/∂c is autograd), each possibly with a
  constant factor; failing those, `microreg.check.verify`'s search of mistaken backward passes on the
  document's graph (a missing path, a wrong node…).

Equations are parsed with a small `lark` grammar of their own (never ``eval``): it keeps what a
document needs beyond a formula (relations and the position of each side, ∂-fractions, symbolic
layer indices such as ``^{(l+1)}``, column vectors, remarks). Definitions stay in force until
redefined, and a redefinition made under a Markdown heading lasts until the next heading of the
same or a higher level.
"""

import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field

import numpy as np

from .engine import MathDomainError, Value, grad

__all__ = ["ClaimResult", "check_document", "check_file", "format_results", "to_json", "DocumentError",
           "DimsError", "parse_dims"]


class DocumentError(ValueError):
    """A document that cannot be read at all (a missing file, bytes that are not text)."""


@dataclass
class ClaimResult:
    """One row of the report: where, what, and the verdict.

    ``verdict`` is "ok", "factor", "wrong" or "unchecked"; ``factor`` is k for a "factor" verdict
    (your value = k × autograd); ``wrt`` names the variable of the derivative (None if there is none).
    """

    line: int
    column: int
    claim: str
    wrt: str | None
    verdict: str
    explanation: str
    factor: float | None = None

    def to_dict(self):
        return asdict(self)


@dataclass
class Report:
    """What `check_document` found besides the claims: the model it read and what it skipped."""

    results: list
    definitions: list = field(default_factory=list)   # (line, text)
    mentions: int = 0                                  # math without an equals sign
    prose_lines: int = 0
    samples: int = 5
    dims: str | None = None                            # the vector reading's shapes, in words


# === 1. finding the math =========================================================================

ENVIRONMENTS = ("align", "align*", "aligned", "equation", "equation*", "gather", "gather*", "gathered",
                "eqnarray", "eqnarray*", "split", "multline", "multline*")
_BEGIN = re.compile(r"\\begin\{(" + "|".join(re.escape(e) for e in ENVIRONMENTS) + r")\}")


@dataclass
class Row:
    """One row of an equation: its text and where it starts in the document (0-based offset)."""
    text: str
    start: int


def _line_col(text, offset):
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def find_math(text):
    """Every math span of a Markdown/plain-text document: a list of (start, end) offsets of its inside.

    ``$$…$$``, ``$…$``, ``\\[…\\]``, ``\\(…\\)`` and bare ``\\begin{align}…\\end{align}`` (and the other
    display environments); fenced code blocks and inline code are skipped.
    """
    spans, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("```", i) and (i == 0 or text[i - 1] == "\n"):
            j = text.find("\n```", i + 3)
            i = n if j < 0 else j + 4
            continue
        if c == "`":
            j = text.find("`", i + 1)
            if j > 0 and "\n\n" not in text[i:j]:
                i = j + 1
                continue
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "[(":
                close = "\\]" if nxt == "[" else "\\)"
                j = text.find(close, i + 2)
                if j > 0:
                    spans.append((i + 2, j))
                    i = j + 2
                    continue
            m = _BEGIN.match(text, i)
            if m:
                end = f"\\end{{{m.group(1)}}}"
                j = text.find(end, m.end())
                if j > 0:
                    spans.append((m.end(), j))
                    i = j + len(end)
                    continue
            i += 2
            continue
        if c == "$":
            if text.startswith("$$", i):
                j = text.find("$$", i + 2)
                if j > 0:
                    spans.append((i + 2, j))
                    i = j + 2
                    continue
            else:
                j = i + 1
                while j < n and text[j] != "$" and not (text[j] == "\n" and text.startswith("\n\n", j)):
                    j += 2 if text[j] == "\\" else 1
                if j < n and text[j] == "$":
                    spans.append((i + 1, j))
                    i = j + 1
                    continue
        i += 1
    return spans


def _matching(text, i, open_="{", close="}"):
    """Index of the bracket closing the one at ``text[i]`` (or -1)."""
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


_INNER = re.compile(r"\\begin\{(aligned|align\*?|split|gathered|equation\*?|array|bmatrix|pmatrix|matrix|cases)\}"
                    r"(\{[^{}]*\})?|\\end\{(aligned|align\*?|split|gathered|equation\*?|array|bmatrix|pmatrix"
                    r"|matrix|cases)\}")
_ROW_ENVS = ("aligned", "align", "align*", "split", "gathered", "equation", "equation*")


def split_rows(text, start, end):
    """The rows of one math span: split at ``\\\\`` and ``\\newline`` outside matrices; ``&`` removed.

    Text is kept in place (replaced by spaces of the same length where removed), so a row's
    offsets are the document's offsets.
    """
    chunk = list(text[start:end])
    body = "".join(chunk)
    # unwrap row environments; turn matrix environments into [ … ; … ]
    stack, cuts = [], []
    for m in _INNER.finditer(body):
        if m.group(1):
            env = m.group(1)
            if env in _ROW_ENVS:
                for k in range(m.start(), m.end()):
                    chunk[k] = " "
                stack.append((env, None))
            else:
                chunk[m.start()] = "["
                for k in range(m.start() + 1, m.end()):
                    chunk[k] = " "
                stack.append((env, m.end()))
        else:
            env = m.group(3)
            if env in _ROW_ENVS:
                for k in range(m.start(), m.end()):
                    chunk[k] = " "
                if stack:
                    stack.pop()
            else:
                opened = stack.pop()[1] if stack else None
                chunk[m.start()] = "]"
                for k in range(m.start() + 1, m.end()):
                    chunk[k] = " "
                if opened is not None:
                    cuts.append((opened, m.start()))
    body = "".join(chunk)
    # inside matrices, \\ separates entries: make it ';'
    for a, b in cuts:
        for mm in re.finditer(r"\\\\|\\newline|\\cr\b", body[a:b]):
            chunk[a + mm.start()] = ";"
            for k in range(a + mm.start() + 1, a + mm.end()):
                chunk[k] = " "
        for k in range(a, b):
            if chunk[k] == "&":
                chunk[k] = " "
    body = "".join(chunk)
    rows, row_start = [], 0
    for mm in re.finditer(r"\\\\|\\newline|\\cr\b", body):
        rows.append((row_start, mm.start()))
        row_start = mm.end()
    rows.append((row_start, len(body)))
    out = []
    for a, b in rows:
        piece = body[a:b].replace("&", " ")
        if piece.strip():
            out.append(Row(piece, start + a))
    return out


# --- cleaning a row in place (same length, so columns stay exact) ---------------------------------

_SPACES = re.compile(r"(?<!\\)\\(?:quad|qquad|therefore|because|displaystyle|textstyle|left|right|[,;:! ]|"
                     r"[bB]ig{1,2}[lrm]?|middle|limits|nolimits|label\{[^{}]*\}|nonumber|notag)(?![a-zA-Z])")
_WRAPPERS = ("mathbf", "boldsymbol", "bm", "mathit", "mathrm", "operatorname", "vec", "mathbb", "mathcal")


def _blank(chunk, a, b):
    for k in range(a, b):
        if chunk[k] != "\n":
            chunk[k] = " "


def clean_row(text):
    """Remove what carries no math (spacing, sizes, remarks in ``\\text``, underbrace notes), in place."""
    chunk = list(text)
    s = "".join(chunk)
    # \underbrace{X}_{note} → (X) and the note blanked
    for m in reversed(list(re.finditer(r"\\(?:underbrace|overbrace)\s*\{", s))):
        open_ = m.end() - 1
        close = _matching(s, open_)
        if close < 0:
            continue
        _blank(chunk, m.start(), open_)
        chunk[open_], chunk[close] = "(", ")"
        k = close + 1
        while k < len(s) and s[k] == " ":
            k += 1
        if k < len(s) and s[k] in "_^":
            k2 = k + 1
            while k2 < len(s) and s[k2] == " ":
                k2 += 1
            if k2 < len(s) and s[k2] == "{":
                end = _matching(s, k2)
                if end > 0:
                    _blank(chunk, k, end + 1)
    s = "".join(chunk)
    # \mathrm{d} (a derivative's d) → ∂
    for m in re.finditer(r"\\mathrm\s*\{\s*d\s*\}", s):
        _blank(chunk, m.start(), m.end())
        chunk[m.start()] = "∂"
    s = "".join(chunk)
    # \frac{dL}{dw}: a plain d right after the brace of a fraction → ∂
    for m in re.finditer(r"\\frac\s*\{\s*(d)(?=\s*\\?[A-Za-z])[^{}]*\}\s*\{\s*(d)(?=\s*\\?[A-Za-z])", s):
        chunk[m.start(1)] = "∂"
        chunk[m.start(2)] = "∂"
    s = "".join(chunk)
    # wrappers \mathbf{x} → x (except \text, handled below)
    for m in reversed(list(re.finditer(r"\\(" + "|".join(_WRAPPERS) + r")\s*\{", s))):
        open_ = m.end() - 1
        close = _matching(s, open_)
        if close < 0:
            continue
        _blank(chunk, m.start(), open_ + 1)
        chunk[close] = " "
    s = "".join(chunk)
    # remarks: \text{…} at the end of a row (after an expression), with any brackets around it;
    # \quad or \qquad followed by words
    for m in reversed(list(re.finditer(r"\\(?:text|textrm|mbox|textbf|textit)\s*\{", s))):
        close = _matching(s, m.end() - 1)
        if close < 0:
            continue
        before, after = s[:m.start()].rstrip(" [(,"), s[close + 1:].strip(" ])),.;")
        if not after and before.strip() and not before.rstrip().endswith(("=", "+", "-", "(", "{")):
            k = m.start()
            while k > 0 and s[k - 1] in " [(":
                k -= 1
            _blank(chunk, k, len(s))
            s = "".join(chunk)
    s = "".join(chunk)
    for m in _SPACES.finditer(s):
        _blank(chunk, m.start(), m.end())
    s = "".join(chunk)
    # trailing punctuation
    stripped = s.rstrip()
    if stripped.endswith((",", ".", ";")) and not stripped.endswith("\\;"):
        chunk[len(stripped) - 1] = " "
    return "".join(chunk)


# === 2. the grammar =============================================================================

GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "tau", "upsilon", "phi", "varphi",
         "chi", "psi", "omega", "Delta", "Gamma", "Theta", "Lambda", "Phi", "Psi", "Omega")
GREEK_CHARS = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
               "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ",
               "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "tau": "τ",
               "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
               "Delta": "Δ", "Gamma": "Γ", "Theta": "Θ", "Lambda": "Λ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω"}
_UNICODE_GREEK = {v: k for k, v in GREEK_CHARS.items() if k not in ("varepsilon", "vartheta", "varphi")}

GRAMMAR = r"""
row: expr? (REL expr)*

?expr: sum
?sum: term
    | "-" term                    -> neg
    | "+" term
    | sum "+" term                -> add
    | sum "-" term                -> sub
?term: product
    | SUM limits term             -> sumover
    | product MULOP? SUM limits term -> mulsum
?product: factor
    | product MULOP factor        -> mul
    | product ODOT factor         -> hadamard
    | product "/" factor          -> div
    | product factor              -> mul
?factor: power
    | NABLA sub? factor           -> nabla
    | PARTIAL factor              -> pmark
?power: postfix
    | postfix "^" exponent        -> pow
?postfix: atom
    | postfix TRANSPOSE           -> transpose
    | postfix "^" TSUP            -> transpose
    | postfix "^" "{" TSUP "}"    -> transpose
exponent: NUMBER | LETTER | "{" expr "}" | "-" NUMBER -> negexp
?atom: NUMBER                     -> number
    | name
    | "(" expr ")"
    | "{" expr "}"
    | "[" expr "]"
    | "[" expr (";" expr)+ "]"    -> vector
    | "|" expr "|"                -> absval
    | FRAC "{" expr "}" "{" expr "}"   -> frac
    | FRAC NUMBER                 -> fracdigits
    | SQRT "{" expr "}"           -> sqrt
    | FUNC "(" expr ")"           -> call
    | FUNC "{" expr "}"           -> call
    | FUNC name                   -> call
    | TEXT                        -> text

name: base sub? layer? sub?
base: LETTER | GREEK | HAT "{" (LETTER | GREEK) "}" | HAT LETTER | HAT GREEK
sub: "_" (LETTER | DIGIT) | "_" "{" subitem ("," subitem)* "}"
subitem: LETTER | NUMBER | LETTER "=" NUMBER
layer: "^" "{" "(" layerexpr ")" "}" | "^" "(" layerexpr ")"
layerexpr: NUMBER | LETTER | LETTER "-" NUMBER | LETTER "+" NUMBER

limits: (("_" (LETTER | "{" limitbody "}")) | ("^" (LETTER | NUMBER | "{" limitbody "}")))*
limitbody: /[^{}]+/

REL: "=:" | ":=" | "=" | /\\coloneqq(?![a-zA-Z])/ | /\\(?:rightarrow|to|leftarrow|gets|longrightarrow)(?![a-zA-Z])/
MULOP: /\\(?:cdot|times|ast)(?![a-zA-Z])/ | "*" | "·" | "×"
ODOT: /\\(?:odot|circ)(?![a-zA-Z])/ | "⊙" | "∘"
SUM: /\\sum(?![a-zA-Z])/ | "Σ" | "∑"
NABLA: /\\nabla(?![a-zA-Z])/ | "∇"
PARTIAL: /\\partial(?![a-zA-Z])/ | "∂"
FRAC: /\\[dt]?frac(?![a-zA-Z])/
SQRT: /\\sqrt(?![a-zA-Z])/
FUNC: /\\sigma\s*(?:'|\^\s*\{?\s*\\prime\s*\}?)/ | /\\(?:sigma|exp|log|ln|tanh)(?![a-zA-Z])/ | "σ'" | "σ"
HAT: /\\(?:hat|bar|tilde|widehat)(?![a-zA-Z])/
GREEK: /\\(?:""" + "|".join(GREEK) + r""")(?![a-zA-Z])/ | /[αβγδεζηθικλμνξπρτυφχψωΔΓΘΛΦΨΩ]/
TEXT: /\\(?:text|textrm|mbox|textbf|textit)\s*\{[^{}]*\}/
TRANSPOSE: "ᵀ" | "^\\top" | "^{\\top}" | "^\\intercal"
TSUP: "T"
LETTER: /[a-zA-Z]/
DIGIT: /[0-9]/
NUMBER: /[0-9]+(\.[0-9]+)?/ | /\.[0-9]+/
%ignore /\s+/
"""

_parser = None


def _get_parser():
    global _parser
    if _parser is None:
        from lark import Lark
        _parser = Lark(GRAMMAR, start="row", parser="earley", propagate_positions=True, ambiguity="resolve",
                       lexer="dynamic")
    return _parser


class ReadError(Exception):
    """An equation (or a part of one) that cannot be read; ``column`` is 0-based within the row."""

    def __init__(self, message, column=0):
        super().__init__(message)
        self.column = column


# --- the tree the checker works on --------------------------------------------------------------
# ("num", v) ("name", Name) ("add"|"sub"|"mul"|"div"|"had"|"pow", a, b) ("neg"|"T"|"abs"|"sqrt"|"sum", a)
# ("call", fname, a) ("partial", Name, Name) ("vec", [rows]) ("text", words) ("nabla", Name|None, a)

@dataclass(frozen=True)
class Name:
    """A name as the document writes it: base (``w``, ``beta``, ``y_hat``), subscript digits, layer.

    ``layer`` is None, or (symbol, offset): (None, 2) for ``^{(2)}``, ("L", -1) for ``^{(L-1)}``.
    ``column`` is where it starts in its row (0-based); ``source`` its text there.
    """
    base: str
    sub: str = ""
    layer: tuple | None = None
    column: int = field(default=0, compare=False)
    source: str = field(default="", compare=False)
    indices: str = field(default="", compare=False)     # element/sample letters written and dropped: "jk"

    def key(self, bind):
        """The concrete name, with layer symbols bound (``{"L": 3, "l": 2}``)."""
        if self.layer is None:
            return self.base + self.sub
        sym, off = self.layer
        value = off if sym is None else bind.get(sym, bind.get("L")) + off
        return f"{self.base}{self.sub}^{value}" if self.sub else f"{self.base}{value}"

    def display(self):
        """The name as a learner reads it: β₁, ŷ, z⁽ᴸ⁻¹⁾."""
        base = self.base
        hat = base.endswith("_hat")
        if hat:
            base = base[:-4]
        base = GREEK_CHARS.get(base, base)
        if hat:
            base = base + "\u0302"
        sub = self.sub.translate(_SUBS) if self.sub.isdigit() else self.sub
        out = base + sub
        if self.layer is not None:
            sym, off = self.layer
            inner = str(off) if sym is None else sym + (f"{off:+d}" if off else "")
            out += f"({inner})".translate(_SUPER)
        return unicodedata.normalize("NFC", out)


def _to_tree(node, text):
    """A lark parse tree → the tuples above."""
    from lark import Token, Tree
    if isinstance(node, Token):
        raise ReadError(f"unexpected {node!s}", node.column - 1 if node.column else 0)
    kind = node.data
    ch = node.children
    rec = lambda c: _to_tree(c, text)  # noqa: E731
    if kind == "number":
        return ("num", float(ch[0]))
    if kind == "name":
        return ("name", _name(node, text))
    if kind in ("add", "sub"):
        return (kind, rec(ch[0]), rec(ch[1]))
    if kind == "mul":
        parts = [c for c in ch if isinstance(c, Tree)]
        return ("mul", rec(parts[0]), rec(parts[1]))
    if kind == "hadamard":
        parts = [c for c in ch if isinstance(c, Tree)]
        return ("had", rec(parts[0]), rec(parts[1]))
    if kind == "div":
        return ("div", rec(ch[0]), rec(ch[1]))
    if kind == "neg":
        return ("neg", rec(ch[0]))
    if kind == "pow":
        return ("pow", rec(ch[0]), _exponent(ch[1], text))
    if kind == "transpose":
        return ("T", rec(ch[0]))
    if kind == "sumover":
        return ("sum", rec(ch[2]), _sum_over(ch[1]))
    if kind == "mulsum":
        trees = [c for c in ch if isinstance(c, Tree)]
        return ("mul", rec(trees[0]), ("sum", rec(trees[-1]), _sum_over(trees[1])))
    if kind == "nabla":
        trees = [c for c in ch if isinstance(c, Tree)]
        if len(trees) == 2:
            wrt = _sub_name(trees[0], text)
            return ("nabla", wrt, rec(trees[1]))
        return ("nabla", None, rec(trees[0]))
    if kind == "pmark":
        return ("pmark", rec(ch[1]))
    if kind == "vector":
        return ("vec", [rec(c) for c in ch])
    if kind == "absval":
        return ("abs", rec(ch[0]))
    if kind == "frac":
        num, den = rec(ch[1]), rec(ch[2])
        if num[0] == "pmark" and den[0] == "pmark":
            if num[1][0] != "name" or den[1][0] != "name":
                raise ReadError("a derivative of something other than a name", node.meta.column - 1)
            return ("partial", num[1][1], den[1][1])
        if den[0] == "pmark" or num[0] == "pmark":
            raise ReadError("a derivative needs ∂ above and below the line", node.meta.column - 1)
        return ("div", num, den)
    if kind == "fracdigits":
        digits = str(ch[1])
        if len(digits) != 2:
            raise ReadError(f"\\frac{digits}: write \\frac{{…}}{{…}}", node.meta.column - 1)
        return ("div", ("num", float(digits[0])), ("num", float(digits[1])))
    if kind == "sqrt":
        return ("sqrt", rec(ch[1]))
    if kind == "call":
        f = str(ch[0]).replace(" ", "")
        fname = "sigma_prime" if ("'" in f or "prime" in f) else {"\\sigma": "sigma", "σ": "sigma",
                                                                 "\\exp": "exp", "\\log": "log", "\\ln": "log",
                                                                 "\\tanh": "tanh"}[f]
        return ("call", fname, rec(ch[1]))
    if kind == "text":
        words = re.sub(r"^\\\w+\s*\{|\}$", "", str(ch[0])).strip()
        return ("text", words)
    if kind == "row":
        raise ReadError("nested row", 0)
    if len(ch) == 1:
        return rec(ch[0])
    raise ReadError(f"cannot read {kind}", getattr(node.meta, "column", 1) - 1)


def _sum_over(limits):
    """What a ∑ runs over, from its limits: "samples" (∑_{i=1}^m, ∑_x, ∑^n) or "elements" (∑_j, ∑_k,
    or no limits)."""
    text = "".join(str(v) for v in limits.scan_values(lambda v: True))
    letters = set(re.findall(r"[A-Za-z]", text))
    return "samples" if letters & set("ixmnN") else "elements"


def _exponent(node, text):
    from lark import Token
    if node.data == "negexp":
        return ("num", -float(node.children[0]))
    c = node.children[0]
    if isinstance(c, Token):
        if c.type == "NUMBER":
            return ("num", float(c))
        return ("name", Name(str(c), column=c.column - 1, source=str(c)))
    return _to_tree(c, text)


def _sub_name(sub_tree, text):
    letters = [str(t) for t in sub_tree.scan_values(lambda v: True)]
    return Name("".join(letters), column=sub_tree.meta.column - 1, source="".join(letters))


SAMPLE_INDICES = set("ijkn")


def _name(node, text):
    from lark import Tree
    base_tree = node.children[0]
    toks = [str(t) for t in base_tree.children]
    hat = any(t.startswith("\\") and t[1:] in ("hat", "bar", "tilde", "widehat") for t in toks)
    core = [t for t in toks if not (t.startswith("\\") and t[1:] in ("hat", "bar", "tilde", "widehat"))][0]
    core = core[1:] if core.startswith("\\") else _UNICODE_GREEK.get(core, core)
    if core == "varepsilon":
        core = "epsilon"
    base = core + ("_hat" if hat else "")
    sub, layer, indices = "", None, ""
    for part in node.children[1:]:
        if not isinstance(part, Tree):
            continue
        if part.data == "sub":
            items = []
            for c in part.children:
                if isinstance(c, Tree):   # subitem
                    vals = [str(v) for v in c.children]
                    items.append(vals[0] if len(vals) == 1 else None)
                else:
                    items.append(str(c))
            for it in items:
                if it is None or it in SAMPLE_INDICES:
                    indices += it or ""
                    continue            # i, j, k: a sample or unit index; the scalar reading drops it
                sub += it if it.isdigit() else "_" + it
        elif part.data == "layer":
            vals = [str(v) for v in part.children[0].children]
            if len(vals) == 1:
                layer = (None, int(float(vals[0]))) if vals[0][0].isdigit() else (vals[0], 0)
            else:
                # LETTER "-" NUMBER or LETTER "+" NUMBER: the sign is lost as an anonymous token
                seg = text[part.meta.start_pos:part.meta.end_pos]
                off = int(vals[1]) * (-1 if "-" in seg else 1)
                layer = (vals[0], off)
    if layer is not None and layer[0] is None and sub == "":
        # a^{(1)} and a_1 are the same name
        sub, layer = str(layer[1]), None
    return Name(base, sub, layer, column=node.meta.column - 1, source=text[node.meta.start_pos:node.meta.end_pos],
                indices=indices)


def parse_row(text):
    """Parse one cleaned row into (members, relations): members are (tree, start, end) in the row."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
    dots = re.search(r"\\[vcdl]?dots(?![a-zA-Z])|…|\.\.\.", text)
    if dots:
        raise ReadError(f"elided terms ({dots.group(0)}): a pattern, not a formula", dots.start())
    try:
        tree = _get_parser().parse(text)
    except UnexpectedCharacters as exc:
        snippet = text[exc.pos_in_stream:exc.pos_in_stream + 12].split("\n")[0]
        raise ReadError(f"cannot read {snippet!r}", exc.pos_in_stream) from None
    except UnexpectedToken as exc:
        tok = exc.token
        pos = tok.start_pos if tok.start_pos is not None else len(text)
        what = "the end" if tok.type == "$END" else repr(str(tok))
        raise ReadError(f"unexpected {what}", pos) from None
    except UnexpectedEOF:
        raise ReadError("the equation ends too early (an unclosed bracket?)", len(text.rstrip())) from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark errors
        raise ReadError(str(exc).splitlines()[0], getattr(exc, "pos_in_stream", 0) or 0) from None
    from lark import Token
    members, rels = [], []
    leading = None
    for c in tree.children:
        if isinstance(c, Token):
            rels.append(str(c))
            if not members:
                leading = str(c)
        else:
            members.append((_to_tree(c, text), c.meta.start_pos, c.meta.end_pos))
    return members, rels, leading


# === 3. evaluating a tree ======================================================================

def _stable_sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out if out.ndim else float(out)


def _is_values(x):
    return isinstance(x, Value) or (isinstance(x, np.ndarray) and x.dtype == object)


def _map(x, on_value, on_number):
    if isinstance(x, Value):
        return on_value(x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        out = np.empty(x.shape, dtype=object)
        for i, v in enumerate(x):
            out[i] = on_value(v) if isinstance(v, Value) else Value(float(on_number(v)))
        return out
    return on_number(x)


FUNCTIONS = {
    "sigma": (lambda v: v.sigmoid(), _stable_sigmoid),
    "sigma_prime": (lambda v: v.sigmoid() * (1 - v.sigmoid()),
                    lambda z: _stable_sigmoid(z) * (1 - _stable_sigmoid(z))),
    "exp": (lambda v: v.exp(), np.exp),
    "log": (lambda v: v.log(), np.log),
    "tanh": (lambda v: v.tanh(), np.tanh),
}


class Unresolved(Exception):
    """A name the model does not define; ``name`` is the `Name`."""

    def __init__(self, name, message):
        super().__init__(message)
        self.name = name


def evaluate(tree, lookup, partial=None):
    """Evaluate a tree. ``lookup(Name)`` gives a name's value, ``partial(A, B)`` a derivative's.

    Values are floats or Values (scalars), or numpy arrays (float or object) of one value per
    sample; a vector (``[…; …]``) is a list. ``\\sum`` sums over the samples.
    """
    op = tree[0]
    ev = lambda t: evaluate(t, lookup, partial)  # noqa: E731
    if op == "num":
        return tree[1]
    if op == "name":
        return lookup(tree[1])
    if op in ("add", "sub", "mul", "div", "had", "pow"):
        a, b = ev(tree[1]), ev(tree[2])
        if isinstance(a, list) or isinstance(b, list):
            return _vector_op(op, a, b)
        return _binary(op, a, b)
    if op == "neg":
        a = ev(tree[1])
        return [-r for r in a] if isinstance(a, list) else -a
    if op == "T":
        return ev(tree[1])            # the scalar reading: a transpose changes nothing
    if op == "abs":
        a = ev(tree[1])
        return _map(a, lambda v: (v * v) ** 0.5, np.abs)
    if op == "sqrt":
        a = ev(tree[1])
        return _map(a, lambda v: v ** 0.5, _checked_sqrt)
    if op == "sum":
        a = ev(tree[1])
        if isinstance(a, list):
            return [_sum(r) for r in a]
        return _sum(a)
    if op == "call":
        a = ev(tree[2])
        on_value, on_number = FUNCTIONS[tree[1]]
        return _map(a, on_value, on_number)
    if op == "partial":
        if partial is None:
            raise ReadError("a derivative inside a definition", tree[1].column)
        return partial(tree[1], tree[2])
    if op == "vec":
        return [ev(r) for r in tree[1]]
    if op == "nabla":
        if tree[1] is None:
            raise ReadError("∇ without a variable (only as the left side of a gradient vector)", 0)
        if tree[2][0] != "name":
            raise ReadError("∇ of something other than a name", tree[1].column)
        return partial(tree[2][1], tree[1])
    if op == "text":
        raise ReadError(f"words in the formula (\\text{{{tree[1]}}})", 0)
    if op == "pmark":
        raise ReadError("∂ outside a fraction", 0)
    raise ReadError(f"cannot evaluate {op}", 0)  # pragma: no cover


def _checked_sqrt(a):
    if np.any(np.asarray(a) < 0):
        raise MathDomainError("sqrt of a negative number")
    return np.sqrt(a)


def _sum(a):
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            total = a[0]
            for v in a[1:]:
                total = total + v
            return total
        return float(np.sum(a))
    raise ReadError("∑ over something that does not vary over the samples", 0)


def _binary(op, a, b):
    if isinstance(a, np.ndarray) and isinstance(b, Value) or isinstance(a, Value) and isinstance(b, np.ndarray):
        arr = a if isinstance(a, np.ndarray) else b
        out = np.empty(arr.shape, dtype=object)
        for i in range(arr.shape[0]):
            out[i] = _binary(op, a[i] if a is arr else a, b[i] if b is arr else b)
        return out
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op in ("mul", "had"):
        return a * b
    if op == "div":
        if not _is_values(b) and np.any(np.asarray(b) == 0):
            raise MathDomainError("division by zero")
        return a / b
    if op == "pow":
        if _is_values(a) or _is_values(b):
            return a ** b
        with np.errstate(invalid="raise", divide="raise", over="raise"):
            try:
                return np.power(np.asarray(a, dtype=np.float64), b) if isinstance(a, np.ndarray) else float(a) ** b
            except (FloatingPointError, ZeroDivisionError, OverflowError) as exc:
                raise MathDomainError(f"power: {exc}") from None
    raise AssertionError(op)  # pragma: no cover


def _vector_op(op, a, b):
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            raise ReadError(f"vectors of {len(a)} and {len(b)} rows", 0)
        return [_binary(op, x, y) for x, y in zip(a, b)]
    if isinstance(a, list):
        return [_binary(op, x, b) for x in a]
    return [_binary(op, a, y) for y in b]


def names_in(tree):
    """Every `Name` of a tree, in order (derivatives give their two names)."""
    out = []
    op = tree[0]
    if op == "name":
        out.append(tree[1])
    elif op == "partial":
        out += [tree[1], tree[2]]
    elif op == "nabla":
        if tree[1] is not None:
            out.append(tree[1])
        out += names_in(tree[2])
    elif op == "vec":
        for r in tree[1]:
            out += names_in(r)
    elif op == "call":
        out += names_in(tree[2])
    else:
        for c in tree[1:]:
            if isinstance(c, tuple):
                out += names_in(c)
    return out


def has_derivative(tree):
    op = tree[0]
    if op in ("partial", "nabla"):
        return True
    if op == "vec":
        return any(has_derivative(r) for r in tree[1])
    if op == "call":
        return has_derivative(tree[2])
    return any(isinstance(c, tuple) and has_derivative(c) for c in tree[1:])


def replace_name(tree, index, new):
    """The tree with its ``index``-th plain name occurrence (in `names_in` order of "name" nodes) replaced."""
    counter = [0]

    def walk(t):
        op = t[0]
        if op == "name":
            k = counter[0]
            counter[0] += 1
            if k != index:
                return t
            return new if isinstance(new, tuple) else ("name", new)
        if op == "vec":
            return ("vec", [walk(r) for r in t[1]])
        if op == "call":
            return ("call", t[1], walk(t[2]))
        if op in ("partial", "text", "num"):
            return t
        if op == "nabla":
            return ("nabla", t[1], walk(t[2]))
        return (op,) + tuple(walk(c) if isinstance(c, tuple) else c for c in t[1:])
    return walk(tree)


def plain_names(tree):
    """The plain name occurrences (not inside derivatives), in the order `replace_name` counts them."""
    op = tree[0]
    if op == "name":
        return [tree[1]]
    if op in ("partial", "text", "num"):
        return []
    if op == "vec":
        return [n for r in tree[1] for n in plain_names(r)]
    if op == "call":
        return plain_names(tree[2])
    if op == "nabla":
        return plain_names(tree[2])
    return [n for c in tree[1:] if isinstance(c, tuple) for n in plain_names(c)]


# === 3b. the vector reading (--dims): shapes, strict products ==================================
# With ``dims`` every quantity has a shape: a number (), a column vector (n,), a matrix (n, k); a
# transposed column is a row (1, n), as in `microreg.notation`. One sample: x is one input vector,
# a ∑ over the samples has one term, and ∑_j adds a vector's elements. Products follow linear algebra strictly, so a missing transpose or
# ⊙ where a matrix product belongs is a shape finding, not a silently broadcast number.

DIMS_KEYS = ("f", "h", "o") + tuple(f"n{k}" for k in range(1, 10))
DIMS_DEFAULTS = {"f": 2, "h": 3, "o": 1}
WEIGHT_BASES = ("w", "W", "theta", "Theta")
BIAS_BASES = ("b",)
_LAYERED = re.compile(r"(" + "|".join(WEIGHT_BASES + BIAS_BASES) + r")(\d*)")


class DimsError(ValueError):
    """A ``--dims`` value that cannot be used (an unknown key, a size that is not a whole number ≥ 1)."""


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
            ok = value.isdigit()
            value = int(value) if ok else value
        else:
            ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok or value < 1:
            raise DimsError(f"--dims: {key}={value}: a size is a whole number ≥ 1")
        sizes[key] = value
    return sizes


class Dims:
    """The shape of every leaf of the vector reading: layer k has ``size(k)`` units (0: the input).

    A weight of layer k (``w_k``, ``W_k``, ``w^{(k)}``) is size(k) × size(k−1), a bias size(k);
    x (and a⁽⁰⁾) has f entries, y has o; the last layer has o units, the others h (n1=… for one layer).
    A weight with one output unit is read as a 1 × n matrix, or as a column of n when the
    definitions need it (``ŷ = w₂ᵀ a₁ + b₂``): ``as_vector`` holds those keys.
    """

    def __init__(self, sizes, layers, as_vector=frozenset(), transposed=False):
        self.sizes, self.layers, self.as_vector = sizes, max(1, layers), frozenset(as_vector)
        self.transposed = transposed      # z = Wᵀa: every weight is size(k−1) × size(k)

    def size(self, k):
        if k <= 0:
            return self.sizes["f"]
        if k >= self.layers:
            return self.sizes["o"]
        return self.sizes.get(f"n{k}", self.sizes["h"])

    def role(self, key):
        """("weight" | "bias", layer) for a layered parameter name, else None."""
        m = _LAYERED.fullmatch(key)
        if not m:
            return None
        return ("bias" if m.group(1) in BIAS_BASES else "weight"), int(m.group(2)) if m.group(2) else self.layers

    def shape(self, key, kind):
        if kind == "data":
            if key.startswith("y"):
                return (self.sizes["o"],) if self.sizes["o"] > 1 else ()
            return (self.sizes["f"],)
        role = self.role(key)
        if role is None:
            return ()
        what, k = role
        if what == "bias":
            return (self.size(k),) if self.size(k) > 1 else ()
        if self.size(k) == 1 and key in self.as_vector:
            return (self.size(k - 1),)
        return (self.size(k - 1), self.size(k)) if self.transposed else (self.size(k), self.size(k - 1))

    def with_vectors(self, keys, transposed=False):
        return Dims(self.sizes, self.layers, keys, transposed)


class ShapeError(ReadError):
    """Shapes that do not fit together in a formula (a finding about a claim under ``--dims``)."""


def _sh(x):
    if isinstance(x, np.ndarray):
        return x.shape
    return ()


def _one(x):
    """A size-1 array as a number (ŷ of a one-output net is (1,) after W₂a₁): shapes (), (1,), (1, 1)."""
    if isinstance(x, np.ndarray) and x.size == 1:
        return x.reshape(())[()]
    return x


def _each(x, on_value, on_number):
    if isinstance(x, Value):
        return on_value(x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        out = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(x.shape):
            v = x[idx]
            out[idx] = on_value(v) if isinstance(v, Value) else Value(float(on_number(v)))
        return out
    return on_number(x)


def _shape_words(s):
    if s == () or all(d == 1 for d in s):
        return "a number"
    if len(s) == 1:
        return f"a column of {s[0]}"
    return f"a row of {s[1]}" if s[0] == 1 and len(s) == 2 else "a " + "×".join(map(str, s)) + " matrix"


def _as_array(x, other):
    """A Value meeting an array becomes a 0-d object array, so numpy applies the op element by element."""
    if isinstance(x, Value) and isinstance(other, np.ndarray) and other.ndim:
        out = np.empty((), dtype=object)
        out[()] = x
        return out
    return x


def _index_letters(tree):
    return tree[1].indices if tree[0] == "name" else ""


def shaped_product(a, b, ta=None, tb=None, columns_elementwise=False):
    """a·b in the vector reading: a number times anything, matrix × column/matrix with matching
    inner sizes, column × row (an outer product), and u_j v_k (different element letters) as the
    outer product its indices say. Anything else is a `ShapeError` naming both shapes."""
    sa, sb = _sh(a), _sh(b)
    if len(sa) == 2 and len(sb) in (1, 2) and sa[1] == sb[0]:
        return np.matmul(a, b)                      # (w⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾, even with one unit at l+1
    a, b = _ones(a, b, product=True)
    sa, sb = _sh(a), _sh(b)
    if sa == () or sb == ():
        return _as_array(a, b) * _as_array(b, a)
    if len(sa) == 1 and len(sb) == 1:
        ia, ib = _index_letters(ta) if ta else "", _index_letters(tb) if tb else ""
        if ia and ib and ia != ib:
            return np.multiply.outer(a, b)          # δ_j a_k: the (j, k) element of an outer product
        if (ia and ia == ib) or (columns_elementwise and sa == sb):
            return a * b                            # u_j v_j: element by element
        raise ShapeError(f"{_shape_words(sa)} times {_shape_words(sb)} is not a product: ⊙ for element by "
                         f"element, or a transpose (uᵀv a number, u vᵀ a matrix)?")
    if len(sa) == 2 and sa[1] == sb[0]:
        return np.matmul(a, b)
    if len(sa) == 1 and len(sb) == 2 and sb[0] == 1:
        return np.multiply.outer(a, b[0])           # a column times a row
    hint = " (a transpose?)" if len(sa) == 2 and sa[0] == sb[0] else ""
    raise ShapeError(f"{_shape_words(sa)} times {_shape_words(sb)}: the inner sizes do not match{hint}")


def _ones(a, b, product=False):
    """A size-1 side of an operation acts as a number; the other keeps its shape ((1,) + () is (1,))."""
    if _sh(a) == _sh(b) and not (product and np.size(a) == 1):
        return a, b
    if np.size(a) == 1 and (np.size(b) != 1 or np.ndim(a) <= np.ndim(b)):
        return _one(a), b
    if np.size(b) == 1:
        return a, _one(b)
    return a, b


def shaped_elementwise(op, a, b):
    a, b = _ones(a, b)
    sa, sb = _sh(a), _sh(b)
    if sa != () and sb != () and sa != sb:
        sym = {"add": "+", "sub": "−", "div": "/", "had": "⊙", "pow": "^"}[op]
        hint = ": a matrix product?" if op == "had" else ""
        raise ShapeError(f"{_shape_words(sa)} {sym} {_shape_words(sb)}: {sym} needs equal shapes{hint}")
    a, b = _as_array(a, b), _as_array(b, a)
    if op == "div":
        if not _is_values(b) and np.any(np.asarray(b) == 0):
            raise MathDomainError("division by zero")
        return a / b
    if op == "pow":
        if not (_is_values(a) or _is_values(b)) and np.any(np.asarray(a) < 0) and not float(b).is_integer():
            raise MathDomainError("a fractional power of a negative number")
        return a ** b
    return {"add": lambda: a + b, "sub": lambda: a - b, "had": lambda: a * b}[op]()


def _total(a):
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            flat = list(a.ravel())
            total = flat[0]
            for v in flat[1:]:
                total = total + v
            return total
        return float(np.sum(a))
    return a


def evaluate_shaped(tree, lookup, partial=None, columns_elementwise=False):
    """`evaluate` for the vector reading: values are numbers, Values or arrays of the quantity's shape.

    ``columns_elementwise`` reads two equal columns side by side as ⊙ (the explanation search's
    second try, for a formula written the scalar way)."""
    op = tree[0]
    ev = lambda t: evaluate_shaped(t, lookup, partial, columns_elementwise)  # noqa: E731
    if op == "mul":
        a, b = ev(tree[1]), ev(tree[2])
        if isinstance(a, list) or isinstance(b, list):
            return _vector_op("mul", a, b)
        return shaped_product(a, b, tree[1], tree[2], columns_elementwise)
    if op in ("add", "sub", "div", "had", "pow"):
        a, b = ev(tree[1]), ev(tree[2])
        if isinstance(a, list) or isinstance(b, list):
            return _vector_op(op, a, b)
        return shaped_elementwise(op, a, b)
    if op == "neg":
        a = ev(tree[1])
        return [-r for r in a] if isinstance(a, list) else -a
    if op == "T":
        a = ev(tree[1])
        if isinstance(a, np.ndarray) and a.ndim == 1:
            return a.reshape(1, -1)
        return a.T if isinstance(a, np.ndarray) else a
    if op == "abs":
        return _each(ev(tree[1]), lambda v: (v * v) ** 0.5, np.abs)
    if op == "sqrt":
        return _each(ev(tree[1]), lambda v: v ** 0.5, _checked_sqrt)
    if op == "sum":
        a = ev(tree[1])
        if len(tree) > 2 and tree[2] == "samples":
            return a                             # one sample: a sum over the samples has one term
        return [_total(r) for r in a] if isinstance(a, list) else _total(a)
    if op == "call":
        on_value, on_number = FUNCTIONS[tree[1]]
        return _each(ev(tree[2]), on_value, on_number)
    if op == "vec":
        return [ev(r) for r in tree[1]]
    return evaluate(tree, lookup, partial)        # numbers, names, derivatives, ∇, words: as in the scalar reading


# === 4. reading the document ===================================================================

@dataclass
class Equation:
    """A parsed row: its members (trees), the relations between them, where it is and its section."""
    members: list          # [(tree, start_offset, end_offset)] (offsets in the document)
    rels: list
    start: int
    line: int
    column: int
    section: tuple         # the heading path (level, line) that holds it
    continues: bool        # starts with "=": continues the equation before it


@dataclass
class Definition:
    key_base: str          # the Name of the left side (for templates: its layer is symbolic)
    name: Name
    tree: tuple
    line: int
    section: tuple
    first: bool
    text: str


DATA_BASES = ("x", "y")
LAYERS = {"L": 3, "l": 2}      # a layer-indexed document is read with 3 layers; l is the one before L


_SUPER = str.maketrans("0123456789+-−()LlTn", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁽⁾ᴸˡᵀⁿ")
_SUBS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _brace_arg(s, i):
    """(content, end) of the {…} group (or single character) starting at ``s[i]`` (spaces skipped)."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i < len(s) and s[i] == "{":
        j = _matching(s, i)
        if j > 0:
            return s[i + 1:j], j + 1
    if i < len(s) and s[i] == "\\":
        m = re.match(r"\\[A-Za-z]+", s[i:])
        if m:
            return m.group(0), i + m.end()
    return s[i:i + 1], i + 1


def pretty(latex):
    """LaTeX as a learner reads it in a terminal: ∂L/∂w₂ = (ŷ − y)·a₁, δ⁽ᴸ⁻¹⁾, Σ, σ'(z), √(…)."""
    s = " ".join(latex.split())
    s = re.sub(r"\\(?:left|right|[bB]ig{1,2}[lr]?|quad|qquad|therefore|displaystyle|[,;:!])(?![a-zA-Z])", " ", s)
    s = re.sub(r"\\begin\{array\}(?:\{[^{}]*\})?|\\end\{array\}", "", s)
    s = re.sub(r"\\begin\{(?:bmatrix|pmatrix|matrix)\}", "[", s)
    s = re.sub(r"\\end\{(?:bmatrix|pmatrix|matrix)\}", "]", s)
    s = re.sub(r"\\(?:begin|end)\{\w+\*?\}", "", s)
    s = s.replace("\\\\", ";").replace("&", "")
    out, i = [], 0
    while i < len(s):
        if s.startswith("\\frac", i) or s.startswith("\\dfrac", i):
            j = i + (5 if s.startswith("\\frac", i) else 6)
            num, j = _brace_arg(s, j)
            den, j = _brace_arg(s, j)
            num, den = pretty(num), pretty(den)
            if out and out[-1] and out[-1][-1] not in " ([=+−-·⊙×":
                out.append(" ")
            wrap = lambda t: t if re.fullmatch(r"∂?[^\W\d_]\u0302?[₀-₉⁰-⁾¹²³ᴸˡ⁻⁺]*|\d+", t) else f"({t})"  # noqa: E731
            out.append(f"{wrap(num.replace(' ', ''))}/{wrap(den.replace(' ', ''))}")
            i = j
            continue
        if s.startswith("\\sqrt", i):
            arg, i = _brace_arg(s, i + 5)
            out.append(f"√({pretty(arg)})")
            continue
        m = re.match(r"\\(?:text|mathrm|mathbf|boldsymbol|operatorname)\s*\{", s[i:])
        if m:
            arg, i = _brace_arg(s, i + m.end() - 1)
            out.append(arg if m.group(0).startswith("\\text") else pretty(arg))
            continue
        m = re.match(r"\\(?:underbrace|overbrace)\s*", s[i:])
        if m:
            arg, i = _brace_arg(s, i + m.end())
            out.append(pretty(arg))
            k = i
            while k < len(s) and s[k] == " ":
                k += 1
            if k < len(s) and s[k] in "_^":
                _, i = _brace_arg(s, k + 1)
            continue
        m = re.match(r"\\sum\s*", s[i:])
        if m:
            i += m.end()
            while i < len(s) and s[i] in "_^":
                _, i = _brace_arg(s, i + 1)
            out.append(" Σ ")
            continue
        m = re.match(r"\\(?:hat|widehat)\s*", s[i:])
        if m:
            arg, i = _brace_arg(s, i + m.end())
            out.append(pretty(arg) + "\u0302")
            continue
        if s[i] in "_^":
            arg, j = _brace_arg(s, i + 1)
            p = pretty(arg).replace(" ", "")
            if s[i] == "^" and p in ("T", "⊤", "ᵀ"):
                out.append("ᵀ")
            elif s[i] == "^" and all(c in "0123456789+-−()Ll" for c in p):
                out.append(p.translate(_SUPER))
            elif s[i] == "_" and p.isdigit():
                out.append(p.translate(_SUBS))
            elif s[i] == "_" and re.fullmatch(r"[ijk](,[ijk0-9])*|[ijk]=\d+", p):
                out.append("")            # sample and unit indices
            else:
                out.append(("^" if s[i] == "^" else "_") + (p if len(p) == 1 else f"{{{p}}}"))
            i = j
            continue
        m = re.match(r"\\([A-Za-z]+)", s[i:])
        if m:
            word = m.group(1)
            table = {"partial": "∂", "cdot": "·", "times": "×", "odot": "⊙", "sum": "Σ", "nabla": "∇",
                     "sigma": "σ", "top": "ᵀ", "rightarrow": "→", "to": "→", "prime": "'", "exp": "exp",
                     "log": "log", "ln": "ln", "tanh": "tanh", "vdots": "⋮", "dots": "…", "cdots": "⋯",
                     "ldots": "…", "approx": "≈", "coloneqq": ":=", "underbrace": "", "overbrace": ""}
            out.append(table.get(word, GREEK_CHARS.get(word, word)))
            i += m.end()
            continue
        out.append({"-": "−"}.get(s[i], s[i]))
        i += 1
    text = "".join(out)
    text = re.sub(r"\s+(?=[₀-₉ᵀ⁽⁰¹²³⁴⁵⁶⁷⁸⁹])", "", text)
    text = re.sub(r"(σ'?|exp|ln|log|tanh)\s+\(", r"\1(", text)
    text = re.sub(r"\s*([=·⊙×→])\s*", r" \1 ", text).replace(" · ", "·")
    text = re.sub(r"(?<=[\w)̂])\s*−\s*", " − ", text)
    text = re.sub(r"\s*\+\s*", " + ", text)
    text = re.sub(r"\{\s*|\s*\}", "", text)
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))
    text = re.sub(r"\[\s*\[", "[", re.sub(r"\]\s*\]", "]", text))
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _short(text, width=64):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _headings(text):
    """(offset, level) of every Markdown heading line."""
    out = []
    for m in re.finditer(r"^(#{1,6})\s", text, flags=re.M):
        out.append((m.start(), len(m.group(1))))
    return out


def _section_of(headings, offset):
    """The chain of headings that hold ``offset``: a tuple of (level, heading offset)."""
    path = []
    for pos, level in headings:
        if pos > offset:
            break
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, pos))
    return tuple(path)


def _in_scope(def_section, use_section):
    """A redefinition under a heading holds while the use is inside that heading's section."""
    return use_section[:len(def_section)] == def_section


class Document:
    """A document read into equations, definitions and the rest (what `check_document` works from)."""

    def __init__(self, text):
        self.text = text
        self.rows, self.unreadable, self.mentions = [], [], 0
        self.pictures = []
        headings = _headings(text)
        spans = find_math(text)
        covered = set()
        for a, b in spans:
            covered.update(range(text.count("\n", 0, a), text.count("\n", 0, b) + 1))
        lines = text.split("\n")
        front = set()
        if lines and lines[0].strip() == "---":          # YAML front matter: not prose
            end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
            front = set(range(end + 1))
        prose = [i for i, ln in enumerate(lines) if ln.strip() and i not in covered and i not in front
                 and not ln.lstrip().startswith(("#", "!["))
                 and not re.fullmatch(r"\s*(---+|\*\*\*+|[-*]\s*)", ln)]
        self.prose_lines = len(prose)
        self.paragraphs = []                              # (line, its first words): one per paragraph
        for i in prose:
            if not self.paragraphs or i - 1 not in prose:
                self.paragraphs.append((i + 1, lines[i].strip()))
        for m in re.finditer(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>", text):
            self.pictures.append(_line_col(text, m.start()))
        previous = None
        for a, b in spans:
            for row in split_rows(text, a, b):
                cleaned = clean_row(row.text)
                if not cleaned.strip():
                    continue
                lead = len(cleaned) - len(cleaned.lstrip())
                start = row.start + lead
                line, col = _line_col(text, start)
                section = _section_of(headings, start)
                if not re.search(r"=|\\coloneqq|\\rightarrow|\\to\b|\\leftarrow|\\gets|\\approx", cleaned):
                    self.mentions += 1
                    continue
                try:
                    members, rels, leading = parse_row(cleaned)
                except ReadError as exc:
                    self.unreadable.append((text, row.start + exc.column, f"cannot read this equation: {exc}",
                                            cleaned.strip()))
                    previous = None
                    continue
                except Exception as exc:  # noqa: BLE001 - never crash on a document
                    self.unreadable.append((text, start, f"cannot read this equation ({type(exc).__name__})",
                                            cleaned.strip()))
                    previous = None
                    continue
                eq = Equation([(t, row.start + s, row.start + e, cleaned[s:e]) for t, s, e in members], rels,
                              start, line, col,
                              section, leading is not None)
                eq.row_start = row.start
                if eq.continues and previous is not None and eq.members:
                    eq.members = [previous.members[0]] + eq.members
                    eq.rels = [previous.rels[0] if previous.rels else "="] + eq.rels[1:]
                    eq.continued_from = previous
                elif eq.continues:
                    self.unreadable.append((text, start, "an equation that starts with '=' and follows no "
                                            "equation", cleaned.strip()))
                    continue
                self.rows.append(eq)
                previous = eq


# === 5. the model: definitions → a graph of Values ================================================

class Model:
    """The definitions in force at one place of the document, built into Values on demand.

    Keys are concrete names: ``w1`` for ``w_1``, ``w^{(1)}`` and, in a 3-layer reading, ``w^{(L-2)}``.
    """

    def __init__(self, definitions, derived, samples, rng_seed):
        self.definitions = definitions      # key → Definition (concrete names)
        self.templates = {}                 # base → Definition with a symbolic layer (z^{(l)} = …)
        self.derived = derived              # key or base → (∂ tree, line, section, Name): δ := ∂C/∂z
        self.samples = samples
        self.seed = rng_seed
        self.dims = None                    # a `Dims` for the vector reading, None for scalars

    def _instance(self, key, table):
        m = re.fullmatch(r"(.*?)(\d+)", key)
        if m and m.group(1) in table:
            entry = table[m.group(1)]
            name = entry.name if isinstance(entry, Definition) else entry[3]
            if name.layer is not None and name.layer[0] is not None:
                return entry, int(m.group(2)), name.layer
        return None

    @staticmethod
    def _bind(layer, k):
        sym, off = layer
        bind = dict(LAYERS)
        bind[sym] = k - off
        return bind

    def source(self, key):
        """(tree, bind, Definition) that defines ``key``, or None."""
        if key in self.definitions:
            d = self.definitions[key]
            return d.tree, dict(LAYERS), d
        inst = self._instance(key, self.templates)
        if inst is not None:
            d, k, layer = inst
            if 1 <= k <= LAYERS["L"]:
                return d.tree, self._bind(layer, k), d
        return None

    def derivative(self, key):
        """(∂ tree, bind) if ``key`` names a derivative (δ⁽ᴸ⁾ := ∂C/∂z⁽ᴸ⁾), else None."""
        if key in self.derived:
            return self.derived[key][0], dict(LAYERS)
        inst = self._instance(key, self.derived)
        if inst is not None:
            entry, k, layer = inst
            return entry[0], self._bind(layer, k)
        return None

    def resolve(self, name, bind=None):
        """The key of a Name: C⁽ᴸ⁾ is C when only C is defined; a bare a is the output layer's a⁽ᴸ⁾."""
        if not isinstance(name, Name):
            return name
        key = name.key(bind or LAYERS)
        if key in self.definitions or self.derivative(key) is not None or self.source(key) is not None:
            return key
        plain = name.base + name.sub
        if name.layer is not None and plain in self.definitions:
            return plain
        if name.layer is None and (plain in self.templates or plain in self.derived):
            return Name(name.base, name.sub, (None, LAYERS["L"])).key(LAYERS)
        first = re.fullmatch(r"(.*?)0", key)
        if first and first.group(1) in self.templates and "x" not in self.definitions:
            return "x"                   # a⁽⁰⁾, the input of the first layer, is the data x
        return key

    def leaf_kind(self, key):
        m = re.fullmatch(r"(.*?)0", key)
        if m and m.group(1) in self.templates:
            return "data"            # a⁽⁰⁾: the input of the first layer
        base = key.split("^")[0]
        if base.split("_")[0].rstrip("0123456789") in DATA_BASES and not base.endswith("_hat"):
            return "data"
        return "parameter"


class Point:
    """The model evaluated at one random point: parameters, data, every node as Values."""

    def __init__(self, model, rng, samples, fixed=None, preset=None):
        self.model, self.rng, self.m = model, rng, samples
        self.nodes, self.params, self.partials = {}, {}, {}
        self.fixed = fixed or {}
        self.preset = preset or {}          # key → a parameter's Value, or a data column's floats
        self._building = set()

    def node(self, name, bind=None):
        key = self.model.resolve(name, bind)
        if key in self.nodes:
            return self.nodes[key]
        if key in ("m", "n") and key not in self.model.definitions:
            return float(self.m)
        if key == "e" and key not in self.model.definitions:
            return math.e
        src = self.model.source(key)
        label = name.display() if isinstance(name, Name) else key
        if src is None:
            if self.model.derivative(key) is not None:
                raise ReadError(f"{label} is a derivative, used inside a definition", 0)
            kind = self.model.leaf_kind(key)
            if key in self.preset:
                given = self.preset[key]
                if isinstance(given, Value):
                    self.params[key] = self.nodes[key] = given
                else:
                    self.nodes[key] = np.array([Value(float(v), label=f"{label}[{i}]") for i, v in enumerate(given)],
                                               dtype=object)
                return self.nodes[key]
            if self.model.dims is not None:
                return self._shaped_leaf(key, kind, label)
            if kind == "data":
                if key.startswith("y"):
                    vals = self.rng.normal(size=self.m)
                else:
                    vals = self.rng.uniform(-2.0, 2.0, size=self.m)
                arr = np.empty(self.m, dtype=object)
                for i in range(self.m):
                    arr[i] = Value(float(vals[i]), label=f"{label}[{i}]")
                self.nodes[key] = arr
            else:
                v = Value(float(self.rng.normal()), label=label)
                self.params[key] = v
                self.nodes[key] = v
            return self.nodes[key]
        tree, tbind, d = src
        if key in self._building:
            raise Unresolved(name, f"{label} is defined in terms of itself (line {d.line})")
        self._building.add(key)
        try:
            if self.model.dims is not None:
                out = evaluate_shaped(tree, lambda nm: self.node(nm, tbind))
            else:
                out = evaluate(tree, lambda nm: self.node(nm, tbind))
        finally:
            self._building.discard(key)
        if isinstance(out, (int, float)):
            out = Value(float(out))
        if isinstance(out, Value) and out.label is None:
            out.label = label
        elif self.model.dims is not None and isinstance(out, np.ndarray):
            for idx in np.ndindex(out.shape):
                v = out[idx]
                if isinstance(v, Value) and v.label is None:
                    v.label = key + "".join(f"[{i}]" for i in idx)
        elif isinstance(out, np.ndarray):
            for i, v in enumerate(out):
                if isinstance(v, Value) and v.label is None:
                    v.label = f"{label}[{i}]"
        self.nodes[key] = out
        return out

    def _shaped_leaf(self, key, kind, label):
        """A parameter or a data vector of the vector reading: Values labelled w1[j][k], x[k]."""
        shape = self.model.dims.shape(key, kind)
        if kind == "data":
            vals = self.rng.normal(size=shape) if key.startswith("y") else self.rng.uniform(-2.0, 2.0, size=shape)
        else:
            vals = self.rng.normal(size=shape)
        if shape == ():
            out = Value(float(vals), label=key)
        else:
            out = np.empty(shape, dtype=object)
            for idx in np.ndindex(shape):
                out[idx] = Value(float(vals[idx]), label=key + "".join(f"[{i}]" for i in idx))
        if kind != "data":
            self.params[key] = out
        self.nodes[key] = out
        return out

    def number(self, x):
        if isinstance(x, Value):
            return x.data
        if isinstance(x, np.ndarray) and x.dtype == object:
            out = np.empty(x.shape, dtype=np.float64)
            for idx in np.ndindex(x.shape):
                v = x[idx]
                out[idx] = v.data if isinstance(v, Value) else float(v)
            return out
        return x

    def _shaped_partial(self, A, B, a, b):
        """∂A/∂B of the vector reading: A one number (a loss), the result the shape of B."""
        A = _one(A)
        if isinstance(A, np.ndarray):
            raise ReadError(f"∂{a.display()}/∂{b.display()}: {a.display()} has shape {A.shape}, not one number: "
                            "the vector reading checks derivatives of one number (a Jacobian is not checked)",
                            a.column)
        if not isinstance(B, (Value, np.ndarray)):
            return 0.0
        if not isinstance(A, Value):
            return np.zeros(_sh(B)) if isinstance(B, np.ndarray) else 0.0
        if isinstance(B, Value):
            return _grad(A, B)
        flat = list(B.ravel())
        gs = grad(A, flat)
        return np.array([float(g) for g in gs], dtype=np.float64).reshape(B.shape)

    def partial(self, a, b, bind=None):
        """∂a/∂b by autograd: a float, or one value per sample."""
        ka, kb = self.model.resolve(a, bind), self.model.resolve(b, bind)
        if (ka, kb) in self.partials:
            return self.partials[(ka, kb)]
        try:
            A = self._node_for(a, bind)
        except Unresolved:
            raise Unresolved(a, f"{a.display()} is never defined, so ∂{a.display()}/∂{b.display()} has nothing "
                             "to differentiate (no definition of it found)") from None
        B = self._node_for(b, bind)
        if self.model.dims is not None:
            out = self._shaped_partial(A, B, a, b)
        elif isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
            out = np.array([_grad(A[i], B[i]) for i in range(self.m)])
        elif isinstance(A, np.ndarray):
            out = np.array([_grad(A[i], B) for i in range(self.m)])
        elif isinstance(B, np.ndarray):
            out = np.array(grad(A, list(B)) if isinstance(A, Value) else [0.0] * self.m, dtype=np.float64)
        else:
            out = _grad(A, B)
        self.partials[(ka, kb)] = out
        return out

    def _node_for(self, name, bind=None):
        key = self.model.resolve(name, bind)
        if self.model.derivative(key) is not None:
            raise ReadError(f"a derivative of {name.display()}, itself a derivative", name.column)
        if self.model.source(key) is None and key not in self.nodes:
            if self.model.leaf_kind(key) == "parameter" and key not in self.params and key not in self.preset:
                raise Unresolved(name, f"{name.display()} is not a quantity of the model")
        return self.node(name, bind)

    def value(self, name):
        """The number a name stands for in a claim: a node's forward value, or a named derivative."""
        key = self.model.resolve(name)
        if key in self.fixed:
            return self.fixed[key]
        named = self.model.derivative(key)
        if named is not None:
            tree, bind = named
            return self.partial(tree[1], tree[2], bind)
        if self.model.source(key) is None and key not in self.nodes and key not in ("m", "n", "e"):
            if self.model.leaf_kind(key) == "parameter" and key not in self.params and key not in self.preset:
                raise Unresolved(name, f"{name.display()} is never defined")
        return self.number(self.node(name))


def _grad(a, b):
    if not isinstance(a, Value) or not isinstance(b, Value):
        return 0.0
    g = grad(a, [b])[0]
    return float(g) if not isinstance(g, np.ndarray) else g


# === 6. checking ================================================================================

RTOL, ATOL = 1e-6, 1e-9


def _agree(h, t):
    h, t = np.asarray(h, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return bool(np.all(np.abs(h - t) <= ATOL + RTOL * np.abs(t)))


def _factor(H, T):
    """k with H = k·T at every point and element (k ≠ 1), or None."""
    H = np.concatenate([np.atleast_1d(np.asarray(h, dtype=np.float64)).ravel() for h in H])
    T = np.concatenate([np.atleast_1d(np.asarray(t, dtype=np.float64)).ravel() for t in T])
    big = np.abs(T) > 1e-8 * max(1.0, float(np.abs(T).max()) if T.size else 1.0)
    if not big.any():
        return None
    k = float(np.median(H[big] / T[big]))
    if abs(k) < 1e-12 or not np.all(np.abs(H - k * T) <= ATOL + RTOL * np.abs(k * T)):
        return None
    return k


def _nice(k):
    if math.isclose(k, round(k), rel_tol=1e-9):
        return str(int(round(k)))
    for d in range(2, 13):
        if math.isclose(k * d, round(k * d), rel_tol=1e-9):
            return f"{int(round(k * d))}/{d}"
    return f"{k:.6g}"


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
            continue                     # one sample: no 1/m to miss
        if math.isclose(k, value, rel_tol=1e-6):
            return text
    return None


@dataclass
class _Reading:
    """The values of one claim at every point: yours (H) and autograd's (T)."""
    H: list
    T: list
    summed: bool


def check_document(text, seed=0, points=4, samples=5, dims=None):
    """Check every claim of a derivation document; return a list of `ClaimResult`, in document order.

    ``text`` is the document (Markdown or plain text with LaTeX). The model is read from its
    definitions, built from `Value` nodes and evaluated at ``points`` seeded random points, each
    with ``samples`` random samples of the data; a claim that does not hold there is then also
    tried with one sample, to tell a per-sample formula from a wrong one.

    ``dims`` (``{"f": 2, "h": 3}`` or ``"f=2,h=3"``) asks for the vector reading: one sample, f input
    features, h units in each hidden layer (n1=…, n2=… for one layer), o outputs (default 1); a
    claim whose shapes do not fit (a missing transpose, ⊙ where a matrix product belongs) is wrong.
    A bad ``dims`` is a `DimsError` naming the key.
    """
    return check_report(text, seed=seed, points=points, samples=samples, dims=dims).results


def check_report(text, seed=0, points=4, samples=5, dims=None):
    """Like `check_document`, but returns the whole `Report` (the definitions read, what was skipped)."""
    if not isinstance(text, str):
        raise DocumentError(f"a document is text, got {type(text).__name__}")
    sizes = parse_dims(dims) if dims is not None else None
    doc = Document(text)
    checker = _Checker(doc, seed, points, 1 if sizes else samples, sizes)
    return checker.run()


ONE = object()     # the candidate "1" of the substitution search: an extra factor
TRANSPOSE = object()   # the vector reading's candidate: the same name transposed


class _Checker:

    def __init__(self, doc, seed, points, samples, sizes=None):
        self.doc, self.seed, self.points, self.samples = doc, seed, points, samples
        self.sizes = sizes                # the vector reading's sizes, or None
        self.dims = None                  # its `Dims`, once the definitions are known
        self.columns_elementwise = False  # the explanation search's second try under dims
        self.results = []
        self.definitions = []         # Definition, in document order
        self.derived = {}             # key → (partial tree, line, section)

    # --- the model in force at one row ---------------------------------------------------------
    def model_at(self, eq):
        defs, templates = {}, {}
        for d in self.definitions:
            if not d.first and (d.line > eq.line or not _in_scope(d.section, eq.section)):
                continue   # a redefinition holds from its line to the end of its section
            target = templates if d.name.layer is not None and d.name.layer[0] is not None else defs
            key = d.key_base if target is templates else d.name.key(LAYERS)
            target[key] = d
        model = Model(defs, {k: v for k, v in self.derived.items() if v[1] <= eq.line}, self.samples, self.seed)
        model.templates = templates
        model.dims = self.dims
        return model

    # --- the vector reading: which one-output weights are columns -------------------------------
    def choose_shapes(self):
        """The `Dims` under which the most definitions build: a one-output weight is a 1 × n matrix
        (``z₂ = W₂a₁``) unless a column of n fits the definitions better (``ŷ = w₂ᵀa₁``)."""
        import itertools
        templates = any(d.name.layer is not None and d.name.layer[0] is not None for d in self.definitions)
        dims = Dims(self.sizes, 1)
        layers = 1
        for d in self.definitions:
            for n in names_in(d.tree):
                role = dims.role(n.key(LAYERS))
                if role and _LAYERED.fullmatch(n.key(LAYERS)).group(2):
                    layers = max(layers, role[1])
        dims = Dims(self.sizes, LAYERS["L"] if templates else layers)
        keys = sorted({n.key(LAYERS) for d in self.definitions for n in names_in(d.tree)
                       if (r := dims.role(n.key(LAYERS))) and r[0] == "weight" and dims.size(r[1]) == 1})
        for d in self.definitions:                 # w⁽ˡ⁾ in a layer-indexed definition: the output layer's
            for n in names_in(d.tree):
                if n.base in WEIGHT_BASES and n.layer is not None and n.layer[0] is not None and not n.sub:
                    key = Name(n.base, "", (None, LAYERS["L"])).key(LAYERS)
                    if key not in keys:
                        keys.append(key)
        keys = keys[:6]                   # at most 42 readings to try
        best = None
        for transposed in (False, True):          # z = W a, else z = Wᵀ a
            for k in range(min(len(keys), 3) + 1):
                for subset in itertools.combinations(keys, k):
                    self.dims = dims.with_vectors(subset, transposed)
                    failures = sum(1 for d in self.definitions if self.build_error(d))
                    if best is None or failures < best[0]:
                        best = (failures, self.dims)
                    if failures == 0:
                        return
        self.dims = best[1]

    def build_error(self, d):
        """Why a definition cannot be built in the model at its place, or None."""
        model = self.model_at(d.eq)
        try:
            pt = Point(model, np.random.default_rng(self.seed), self.samples)
            if d.name.layer is None or d.name.layer[0] is None:
                pt.node(d.name)
            else:
                pt.node(Name(d.name.base, d.name.sub, (None, LAYERS["L"])).key(LAYERS))
        except (Unresolved, ReadError) as exc:
            return f"cannot use this definition: {exc}"
        except (MathDomainError, ZeroDivisionError, OverflowError) as exc:
            return f"cannot evaluate this definition: {exc}"
        except Exception as exc:  # noqa: BLE001 - never crash on a document
            return f"cannot use this definition ({type(exc).__name__}: {exc})"
        return None

    def dims_words(self):
        if self.dims is None:
            return None
        d = self.dims
        sizes = [d.size(k) for k in range(d.layers + 1)]
        same = sorted({k for k in range(d.layers) if sizes[k] == sizes[k + 1] and sizes[k] > 1})
        warn = (f"; layer {same[0] + 1} is square ({sizes[same[0] + 1]}×{sizes[same[0]]}), so its transpose "
                "has the right shape: sizes that differ catch more") if same else ""
        convention = "; weights read as z = Wᵀa (W is inputs × units)" if d.transposed else ""
        unused = [k for k in d.sizes if k.startswith("n") and int(k[1:]) >= d.layers]
        if unused:
            hidden = d.layers - 1
            convention += (f"; {', '.join(unused)} not used: this net has {hidden} hidden layer"
                           f"{'' if hidden == 1 else 's'} (o sets the output layer)")
        return (f"one sample, {' → '.join(map(str, sizes))} units from the input to the output "
                f"(f={d.sizes['f']}, h={d.sizes['h']}, o={d.sizes['o']}){convention}{warn}")

    def loss_letter(self, model):
        for d in model.definitions.values():
            for nm in names_in(d.tree):
                if nm.base in ("m", "n") and not nm.sub:
                    return nm.base
        return "m"

    # --- reading rows into definitions and claims ----------------------------------------------
    def run(self):
        doc = self.doc
        text = doc.text
        for src, offset, why, snippet in doc.unreadable:
            line, col = _line_col(text, offset)
            self.results.append(ClaimResult(line, col, _short(pretty(snippet)), None, "unchecked", why))
        self.pending = []                 # claims, checked once every definition is known
        for eq in doc.rows:
            try:
                self.read(eq)
            except (ReadError, Unresolved) as exc:
                eq.kind = "unreadable"
                self.unchecked(eq, eq.members[0][1] if eq.members else eq.start, str(exc))
            except Exception as exc:  # noqa: BLE001 - never crash on a document
                eq.kind = "unreadable"
                self.unchecked(eq, eq.members[0][1] if eq.members else eq.start,
                               f"could not read this equation ({type(exc).__name__}: {exc})")
        if self.sizes is not None:
            self.choose_shapes()
        self.validate_definitions()
        for check, eq in self.pending:
            try:
                check()
            except (ReadError, Unresolved) as exc:
                self.unchecked(eq, eq.members[0][1] if eq.members else eq.start, str(exc))
            except Exception as exc:  # noqa: BLE001 - a document never crashes the checker: say what failed
                self.unchecked(eq, eq.members[0][1] if eq.members else eq.start,
                               f"could not check this equation ({type(exc).__name__}: {exc})")
        for line, col in doc.pictures:
            self.results.append(ClaimResult(line, col, "a picture", None, "unchecked",
                                            "a picture: what it shows cannot be checked"))
        for line, words in doc.paragraphs:
            self.results.append(ClaimResult(line, 1, _short(f"prose: {words}", 40), None, "unchecked",
                                            "words: what they say is not checked"))
        self.results.sort(key=lambda r: (r.line, r.column))
        named = [(line, f"{name.display()} := {pretty_tree(t)}") for t, line, _, name in self.derived.values()]
        defs = [(d.line, d.text + ("" if d.first else "   (a redefinition: until the end of its section)"))
                for d in self.definitions]
        return Report(self.results, sorted(defs + named), doc.mentions,
                      doc.prose_lines, self.samples, self.dims_words())

    def member_text(self, eq, i):
        return pretty(eq.members[i][3])

    def unchecked(self, eq, offset, why):
        line, col = _line_col(self.doc.text, offset)
        text = " = ".join(self.member_text(eq, i) for i in range(len(eq.members))) if eq.members else ""
        self.results.append(ClaimResult(line, col, _short(text), None, "unchecked", why))

    def read(self, eq):
        prev = getattr(eq, "continued_from", None)
        if prev is not None and getattr(prev, "kind", None) in ("claim", "update", "definition"):
            new = list(range(1, len(eq.members)))
            eq.kind, eq.target = prev.kind, prev.target
            if prev.kind == "update":
                eq.kind = "update"
                self.pending.append((lambda: self.check_update(eq, *prev.target, first=1), eq))
            else:
                self.pending.append((lambda: self.check_chain(eq, prev.target, new), eq))
            return
        eq.kind, eq.target = "other", None
        members = [m[0] for m in eq.members]
        if len(members) < 2:
            raise ReadError("an equation needs two sides", 0)
        if any(r == "\\approx" for r in eq.rels):
            raise ReadError("≈ is not a claim of equality", 0)
        lhs = members[0]
        words = [i for i, t in enumerate(members) if t[0] == "text"]
        if lhs[0] == "text":
            self.unchecked(eq, eq.members[0][1], f"a statement in words ({lhs[1]}): no formula to check")
            return
        keep = [i for i in range(len(members)) if i not in words]
        if len(keep) < 2:
            raise ReadError("nothing but words on one side", 0)
        # a definition: a name (not yet defined, or redefined) = an expression with no derivative
        is_update = self.update_rule(eq)
        if is_update is not None:
            eq.kind, eq.target = "update", is_update
            self.pending.append((lambda: self.check_update(eq, *is_update), eq))
            return
        if lhs[0] == "name" and not any(has_derivative(members[i]) for i in keep[1:]) \
                and self.derived_key(lhs[1]) is None:
            self.define(eq, lhs[1], members[keep[-1]], keep)
            return
        if lhs[0] == "mul" and lhs[1][0] == "name" and lhs[2][0] == "name" \
                and not any(has_derivative(members[i]) for i in keep[1:]):
            # C(a^{(L)}) = …: a function-style definition of C
            self.define(eq, lhs[1][1], members[keep[-1]], keep)
            return
        if lhs[0] == "name" and self.defined(lhs[1], eq) is None and self.derived_key(lhs[1]) is None:
            # δ := ∂C/∂z = …: the first derivative names it; the rest are claims about it
            first = next(i for i in keep[1:] if has_derivative(members[i]))
            target = members[first]
            if target[0] != "partial":
                raise ReadError(f"{lhs[1].display()} is named after an expression, not a single derivative", 0)
            symbolic = lhs[1].layer is not None and lhs[1].layer[0] is not None
            key = lhs[1].base + lhs[1].sub if symbolic else lhs[1].key(LAYERS)
            self.derived[key] = (target, eq.line, eq.section, lhs[1])
            rest = [i for i in keep if i > first]
            eq.kind, eq.target = "claim", target
            self.pending.append((lambda: self.check_chain(eq, target, rest), eq))
            return
        if lhs[0] == "nabla" and lhs[1] is None:
            eq.kind = "vector"
            self.pending.append((lambda: self.check_gradient_vector(eq, keep), eq))
            return
        eq.kind, eq.target = "claim", lhs
        self.pending.append((lambda: self.check_chain(eq, lhs, keep[1:]), eq))

    def defined(self, name, eq):
        for d in self.definitions:
            if d.name == name or (d.name.key(LAYERS) == name.key(LAYERS)):
                return d
        return None

    def derived_key(self, name):
        model = Model({}, self.derived, self.samples, self.seed)
        return model.derivative(name.key(LAYERS))

    def define(self, eq, name, tree, keep):
        if name.base.split("_")[0] in DATA_BASES and not name.base.endswith("_hat"):
            self.unchecked(eq, eq.members[0][1], f"a model of the data {name.display()} (x and y are the data "
                           "here), not a definition the checks use")
            return
        first = self.defined(name, eq) is None
        text = " = ".join(self.member_text(eq, i) for i in keep)
        eq.kind, eq.target = "definition", ("name", name)
        self.definitions.append(Definition(name.base + name.sub, name, tree, eq.line, eq.section, first,
                                           _short(text, 80)))
        self.definitions[-1].eq = eq

    def validate_definitions(self):
        """A definition that cannot be built is reported once, here, and left out of the model."""
        for d in list(self.definitions):
            why = self.build_error(d)
            if why:
                self.definitions.remove(d)
                d.eq.kind = "unreadable"
                later = [e for e in self.definitions if e.key_base == d.key_base and e.line > d.line]
                if later and not later[0].first:
                    later[0].first = True
                self.unchecked(d.eq, d.eq.members[0][1], why)

    # --- update rules: w = w − α·g -------------------------------------------------------------
    def update_rule(self, eq):
        """(parameter Name, rate Name) if the row is w = w − α … (or w → w − η …), else None."""
        lhs = eq.members[0][0]
        if lhs[0] != "name" or len(eq.members) < 2:
            return None
        rhs = eq.members[1][0]
        if rhs[0] not in ("sub", "add"):
            return None
        if rhs[1] != ("name", lhs[1]) and not (rhs[1][0] == "name" and rhs[1][1].key(LAYERS) == lhs[1].key(LAYERS)):
            return None
        rates = [n for n in plain_names(rhs[2]) if n.base in ("alpha", "eta", "lambda", "gamma", "mu", "epsilon")
                 and self.defined(n, eq) is None]
        if not rates:
            return None
        return lhs[1], rates[0]

    def check_update(self, eq, param, rate, first=1):
        rate_value = 0.1
        # the loss: the one the rule's own ∂…/∂w names, else the document's loss
        named = [t for m in eq.members[1:] for t in _subtrees(m[0])
                 if t[0] == "partial" and t[2].key(LAYERS) == param.key(LAYERS)]
        for i in range(first, len(eq.members)):
            tree = eq.members[i][0]
            # g = (w − rhs)/α: the gradient the rule steps along
            g = ("div", ("sub", ("name", param), tree), ("name", rate))
            target = ("partial", named[0][1], param) if named else ("partial", None, param)
            self.check_member(eq, i, target, g, fixed={rate.key(LAYERS): rate_value}, update=True, param=param)

    # --- chains ---------------------------------------------------------------------------------
    def check_chain(self, eq, target, indices):
        for i in indices:
            self.check_member(eq, i, target, eq.members[i][0])

    def check_gradient_vector(self, eq, keep):
        for i in keep[1:]:
            tree = eq.members[i][0]
            inner = tree
            wrapped = []
            while inner[0] in ("sum", "mul") and inner[0] != "vec":
                if inner[0] == "sum":
                    wrapped.append(("sum",))
                    inner = inner[1]
                elif inner[0] == "mul" and inner[2][0] in ("vec", "sum"):
                    wrapped.append(("mul", inner[1]))
                    inner = inner[2]
                else:
                    break
            if inner[0] != "vec":
                raise ReadError("∇ equals something that is not a column vector", 0)
            loss = eq.members[0][0][2]
            if loss[0] != "name":
                raise ReadError("∇ of something other than a name", 0)
            model = self.model_at(eq)
            params = self.parameters(model, loss[1])
            rows = inner[1]
            if len(rows) != len(params):
                self.unchecked(eq, eq.members[i][1], f"∇{loss[1].display()} has {len(rows)} rows but the model has "
                               f"{len(params)} parameters ({', '.join(p.display() for p in params)})")
                continue
            for r, (row, p) in enumerate(zip(rows, params)):
                t = row
                for w in reversed(wrapped):
                    t = ("sum", t) if w[0] == "sum" else ("mul", w[1], t)
                self.check_member(eq, i, ("partial", loss[1], p), t,
                                  claim=f"∂{loss[1].display()}/∂{p.display()} = row {r + 1} of "
                                        f"{self.member_text(eq, i)}",
                                  note=f"rows read in the order of the parameters' names: "
                                       f"{', '.join(q.display() for q in params)}" if r == 0 else None)

    def parameters(self, model, loss_name):
        """The parameters the loss depends on, in the order of their names (β0 before β1)."""
        pt = Point(model, np.random.default_rng(self.seed), self.samples)
        pt.node(loss_name)
        names = {}
        for d in list(model.definitions.values()) + list(model.templates.values()):
            for n in names_in(d.tree):
                key = n.key(LAYERS)
                if key in pt.params:
                    names.setdefault(key, n)
        return [names.get(k, Name(k)) for k in sorted(pt.params, key=_natural)]

    # --- one member against its target ------------------------------------------------------------
    def check_member(self, eq, i, target, tree, fixed=None, update=False, param=None, note=None, claim=None):
        text0 = self.member_text(eq, 0)
        if claim is None:
            claim = f"{text0} = {self.member_text(eq, i)}" if i else text0
        claim = _short(claim)
        offset = eq.members[i][1]
        line, col = _line_col(self.doc.text, offset)
        wrt = target[2].display() if target[0] == "partial" else None
        try:
            verdict, k, why = self.judge(eq, target, tree, fixed or {}, update=update, param=param)
        except Unresolved as exc:
            if any(n == exc.name and n.column == exc.name.column for n in names_in(tree)) and i < len(eq.members):
                line, col = _line_col(self.doc.text, eq.row_start + exc.name.column)   # the name itself
            self.results.append(ClaimResult(line, col, claim, wrt, "unchecked", str(exc) + self.known_names(eq)))
            return
        except ReadError as exc:
            self.results.append(ClaimResult(line, col, claim, wrt, "unchecked", f"cannot check: {exc}"))
            return
        except (MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError) as exc:
            self.results.append(ClaimResult(line, col, claim, wrt, "unchecked",
                                            f"cannot evaluate at the random points: {exc}"))
            return
        if note:
            why = f"{why} ({note})"
        self.results.append(ClaimResult(line, col, claim, wrt, verdict, why, k))

    def known_names(self, eq):
        model = self.model_at(eq)
        names = sorted({d.name.display() for d in model.definitions.values()}
                       | {d.name.display() for d in model.templates.values()}, key=_natural)
        return f" (defined: {', '.join(names)})" if names else " (the document defines nothing)"

    def readings(self, model, target, tree, fixed, samples, update, param):
        """Yours and autograd's values at every point, for ``samples`` samples."""
        H, T, summed = [], [], False
        for p in range(self.points):
            rng = np.random.default_rng([self.seed, p, samples])
            pt = Point(model, rng, samples, fixed=fixed)
            if target[1] is None:       # an update rule: ∂(the loss)/∂param, the loss found from the claim
                t = self.update_target(pt, model, param)
            elif target[0] == "partial":
                t = pt.partial(target[1], target[2])
            else:
                t = evaluate(target, pt.value, pt.partial)
            if self.dims is not None:
                h = evaluate_shaped(tree, pt.value, pt.partial, self.columns_elementwise)
            else:
                h = evaluate(tree, pt.value, pt.partial)
            t, h = _numbers(pt, t), _numbers(pt, h)
            if isinstance(h, list) or isinstance(t, list):
                raise ReadError("a vector where a number belongs", 0)
            if self.dims is not None:
                h = _fit_shape(h, t, target)
            elif np.ndim(h) == 1 and np.ndim(t) == 0:
                h, summed = float(np.sum(h)), samples > 1
            H.append(h)
            T.append(t)
        return _Reading(H, T, summed)

    def update_target(self, pt, model, param):
        loss = self.loss_of(model)
        if loss is None:
            raise ReadError("an update rule, but no loss: no definition has a ∑ or a square of the data", 0)
        return pt.partial(loss, param)

    def loss_of(self, model):
        """The loss: the last defined scalar that depends on the data through a square or a ∑."""
        candidates = [d for d in model.definitions.values()
                      if any(t[0] in ("sum",) for t in _subtrees(d.tree)) or
                      any(t[0] == "pow" and t[2] == ("num", 2.0) for t in _subtrees(d.tree))]
        if not candidates:
            return None
        return max(candidates, key=lambda d: d.line).name

    def judge(self, eq, target, tree, fixed, update=False, param=None):
        model = self.model_at(eq)
        letter = self.loss_letter(model)
        m = self.samples
        try:
            rd = self.readings(model, target, tree, fixed, m, update, param)
        except ShapeError as exc:
            return "wrong", None, str(exc)
        step = "the gradient this rule steps along" if update else "yours"
        if all(_agree(h, t) for h, t in zip(rd.H, rd.T)):
            return "ok", None, ("matches autograd" + (" (read per sample, summed over the samples)"
                                                     if rd.summed else ""))
        k = _factor(rd.H, rd.T)
        one = None
        if self.samples > 1:
            try:
                r1 = self.readings(model, target, tree, fixed, 1, update, param)
                one = all(_agree(h, t) for h, t in zip(r1.H, r1.T))
            except (MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError):
                one = None
        if k is not None:
            words = factor_words(k, m, letter)
            if one and any(math.isclose(k, v, rel_tol=1e-6) for v in (m, 2 * m, m / 2, -m)):
                mean = self.mean_note(model, letter)
                what = (f"its 1/{letter} is missing" if math.isclose(k, m, rel_tol=1e-6)
                        else (words or "a constant factor"))
                return "factor", k, (f"right for one sample; over {letter} = {m} samples {step} is {_nice(k)} × "
                                     f"autograd: written per sample, but {mean}, and {what}")
            if update and math.isclose(k, -1.0, rel_tol=1e-6):
                return "factor", k, ("the rule climbs the gradient: it adds the step along ∂/∂" + param.display() +
                                     " where gradient descent subtracts it")
            return "factor", k, f"{step} = {_nice(k)} × autograd" + (f": {words}" if words else "")
        explanation = self.explain(model, target, tree, fixed, update, param, rd, letter)
        if explanation:
            return "wrong", None, explanation
        worst = int(np.argmax([float(np.max(np.abs(np.asarray(h) - np.asarray(t)))) for h, t in zip(rd.H, rd.T)]))
        hs, ts = np.ravel(rd.H[worst]), np.ravel(rd.T[worst])
        at = int(np.argmax(np.abs(hs - ts))) if hs.shape == ts.shape else 0
        h, t = hs[at], ts[at]
        extra = " (right for one sample, though)" if one else ""
        return "wrong", None, (f"autograd gives {t:.6g}, {step} {h:.6g} at a random point, and no single "
                               f"substitution or constant factor explains it{extra}")

    def mean_note(self, model, letter):
        loss = self.loss_of(model)
        if loss is None:
            return f"the loss takes the mean over the {letter} samples"
        d = model.definitions.get(loss.key(LAYERS))
        return f"{loss.display()} (line {d.line}) is a mean over the samples"

    def explain(self, model, target, tree, fixed, update, param, rd, letter):
        """One name of your formula where another belongs: try each occurrence against each quantity."""
        occurrences = plain_names(tree)
        if self.dims is not None and not self.columns_elementwise:
            flipped = self.transposed_result(model, target, tree, fixed, update, param)
            if flipped:
                return flipped
        if not occurrences or len(occurrences) > 24:
            return None
        candidates = self.candidates(model, target)
        m = self.samples
        found = []
        for idx, occ in enumerate(occurrences):
            if update and idx == 0:
                continue
            flips = [TRANSPOSE] if self.dims is not None else []
            for cand in flips + self.layer_neighbours(occ) + candidates + [ONE]:
                if cand not in (ONE, TRANSPOSE) and (cand.key(LAYERS) == occ.key(LAYERS)
                                                     or cand.key(LAYERS) in fixed):
                    continue
                new_tree = replace_name(tree, idx, ("num", 1.0) if cand is ONE else
                                        ("T", ("name", occ)) if cand is TRANSPOSE else cand)
                try:
                    r = self.readings(model, target, new_tree, fixed, m, update, param)
                except (ReadError, Unresolved, MathDomainError, ZeroDivisionError, OverflowError,
                        FloatingPointError):
                    continue
                if all(_agree(h, t) for h, t in zip(r.H, r.T)):
                    found.append((0, occ, cand, None))
                else:
                    k = _factor(r.H, r.T)
                    if k is not None and factor_words(k, m, letter) is not None:
                        found.append((1, occ, cand, k))
            if found and found[0][0] == 0:
                break
        if not found or found[0][0] > 0:
            missing = self.missing_local_derivative(model, target, tree, fixed, update, param)
            if missing:
                return missing
        if not found and self.dims is not None and not self.columns_elementwise:
            self.columns_elementwise = True         # a formula written the scalar way: try its products as ⊙
            try:
                again = self.explain(model, target, tree, fixed, update, param, rd, letter)
            finally:
                self.columns_elementwise = False
            return again and again + " (reading each product of two columns as ⊙)"
        if not found:
            return self.verifier_explanation(model, target, tree, fixed, update, param, letter)
        found.sort(key=lambda f: f[0])
        _, occ, cand, k = found[0]
        if cand is ONE:
            what = f"an extra factor {occ.display()}: without it your formula holds"
        elif cand is TRANSPOSE:
            what = (f"a transpose of {occ.display()} missing or extra: with it flipped your formula holds "
                    f"({occ.display()} is square here, so its shape could not show it)")
        else:
            what = f"{occ.display()} where {cand.display()} belongs"
        if cand not in (ONE, TRANSPOSE) and occ.base == cand.base and occ.sub == cand.sub and occ.layer != cand.layer:
            what += ": the wrong layer"
        if k is not None:
            about_m = m > 1 and any(math.isclose(k, v, rel_tol=1e-6) for v in (m, 2 * m, m / 2, 1 / m, -m))
            what += f"; and {factor_words(k, m, letter)} ({_nice(k)} × autograd" + \
                (f" with {letter} = {m})" if about_m else ")")
        return what

    def transposed_result(self, model, target, tree, fixed, update, param):
        """The vector reading: your matrix is the transpose of autograd's (a square one, or shapes would say so)."""
        try:
            r = self.readings(model, target, ("T", tree), fixed, self.samples, update, param)
        except (ReadError, Unresolved, MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError):
            return None
        if all(np.ndim(t) == 2 for t in r.T) and all(_agree(h, t) for h, t in zip(r.H, r.T)):
            n = np.shape(r.T[0])[0]
            return (f"your matrix is the transpose of the right one: {n}×{n}, square, so its shape could not "
                    "show it")
        return None

    def verifier_explanation(self, model, target, tree, fixed, update, param, letter):
        """Ask `microreg.check.verify` (mistaken backward passes on the model's graph) to name it."""
        from .check import verify
        if self.dims is not None:
            return None                      # the verifier's search is over the scalar reading's graph
        if target[0] != "partial" or (target[1] is None and not update):
            return None
        loss_name = target[1] if target[1] is not None else self.loss_of(model)
        if loss_name is None:
            return None
        m = self.samples
        start = Point(model, np.random.default_rng([self.seed, 7, m]), m, fixed=fixed)
        if not isinstance(start.node(loss_name), Value):
            return None                      # a per-sample loss: verify needs one number
        wrt = model.resolve(target[2])
        if wrt not in start.params:
            return None
        data = {k: start.number(v) for k, v in start.nodes.items()
                if isinstance(v, np.ndarray) and k not in start.params and model.source(k) is None}
        labels = {}
        for k, v in start.params.items():
            labels[k] = v.label if v.label not in labels.values() else k

        def point(values):
            preset = dict(data)
            preset.update({k: (values[labels[k]] if isinstance(values[labels[k]], Value)
                               else Value(float(values[labels[k]]), label=labels[k])) for k in labels})
            return Point(model, None, m, fixed=fixed, preset=preset)

        def loss(**values):
            return point(values).node(loss_name)

        def hand(**values):
            pt = point(values)
            h = _numbers(pt, evaluate(tree, pt.value, pt.partial))
            return float(np.sum(h)) if np.ndim(h) == 1 else h

        try:
            report = verify(loss, {labels[wrt]: hand}, at={labels[k]: v.data for k, v in start.params.items()},
                            n=m, letter=letter)
        except Exception:  # noqa: BLE001 - the verifier's search is a bonus; a failure leaves the verdict as is
            return None
        verdict = report[labels[wrt]]
        if verdict.ok or verdict.explanation is None:
            return None
        return verdict.explanation.text

    def missing_local_derivative(self, model, target, tree, fixed, update, param):
        """"You left out ∂h/∂c": your formula times one local derivative of the model equals autograd."""
        edges = []
        for d in list(model.definitions.values()) + list(model.templates.values()):
            for n in names_in(d.tree):
                if (d.name, n) not in edges and n.base not in ("m", "n"):
                    edges.append((d.name, n))
        for a, b in edges:
            try:
                r = self.readings(model, target, ("mul", tree, ("partial", a, b)), fixed, self.samples, update,
                                  param)
            except (ReadError, Unresolved, MathDomainError, ZeroDivisionError, OverflowError, FloatingPointError):
                continue
            if all(_agree(h, t) for h, t in zip(r.H, r.T)):
                return (f"∂{a.display()}/∂{b.display()} left out (a forgotten local derivative): your formula "
                        "times it matches autograd")
        return None

    @staticmethod
    def layer_neighbours(occ):
        """The same name at the other layers, written the way the occurrence is (w⁽ˡ⁺¹⁾ for w⁽ˡ⁾)."""
        if occ.layer is None or occ.layer[0] is None:
            return []
        sym, off = occ.layer
        base_value = LAYERS.get(sym, LAYERS["L"])
        return [Name(occ.base, occ.sub, (sym, k - base_value)) for k in range(0, LAYERS["L"] + 1)
                if k - base_value != off]

    def candidates(self, model, target):
        names = {}
        for d in list(model.definitions.values()):
            names.setdefault(d.name.key(LAYERS), d.name)
            for n in names_in(d.tree):
                names.setdefault(n.key(LAYERS), n)
        for base, d in model.templates.items():
            sym, off = d.name.layer
            for k in range(1, LAYERS["L"] + 1):
                n = Name(d.name.base, d.name.sub, ("L", k - LAYERS["L"]) if sym == "L" else (sym, k - LAYERS[sym]),
                         source=d.name.source)
                names.setdefault(n.key(LAYERS), n)
            for n in names_in(d.tree):
                if n.layer is None:
                    names.setdefault(n.key(LAYERS), n)
        return [n for k, n in sorted(names.items(), key=lambda kv: _natural(kv[0]))
                if k not in ("m", "n")]


def pretty_tree(tree):
    """A derivative tree as text: ∂C/∂z⁽ᴸ⁾."""
    if tree[0] == "partial":
        return f"∂{tree[1].display()}/∂{tree[2].display()}"
    return "…"


def _subtrees(tree):
    yield tree
    if tree[0] == "vec":
        for r in tree[1]:
            yield from _subtrees(r)
    elif tree[0] == "call":
        yield from _subtrees(tree[2])
    else:
        for c in tree[1:]:
            if isinstance(c, tuple):
                yield from _subtrees(c)


def _fit_shape(h, t, target):
    """Your value in the shape of autograd's, or a `ShapeError` (the vector reading's shape finding).

    Equal shapes fit, and so do one number and an array of one ((), (1,), (1, 1)); a row where a
    column belongs does not."""
    sh, st = np.shape(h), np.shape(t)
    if sh == st:
        return h
    if np.size(h) == 1 and np.size(t) == 1:
        return np.reshape(h, st)
    what = pretty_tree(target) if target[0] == "partial" and target[1] is not None else "autograd's value"
    if target[0] == "partial" and target[1] is None:
        what = f"the gradient of {target[2].display()}"
    elif target[0] == "name":
        what = target[1].display()
    transposed = (len(sh) == 2 and sh == st[::-1]) or (sh == (1,) + st) or (st == (1,) + sh)
    hint = ": a transpose?" if transposed else ""
    raise ShapeError(f"shape {sh} ({_shape_words(sh)}) where {what} has shape {st} ({_shape_words(st)}){hint}")


def _numbers(pt, x):
    if isinstance(x, list):
        return [_numbers(pt, r) for r in x]
    return pt.number(x)


def _natural(key):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(key))]


# === 7. files and output ========================================================================

def check_file(path, seed=0, points=4, samples=5, dims=None):
    """Read a document (UTF-8) and check it: a `Report`. A file that cannot be read is a `DocumentError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{path}: is a folder, not a document") from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: byte {exc.start} is not UTF-8 text") from None
    except OSError as exc:
        raise DocumentError(f"{path}: {exc.strerror}") from None
    return check_report(text, seed=seed, points=points, samples=samples, dims=dims)


def _width(text):
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


def format_results(report, width=None):
    """The table ``microreg check FILE`` prints: line, claim, verdict, explanation; then a summary.

    With ``width`` (a terminal's columns) long explanations wrap under their own column.
    """
    import textwrap
    results = report.results
    out = []
    if report.definitions:
        out.append("model read from the document:")
        for line, text in report.definitions:
            out.append(f"  line {line:>4}  {text}")
        out.append("")
    if results:
        claim_width = min(64 if not width else max(30, width // 3), max(_width(r.claim) for r in results))
        indent = 5 + 2 + claim_width + 2 + 9 + 2
        room = width - indent if width and width - indent >= 30 else None
        out.append(f"{'line':>5}  {_pad('claim', claim_width)}  {'verdict':<9}  explanation")
        out.append(f"{'-' * 5}  {'-' * claim_width}  {'-' * 9}  {'-' * 11}")
        for r in results:
            lines = (textwrap.wrap(r.explanation, room) if room else [r.explanation]) or [""]
            claim = r.claim if _width(r.claim) <= claim_width else _short(r.claim, claim_width)
            out.append(f"{r.line:>5}  {_pad(claim, claim_width)}  {r.verdict:<9}  {lines[0]}")
            out.extend(" " * indent + more for more in lines[1:])
        out.append("")
    counts = {v: sum(1 for r in results if r.verdict == v) for v in ("ok", "factor", "wrong", "unchecked")}
    claims = counts["ok"] + counts["factor"] + counts["wrong"]
    pictures = sum(1 for r in results if r.claim == "a picture")
    paragraphs = sum(1 for r in results if r.claim.startswith("prose: "))
    equations = counts["unchecked"] - pictures - paragraphs
    if claims == 0:
        out.append("no claims to check: the document has no derivative, identity or update rule that could be read")
    else:
        out.append(f"{claims} claim(s) checked: {counts['ok']} ok, {counts['factor']} off by a factor, "
                   f"{counts['wrong']} wrong")
    notes = [f"not checked: {equations} equation(s) (see the rows), {paragraphs} paragraph(s) of prose, "
             f"{pictures} picture(s), {report.mentions} math span(s) without an equation",
             (f"read with vectors ({report.dims}), " if report.dims else
              f"read with one unit per layer, {report.samples} random samples of the data, ")
             + f"{len(report.definitions)} definition(s)"]
    for note in notes:
        out.extend(textwrap.wrap(note, width) if width and width >= 40 else [note])
    return "\n".join(out)


def to_json(report):
    """One JSON object per claim, a line each: line, column, claim, wrt, verdict, explanation, factor."""
    return "\n".join(json.dumps(r.to_dict(), ensure_ascii=False) for r in report.results)
