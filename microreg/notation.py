r"""Read a formula the way you wrote it: the third stage of microreg's one reader.

microreg reads formulas in one way everywhere (`verify` strings, ``microreg check FILE``, the stepper's
quiz), in four stages a newcomer can name:

1. **find the math** in a file (`microreg.mathspans`: Markdown, notebooks, LaTeX);
2. **normalize layout away** (`microreg.layout`: spacing, sizes, colours, tags, remarks, Unicode scripts);
3. **parse one grammar** (this module, with ``notation.lark``): what was written, as a tree;
4. **resolve names and indices** against a model (`microreg.document.model` for documents, the labels of a
   graph for `verify`): which ``^{[2]}`` is a layer, which ``_i`` a sample, which ``g(z)`` a function.

    >>> from microreg.notation import parse
    >>> f = parse(r"(\hat{y} - y) \cdot a_1")          # LaTeX: detected by a backslash, $ or {
    >>> f.names
    ('a1', 'y', 'y_hat')
    >>> f.evaluate({"y_hat": 0.5, "y": 0.25, "a1": 2.0})
    0.5
    >>> parse("(y_hat - y) * a1").tree == f.tree       # the same formula in Python-like text
    True

What this module lets you do:

- ``read_row(text) -> [Equation]``: a row of a document (several equations, each a chain ``a = b := c``),
  as trees of `Node` whose names are `Symbol` (base, accent, subscripts, layer, sample, primes): what
  was written, nothing decided. ``read(text)`` reads one expression.
- ``parse(text) -> Formula`` for `verify`: names flattened the way a formula string names a node
  (``\hat{y}`` → y_hat, ``a_1`` and ``a^{(1)}`` → a1, the indices ``i j k`` dropped); ``parse_chain`` for
  ``a = b = c``; ``Formula.evaluate(env, partial)``.
- ``show(node)``: a tree as a learner reads it (``∂L/∂w₂ = (ŷ − y)·a₁``); ``display(label)`` a node label
  written either way (``\hat{y}`` → ŷ, ``a_1`` → a₁, ``a^{(1)}`` → a⁽¹⁾).
- ``spellings(label)``: the flat names a formula uses for a label (how `verify` matches labels).
- `FormulaError`: what went wrong, with ``column`` (1-based) and ``expected``; the message names
  both, and for an unknown name, the names that exist.

The notation (the grammar file says it as a table): numbers (``2``, ``0.5``, ``½``, ``1e-3``); names
(``w``, ``\hat{y}``, ``\beta_1``, ``ŷ``, ``\mathcal{L}``, ``\ell``, ``\text{MSE}``) with subscripts (``w_1``,
``w^l_{jk}``, ``x_{i,1}``, ``f_{w,b}``, ``h_\theta``) and superscripts: a layer ``^{[l]}``, ``^{(l)}``,
``^l``, ``^{L-1}``, a sample ``^{(i)}``, both ``^{[2](i)}``, a transpose ``^T``/``^\top``/``^{[1]T}``,
primes ``'``/``^\prime``/``^{[1]'}``, a power ``^2``; ``+ - − * · × \cdot \times ⊙ \odot \circ / @ **``,
implicit products (LaTeX), ``\frac{}{}``, ``\sqrt``, ``|x|``, ``\|x\|``, ``\sum`` and ``\prod`` with
limits (the body runs to the next ``+``/``-`` outside brackets), functions (``\sigma``, ``sigmoid``,
``\tanh``, ``\exp``, ``e^{x}``, ``\log``/``\ln``, ``\max(0, z)``, ``\operatorname{ReLU}``, ``softmax``,
``np.sum(x, axis=1, keepdims=True)``, a document's own ``g(z)``, ``J(w,b)``, ``h_\theta(x^{(i)})``),
derivatives (``\frac{\partial L}{\partial w}``, ``\frac{dL}{dw}``, ``\frac{d}{dz}\sigma(z)``, ``∂L/∂w``,
``\nabla_w L``, ``\partial_w L``, ``\sigma'(z)``, ``\dot\sigma``), ``\begin{cases}``, matrices and
``[a; b]`` vectors, ``\mathbb{1}\{y = k\}``, ``\dots``. The Python-like notation (a `verify` string with no
``\``, ``$`` or ``{``) reads identifiers as names (``y_hat``, ``sigma_prime``, ``w2[0]``), ``**``, ``x.T``,
and has no implicit products.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import layout

__all__ = ["parse", "parse_python", "parse_latex", "parse_chain", "read_row", "read", "Formula", "Node",
           "Symbol", "Equation", "FormulaError", "Batch", "FUNCTIONS", "spellings", "display", "show",
           "MAX_LENGTH", "MAX_DEPTH", "rewrite"]

#: a formula longer than this is refused (a document's equation, a verify string)
MAX_LENGTH = 20_000
#: brackets nested deeper than this are refused: the reader never runs out of stack
MAX_DEPTH = 60


class FormulaError(ValueError):
    """A formula that does not parse or evaluate: ``column`` (1-based, or None), ``expected`` (a
    list of what would have been accepted there), ``text`` (the formula)."""

    def __init__(self, message, column=None, expected=(), text=None):
        super().__init__(message)
        self.column, self.expected, self.text = column, list(expected), text


# --- the tree -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    """A name as written: ``base`` (``w``, ``y``, ``sigma``, ``ℒ``, ``MSE``), ``accent`` (``hat``, ``bar``,
    ``tilde``, ``dot``, ``star``), ``sub`` (subscript items: ``("1",)``, ``("j", "k")``, ``("l-1",)``,
    ``("w", "b")``), ``layer`` (``"1"``, ``"l"``, ``"l+1"``, ``"L-1"``, with ``bracket`` saying how it was
    written: ``[`` as in ``^{[1]}``, ``(`` as in ``^{(1)}``, ``^`` as in ``^l``), ``sample`` (``"i"`` from
    ``^{(i)}``), ``primes``. Nothing here is decided: the resolver says what a script means."""

    base: str
    accent: str = ""
    sub: tuple = ()
    layer: str | None = None
    sample: str | None = None
    primes: int = 0
    bracket: str = ""

    def with_(self, **kw):
        return replace(self, **kw)


class Node:
    """One node of a formula tree: ``kind``, ``args`` (child nodes), ``value`` and ``column``.

    Kinds the reader makes (`read_row`): ``num`` (value: the number), ``sym`` (value: a `Symbol`),
    ``add`` (value: the signs, one per term), ``mul`` (value: the operator between each two factors:
    ``juxt dot times star odot div matmul``), ``pow``, ``neg``, ``transpose``, ``func`` (value: a built-in
    function's name, args: none: it is applied by ``apply``), ``apply`` (args: head, then arguments:
    ``σ(z)``, ``g(z)``, ``J(w,b)``, or ``a(b + c)``, a product, when ``a`` is not a function), ``deriv``
    (value: the order; args: what is differentiated, with respect to what), ``sum`` and ``prod`` (value:
    the limits (letter, lower, upper); args: the body), ``vector``, ``rowvec``, ``matrix`` (args: rows),
    ``cases`` (args: value, condition, …), ``compare`` (value: the relation), ``indexed`` (value: the
    subscript items of a bracket: ``(ŷ − y)_i``), ``kwarg`` (value: the keyword), ``indicator``,
    ``text`` (value: the words), ``ellipsis``, ``partial`` and ``nabla`` (a derivative operator not yet
    applied).

    Kinds of a `Formula`'s flat tree (`parse`, for `verify`): ``num``, ``name`` (value: the flat name),
    ``add sub mul div matmul hadamard pow neg transpose abs`` (args), ``index`` (value: the position),
    ``call`` (value: the function's canonical name), ``partial`` (value: (of, wrt) names).
    Two trees are equal when they have the same kinds, values and structure (columns aside).
    """

    __slots__ = ("kind", "args", "value", "column")

    def __init__(self, kind, args=(), value=None, column=None):
        self.kind, self.args, self.value, self.column = kind, tuple(args), value, column

    def __eq__(self, other):
        return (isinstance(other, Node) and self.kind == other.kind and self.value == other.value
                and self.args == other.args)

    def __hash__(self):
        return hash((self.kind, self.value, self.args))

    def __repr__(self):
        if self.kind in ("num", "name"):
            return repr(self.value) if self.kind == "num" else self.value
        if self.kind == "sym":
            return show(self)
        inner = ", ".join(map(repr, self.args))
        return f"{self.kind}{'[' + str(self.value) + ']' if self.value is not None else ''}({inner})"

    def walk(self):
        """Every node, parents before children (iterative: any depth)."""
        stack = [self]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(reversed(n.args))


@dataclass
class Equation:
    """One equation of a row: ``members`` (trees) joined by ``rels`` (``=``, ``:=``, ``\\leftarrow``…),
    ``spans`` (each member's (start, end) offsets in the original text), ``continues`` (it starts with a
    relation: it continues the equation before it, as an ``align`` row ``&= …`` does)."""

    members: list
    rels: list
    spans: list
    continues: bool = False
    text: str = ""


# --- names and functions --------------------------------------------------------------------------

GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
         "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda",
         "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau",
         "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma",
         "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Φ": "Phi",
         "Ψ": "Psi", "Ω": "Omega", "∇": "nabla"}
GREEK_LETTERS = {v: k for k, v in GREEK.items() if k not in "ϵϑςϕ"}
LATEX_GREEK = {"varepsilon": "epsilon", "vartheta": "theta", "varphi": "phi", "varpi": "pi", "varrho": "rho",
               "varsigma": "sigma"}
CALLIGRAPHIC = {"L": "ℒ", "J": "𝒥", "C": "𝒞", "E": "ℰ", "D": "𝒟", "H": "ℋ", "N": "𝒩", "R": "ℛ", "X": "𝒳",
                "Y": "𝒴", "F": "ℱ", "M": "ℳ", "l": "ℓ"}
SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
HATS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0305": "bar"}
INDEX_LETTERS = set("ijk")

#: canonical function name ← every spelling (either notation)
FUNCTION_ALIASES = {
    "σ": "sigmoid", "sigma": "sigmoid", "sigmoid": "sigmoid", "logistic": "sigmoid", "sigmoid_prime": "sigmoid_prime",
    "tanh": "tanh", "exp": "exp", "ln": "log", "log": "log", "lg": "log", "relu": "relu", "ReLU": "relu",
    "ReLu": "relu", "Relu": "relu", "RELU": "relu", "LeakyReLU": "leaky_relu", "leaky_relu": "leaky_relu",
    "leakyrelu": "leaky_relu", "LReLU": "leaky_relu", "relu_prime": "relu_prime", "tanh_prime": "tanh_prime",
    "sqrt": "sqrt", "abs": "abs", "Σ": "sum", "sum": "sum", "mean": "mean", "outer": "outer", "dot": "dot",
    "max": "max", "min": "min", "transpose": "transpose", "softmax": "softmax", "softplus": "softplus",
    "sign": "sign", "sgn": "sign", "sinh": "sinh", "cosh": "cosh", "sech": "sech", "sin": "sin", "cos": "cos",
}
#: numpy's spellings (``np.sum``): the canonical function
NUMPY_FUNCTIONS = {"sum": "sum", "mean": "mean", "dot": "dot", "matmul": "matmul", "multiply": "multiply",
                   "log": "log", "exp": "exp", "tanh": "tanh", "sqrt": "sqrt", "power": "power",
                   "square": "square", "abs": "abs", "maximum": "max", "minimum": "min", "transpose": "transpose",
                   "outer": "outer", "divide": "divide", "subtract": "subtract", "add": "add", "max": "amax",
                   "log1p": "log1p", "squeeze": "squeeze", "reshape": "reshape", "where": "where"}
FUNCTION_WORDS = ("sigmoid|softmax|softplus|logistic|tanh|relu|ReLU|ReLu|Relu|RELU|LeakyReLU|leaky_relu|leakyrelu|"
                  "LReLU|exp|log|ln|max|min|sqrt|abs|sign|sgn|mean|sum|outer|dot|transpose|sigmoid_prime|"
                  "tanh_prime|relu_prime|MSE|RMSE|SSE|MAE|BCE|NLL|CE|Loss|loss|Cost|cost|Error|error|Err|err")


def _unicode_name(raw):
    """A written name → the canonical one: ``ŷ`` → y_hat, ``β₁`` → beta1, ``ε`` → epsilon."""
    text = unicodedata.normalize("NFD", raw).translate(SUBSCRIPT_DIGITS)
    out, suffix = [], ""
    for ch in text:
        if ch in HATS:
            suffix = "_" + HATS[ch]
        elif ch in GREEK:
            out.append(GREEK[ch])
        else:
            out.append(ch)
    base = "".join(out)
    if suffix:   # ŷ1 → y_hat1 reads badly: put the hat on the letter part
        m = re.match(r"([^\d]*)(\d*)$", base)
        return m.group(1) + suffix + m.group(2) if m else base + suffix
    return base


# --- the grammar ----------------------------------------------------------------------------------

GRAMMAR = Path(__file__).with_name("notation.lark").read_text(encoding="utf-8")
#: a LaTeX name is one letter (``w x`` is w·x); known words are words
LATEX_NAMES = r"""
NAME: /[^\W\d_][\u0300-\u036f]*/
WORD.2: /(""" + FUNCTION_WORDS + r""")(?![A-Za-z_0-9])/
NAMEWORD.1: /(?<![A-Za-z\\])[a-z]{3,}(?![A-Za-z])/
"""
#: a Python-like name is an identifier, with ``[0]`` indices (``w2[0][1]``)
PYTHON_NAMES = r"""
NAME: /(?![½¼¾])[^\W\d][\w\u0300-\u036f₀-₉]*(\[\s*\d+\s*\])*/
WORD.2: /(""" + FUNCTION_WORDS + r""")(?![A-Za-z_0-9\[])/
NAMEWORD: /(?!x)x/
"""


@functools.lru_cache(maxsize=None)
def _parser(python):
    return Lark(GRAMMAR + (PYTHON_NAMES if python else LATEX_NAMES), start="row", parser="lalr",
                propagate_positions=True, maybe_placeholders=False, cache=False)


_READABLE = {"$END": "the end of the formula", "NAME": "a name", "NUMBER": "a number", "NUMBER_DIGIT": "a digit",
             "MINUS": "'-'", "PLUS": "'+'", "MULOP": "'*'", "POW": "'^'", "PYPOW": "'**'", "SUB": "a subscript",
             "FUNC": "a function", "GREEK": "a Greek letter", "ODOT": "'⊙'", "LBAR": "'|'", "RBAR": "'|'",
             "REL": "'='", "SUM": r"'\sum'", "FRAC": r"'\frac'", "SQRT": r"'\sqrt'", "PARTIAL": r"'\partial'",
             "PRIME": "a prime (')", "ACCENT": r"'\hat{...}'", "TEXT": r"'\text{...}'", "WORD": "a name",
             "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": r"'\{'", "RBRACE": r"'\}'",
             "COMMA": "','", "SEMICOLON": "';'", "DIVOP": "'/'", "MATMUL": "'@'", "NABLA": r"'\nabla'",
             "CAL": r"'\mathcal{...}'", "ELLIPSIS": r"'\dots'", "DOT_T": "'.T'", "KWARG": "a keyword",
             "NPFUNC": "a numpy function", "INDICATOR": r"'\mathbb{1}'", "LNORM": "'‖'", "RNORM": "'‖'",
             "CASES": r"'\begin{cases}'", "ENDCASES": r"'\end{cases}'", "CASEROW": r"'\\'",
             "MATRIX": r"'\begin{bmatrix}'", "ENDMATRIX": r"'\end{bmatrix}'", "AMPERSAND": "'&'",
             "__ANON_0": "'}'", "LBRACE_": "'{'", "RBRACE_": "'}'"}


def _readable(names):
    out = set()
    first = {"a name", "a number", "the end of the formula"}
    for n in names:
        out.add(_READABLE.get(n, "'{'" if n == "LBRACE" else ("'}'" if n == "RBRACE" else n)))
    return sorted(out & first) + sorted(out - first)


def _syntax_error(exc, t, original):
    """A lark error → a `FormulaError` whose column is the user's (through the layout map)."""
    pos = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedToken):
        expected = _readable(exc.expected)
        if exc.token.type == "$END":
            got, pos = "the end of the formula", len(t.s)
        else:
            got, pos = repr(str(exc.token)), exc.token.start_pos
    elif isinstance(exc, UnexpectedCharacters):
        expected = _readable(exc.allowed or ())
        command = re.match(r"\\[A-Za-z]+", t.s[pos:]) if pos is not None else None
        if command:
            got = f"the LaTeX command {command.group(0)} (not in the notation microreg reads)"
        else:
            ch = t.s[pos] if pos is not None and pos < len(t.s) else ""
            got = repr({"\x01": "|", "\x02": "|", "\x03": "‖", "\x04": "‖"}.get(ch, ch)) if ch else "the end"
    elif isinstance(exc, UnexpectedEOF):
        expected, got, pos = _readable(exc.expected or ()), "the end of the formula", len(t.s)
    else:
        expected, got = [], "something unexpected"
    origin = t.origin(pos or 0)
    col = origin + 1
    caret = " " * max(col - 1, 0) + "^"
    want = f"; expected {', '.join(expected[:12])}" if expected else ""
    shown = original if len(original) <= 200 else original[:200] + "…"
    message = f"cannot read the formula at column {col}: unexpected {got}{want}"
    if len(original) <= 200 and "\n" not in original:
        message += f"\n  {shown}\n  {caret}"
    return FormulaError(message, column=col, expected=expected, text=original)


def _check_size(text, t):
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"a formula of {len(text):,} characters: too long to read (the limit is "
                           f"{MAX_LENGTH:,})", column=1, text=text[:200])
    depth = deepest = 0
    at = 0
    for i, ch in enumerate(t.s):
        if ch in "([{\x01\x03\x05\x0e":
            depth += 1
            if depth > deepest:
                deepest, at = depth, i
        elif ch in ")]}\x02\x04\x06\x0f":
            depth -= 1
    if deepest > MAX_DEPTH:
        col = t.origin(at) + 1
        raise FormulaError(f"brackets nested {deepest} deep at column {col}: the reader follows up to {MAX_DEPTH}",
                           column=col, text=text[:200])
    runs = [(len(re.sub(r"\s", "", m.group(0))), m.start()) for m in re.finditer(r"(?:[-−–+]\s*){2,}", t.s)]
    count, start = max(runs, default=(0, 0))
    if count > MAX_DEPTH:
        col = t.origin(start) + 1              # − − − … w: each sign one level deeper, as a bracket is
        raise FormulaError(f"{count} signs in a row at column {col}: the reader follows up to {MAX_DEPTH}",
                           column=col, text=text[:200])


# --- reading a row: lark's tree → Nodes ------------------------------------------------------------

def read_row(text, python=False, base=0):
    """A row of text → [`Equation`]: layout normalized away (`microreg.layout`), then parsed. ``text`` is a
    string or a `layout.Text` (a row cut from a document, keeping its offsets); ``base`` is added to the
    offsets of a plain string. Raises `FormulaError` with the user's column."""
    t = text if isinstance(text, layout.Text) else layout.clean(text, python=python, base=base)
    original = text.s if isinstance(text, layout.Text) else text
    _check_size(original, t)
    try:
        tree = _parser(python).parse(t.s)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, t, original) from None
    builder = _Builder(t, python, original)
    return [builder.equation(e) for e in tree.children if isinstance(e, Tree) and e.data == "equation"]


def read(text, python=False):
    """One expression (no relation) → a `Node`."""
    eqs = read_row(text, python=python)
    if len(eqs) != 1 or len(eqs[0].members) != 1:
        raise FormulaError(f"expected one expression, got {text!r}", column=1, text=text)
    return eqs[0].members[0]


_FLATTEN_MUL = {"mul": "dot", "juxt": "juxt", "hadamard": "odot", "div": "div", "matmul": "matmul"}
_MULOP = {"*": "star", "·": "dot", "⋅": "dot", "×": "times", "∗": "star", "\\cdot": "dot", "\\times": "times",
          "\\ast": "star", "\\bullet": "dot", "\\cdotp": "dot"}


class _Builder:
    """Lark's parse tree → `Node`s, every column the user's (through the layout map)."""

    def __init__(self, t, python, original):
        self.t, self.python, self.original = t, python, original

    def col(self, item):
        if isinstance(item, Token):
            return self.t.origin(item.start_pos)
        meta = getattr(item, "meta", None)
        if meta is not None and not getattr(meta, "empty", True):
            return self.t.origin(meta.start_pos)
        return None

    def end(self, item):
        if isinstance(item, Token):
            return self.t.origin(item.end_pos)
        meta = getattr(item, "meta", None)
        if meta is not None and not getattr(meta, "empty", True):
            return self.t.origin(meta.end_pos)
        return None

    def error(self, message, item):
        col = (self.col(item) or 0) + 1
        return FormulaError(f"{message} at column {col}", column=col, text=self.original)

    # --- equations ---------------------------------------------------------------------------------------
    def equation(self, tree):
        members, rels, spans = [], [], []
        continues = False
        for c in tree.children:
            if isinstance(c, Token) and c.type == "REL":
                rels.append(_relation(str(c)))
                if not members:
                    continues = True
            else:
                members.append(self.build(c))
                spans.append((self.col(c), self.end(c)))
        if continues:
            rels = rels[1:] if len(rels) > len(members) - 1 else rels
        text = self.original
        return Equation(members, rels, spans, continues, text)

    # --- expressions -------------------------------------------------------------------------------------
    def build(self, t):
        if isinstance(t, Token):
            return self.token(t)
        method = getattr(self, "b_" + t.data, None)
        if method is None:
            raise self.error(f"cannot read {t.data}", t)
        return method(t)

    def token(self, tok):
        kind = tok.type
        if kind in ("NUMBER", "NUMBER_DIGIT"):
            return Node("num", (), 0.5 if str(tok) == "½" else float(tok), self.col(tok))
        return self.build(Tree({"NAME": "name", "GREEK": "greek", "WORD": "word", "TEXT": "text", "FUNC": "func",
                                "CAL": "cal", "PARTIAL": "partial", "NABLA": "nabla", "ELLIPSIS": "ellipsis",
                                "INDICATOR": "indicator", "NPFUNC": "npfunc"}.get(kind, "name"), [tok]))

    def kids(self, t):
        return [c for c in t.children if isinstance(c, Tree) or c.type not in _PUNCTUATION]

    # sums and products: flat, so a 600-term sum is one node, not a 600-deep tree
    def b_add(self, t):
        return self._sum(t)

    b_sub = b_add

    def _sum(self, t):
        terms, signs = [], []
        node = t
        stack = []
        while isinstance(node, Tree) and node.data in ("add", "sub"):
            left, right = node.children[0], node.children[2]
            stack.append(("-" if node.data == "sub" else "+", right))
            node = left
        first = self.build(node)
        if first.kind == "add":
            terms, signs = list(first.args), list(first.value)
        else:
            terms, signs = [first], ["+"]
        for sign, right in reversed(stack):
            terms.append(self.build(right))
            signs.append(sign)
        return Node("add", terms, tuple(signs), self.col(t))

    def _product(self, t):
        factors, ops = [], []
        node = t
        stack = []
        while isinstance(node, Tree) and node.data in _FLATTEN_MUL:
            ch = node.children
            if node.data in ("mul",) and len(ch) == 3 and isinstance(ch[1], Token):
                op = _MULOP.get(str(ch[1]).strip(), "dot")
            elif node.data == "mul":            # product bigop: an implicit product
                op = "juxt"
            else:
                op = _FLATTEN_MUL[node.data]
            stack.append((op, ch[-1]))
            node = ch[0]
        factors = [self.build(node)]
        for op, right in reversed(stack):
            ops.append(op)
            factors.append(self.build(right))
        if self.python and "juxt" in ops:
            k = ops.index("juxt")
            bad = factors[k + 1]
            col = (bad.column or 0) + 1
            raise FormulaError(f"cannot read the formula at column {col}: two things side by side; expected '*' "
                               f"(the Python-like notation has no implicit products)\n  {self.original}\n  "
                               f"{' ' * (col - 1)}^", column=col, expected=["'*'"], text=self.original)
        for k, op in enumerate(ops):
            if op == "juxt" and factors[k].kind == "num" and factors[k + 1].kind == "num":
                col = (factors[k + 1].column or 0) + 1
                raise FormulaError(f"cannot read the formula at column {col}: two numbers side by side; expected "
                                   f"'*'", column=col, expected=["'*'"], text=self.original)
        first = factors[0]
        if first.kind == "neg" and ops and ops[0] == "juxt" and (
                first.args[0].kind == "func" or (first.args[0].kind == "pow" and first.args[0].args[0].kind == "func")):
            # -\log p: the minus of log p, not (−log) times p
            factors[0] = first.args[0]
            return Node("neg", (_fold_operators(factors, ops, self.col(t)),), None, first.column)
        return _fold_operators(factors, ops, self.col(t))

    b_mul = b_juxt = b_hadamard = b_div = b_matmul = _product

    def b_neg(self, t):
        (x,) = self.kids(t)
        return Node("neg", (self.build(x),), None, self.col(t))

    def b_bigsum(self, t):
        tok, body = t.children
        letter, lower, upper = _limits(str(tok))
        kind = "prod" if str(tok).lstrip().startswith("\\prod") else "sum"
        return Node(kind, (self.build(body),), (letter, lower, upper), self.col(tok))

    # powers and scripts -------------------------------------------------------------------------------------
    def b_pow(self, t):
        kids = self.kids(t)
        base, script = kids[0], kids[-1]
        moved = self.scripted(base, t, lambda g: self.superscript(g, script, t) if not (
            isinstance(t.children[1], Token) and t.children[1].type == "PYPOW") else Node("pow", (g, self.build(script)),
                                                                                      None, self.col(t)))
        if moved is not None:
            return moved
        if isinstance(script, Token) and script.type in ("POW", "PYPOW"):
            script = kids[-1]
        b = self.build(base)
        if self.python and t.children[1].type == "PYPOW" or (isinstance(t.children[1], Token)
                                                            and t.children[1].type == "PYPOW"):
            return Node("pow", (b, self.build(script)), None, self.col(t))
        return self.superscript(b, script, t)

    def b_pow_apply(self, t):
        r"""``g^{[1]'}(z)``, ``\sigma^{\prime}(z)``: scripts, then arguments; ``x^2(a + b)`` is a power times a group."""
        kids = [c for c in t.children if not (isinstance(c, Token) and c.type == "POW")]
        base, script, args = kids[0], kids[1], kids[-1]
        head = self.superscript(self.build(base), script, t)
        arguments = [self.build(a) for a in args.children] if isinstance(args, Tree) and args.data == "args" \
            else [self.build(args)]
        if head.kind == "pow" and head.args[0].kind != "func" and len(arguments) == 1:
            return Node("mul", (head, arguments[0]), ("juxt",), self.col(t))
        return Node("apply", (head, *arguments), None, self.col(t))

    def b_pow_sub(self, t):
        """``a^{(l)}_j``, ``w^l_{jk}``: a superscript, then a subscript."""
        kids = [c for c in t.children if not (isinstance(c, Token) and c.type in ("POW", "SUB"))]
        base, sup, sub = kids
        head = self.superscript(self.build(base), sup, t)
        items = _script_items(sub, self.original)
        if head.kind == "sym":
            return Node("sym", (), head.value.with_(sub=head.value.sub + items), head.column)
        return Node("indexed", (head,), items, self.col(t))

    def b_pow_neg(self, t):
        kids = self.kids(t)
        b = self.build(kids[0])
        e = self.build(kids[-1])
        return Node("pow", (b, Node("neg", (e,), None, e.column)), None, self.col(t))

    def superscript(self, b, script, t):
        """``x^{…}``: a layer, a sample, a transpose, primes, or a power (decided by what is written)."""
        parts = _script_parts(script)
        sym = b.value if b.kind == "sym" else None
        out = b
        rest = []
        for kind, value in parts:
            if kind == "transpose":
                rest.append(("transpose", None))
            elif kind == "prime":
                if out.kind in ("sym", "func") or out.kind == "apply":
                    out = _add_primes(out, value)
                else:
                    rest.append(("power", None))
            elif kind in ("layer", "sample", "iteration") and sym is not None:
                field_ = "sample" if kind == "sample" else "layer"
                if kind == "iteration":
                    field_ = "layer"
                new = {field_: value[0]}
                if field_ == "layer":
                    new["bracket"] = value[1]
                sym = sym.with_(**new)
                out = Node("sym", (), sym, out.column)
            elif kind == "star" and sym is not None:
                sym = sym.with_(accent=sym.accent or "star")
                out = Node("sym", (), sym, out.column)
            else:
                rest.append(("power", None))
        if any(k == "power" for k, _ in rest) or not parts:
            return Node("pow", (out, self.build(script) if not (isinstance(script, Tree) and script.data == "group_brace"
                                                             and not script.children) else Node("num", (), 1.0)),
                        None, self.col(t))
        for kind, _ in rest:
            if kind == "transpose":
                out = Node("transpose", (out,), None, self.col(t))
        return out

    def b_sub_script(self, t):
        kids = self.kids(t)
        base, script = kids[0], kids[-1]
        b = self.build(base)
        items = _script_items(script, self.original)
        if b.kind == "sym" and not b.value.sub:
            return Node("sym", (), b.value.with_(sub=items), b.column)
        if b.kind == "sym" and b.value.sub:        # a_{1}_{j}: both
            return Node("sym", (), b.value.with_(sub=b.value.sub + items), b.column)
        if b.kind in ("nabla", "partial"):
            # ∇_{\hat{y}} ℒ, ∂_{W^{[l]}}: the variable is a name as the reader reads any name
            try:
                var = self.build(script)
            except FormulaError:
                var = None
            if var is not None and var.kind == "sym":
                return Node(b.kind, b.args, (var,), b.column)
            return Node(b.kind, b.args, items, b.column)
        if b.kind == "func":
            return Node("func", (), (b.value, items), b.column)
        return Node("indexed", (b,), items, self.col(t))

    def b_prime(self, t):
        b = self.build(self.kids(t)[0])
        if b.kind in ("sym", "func"):
            return _add_primes(b, 1)
        raise self.error("a prime on something that is not a function or a name", t)

    def b_transpose(self, t):
        moved = self.scripted(self.kids(t)[0], t, lambda g: Node("transpose", (g,), None, self.col(t)))
        if moved is not None:
            return moved
        return Node("transpose", (self.build(self.kids(t)[0]),), None, self.col(t))

    def b_apply(self, t):
        head, args = t.children[0], t.children[-1]
        h = self.build(head)
        arguments = [self.build(a) for a in args.children] if isinstance(args, Tree) and args.data == "args" \
            else [self.build(args)]
        if h.kind == "dop" and len(arguments) == 1:
            return Node("deriv", (arguments[0], h.args[0]), h.value, self.col(t))    # ∂/∂b (…)
        if not _may_be_function(h) and len(arguments) == 1 and arguments[0].kind != "kwarg":
            return Node("mul", (h, arguments[0]), ("juxt",), self.col(t))      # 2(a − b), ½(ŷ − y): a product
        return Node("apply", (h, *arguments), None, self.col(t))

    def scripted(self, base_tree, t, make):
        """A superscript, transpose or prime on ``x(…)``: ``\frac{1}{2}(ŷ − y)^2`` is ½·(ŷ − y)², not (½(ŷ − y))²;
        on a possible function (``g(z)^2``) the whole application."""
        if isinstance(base_tree, Tree) and base_tree.data == "apply":
            head, args = base_tree.children[0], base_tree.children[-1]
            h = self.build(head)
            if h.kind == "dop":                # ∂/∂b (ŷ − y)²: the derivative of the square
                group = self.build(args if not (isinstance(args, Tree) and args.data == "args") else args.children[0])
                return Node("deriv", (make(group), h.args[0]), h.value, self.col(base_tree))
            if not _may_be_function(h) and not (isinstance(args, Tree) and args.data == "args"
                                                and len(args.children) > 1):
                group = self.build(args if not (isinstance(args, Tree) and args.data == "args") else args.children[0])
                return Node("mul", (h, make(group)), ("juxt",), self.col(base_tree))
        return None

    def b_kwarg(self, t):
        key, value = t.children[0], t.children[-1]
        word = re.sub(r"\s", "", "".join(_flat_text(value)))
        if word in ("True", "False", "None"):
            built = Node("text", (), word, self.col(value))
        else:
            built = self.build(value)
        return Node("kwarg", (built,), str(key).split("=")[0].strip(), self.col(t))

    def b_comparison(self, t):
        a, rel, b = t.children
        return Node("compare", (self.build(a), self.build(b)), _relation(str(rel)), self.col(t))

    # atoms -----------------------------------------------------------------------------------------------------
    def b_num(self, t):
        return self.token(t.children[0])

    def b_name(self, t):
        tok = t.children[0]
        text = str(tok)
        col = self.col(tok)
        if self.python:
            m = re.match(r"([^\[\s]+)((?:\[\s*\d+\s*\])*)$", text)
            name, idx = m.group(1), [int(i) for i in re.findall(r"\d+", m.group(2))]
            node = Node("sym", (), Symbol(_unicode_name(name)), col)
            for i in idx:
                node = Node("index", (node,), i, col)
            return node
        if tok.type == "NAMEWORD":                 # net, out, target: a name written as a word
            return _word(text, col)
        nfd = unicodedata.normalize("NFD", text)
        letter, marks = nfd[0], nfd[1:]
        base = GREEK.get(letter, letter)
        accent = next((HATS[c] for c in marks if c in HATS), "")
        return Node("sym", (), Symbol(base, accent), col)

    def b_greek(self, t):
        word = str(t.children[0])[1:]
        return Node("sym", (), Symbol(LATEX_GREEK.get(word, word)), self.col(t))

    def b_cal(self, t):
        text = str(t.children[0])
        if text in ("\\ell", "ℓ"):
            return Node("sym", (), Symbol("ℓ"), self.col(t))
        if text == "ℒ":
            return Node("sym", (), Symbol("ℒ"), self.col(t))
        letter = re.search(r"([A-Za-z])\s*\}?\s*$", text).group(1)
        return Node("sym", (), Symbol(CALLIGRAPHIC.get(letter, letter + "_cal")), self.col(t))

    def b_word(self, t):
        word = str(t.children[0])
        return _word(word, self.col(t))

    def b_text(self, t):
        text = str(t.children[0])
        words = re.sub(r"^\\[A-Za-z]+\s*\{|\}$", "", text).strip()
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", words) and words.lower() not in _STOP_WORDS:
            return _word(words, self.col(t))
        m = re.fullmatch(r"(np|numpy)\.([A-Za-z_]+)", words)
        if m and m.group(2) in NUMPY_FUNCTIONS:           # \text{np.sum}(dZ)
            return Node("func", (), "np." + NUMPY_FUNCTIONS[m.group(2)], self.col(t))
        return Node("text", (), words, self.col(t))

    def b_func(self, t):
        word = str(t.children[0]).lstrip("\\")
        return Node("func", (), FUNCTION_ALIASES.get(word, word), self.col(t))

    def b_npfunc(self, t):
        word = re.sub(r"\s", "", str(t.children[0])).split(".", 1)[1]
        canon = NUMPY_FUNCTIONS.get(word)
        if canon is None:
            raise self.error(f"np.{word} is not a numpy function microreg reads (it reads "
                             f"{', '.join('np.' + k for k in sorted(NUMPY_FUNCTIONS))})", t)
        return Node("func", (), "np." + canon, self.col(t))

    def b_accent(self, t):
        acc_tok = t.children[0]
        accent = str(acc_tok).lstrip("\\").replace("widehat", "hat").replace("overline", "bar").replace(
            "widetilde", "tilde")
        inner = self.build(t.children[-1])
        if accent == "vec":
            return inner
        if accent == "dot" and inner.kind == "sym" and (inner.value.base in FUNCTION_ALIASES or
                                                        inner.value.base in ("g", "f", "phi", "varphi", "h")):
            return _add_primes(inner, 1)                 # \dot\sigma: Nielsen's σ'-by-another-name
        if inner.kind == "sym":
            return Node("sym", (), inner.value.with_(accent=accent), inner.column)
        if inner.kind == "func" and accent == "dot":
            return _add_primes(inner, 1)
        raise self.error(f"\\{accent} over something that is not a name", t)

    def b_group_paren(self, t):
        return self.build(self.kids(t)[0])

    b_group_bracket = b_group_brace = b_group_set = b_group_paren

    def b_group_set_cond(self, t):
        kids = self.kids(t)
        a, rel, b = kids[0], kids[1], kids[2]
        return Node("compare", (self.build(a), self.build(b)), _relation(str(rel)), self.col(t))

    def b_group_bracket_cond(self, t):           # \mathbb{1}[Z > 0]: the comparison, as in braces
        return self.b_group_set_cond(t)

    def b_vector(self, t):
        return Node("vector", [self.build(c) for c in self.kids(t)], None, self.col(t))

    def b_row_vector(self, t):
        return Node("rowvec", [self.build(c) for c in self.kids(t)], None, self.col(t))

    def b_tuple(self, t):
        return Node("tuple", [self.build(c) for c in self.kids(t)], None, self.col(t))

    def b_abs(self, t):
        return Node("apply", (Node("func", (), "abs", self.col(t)), self.build(self.kids(t)[0])), None, self.col(t))

    def b_norm(self, t):
        return Node("apply", (Node("func", (), "norm", self.col(t)), self.build(self.kids(t)[0])), None, self.col(t))

    def b_sqrt(self, t):
        return Node("apply", (Node("func", (), "sqrt", self.col(t)), self.build(self.kids(t)[-1])), None, self.col(t))

    def b_root(self, t):
        kids = self.kids(t)
        n, x = self.build(kids[-2]), self.build(kids[-1])
        return Node("pow", (x, Node("mul", (Node("num", (), 1.0), n), ("div",))), None, self.col(t))

    def b_frac(self, t):
        kids = self.kids(t)
        num, den = self.build(kids[-2]), self.build(kids[-1])
        d = _derivative_fraction(num, den, self.col(t))
        if d is not None:
            return d
        return Node("mul", (num, den), ("div",), self.col(t))

    def b_partial(self, t):
        return Node("partial", (), None, self.col(t))

    def b_nabla(self, t):
        return Node("nabla", (), None, self.col(t))

    def b_ellipsis(self, t):
        return Node("ellipsis", (), None, self.col(t))

    def b_indicator(self, t):
        return Node("func", (), "indicator", self.col(t))

    def b_cases(self, t):
        args = []
        for row in t.children:
            if isinstance(row, Tree) and row.data == "case_row":
                kids = [c for c in row.children if isinstance(c, Tree) or c.type not in ("AMPERSAND",)]
                value = self.build(kids[0])
                cond = self.condition(kids[1]) if len(kids) > 1 else None
                args += [value, cond if cond is not None else Node("text", (), "otherwise", value.column)]
        return Node("cases", args, None, self.col(t))

    def condition(self, t):
        kids = [c for c in t.children]
        exprs = [self.build(c) for c in kids if isinstance(c, Tree) or c.type != "REL"]
        rels = [_relation(str(c)) for c in kids if isinstance(c, Token) and c.type == "REL"]
        exprs = [_drop_leading_words(e) for e in exprs]
        if not rels:
            return Node("text", (), _words_of(exprs[0]) or "otherwise", exprs[0].column)
        return Node("compare", exprs, rels[0] if len(rels) == 1 else tuple(rels), exprs[0].column)

    def b_matrix(self, t):
        rows = []
        for row in t.children:
            if isinstance(row, Tree) and row.data == "matrix_row":
                rows.append(Node("rowvec", [self.build(c) for c in row.children if isinstance(c, Tree)
                                            or c.type not in ("AMPERSAND",)], None, self.col(row)))
        if all(len(r.args) == 1 for r in rows):
            return Node("vector", [r.args[0] for r in rows], None, self.col(t))
        if len(rows) == 1:
            return rows[0]
        return Node("matrix", rows, None, self.col(t))


_PUNCTUATION = {"LPAR", "RPAR", "LSQB", "RSQB", "LBRACE", "RBRACE", "COMMA", "SEMICOLON", "POW", "PYPOW", "SUB",
                "FRAC", "SQRT", "LBAR", "RBAR", "LNORM", "RNORM", "MULOP", "ODOT", "DIVOP", "MATMUL", "MINUS",
                "PRIME", "DOT_T", "CASES", "ENDCASES", "CASEROW", "MATRIX", "ENDMATRIX", "AMPERSAND"}


def _relation(text):
    text = text.strip()
    table = {"\\coloneqq": ":=", "≔": ":=", "=:": ":=", "\\eqqcolon": ":=", "\\equiv": "≡", "\\triangleq": ":=",
             "≜": ":=", "\\doteq": ":=", "\\approx": "≈", "\\simeq": "≈", "\\propto": "∝", "\\neq": "≠",
             "\\ne": "≠", "\\leq": "≤", "\\le": "≤", "\\geq": "≥", "\\ge": "≥", "\\lt": "<", "\\gt": ">",
             "\\leftarrow": "←", "\\gets": "←", "\\longleftarrow": "←", "\\Leftarrow": "←",
             "\\rightarrow": "→", "\\to": "→", "\\longrightarrow": "→", "\\Rightarrow": "⇒", "\\implies": "⇒",
             "\\mapsto": "→", "\\in": "∈", "\\notin": "∉", "\\sim": "~"}
    return table.get(text, text)


_STOP_WORDS = {"if", "for", "when", "where", "with", "and", "or", "otherwise", "else", "then", "since", "as", "so",
               "is", "are", "the", "of", "in", "at", "to", "on", "all", "each", "every", "some", "any", "by", "using",
               "thus", "hence", "because", "let", "we", "get", "have", "has", "be", "a", "an", "it", "this", "that"}


def _may_be_function(node):
    """Can ``node(…)`` be a function's application? Names can (σ, g, J, f_{w,b}); numbers, fractions, groups and
    products cannot."""
    if node.kind in ("sym", "func", "cal", "deriv", "dop", "indicator"):
        return True
    if node.kind == "pow" and node.args[0].kind in ("func", "sym"):
        return True
    if node.kind == "index":
        return True
    return False


def _word(word, col):
    """A multi-letter word: a function (``softmax``, ``ReLU``) or a name (``MSE``, ``loss``)."""
    canon = FUNCTION_ALIASES.get(word) or FUNCTION_ALIASES.get(word.lower())
    if canon is not None:
        return Node("func", (), canon, col)
    return Node("sym", (), Symbol(word), col)


def _add_primes(node, k):
    if node.kind == "sym":
        return Node("sym", (), node.value.with_(primes=node.value.primes + k), node.column)
    if node.kind == "func":
        name = node.value if isinstance(node.value, str) else node.value[0]
        return Node("func", (), name + "'" * k, node.column)
    return node


def _words_of(node):
    if node.kind == "text":
        return node.value
    if node.kind == "mul":
        return " ".join(filter(None, (_words_of(a) for a in node.args)))
    return ""


def _drop_leading_words(node):
    """``\\text{if } z > 0`` reads z > 0: words before a condition are not part of it."""
    if node.kind == "mul" and node.args and node.args[0].kind == "text":
        rest = node.args[1:]
        if len(rest) == 1:
            return rest[0]
        return Node("mul", rest, node.value[1:], rest[0].column)
    return node


def _limits(token):
    r"""``\sum_{i=1}^{m}`` → ("i", "1", "m"); ``\sum_j`` → ("j", None, None); ``\sum`` → (None, None, None)."""
    lower = upper = letter = None
    for mark, group in re.findall(r"([_^])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[A-Za-z0-9])", token):
        inner = group[1:-1].strip() if group.startswith("{") else group
        if mark == "_":
            m = re.match(r"\s*(\\?[A-Za-z]+)\s*(?:=|\\in|∈)\s*(.*)$", inner)
            if m:
                letter, lower = m.group(1).lstrip("\\"), m.group(2).strip() or None
            else:
                letter = inner
        else:
            upper = inner
    return letter, lower, upper


def _fold_operators(factors, ops, col):
    """A flat product, with derivative operators applied: ``∂L/∂w`` (in one line), ``\\nabla_w L``,
    ``\\partial_w L``, ``\\frac{d}{dz} σ(z)`` take the factors that follow them (up to an explicit operator)."""
    factors, ops = list(factors), list(ops)
    # ∂L/∂w and dL/dw written in one line: [∂, L, /, ∂, w]
    k = 0
    while k < len(factors):
        f = factors[k]
        if _is_diff_mark(f) and k + 3 < len(factors) + 0 and k + 3 <= len(factors) - 1 and ops[k] == "juxt" \
                and ops[k + 1] == "div" and _is_diff_mark(factors[k + 2]) and ops[k + 2] == "juxt":
            d = Node("deriv", (factors[k + 1], factors[k + 3]), _order(f), f.column)
            factors[k:k + 4] = [d]
            del ops[k:k + 3]
            continue
        k += 1
    # operators: ∇_w, ∂_w, a derivative fraction with nothing above the line (d/dz)
    k = len(factors) - 1
    while k >= 0:
        f = factors[k]
        wrt = _operator_wrt(f)
        if wrt is not None and k + 1 < len(factors):
            j = k + 1
            while j < len(ops) and ops[j] == "juxt":
                j += 1
            if ops[k] == "juxt":
                operand = factors[k + 1] if j == k + 1 else Node("mul", factors[k + 1:j + 1], tuple(ops[k + 1:j]),
                                                                 factors[k + 1].column)
                order = f.value if f.kind == "dop" else 1
                factors[k:j + 1] = [Node("deriv", (operand, wrt), order, f.column)]
                del ops[k:j]
        k -= 1
    if len(factors) == 1:
        return factors[0]
    return Node("mul", factors, tuple(ops), col)


def _is_diff_mark(node):
    """∂ or d (a derivative's mark), possibly ∂² (``\\partial^2``)."""
    if node.kind == "partial":
        return True
    if node.kind == "pow" and node.args[0].kind == "partial":
        return True
    return node.kind == "sym" and node.value == Symbol("d")


def _order(mark):
    if mark.kind == "pow" and mark.args[1].kind == "num":
        return int(mark.args[1].value)
    return 1


def _operator_wrt(node):
    """The variable of a derivative operator (``\\nabla_w``, ``\\partial_w``, ``d/dz``), or None."""
    if node.kind == "dop":
        return node.args[0]
    if node.kind in ("nabla", "partial") and node.value:
        items = node.value
        if len(items) == 1 and isinstance(items[0], Node):
            return items[0]
        if len(items) == 1 and isinstance(items[0], str):
            return _item_symbol(items[0], node.column)
        return Node("sym", (), Symbol(items[0]) if items else Symbol("?"), node.column)
    if node.kind == "nabla":
        return Node("all", (), None, node.column)      # ∇L: the gradient with respect to every parameter
    return None


def _item_symbol(item, col):
    r"""A subscript item as a name: ``w`` → w, ``theta`` → θ, ``W^{[1]}`` (read earlier) stays."""
    if isinstance(item, Node):
        return item
    return Node("sym", (), Symbol(item), col)


def _split_mark(node):
    """``\\partial L`` / ``dL`` (a product led by a derivative mark) → (order, the rest), else None."""
    if node.kind == "mul" and node.value and node.value[0] == "juxt" and _is_diff_mark(node.args[0]):
        rest = node.args[1:]
        body = rest[0] if len(rest) == 1 else Node("mul", rest, node.value[1:], rest[0].column)
        return _order(node.args[0]), body
    if node.kind == "deriv":
        return None
    if _is_diff_mark(node):
        return _order(node), None
    if node.kind == "sym" and node.value.base.startswith("d") and len(node.value.base) > 1 and False:
        return None
    return None


def _derivative_fraction(num, den, col):
    r"""``\frac{\partial L}{\partial w}`` → deriv(L, w); ``\frac{d}{dz}`` → an operator (dop) that takes what
    follows; ``\frac{\partial^2 L}{\partial w^2}`` → order 2. None when it is not a derivative."""
    top, bottom = _split_mark(num), _split_mark(den)
    if top is None or bottom is None or bottom[1] is None:
        return None
    order, of = top
    wrt = bottom[1]
    if wrt.kind == "pow" and order > 1:                 # ∂w² below a ∂² above
        wrt = wrt.args[0]
    if of is None:
        return Node("dop", (wrt,), order, col)
    return Node("deriv", (of, wrt), order, col)


def _script_items(script, text):
    """A subscript → its items as strings (``1``, ``j``, ``jk`` → j, k; ``l-1``; ``w,b``; ``theta``; ``out``)."""
    if isinstance(script, Token):
        word = str(script)
        return (word.lstrip("\\"),) if not word.isdigit() else (word,)
    kind = script.data
    if kind in ("group_brace", "script_bracket", "group_paren", "group_bracket"):
        if not script.children:
            return ()
        return _script_items(script.children[0], text)
    if kind == "script_list":
        return tuple(i for c in script.children if isinstance(c, Tree) or c.type != "COMMA"
                     for i in _script_items(c, text))
    if kind == "script_paren":
        return tuple(i for c in script.children[0].children for i in _script_items(c, text)) \
            if isinstance(script.children[0], Tree) and script.children[0].data == "args" else \
            _script_items(script.children[0], text)
    if kind in ("num",):
        return (str(script.children[0]),)
    if kind in ("name",):
        s = str(script.children[0])
        return (unicodedata.normalize("NFC", s),)
    if kind == "greek":
        w = str(script.children[0])[1:]
        return (LATEX_GREEK.get(w, w),)
    if kind in ("text", "word"):
        return (re.sub(r"^\\[A-Za-z]+\s*\{|\}$", "", str(script.children[0])).strip(),)
    if kind == "juxt":
        out = []
        for c in script.children:
            out.extend(_script_items(c, text))
        if len(out) == 2 and len(out[0]) == 1 and out[0].isalpha() and out[1].isdigit():
            return (out[0] + out[1],)          # net_{h1}, out_{o1}: a unit's label, not an index and a number
        return tuple(out)
    if kind in ("add", "sub"):
        return ("".join(_flat_text(script)),)
    if kind == "accent":
        return tuple(_flat_text(script))
    if kind == "args":
        return tuple(i for c in script.children for i in _script_items(c, text))
    return ("".join(_flat_text(script)),)


def _flat_text(tree):
    if isinstance(tree, Token):
        t = str(tree)
        return [{"−": "-", "–": "-", "\\ell": "l", "ℓ": "l"}.get(t, t.lstrip("\\"))]   # [\ell]: the layer l
    out = []
    for c in tree.children:
        out.extend(_flat_text(c))
    return out


def _script_parts(script):
    r"""What a superscript says, as a list of (kind, value): ("layer", (v, bracket)), ("sample", (v,)),
    ("iteration", (v, "(")), ("transpose", None), ("prime", k), ("star", None), or ("power", None).
    ``^{[2](i)}`` → layer 2 and sample i; ``^{[1]T}`` → layer 1 and a transpose; ``^{(i)}`` → sample;
    ``^{(l)}``, ``^{(2)}`` → layer; ``^{(t)}`` → iteration; ``^l``, ``^{l+1}``, ``^L``, ``^{L-1}`` → layer;
    ``^T`` → transpose; ``^{\prime}`` → prime; ``^2`` → a power."""
    if isinstance(script, Token):
        return _part_of_token(script)
    kind = script.data
    if kind == "prime_script":
        return [("prime", len(script.children) or 1)]
    if kind == "group_brace":
        if not script.children:
            return [("power", None)]
        return _script_parts_inner(script.children[0])
    if kind == "script_bracket":
        return [("layer", ("".join(_flat_text(script.children[0])), "["))]
    if kind == "script_paren":
        inner = "".join(_flat_text(script.children[0]))
        return [_paren_script(inner)]
    return _script_parts_inner(script)


def _part_of_token(tok):
    s = str(tok)
    if s == "T":
        return [("transpose", None)]
    if s in ("l", "L"):
        return [("layer", (s, "^"))]
    if s in ("\\ell", "ℓ"):
        return [("layer", ("l", "^"))]
    if s == "*" or s == "\\ast":
        return [("star", None)]
    if tok.type == "PRIME":
        return [("prime", 1)]
    return [("power", None)]


def _paren_script(inner):
    inner = inner.replace(" ", "")
    if re.fullmatch(r"[in](?:[+-]\d+)?", inner):
        return ("sample", (inner,))
    if re.fullmatch(r"[tτ](?:[+-]\d+)?|k\+1", inner):
        return ("iteration", (inner, "("))
    return ("layer", (inner, "("))


def _script_parts_inner(node):
    """The inside of a ``^{…}``."""
    if isinstance(node, Token):
        return _part_of_token(node)
    kind = node.data
    if kind in ("name", "cal"):
        return _part_of_token(node.children[0])
    if kind == "group_paren":
        inner = "".join(_flat_text(node.children[0]))
        return [_paren_script(inner)]
    if kind == "group_bracket":
        return [("layer", ("".join(_flat_text(node.children[0])), "["))]
    if kind == "apply":                      # [2](i): a bracket group applied to (i)
        head, args = node.children[0], node.children[-1]
        parts = _script_parts_inner(head)
        inner = "".join(_flat_text(args))
        return parts + [_paren_script(inner)]
    if kind == "juxt":                       # [1]T, [1](i), (l)T
        out = []
        for c in node.children:
            out.extend(_script_parts_inner(c))
        return out
    if kind == "prime":                      # [1]'
        return _script_parts_inner(node.children[0]) + [("prime", 1)]
    if kind in ("add", "sub"):               # l+1, L-1
        text = "".join(_flat_text(node))
        if re.fullmatch(r"[lL][+-]\d+", text.replace(" ", "")):
            return [("layer", (text.replace(" ", ""), "^"))]
        return [("power", None)]
    if kind == "greek" and str(node.children[0]) == "\\prime":
        return [("prime", 1)]
    if kind == "prime_script":
        return [("prime", len(node.children) or 1)]
    if kind == "mul" and len(node.children) == 1:
        return _script_parts_inner(node.children[0])
    return [("power", None)]


# --- a formula for verify: names flattened, functions resolved -----------------------------------------

def flat_name(sym):
    r"""The name a `verify` formula uses for a `Symbol`: ``\hat{y}`` → y_hat, ``a_1``/``a^{(1)}``/``a^{[1]}``
    → a1, ``z^{(L-1)}`` → zLm1, ``\beta_1`` → beta1, ``\hat{\beta}_0`` → beta0_hat; index letters i, j, k
    and a sample ``^{(i)}`` are dropped (``\epsilon_i`` → epsilon)."""
    base = sym.base
    out = base
    for item in sym.sub:
        if item in INDEX_LETTERS:
            continue
        if re.fullmatch(r"[ijk]\s*=\s*\w+", item):
            continue
        out += _script_word(item)
    if sym.layer is not None:
        out += _script_word(sym.layer)
    if sym.primes:
        out += "_prime" * sym.primes
    if sym.accent and sym.accent != "vec":
        out += "_" + sym.accent
    return out


def _script_word(item):
    item = re.sub(r"\s+", "", item)
    item = LATEX_GREEK.get(item, item)
    return item.replace("-", "m").replace("+", "p").replace(",", "")


class Formula:
    """A parsed formula for `verify`: ``text``, ``tree`` (flat names), ``names``, ``functions``, ``indices``,
    ``sizes``, ``partials``, ``latex`` (which notation it was read as), and ``evaluate(env)``."""

    def __init__(self, text, tree, latex, indices=(), sizes=(), source=None):
        self.text, self.tree, self.latex = text, tree, latex
        self.source = source                    # the reader's tree (Symbols), before flattening
        self.sizes = tuple(sorted(sizes))
        nodes = list(tree.walk())
        self.names = tuple(sorted({n.value for n in nodes if n.kind == "name"}))
        self.functions = tuple(sorted({n.value for n in nodes if n.kind == "call"}))
        self.partials = tuple(sorted({n.value for n in nodes if n.kind == "partial"}))
        self.indices = tuple(sorted(indices))

    def __repr__(self):
        return f"Formula({self.text!r})"

    def evaluate(self, env, partial=None):
        """The formula's value with ``env``: name → float, array, `Batch` or ``Value``.

        ``partial(of, wrt)`` gives the value of each ∂-fraction (∂of/∂wrt), if the formula has any.
        """
        return _Evaluator(env, partial, self.text).run(self.tree)


_PLAIN = {"juxt": "mul", "dot": "mul", "times": "mul", "star": "mul", "odot": "hadamard", "div": "div",
          "matmul": "matmul"}
_PRIMED = {"sigmoid": "sigmoid_prime", "relu": "relu_prime", "tanh": "tanh_prime"}


class _Flattener:
    """The reader's tree → the flat tree `verify` evaluates (module docstring of `Formula`)."""

    def __init__(self, text, latex):
        self.text, self.latex = text, latex
        self.indices, self.sizes = set(), set()

    def col(self, node):
        return None if node.column is None else node.column + 1

    def error(self, message, node, expected=()):
        col = self.col(node)
        return FormulaError(f"{message} at column {col}" if col else message, column=col, expected=expected,
                            text=self.text)

    def run(self, node):
        kind = node.kind
        if kind == "num":
            return Node("num", (), node.value, self.col(node))
        if kind == "sym":
            sym = node.value
            for item in sym.sub:
                if item in INDEX_LETTERS:
                    self.indices.add(item)
                elif re.fullmatch(r"[ijk]\s*=\s*\w+", item):
                    self.indices.add(item[0])
            if sym.sample:
                self.indices.add(sym.sample)
            return Node("name", (), flat_name(sym), self.col(node))
        if kind == "index":
            return Node("index", (self.run(node.args[0]),), node.value, self.col(node))
        if kind == "add":
            terms = [self.run(a) for a in node.args]
            return _balanced_sum(terms, node.value, self.col(node))
        if kind == "mul":
            return self.product(node)
        if kind in ("pow", "transpose") and node.args[0].kind == "apply" and len(node.args[0].args) == 2 \
                and not self.is_function(node.args[0].args[0]):
            # w(1 - w)^2 is w·(1 − w)², not (w(1 − w))²: a product's script belongs to its last group
            head, group = node.args[0].args
            inner = Node(kind, (group,) + node.args[1:], node.value, node.column)
            return self.run(Node("mul", (head, inner), ("juxt",), node.args[0].column))
        if kind == "pow":
            base, exp = node.args
            if base.kind == "sym" and base.value == Symbol("e"):
                return Node("call", (self.run(exp),), "exp", self.col(node))
            if base.kind == "func":
                raise self.error(f"{_func_name(base)}^… needs an argument, e.g. {_func_name(base)}^2(z)", node)
            return Node("pow", (self.run(base), self.run(exp)), None, self.col(node))
        if kind == "neg":
            return Node("neg", (self.run(node.args[0]),), None, self.col(node))
        if kind == "transpose":
            return Node("transpose", (self.run(node.args[0]),), None, self.col(node))
        if kind == "apply":
            return self.apply(node)
        if kind == "deriv":
            of, wrt = node.args
            if node.value != 1:
                raise self.error("a second derivative (checked one order at a time)", node)
            if of.kind != "sym" or wrt.kind != "sym":
                raise self.error("a derivative of something other than a name", node)
            return Node("partial", (), (flat_name(of.value), flat_name(wrt.value)), self.col(node))
        if kind in ("sum", "prod"):
            if kind == "prod":
                raise self.error("a product ∏ (not in the notation verify evaluates)", node)
            letter, lower, upper = node.value
            if letter:
                self.indices.add(letter)
            if upper and re.fullmatch(r"[A-Za-z]", upper):
                self.sizes.add(upper)
            return Node("call", (self.run(node.args[0]),), "sum", self.col(node))
        if kind == "func":
            name = _func_name(node)
            raise FormulaError(f"{name} at column {self.col(node)} needs an argument, e.g. {name}(z)",
                               column=self.col(node), expected=["'('"], text=self.text)
        if kind == "indexed":
            return self.run(node.args[0])
        what = {"vector": "a vector", "rowvec": "a row of values", "tuple": "a tuple (a, b, …)", "matrix": "a matrix", "cases": "cases",
                "compare": "a comparison", "indicator": "an indicator", "text": f"the words {node.value!r}",
                "ellipsis": "'…' (elided terms)", "kwarg": "a keyword argument", "partial": "∂ alone",
                "nabla": "∇ alone", "dop": "a derivative with nothing to differentiate",
                "all": "∇ alone"}.get(kind, kind)
        raise self.error(f"{what} (not in the notation verify evaluates)", node)

    def product(self, node):
        factors, ops = list(node.args), [_PLAIN[o] for o in node.value]
        out, out_ops = [], []
        k = 0
        while k < len(factors):
            f = factors[k]
            # a function written without brackets applies to the next factor: \ln x, \tanh z
            if f.kind == "func" and k + 1 < len(factors) and ops[k] == "mul" and node.value[k] == "juxt":
                f = Node("apply", (f, factors[k + 1]), None, f.column)
                del factors[k + 1]
                del ops[k]
                factors[k] = f
            flat = self.run(f)
            op = ops[k - 1] if k else None
            if flat.kind == "mul" and (k == 0 or (op == "mul" and all(o == "mul" for o in flat.value))):
                if k:
                    out_ops.append(op)
                out.extend(flat.args)
                out_ops.extend(flat.value)
            else:
                if k:
                    out_ops.append(op)
                out.append(flat)
            k += 1
        if len(out) == 1:
            return out[0]
        return Node("mul", out, tuple(out_ops), self.col(node))

    def is_function(self, head):
        """Is ``head`` (followed by brackets) a function, rather than a factor of a product?"""
        if head.kind == "func" or (head.kind == "pow" and head.args[0].kind == "func"):
            return True
        if head.kind != "sym" or head.value.sub or head.value.layer is not None:
            return False
        base = head.value.base
        canon = (FUNCTION_ALIASES.get(base) or FUNCTION_ALIASES.get(_unicode_name(base))
                 or FUNCTION_ALIASES.get(GREEK_LETTERS.get(base, "")))
        if not self.latex:
            return True
        return canon is not None and (base == "sigma" or len(base) > 1)

    def apply(self, node):
        head, *args = node.args
        if head.kind == "pow" and head.args[0].kind == "func":      # \tanh^2(z) = (tanh z)²
            inner = Node("apply", (head.args[0], *args), None, head.column)
            return Node("pow", (self.apply(inner), self.run(head.args[1])), None, self.col(node))
        fname = None
        if head.kind == "func":
            fname = _func_name(head)
        elif head.kind == "sym" and not head.value.sub and head.value.layer is None:
            base = head.value.base
            canon = (FUNCTION_ALIASES.get(base) or FUNCTION_ALIASES.get(_unicode_name(base))
                     or FUNCTION_ALIASES.get(GREEK_LETTERS.get(base, "")))
            if canon is not None and (not self.latex or base in ("sigma",) or len(base) > 1):
                fname = canon + "'" * head.value.primes
            elif head.value.primes and self.latex is False:
                fname = base + "'" * head.value.primes
            elif not self.latex and len(args) >= 1:
                raise FormulaError(f"unknown function {base!r} at column {self.col(head)}; functions: "
                                   f"{', '.join(sorted(set(FUNCTION_ALIASES.values())))}", column=self.col(head),
                                   expected=sorted(set(FUNCTION_ALIASES.values())), text=self.text)
        if fname is None:
            if len(args) != 1 or any(a.kind == "kwarg" for a in args):
                raise self.error("unknown function (a name followed by several arguments)", head)
            return self.product(Node("mul", (head, args[0]), ("juxt",), node.column))
        primes = len(fname) - len(fname.rstrip("'"))
        fname = fname.rstrip("'")
        if fname.startswith("np."):
            fname = {"np.multiply": "hadamard", "np.matmul": "dot", "np.power": "pow", "np.square": "square",
                     "np.maximum": "max", "np.minimum": "min", "np.amax": "max"}.get(fname, fname[3:])
        if fname in ("hadamard", "pow", "square"):
            flat = [self.run(a) for a in args if a.kind != "kwarg"]
            if fname == "square":
                return Node("pow", (flat[0], Node("num", (), 2.0)), None, self.col(node))
            if fname == "pow":
                return Node("pow", tuple(flat[:2]), None, self.col(node))
            return Node("mul", tuple(flat[:2]), ("hadamard",), self.col(node))
        if primes:
            if fname not in _PRIMED or primes > 1:
                raise FormulaError(f"{fname}{chr(39) * primes} at column {self.col(head)}: only σ', tanh' and relu' "
                                   "are known derivatives", column=self.col(head), text=self.text)
            fname = _PRIMED[fname]
        if fname not in FUNCTIONS and fname not in ("sum", "mean", "sigmoid", "abs"):
            raise FormulaError(f"unknown function {fname!r} at column {self.col(head)}; functions: "
                               f"{', '.join(sorted(set(FUNCTION_ALIASES.values())))}", column=self.col(head),
                               expected=sorted(set(FUNCTION_ALIASES.values())), text=self.text)
        flat = [self.run(a) for a in args if a.kind != "kwarg"]
        return Node("call", flat, fname, self.col(node))


def _func_name(node):
    v = node.value
    return v if isinstance(v, str) else v[0]


def _balanced_sum(terms, signs, col):
    """An n-term sum as a flat ``add`` node (signs kept): any length, no deep tree."""
    if len(terms) == 1 and signs[0] == "+":
        return terms[0]
    if len(terms) == 1:
        return Node("neg", (terms[0],), None, col)
    if len(terms) == 2 and signs[0] == "+":
        return Node("add" if signs[1] == "+" else "sub", terms, None, col)
    return Node("add", terms, tuple(signs), col)


def _detect_latex(text):
    return "\\" in text or "$" in text or "{" in text


def parse(text):
    """Parse a formula: LaTeX if it has a backslash, ``$`` or ``{``; else the Python-like notation,
    and if that fails, LaTeX (``w_1 x + b_1``); the error shown is the Python-like one then."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    if _detect_latex(text):
        return parse_latex(text)
    try:
        return parse_python(text)
    except FormulaError as python_error:
        if not re.search(r"[_^]", text):
            raise
        _no_latex_for_words(text, python_error)
        try:
            return parse_latex(text)
        except FormulaError:
            raise python_error from None


def _no_latex_for_words(text, python_error):
    """A ``word_word(`` (``sigma_prime(z1)``) is a function's name, not LaTeX letters
    s·i·g·m·a_p·r·i·m·e: say it is an unknown function, or give the Python-like error
    (``a_1(1 - a_1)`` is LaTeX and passes)."""
    for m in re.finditer(r"(?<![\w\\])([^\W\d_]+(?:_[^\W\d_]+)+)\s*\(", text):
        word = m.group(1)
        if not re.search(r"[^\W\d_]{2}", word):
            continue
        if word in FUNCTION_ALIASES:
            raise python_error from None
        col = m.start(1) + 1
        raise FormulaError(f"unknown function {word!r} at column {col}; functions: "
                           f"{', '.join(sorted(set(FUNCTION_ALIASES.values())))} (or, for a product, write "
                           f"{word} * (…))", column=col, expected=sorted(set(FUNCTION_ALIASES.values())),
                           text=text) from None


def parse_python(text):
    """Parse the Python-like notation (see the module docstring)."""
    return _formula(text, python=True)


def parse_latex(text):
    """Parse the LaTeX notation (see the module docstring)."""
    return _formula(text, python=False)


def _formula(text, python):
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    eqs = read_row(text, python=python)
    if len(eqs) != 1 or len(eqs[0].members) != 1:
        rel = "a relation (=)" if eqs and len(eqs[0].members) > 1 else "several formulas"
        raise FormulaError(f"cannot read the formula: it holds {rel}; give one expression (parse_chain reads "
                           f"a = b = c)", column=1, text=text)
    node = eqs[0].members[0]
    fl = _Flattener(text, not python)
    return Formula(text, fl.run(node), not python, fl.indices, fl.sizes, source=node)


def parse_chain(text):
    """``a = b = c`` (LaTeX or Python-like; ``:=`` too) → one `Formula` per side."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    python = not _detect_latex(text)
    eqs = read_row(text, python=python)
    out = []
    for eq in eqs:
        for node, (a, b) in zip(eq.members, eq.spans):
            fl = _Flattener(text, not python)
            out.append(Formula(text[a:b] if a is not None and b is not None else text, fl.run(node), not python,
                               fl.indices, fl.sizes, source=node))
    return out


@functools.lru_cache(maxsize=4096)
def spellings(label):
    """The names a formula uses for something labelled ``label`` (a node label, a parameter or a
    data name), read as either notation reads a lone name: ``ŷ``, ``\\hat{y}`` → y_hat; ``z₁`` → z1;
    ``a_1``, ``a^{(1)}`` → a1 (LaTeX) and ``a_1`` (Python-like); a plain identifier stays itself."""
    out = []
    for read_ in (parse_python, parse_latex):
        try:
            tree = read_(label).tree
        except (FormulaError, TypeError):
            continue
        if tree.kind == "name" and tree.value not in out:
            out.append(tree.value)
    return tuple(out) or (_unicode_name(label),)


# --- showing a formula as a learner reads it ------------------------------------------------------------

_SUP = str.maketrans("0123456789+-−()=nilLTjkt", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁽⁾⁼ⁿⁱˡᴸᵀʲᵏᵗ")
_SUB = str.maketrans("0123456789+-−()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP_OK = set("0123456789+-−()=nilLTjkt")
_SUB_OK = set("0123456789+-−()aehijklmnoprstuvx")
_COMBINING = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307", "check": "\u030c",
              "breve": "\u0306", "ddot": "\u0308"}
_FUNC_SHOWN = {"sigmoid": "σ", "relu": "ReLU", "leaky_relu": "LeakyReLU", "sigmoid_prime": "σ'",
               "tanh_prime": "tanh'", "relu_prime": "ReLU'"}


def show_symbol(sym):
    """A `Symbol` as a learner reads it: ŷ, a₁, W^[1], a⁽ˡ⁻¹⁾, xᵢ, w_jk, ℒ, δᴸ."""
    base = GREEK_LETTERS.get(sym.base, sym.base)
    if sym.accent in _COMBINING and len(base) == 1:
        base = unicodedata.normalize("NFC", base + _COMBINING[sym.accent])
    elif sym.accent == "star":
        base += "*"
    elif sym.accent and len(base) > 1:
        base = f"{sym.accent}({base})"
    out = base
    if sym.sub:
        items = [GREEK_LETTERS.get(i, i) for i in sym.sub]
        joined = ("," if any(len(i) > 1 for i in items) else "").join(items)
        out += joined.translate(_SUB) if set(joined) <= _SUB_OK else "_" + (joined if len(joined) == 1
                                                                             else "{" + joined + "}")
    if sym.layer is not None:
        layer = sym.layer.replace(" ", "")
        if sym.bracket == "[":
            out += f"^[{layer}]"
        elif sym.bracket == "(":
            out += f"({layer})".translate(_SUP) if set(layer) <= _SUP_OK else f"^({layer})"
        else:
            out += layer.translate(_SUP) if set(layer) <= _SUP_OK else f"^{layer}"
    if sym.sample is not None:
        out += f"({sym.sample})".translate(_SUP) if set(sym.sample) <= _SUP_OK else f"^({sym.sample})"
    out += "'" * sym.primes
    return out


_RANK = {"add": 1, "neg": 2, "mul": 3, "pow": 5, "num": 9, "sym": 9, "apply": 8, "deriv": 9, "func": 9,
         "transpose": 7, "index": 8, "name": 9, "call": 8, "partial": 9, "sum": 2, "prod": 2, "compare": 0,
         "cases": 9, "vector": 9, "rowvec": 9, "matrix": 9,
         "tuple": 9}
_OP_SHOWN = {"juxt": " ", "dot": "·", "times": " × ", "star": " * ", "odot": " ⊙ ", "div": "/", "matmul": " @ "}


def show(node):
    """A reader's tree as a learner reads it, in Unicode: ``∂L/∂w₂ = (ŷ − y)·a₁``."""
    k = node.kind
    if k == "num":
        v = node.value
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"
    if k == "sym":
        return show_symbol(node.value)
    if k == "name":
        return node.value
    if k == "add":
        out = []
        for i, (t, s) in enumerate(zip(node.args, node.value)):
            text = _wrap(t, 1, strict=True) if s == "-" else _wrap(t, 1)
            if i == 0:
                out.append(("−" if s == "-" else "") + text)
            else:
                out.append((" − " if s == "-" else " + ") + text)
        return "".join(out)
    if k == "mul":
        out = [_wrap(node.args[0], 3)]
        prev = node.args[0]
        last = len(node.args) - 2
        for k, (op, f) in enumerate(zip(node.value, node.args[1:])):
            if op == "div":
                # a/(ŷ(1 − ŷ)): a name written against a bracket may be a product, so it keeps its brackets
                out.append("/" + (f"({show(f)})" if f.kind == "apply" and f.args[0].kind == "sym"
                                  and f.args[0].value.base not in FUNCTION_ALIASES else _wrap(f, 3, strict=True)))
            elif k == last and f.kind in ("sum", "prod") and op != "odot":
                out.append(" " + show(f))        # 1/m Σᵢ …: a sum that ends a product needs no brackets
            elif op == "juxt" and (prev.kind == "num" or f.kind in ("add",)) and f.kind != "num":
                out.append(_wrap(f, 3))          # 2m, 2(z − y), (ŷ − y)(1 − a)
            else:
                out.append(_OP_SHOWN[op] + _wrap(f, 3))
            prev = f
        return "".join(out)
    if k == "neg":
        return "−" + _wrap(node.args[0], 3)
    if k == "pow":
        base, exp = node.args
        e = show(exp)
        sup = e.translate(_SUP) if set(e) <= _SUP_OK and exp.kind in ("num", "sym") else "^" + _wrap(exp, 9)
        return _wrap(base, 6) + sup
    if k == "transpose":
        return _wrap(node.args[0], 7) + "ᵀ"
    if k == "func":
        name = _func_name(node)
        primes = len(name) - len(name.rstrip("'"))
        return _FUNC_SHOWN.get(name.rstrip("'"), name.rstrip("'").replace("np.", "np.")) + "'" * primes
    if k == "apply":
        head, *args = node.args
        if head.kind == "func" and head.value in ("norm", "abs") and len(args) == 1:
            bar = "‖" if head.value == "norm" else "|"
            return bar + show(args[0]) + bar
        return _wrap(head, 8) + "(" + ", ".join(show(a) for a in args) + ")"
    if k == "kwarg":
        return f"{node.value}={show(node.args[0])}"
    if k == "deriv":
        of, wrt = node.args
        order = "" if node.value == 1 else str(node.value).translate(_SUP)
        top = _wrap(of, 9, strict=True)
        return f"∂{order}{top}/∂{_wrap(wrt, 9, strict=True)}{order}"
    if k == "dname":
        return "d" + _wrap(node.args[0], 9)
    if k == "dop":
        return f"∂/∂{_wrap(node.args[0], 9)}"
    if k in ("sum", "prod"):
        letter, lower, upper = node.value
        sign = "Σ" if k == "sum" else "∏"
        lim = (letter or "").translate(_SUB) if letter and set(letter) <= _SUB_OK else ""
        return f"{sign}{lim} " + _wrap(node.args[0], 3)
    if k == "vector":
        return "[" + "; ".join(show(a) for a in node.args) + "]"
    if k == "rowvec":
        return "[" + ", ".join(show(a) for a in node.args) + "]"
    if k == "tuple":
        return "(" + ", ".join(show(a) for a in node.args) + ")"
    if k == "matrix":
        return "[" + "; ".join(", ".join(show(a) for a in r.args) for r in node.args) + "]"
    if k == "cases":
        pairs = [f"{show(v)} if {show(c)}" if c.kind != "text" else f"{show(v)} {c.value}"
                 for v, c in zip(node.args[::2], node.args[1::2])]
        return "{" + "; ".join(pairs) + "}"
    if k == "compare":
        rels = node.value if isinstance(node.value, tuple) else (node.value,)
        out = show(node.args[0])
        for r, a in zip(rels, node.args[1:]):
            out += f" {r} {show(a)}"
        return out
    if k == "indexed":
        items = "".join(node.value)
        return _wrap(node.args[0], 9, strict=True) + (items.translate(_SUB) if set(items) <= _SUB_OK
                                                      else "_" + items)
    if k == "index":
        return show(node.args[0]) + f"[{node.value}]"
    if k == "text":
        return node.value
    if k == "ellipsis":
        return "…"
    if k in ("partial", "nabla") and node.value and isinstance(node.value[0], Node):
        return ("∂" if k == "partial" else "∇") + "_" + _wrap(node.value[0], 9, strict=True)
    if k == "partial":
        return "∂" + ("".join(node.value) if node.value else "")
    if k == "nabla":
        return "∇" + ("".join(node.value).translate(_SUB) if node.value and set("".join(node.value)) <= _SUB_OK
                      else "_" + "".join(node.value) if node.value else "")
    if k == "all":
        return "∇"
    if k == "call":
        return _FUNC_SHOWN.get(node.value, node.value) + "(" + ", ".join(show(a) for a in node.args) + ")"
    if k in ("sub",):
        return show(node.args[0]) + " − " + _wrap(node.args[1], 1, strict=True)
    if k in ("hadamard", "matmul", "div"):
        op = {"hadamard": " ⊙ ", "matmul": " @ ", "div": "/"}[k]
        return _wrap(node.args[0], 3) + op + _wrap(node.args[1], 3, strict=True)
    return k


def _wrap(node, rank, strict=False):
    text = show(node)
    r = _RANK.get(node.kind, 9)
    if node.kind == "num" and node.value < 0:
        r = 2
    if node.kind == "mul" and rank == 3 and not strict:
        return text
    if r < rank or (strict and r == rank and node.kind in ("add", "mul", "neg")):
        return f"({text})"
    return text


def _greek_letter(word):
    return GREEK_LETTERS.get(LATEX_GREEK.get(word, word), word)


@functools.lru_cache(maxsize=4096)
def display(label):
    """A node label as the learner reads it: ``\\hat{y}`` → ŷ, ``a_1`` → a₁, ``a^{(1)}`` → a⁽¹⁾,
    ``W^{[1]}`` → W^[1]; a label that is not one name (``w1[0][1]``, ``z1``) is shown as it is."""
    label = unicodedata.normalize("NFC", str(label)).strip()
    plain = re.fullmatch(r"([A-Za-z]+?)(\d*)", label)
    if plain and (plain.group(1) in GREEK_LETTERS or plain.group(1) in LATEX_GREEK):
        return _greek_letter(plain.group(1)) + plain.group(2)       # beta1 → β1, as typed in a formula
    if not re.search(r"[\\_^{}$]", label):
        return label
    accent = re.fullmatch(r"([A-Za-z]+?)(\d*)_(hat|bar|tilde)(?:_([A-Za-z0-9]+))?", label)
    if accent:                                                      # y_hat → ŷ, y_hat_i → ŷᵢ
        base, digits, mark, sub = accent.groups()
        base = "\\" + base if base in LATEX_GREEK or base in GREEK_LETTERS else base
        label = f"\\{mark}{{{base}}}" + (f"_{{{digits}}}" if digits else "") + (f"_{{{sub}}}" if sub else "")
    elif re.search(r"_[A-Za-z]{3,}", label) and "\\" not in label and "{" not in label:
        return label                                                # x_train: a word, not a script
    try:
        eqs = read_row(label, python=False)
    except FormulaError:
        return label
    if len(eqs) == 1 and len(eqs[0].members) == 1:
        node = eqs[0].members[0]
        if node.kind in ("sym", "mul", "pow", "transpose", "apply", "add", "deriv"):
            return show(node)
    return label


def rewrite(node, change):
    """The tree with ``change(n)`` in place of each node ``n`` for which it returns a node (its inside is not
    visited); where it returns None, ``n``'s children are rewritten. Unchanged parts are shared, not copied."""
    new = change(node)
    if new is not None:
        return new
    if node.args:
        args = [rewrite(a, change) for a in node.args]
        if any(a is not b for a, b in zip(args, node.args)):
            return Node(node.kind, args, node.value, node.column)
    return node


# --- evaluation ---------------------------------------------------------------------------------------

class Batch:
    """One value per sample: ``data`` has the samples on its first axis. Operations on a Batch
    apply sample by sample; ``Σ``/``sum``/``mean`` reduce over the samples."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = np.asarray(data, dtype=np.float64)

    def __len__(self):
        return self.data.shape[0]

    def __repr__(self):
        return f"Batch({self.data.shape[0]} samples of shape {self.data.shape[1:]})"


def _is_value(x):
    return hasattr(x, "_prev") and hasattr(x, "grad")


def _shape(x):
    return np.shape(x) if not _is_value(x) else np.shape(x.data)


def _product(a, b, column, text, matrix=True):
    """a · b as the module docstring says: numbers, equal shapes, matrix products, outer products."""
    if _is_value(a) or _is_value(b) or np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    sa, sb = np.shape(a), np.shape(b)
    if sa == sb:
        return a * b
    if matrix and len(sa) == 2 and len(sb) in (1, 2) and sa[1] == sb[0]:
        return a @ b
    if len(sa) == 1 and len(sb) == 1:
        return np.multiply.outer(a, b)
    if len(sa) == 1 and len(sb) == 2 and sb[0] == 1:      # δ aᵀ: a column times a row
        return np.multiply.outer(a, b[0])
    try:
        return a * b
    except ValueError:
        pass
    if len(sa) > len(sb) and sa[:len(sb)] == sb:
        return a * np.reshape(b, sb + (1,) * (len(sa) - len(sb)))
    if len(sb) > len(sa) and sb[:len(sa)] == sa:
        return np.reshape(a, sa + (1,) * (len(sb) - len(sa))) * b
    raise FormulaError(f"cannot multiply shapes {sa} and {sb} at column {column} of {text!r}", column=column)


def _elementwise(op):
    def run(a, b, column, text):
        try:
            return op(a, b)
        except ValueError:
            sa, sb = _shape(a), _shape(b)
            if len(sa) > len(sb) and sa[:len(sb)] == sb:
                return op(a, np.reshape(b, sb + (1,) * (len(sa) - len(sb))))
            if len(sb) > len(sa) and sb[:len(sa)] == sa:
                return op(np.reshape(a, sa + (1,) * (len(sb) - len(sa))), b)
            raise FormulaError(f"shapes {sa} and {sb} do not match at column {column} of {text!r}",
                               column=column) from None
    return run


def _sig(x):
    if _is_value(x):
        return x.sigmoid()
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(out) if out.ndim == 0 else out


def _unary(method, numpy_fn):
    def run(x):
        if _is_value(x):
            return getattr(x, method)()
        out = numpy_fn(np.asarray(x, dtype=np.float64))
        return float(out) if np.ndim(out) == 0 else out
    return run


def _sigmoid_prime(x):
    s = _sig(x)
    return s * (1.0 - s)


def _tanh_prime(x):
    t = FUNCTIONS["tanh"](x)
    return 1.0 - t * t


def _relu_prime(x):
    if _is_value(x):
        return (x.data > 0) * 1.0
    out = (np.asarray(x) > 0).astype(np.float64)
    return float(out) if out.ndim == 0 else out


def _abs(x):
    return (x * x) ** 0.5 if _is_value(x) else abs(x)


def _sqrt(x):
    if _is_value(x):
        return x ** 0.5
    x = np.asarray(x, dtype=np.float64)
    if (x < 0).any():
        raise FormulaError(f"sqrt of a negative number ({float(x.min()):.4g})")
    out = np.sqrt(x)
    return float(out) if out.ndim == 0 else out


def _log(x):
    if _is_value(x):
        return x.log()
    x = np.asarray(x, dtype=np.float64)
    if (x <= 0).any():
        raise FormulaError(f"log of a number ≤ 0 ({float(x.min()):.4g})")
    out = np.log(x)
    return float(out) if out.ndim == 0 else out


def _reduce(fn):
    def run(x):
        if _is_value(x):
            return getattr(x, fn)()
        if isinstance(x, np.ndarray) and x.dtype == object:
            total = sum(x.ravel().tolist())
            return total * (1.0 / x.size) if fn == "mean" else total
        return float(getattr(np, fn)(x))
    return run


FUNCTIONS = {
    "sigmoid": _sig, "sigmoid_prime": _sigmoid_prime, "tanh": _unary("tanh", np.tanh),
    "exp": _unary("exp", np.exp), "log": _log, "relu": _unary("relu", lambda x: np.maximum(x, 0.0)),
    "relu_prime": _relu_prime, "tanh_prime": _tanh_prime, "sqrt": _sqrt, "abs": _abs,
    "outer": lambda a, b: np.multiply.outer(a, b), "dot": lambda a, b: np.dot(a, b),
    "max": lambda a, b: np.maximum(a, b), "min": lambda a, b: np.minimum(a, b),
    "transpose": lambda a: np.transpose(a),
}
ARITY = {"outer": 2, "dot": 2, "max": 2, "min": 2}


class _Evaluator:
    def __init__(self, env, partial, text):
        self.env, self.partial, self.text = env, partial, text

    def run(self, node):
        v = self.eval(node)
        if isinstance(v, np.ndarray) and v.ndim == 0:
            return float(v)
        return v

    def eval(self, node):
        kind = node.kind
        if kind == "num":
            return node.value
        if kind == "name":
            if node.value not in self.env:
                known = ", ".join(sorted(map(str, self.env))) or "(none)"
                raise FormulaError(f"unknown name {node.value!r} at column {node.column} of {self.text!r}; "
                                   f"names that exist: {known}", column=node.column, expected=sorted(map(str, self.env)))
            v = self.env[node.value]
            return v if isinstance(v, Batch) or _is_value(v) or isinstance(v, np.ndarray) else (
                np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v)
        if kind == "partial":
            if self.partial is None:
                of, wrt = node.value
                raise FormulaError(f"∂{of}/∂{wrt} at column {node.column}: no value given for a partial derivative",
                                   column=node.column)
            return self.partial(*node.value)
        args = [self.eval(a) for a in node.args]
        if kind == "call" and node.value in ("sum", "mean"):
            (x,) = self._arity(node, args, 1)
            if isinstance(x, Batch):
                return x.data.sum(axis=0) if node.value == "sum" else x.data.mean(axis=0)
            return _reduce(node.value)(x)
        return self.per_sample(node, args)

    def _arity(self, node, args, n):
        if len(args) != n:
            raise FormulaError(f"{node.value} at column {node.column} takes {n} argument(s), got {len(args)}",
                               column=node.column)
        return args

    def power(self, a, b, col):
        if _is_value(a) or _is_value(b):
            return a ** b
        out = _elementwise(lambda p, q: np.power(np.asarray(p, dtype=np.float64), q))(a, b, col, self.text)
        if np.isnan(out).any() and not (np.isnan(a).any() or np.isnan(b).any()):
            raise FormulaError(f"a power with no real value (a negative number to a fractional power) at column "
                               f"{col} of {self.text!r}", column=col)
        if np.isinf(out).any() and not (np.isinf(a).any() or np.isinf(b).any()) and np.any(np.asarray(a) == 0):
            raise FormulaError(f"0 to a negative power (a division by zero) at column {col} of {self.text!r}",
                               column=col)
        return float(out) if np.ndim(out) == 0 else out

    def binary(self, op, a, b, right, col):
        if op == "mul":
            return _product(a, b, col, self.text)
        if op == "div":
            if not _is_value(b) and np.any(np.asarray(b) == 0):
                at = right.column or col
                raise FormulaError(f"division by zero: the divisor at column {at} of {self.text!r} is 0",
                                   column=at)
            return _elementwise(lambda p, q: p / q)(a, b, col, self.text)
        if op == "hadamard":
            return _elementwise(lambda p, q: p * q)(a, b, col, self.text)
        try:
            return np.matmul(a, b)
        except ValueError:
            raise FormulaError(f"cannot take the matrix product of shapes {_shape(a)} and "
                               f"{_shape(b)} at column {col} of {self.text!r}", column=col) from None

    def per_sample(self, node, args):
        batches = [a for a in args if isinstance(a, Batch)]
        if not batches:
            return self.apply(node, args)
        m = len(batches[0])
        for b in batches[1:]:
            if len(b) != m:
                raise FormulaError(f"batches of {m} and {len(b)} samples meet at column {node.column}",
                                   column=node.column)
        rows = [self.apply(node, [a.data[i] if isinstance(a, Batch) else a for a in args]) for i in range(m)]
        return Batch(np.stack([np.asarray(r, dtype=np.float64) for r in rows]))

    def apply(self, node, args):
        kind, col = node.kind, node.column
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if kind == "add" and node.value is None:
                return _elementwise(lambda a, b: a + b)(*args, col, self.text)
            if kind == "add":
                out = -args[0] if node.value[0] == "-" else args[0]
                for s, a in zip(node.value[1:], args[1:]):
                    out = _elementwise((lambda p, q: p - q) if s == "-" else (lambda p, q: p + q))(out, a, col, self.text)
                return out
            if kind == "sub":
                return _elementwise(lambda a, b: a - b)(*args, col, self.text)
            if kind == "mul":
                ops = node.value or ("mul",) * (len(args) - 1)
                out = args[0]
                for k, (op, b) in enumerate(zip(ops, args[1:])):
                    out = self.binary(op, out, b, node.args[k + 1], col)
                return out
            if kind in ("div", "hadamard", "matmul"):
                return self.binary(kind, args[0], args[1], node.args[1], col)
            if kind == "pow":
                return self.power(*args, col)
            if kind == "neg":
                return -args[0]
            if kind == "transpose":
                a = args[0]
                return np.reshape(a, (1, -1)) if np.ndim(a) == 1 else np.transpose(a)
            if kind == "abs":
                return _abs(args[0])
            if kind == "index":
                a = args[0]
                if node.value >= np.shape(a)[0] if np.ndim(a) else True:
                    raise FormulaError(f"index [{node.value}] at column {col} is outside a value of shape "
                                       f"{np.shape(a)}", column=col)
                return a[node.value]
            if kind == "call":
                fn = FUNCTIONS[node.value]
                self._arity(node, args, ARITY.get(node.value, 1))
                try:
                    return fn(*args)
                except ValueError as exc:   # numpy: shapes that do not fit
                    raise FormulaError(f"{node.value} at column {col} of {self.text!r}: shapes "
                                       f"{', '.join(str(_shape(a)) for a in args)} do not fit ({exc})",
                                       column=col) from None
        raise AssertionError(kind)
