r"""Read a formula the way you wrote it: Python-like text or LaTeX, parsed (never ``eval``-ed).

    >>> from microreg.notation import parse
    >>> f = parse(r"(\hat{y} - y) \cdot a_1")          # LaTeX: detected by a backslash or $
    >>> f.names
    ('a1', 'y', 'y_hat')
    >>> f.evaluate({"y_hat": 0.5, "y": 0.25, "a1": 2.0})
    0.5
    >>> parse("(y_hat - y) * a1").tree == f.tree       # the same formula in Python-like text
    True

What this module lets you do:

- ``parse(text) -> Formula``: LaTeX when the text has a backslash, a ``$`` or a ``{``, else the Python-like
  notation (``parse_python`` / ``parse_latex`` force one). Both give the same tree of `Node`.
- ``parse_chain(text) -> [Formula, ...]``: the sides of ``a = b = c`` (``:=`` too), each parsed.
- ``Formula.names``: the free names it uses (sorted); ``Formula.functions``: the functions it calls;
  ``Formula.indices``: subscript letters read as indices and dropped (``i`` in ``y_i``);
  ``Formula.sizes``: letters written as the upper limit of a sum (``m`` in ``\sum_{i=1}^{m}``);
  ``Formula.partials``: the ``(of, wrt)`` pairs of the ∂-fractions it contains.
- ``Formula.evaluate(env, partial=None)``: its value, with ``env`` mapping each name to a float, a
  numpy array, a `Batch` (one value per sample) or a microreg ``Value`` (so parsed definitions
  like ``z_1 = w_1 x + b_1`` build a graph). ``partial(of, wrt)`` gives the value of a ∂-fraction.
- ``FormulaError``: what went wrong, with ``column`` (1-based) and ``expected``; the message names
  both, and for an unknown name, the names that exist.
- ``spellings(label) -> (name, ...)``: the names a formula uses for something labelled ``label``
  (``ŷ`` and ``\hat{y}`` → y_hat, ``z₁`` → z1, ``a^{(1)}`` → a1): how `microreg.check` matches labels.
- ``display(label) -> str``: a label or name the way a learner reads it in words (``\hat{y}`` and
  ``y_hat`` → ŷ, ``a_1`` → a₁, ``a^{(1)}`` → a⁽¹⁾, ``\beta_1`` → β₁); what is written plainly stays
  as written (``a1``, ``w1[0][1]``, ``dZ1``).

The Python-like notation
    numbers ``2``, ``0.5``, ``1e-3``, ``½``; names ``y_hat``, ``a1``, ``beta1``, and their unicode
    spellings ``ŷ`` → y_hat, ``β1`` → beta1, ``ε`` → epsilon, ``δ`` → delta (other Greek letters
    likewise); ``+ - −``; products ``* · ×``; ``/``; ``@`` (matrix product); ``⊙`` (elementwise);
    powers ``**`` or ``^``; ``-x``; transpose ``xᵀ`` or ``x.T``; an element ``w2[0]``; ``|x|``;
    calls ``f(x)`` of the functions below; ``σ'(z)`` for σ'. No implicit products.

The LaTeX subset
    everything above, and: implicit products (``w_1 x``, ``2(a - y)``); ``\cdot \times`` (product),
    ``\odot \circ`` (elementwise); ``\frac{a}{b}`` (``\dfrac``, ``\tfrac``); ``\sqrt{x}``;
    ``^2 ^{k}``; ``^T ^{T} ^\top`` (transpose); ``\left( \right)``, ``\bigl[ \biggr]`` and ``[ ]`` as
    brackets; ``|x|``, ``\lvert x \rvert``, ``\left| x \right|``; ``\sum`` with limits
    (``\sum_{i=1}^{n} body``: the body runs to the next ``+``/``-`` outside brackets; over the batch,
    or over a vector's elements); ``\sigma(z)``, ``\sigma'(z)``, ``\sigma^{\prime}(z)``, ``\tanh``,
    ``\exp``, ``e^{x}``, ``\ln``, ``\log`` (with brackets, or on a bare name: ``\ln x^2`` = ln(x²);
    ``\tanh(z)^2`` = tanh(z)²), ``\max``, ``\mathrm{relu}(z)`` / ``\operatorname{}``;
    ``\hat{y}`` → y_hat (``\bar``, ``\tilde`` → _bar, _tilde); Greek ``\beta_1`` → beta1,
    ``\varepsilon`` → epsilon; ``\mathbf{w}`` → w; ``\frac{\partial L}{\partial w_1}`` and
    ``\frac{\mathrm{d}L}{\mathrm{d}w}`` (∂-fractions); ``\text{...}``, ``\,`` ``\;`` ``\quad``,
    ``\displaystyle`` and ``$`` are ignored.
    Scripts make names: ``a_1``, ``a^{(1)}``, ``a^{[1]}`` → ``a1``; ``a^{(L)}`` → ``aL``;
    ``z^{(L-1)}`` → ``zLm1`` and ``w^{(l+1)}`` → ``wlp1`` (``-`` reads m, ``+`` reads p); the
    subscripts ``i j k`` are indices (per sample, per element) and are dropped: ``\epsilon_i`` →
    epsilon, ``\hat{y}_i`` → y_hat, ``w^{(l)}_{j,k}`` → wl.

Functions (either notation): ``σ sigma sigmoid``, ``σ' sigmoid_prime``, ``tanh``,
``tanh' tanh_prime``, ``exp``, ``ln log``, ``relu``, ``relu' relu_prime``, ``sqrt``, ``abs``, ``Σ sum``, ``mean``, ``outer``, ``dot``,
``max``, ``min``, ``transpose``.

How products read (so that a formula means what its author meant):

- ``a · b`` (and implicit products): a number times anything; equal shapes elementwise; a
  matrix times a vector or a matrix with matching inner sizes is the matrix product
  (``(w^{(l+1)})^T δ^{(l+1)}``); two vectors of different lengths give their outer product
  (``δ · x`` for ∂L/∂w1), as do a vector and a transposed vector (``δ a^T``); otherwise numpy broadcasting, trailing axes first, then leading axes
  (a vector of length p scales the rows of a p × q matrix).
- ``⊙`` is always elementwise; ``@`` always the matrix product.
- A `Batch` holds one value per sample (its first axis); every operation applies sample by
  sample, and ``Σ`` / ``sum`` / ``mean`` of a batch reduce over the samples.
"""

import functools
import re
import unicodedata

import numpy as np
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

__all__ = ["parse", "parse_python", "parse_latex", "parse_chain", "Formula", "Node", "FormulaError",
           "Batch", "FUNCTIONS", "spellings", "display"]


class FormulaError(ValueError):
    """A formula that does not parse or evaluate: ``column`` (1-based, or None), ``expected`` (a
    list of what would have been accepted there), ``text`` (the formula)."""

    def __init__(self, message, column=None, expected=(), text=None):
        super().__init__(message)
        self.column, self.expected, self.text = column, list(expected), text


# --- the tree -------------------------------------------------------------------------------------

class Node:
    """One node of a parsed formula: ``kind``, ``args`` (child nodes), ``value`` and ``column``.

    Kinds: ``num`` (value: the number), ``name`` (value: the name), ``add sub mul div matmul
    hadamard pow neg transpose abs`` (args), ``index`` (value: the position), ``call`` (value:
    the function's canonical name), ``partial`` (value: (of, wrt) names).
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
        inner = ", ".join(map(repr, self.args))
        return f"{self.kind}{'[' + str(self.value) + ']' if self.value is not None else ''}({inner})"

    def walk(self):
        yield self
        for a in self.args:
            yield from a.walk()


# --- names and functions --------------------------------------------------------------------------

GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
         "ζ": "zeta", "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu",
         "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "τ": "tau", "υ": "upsilon", "φ": "phi",
         "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "Delta", "Θ": "Theta",
         "Λ": "Lambda", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "∇": "nabla"}
LATEX_GREEK = {"varepsilon": "epsilon", "epsilon": "epsilon", "vartheta": "theta", "varphi": "phi"}
LATEX_GREEK.update({v: v for v in GREEK.values()})
SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
HATS = {"\u0302": "_hat", "\u0304": "_bar", "\u0303": "_tilde"}
INDEX_LETTERS = set("ijk")

#: canonical function name ← every spelling
FUNCTION_ALIASES = {
    "σ": "sigmoid", "sigma": "sigmoid", "sigmoid": "sigmoid", "sigmoid_prime": "sigmoid_prime",
    "tanh": "tanh", "exp": "exp", "ln": "log", "log": "log", "relu": "relu", "ReLU": "relu",
    "relu_prime": "relu_prime", "tanh_prime": "tanh_prime", "sqrt": "sqrt", "abs": "abs", "Σ": "sum", "sum": "sum",
    "mean": "mean", "outer": "outer", "dot": "dot", "max": "max", "min": "min",
    "transpose": "transpose",
}


def _name(raw):
    """A written name → the canonical one: ``ŷ`` → y_hat, ``β₁`` → beta1, ``ε`` → epsilon."""
    text = unicodedata.normalize("NFD", raw).translate(SUBSCRIPT_DIGITS)
    out, suffix = [], ""
    for ch in text:
        if ch in HATS:
            suffix = HATS[ch]
        elif ch in GREEK:
            out.append(GREEK[ch])
        else:
            out.append(ch)
    base = "".join(out)
    if suffix:   # ŷ1 → y_hat1 reads badly: put the hat on the letter part
        m = re.match(r"([^\d]*)(\d*)$", base)
        return m.group(1) + suffix + m.group(2) if m else base + suffix
    return base


# --- the Python-like grammar ----------------------------------------------------------------------

PYTHON_GRAMMAR = r"""
?start: expr
?expr: expr "+" term                      -> add
     | expr MINUS term                    -> sub
     | term
?term: term TIMES factor                  -> mul
     | term "/" factor                    -> div
     | term "@" factor                    -> matmul
     | term "⊙" factor                    -> hadamard
     | factor
?factor: MINUS factor                     -> neg
       | "+" factor
       | power
?power: postfix POW factor                -> pow
      | postfix
?postfix: postfix "ᵀ"                     -> transpose
        | postfix ".T"                    -> transpose
        | postfix "[" INT "]"             -> index
        | atom
?atom: NUMBER                             -> num
     | HALF                               -> half
     | NAME                               -> name
     | NAME "(" args ")"                  -> call
     | NAME "'" "(" args ")"              -> call_prime
     | "(" expr ")"
     | "|" expr "|"                       -> abs
args: expr ("," expr)*
MINUS: "-" | "−"
TIMES: "*" | "·" | "×" | "⋅"
POW: "**" | "^"
HALF: "½"
INT: /\d+/
NUMBER: /(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
NAME: /(?!ᵀ)[^\W\d](?:(?!ᵀ)[\w\u0300-\u036f])*/
%ignore /\s+/
"""

# --- the LaTeX grammar ----------------------------------------------------------------------------

LATEX_GREEK_RE = "|".join(sorted(LATEX_GREEK, key=len, reverse=True))
LATEX_GRAMMAR = r"""
?start: expr
chain: expr (EQ expr)*
?expr: expr "+" term                      -> add
     | expr MINUS term                    -> sub
     | term
?term: product
     | SUM term                           -> bigsum
     | product SUM term                   -> mul_sum
?product: signed
        | product TIMES signed            -> mul
        | product "/" signed              -> div
        | product ODOT signed             -> hadamard
        | product "@" signed              -> matmul
        | product factor                  -> mul
?signed: MINUS signed                     -> neg
       | "+" signed
       | factor
?factor: postfix
       | postfix "^" script               -> pow
?script: "{" expr "}"
       | NUMBER                           -> num
       | var
?postfix: postfix TRANSPOSE               -> transpose
        | atom
?atom: NUMBER                             -> num
     | HALF                               -> half
     | var
     | func
     | FRAC "{" expr "}" "{" expr "}"     -> div
     | FRAC "{" DIFF var "}" "{" DIFF var "}"  -> partial
     | SQRT "{" expr "}"                  -> sqrt
     | "(" expr ")"
     | "[" expr "]"
     | "{" expr "}"
     | LBAR expr RBAR                     -> abs
?bare: var
     | NUMBER                             -> num
     | var "^" script                     -> pow
var: base (SUBSCRIPT | LAYER)*
base: LETTER | GREEK | HAT | WORD
func: FUNC PRIME? "(" args ")"            -> call
    | FUNC PRIME? bare                    -> call1
    | FUNC PRIME?                         -> funcname
    | EXPNAME "^" "{" expr "}"            -> exp
args: expr ("," expr)*
EQ: "=" | ":=" | "\\coloneqq"
MINUS: "-" | "−"
TIMES.2: /\\cdot(?![a-zA-Z])|\\times(?![a-zA-Z])|\*|·|×|⋅/
ODOT.2: /\\odot(?![a-zA-Z])|\\circ(?![a-zA-Z])|⊙/
SUM.2: /(\\sum(?![a-zA-Z])|Σ)(\s*[_^]\s*(\{[^{}]*\}|[A-Za-z0-9]))*/
FRAC.2: /\\[dt]?frac(?![a-zA-Z])/
SQRT.2: /\\sqrt(?![a-zA-Z])/
DIFF.3: /\\partial(?![a-zA-Z])|\\mathrm\s*\{\s*d\s*\}|∂/
TRANSPOSE.3: /\^\s*(\{\s*(T|\\top|\\intercal|\\mathsf\s*\{\s*T\s*\})\s*\}|T(?![A-Za-z])|\\top(?![a-zA-Z])|\\intercal(?![a-zA-Z]))|ᵀ/
LAYER.3: /\^\s*\{\s*(\(\s*[^(){}]+\)|\[\s*[^\[\]{}]+\])\s*\}|\^\s*\(\s*[A-Za-z0-9+\- ]+\)/
PRIME.3: /'|\^\s*\{\s*\\prime\s*\}|\^\s*\\prime(?![a-zA-Z])/
SUBSCRIPT.2: /_\s*(\{[^{}]*\}|[A-Za-z0-9]|\\[a-zA-Z]+)/
HAT.2: /\\(hat|widehat|bar|overline|tilde|widetilde)\s*(\{\s*\\?[A-Za-z]+\s*\}|\\[A-Za-z]+|[A-Za-z])/
FUNC.2: /\\(sigma|tanh|exp|ln|log|max|min)(?![a-zA-Z])|\\(mathrm|operatorname|text)\s*\{\s*(relu|ReLU|sigmoid|sigma|tanh|exp|ln|log|mean|outer|sum|abs|sqrt)\s*\}|σ/
EXPNAME.2: /e(?=\s*\^)/
WORD.2: /\\(mathrm|operatorname|mathbf|mathit|boldsymbol|bm|vec|mathsf)\s*\{\s*\\?[A-Za-z][A-Za-z0-9]*\s*\}/
GREEK.2: /\\(""" + LATEX_GREEK_RE + r""")(?![a-zA-Z])|[α-ωΑ-Ω∇ϵϕ]/
LETTER: /[A-Za-z]|ŷ/
LBAR.2: /\\lvert(?![a-zA-Z])|\\left\s*\\lvert|\x01/
RBAR.2: /\\rvert(?![a-zA-Z])|\\right\s*\\rvert|\x02/
HALF: "½"
NUMBER: /(\d+\.?\d*|\.\d+)/
IGNORED.3: /\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|displaystyle|textstyle|quad|qquad|limits|nolimits)(?![a-zA-Z])|\\[,;:! ]|\\text\s*\{[^{}]*\}|\$|&|\\\\/
%ignore IGNORED
%ignore /\s+/
"""

_python = Lark(PYTHON_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)
_latex = Lark(LATEX_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False,
              start=["start", "chain"])

_READABLE = {"$END": "the end of the formula", "NAME": "a name", "NUMBER": "a number", "INT": "a whole number",
             "LETTER": "a name", "var": "a name", "MINUS": "'-'", "TIMES": "'*'", "POW": "'**'",
             "SUBSCRIPT": "a subscript", "FUNC": "a function", "GREEK": "a Greek letter",
             "TRANSPOSE": "'^T'", "ODOT": "'⊙'", "LBAR": "'|'", "RBAR": "'|'", "EQ": "'='",
             "SUM": r"'\sum'", "FRAC": r"'\frac'", "SQRT": r"'\sqrt'", "DIFF": r"'\partial'",
             "PRIME": "a prime (')", "HAT": r"'\hat{...}'", "WORD": r"'\mathrm{...}'", "HALF": "'½'",
             "LAYER": "'^{(l)}'", "EXPNAME": "'e^'"}


def _readable(parser, names):
    out = set()
    first = {"a name", "a number", "the end of the formula"}
    for n in names:
        if n in _READABLE:
            out.add(_READABLE[n])
            continue
        try:
            pattern = parser.get_terminal(n).pattern
            out.add(repr(pattern.value) if pattern.type == "str" else n)
        except KeyError:
            out.add(n)
    return sorted(out & first) + sorted(out - first)


def _syntax_error(exc, text, parser, shown):
    col = getattr(exc, "column", None)
    if isinstance(exc, UnexpectedToken):
        expected = _readable(parser, exc.expected)
        got = "the end of the formula" if exc.token.type == "$END" else repr(str(exc.token))
        if exc.token.type == "$END":
            col = len(text) + 1
    elif isinstance(exc, UnexpectedCharacters):
        expected = _readable(parser, exc.allowed or ())
        command = re.match(r"\\[A-Za-z]+", text[exc.pos_in_stream:])
        if command:
            got = f"the LaTeX command {command.group(0)} (not in the subset microreg reads)"
        else:
            got = repr(text[exc.pos_in_stream]) if exc.pos_in_stream < len(text) else "the end"
            got = got.replace("\\x01", "|").replace("\\x02", "|")
    else:
        expected, got = [], "something unexpected"
    caret = " " * (max(col or 1, 1) - 1) + "^"
    want = f"; expected {', '.join(expected[:12])}" if expected else ""
    return FormulaError(f"cannot read the formula at column {col}: unexpected {got}{want}\n  {shown}\n  {caret}",
                        column=col, expected=expected, text=shown)


def _pair_bars(text):
    """Mark each plain ``|`` as an opening (\\x01) or a closing (\\x02) bar, same length: a bar closes
    when one is open and the last thing before it ends an operand."""
    out, depth, prev = [], 0, ""
    for ch in text:
        if ch == "|":
            closes = depth > 0 and (prev.isalnum() or prev in ")}]'\x02" or ord(prev or " ") > 127)
            out.append("\x02" if closes else "\x01")
            depth += -1 if closes else 1
            prev = out[-1]
            continue
        out.append(ch)
        if not ch.isspace():
            prev = ch
    return "".join(out)


# --- from parse trees to Nodes ----------------------------------------------------------------------

_BINARY = {"add", "sub", "mul", "div", "matmul", "hadamard", "pow"}


def _col(item):
    if isinstance(item, Token):
        return item.column
    if isinstance(item, Node):
        return item.column
    meta = getattr(item, "meta", None)
    return getattr(meta, "column", None) if meta is not None and not getattr(meta, "empty", True) else None


class _Builder:
    def __init__(self, latex):
        self.latex = latex
        self.indices = set()
        self.sizes = set()

    def build(self, t):
        if isinstance(t, Token):
            return self.token(t)
        kind = t.data
        kids = [c for c in t.children if not (isinstance(c, Token) and c.type in
                                                ("MINUS", "TIMES", "POW", "ODOT", "FRAC", "DIFF", "SQRT"))]
        col = _col(t)
        if kind in _BINARY:
            a, b = (self.build(c) for c in kids)
            if kind == "pow" and a.kind == "name" and a.value == "e":
                return Node("call", (b,), "exp", col)
            return Node(kind, (a, b), None, col)
        if kind == "mul_sum":
            a, s, body = kids
            return Node("mul", (self.build(a), self.bigsum(s, body)), None, col)
        if kind == "bigsum":
            return self.bigsum(*kids)
        if kind in ("neg", "transpose", "abs"):
            args = [self.build(c) for c in kids if not (isinstance(c, Token) and c.type in ("TRANSPOSE", "LBAR", "RBAR"))]
            return Node(kind, args, None, col)
        if kind == "num":
            return Node("num", (), float(kids[0]), col)
        if kind == "half":
            return Node("num", (), 0.5, col)
        if kind == "name":
            return Node("name", (), _name(str(kids[0])), col)
        if kind == "index":
            return Node("index", (self.build(kids[0]),), int(kids[1]), col)
        if kind in ("call", "call_prime"):
            fname = self.function(kids[0], prime=kind == "call_prime")
            return Node("call", self.args(kids[-1]), fname, col)
        if kind == "sqrt":
            return Node("call", (self.build(kids[0]),), "sqrt", col)
        if kind == "exp":
            return Node("call", (self.build(kids[-1]),), "exp", col)
        if kind == "partial":
            of, wrt = (self.var_name(c) for c in kids)
            return Node("partial", (), (of, wrt), col)
        if kind == "var":
            return Node("name", (), self.var_name(t), col)
        raise AssertionError(f"a parse-tree rule without a builder: {kind}")

    def token(self, tok):
        if tok.type in ("NUMBER", "INT"):
            return Node("num", (), float(tok), tok.column)
        if tok.type == "NAME":
            return Node("name", (), _name(str(tok)), tok.column)
        raise AssertionError(tok.type)

    def args(self, t):
        if isinstance(t, Tree) and t.data == "args":
            return tuple(self.build(c) for c in t.children)
        return (self.build(t),)

    def function(self, tok, prime=False):
        word = str(tok)
        m = re.match(r"\\(?:mathrm|operatorname|text)\s*\{\s*(\w+)\s*\}", word)
        word = m.group(1) if m else word.lstrip("\\")
        canon = FUNCTION_ALIASES.get(word) or FUNCTION_ALIASES.get(_name(word))
        if canon is None:
            raise FormulaError(f"unknown function {word!r} at column {tok.column}; functions: "
                               f"{', '.join(sorted(set(FUNCTION_ALIASES.values())))}", column=tok.column,
                               expected=sorted(set(FUNCTION_ALIASES.values())))
        if prime:
            if canon not in ("sigmoid", "relu", "tanh"):
                raise FormulaError(f"{word}' at column {tok.column}: only σ', tanh' and relu' are known derivatives",
                                   column=tok.column)
            canon += "_prime"
        return canon

    def bigsum(self, tok, body):
        limits = re.findall(r"_\s*(\{[^{}]*\}|[A-Za-z0-9])", str(tok))
        for lim in limits:
            v = re.match(r"\{?\s*([A-Za-z])", lim)
            if v:
                self.indices.add(v.group(1))
        for lim in re.findall(r"\^\s*(\{[^{}]*\}|[A-Za-z0-9])", str(tok)):
            v = re.fullmatch(r"\{?\s*([A-Za-z])\s*\}?", lim)
            if v:
                self.sizes.add(v.group(1))
        return Node("call", (self.build(body),), "sum", tok.column)

    # LaTeX names: base + scripts
    def var_name(self, t):
        if isinstance(t, Token):
            return _name(str(t))
        base, *scripts = t.children
        name = self.base_name(base.children[0])
        hat = re.search(r"_(hat|bar|tilde)$", name)     # \hat{\beta}_1 → beta1_hat, like β̂₁
        if hat:
            name = name[:hat.start()]
        for s in scripts:
            name += self.script(s)
        return name + (hat.group(0) if hat else "")

    def base_name(self, tok):
        text = str(tok)
        if tok.type == "GREEK":
            return _name(text) if not text.startswith("\\") else LATEX_GREEK[text[1:]]
        if tok.type == "HAT":
            m = re.match(r"\\(widehat|hat|bar|overline|widetilde|tilde)\s*\{?\s*(\\?)([A-Za-z]+)", text)
            kind, slash, inner = m.groups()
            inner = LATEX_GREEK.get(inner, inner) if slash else inner
            return inner + {"hat": "_hat", "widehat": "_hat", "bar": "_bar", "overline": "_bar",
                            "tilde": "_tilde", "widetilde": "_tilde"}[kind]
        if tok.type == "WORD":
            m = re.search(r"\{\s*(\\?)([A-Za-z][A-Za-z0-9]*)\s*\}", text)
            return LATEX_GREEK.get(m.group(2), m.group(2)) if m.group(1) else m.group(2)
        return _name(text)

    def script(self, tok):
        text = str(tok)
        if tok.type == "LAYER":
            inner = re.sub(r"^\^\s*\{?\s*[(\[]\s*|\s*[)\]]\s*\}?\s*$", "", text)
        else:
            inner = re.sub(r"^_\s*\{?\s*|\s*\}?\s*$", "", text)
            if inner.startswith("\\"):
                return LATEX_GREEK.get(inner[1:], inner[1:])
            parts = [p.strip() for p in inner.split(",")]
            if all(len(p) == 1 and p in INDEX_LETTERS for p in parts):
                self.indices.update(parts)
                return ""
            if re.fullmatch(r"[ijk]\s*=\s*\w+", inner):
                self.indices.add(inner[0])
                return ""
        return re.sub(r"\s+", "", inner).replace("-", "m").replace("+", "p")


class _LatexBuilder(_Builder):
    def build(self, t):
        if isinstance(t, Tree) and t.data in ("call", "call1", "funcname"):
            func, *rest = t.children
            prime = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "PRIME"
            if prime:
                rest = rest[1:]
            name = self.function(func, prime)
            if t.data == "funcname":
                raise FormulaError(f"{str(func)} at column {func.column} needs an argument, e.g. {str(func)}(z)",
                                   column=func.column, expected=["'('"])
            return Node("call", self.args(rest[0]) if t.data == "call" else (self.build(rest[0]),), name, _col(t))
        if isinstance(t, Tree) and t.data == "var":
            return Node("name", (), self.var_name(t), _col(t))
        if isinstance(t, Token) and t.type in ("LETTER", "GREEK", "HAT", "WORD"):
            return Node("name", (), self.base_name(t), t.column)
        return super().build(t)


# --- the Formula --------------------------------------------------------------------------------------

class Formula:
    """A parsed formula: ``text``, ``tree`` (a `Node`), ``names``, ``functions``, ``indices``,
    ``partials``, ``latex`` (which notation it was read as), and ``evaluate(env)``."""

    def __init__(self, text, tree, latex, indices=(), sizes=()):
        self.text, self.tree, self.latex = text, tree, latex
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


def _detect_latex(text):
    return "\\" in text or "$" in text or "{" in text


def parse(text):
    """Parse a formula: LaTeX if it has a backslash, ``$`` or ``{``; else the Python-like notation,
    and if that fails, LaTeX (``w_1 x + b_1``); the error shown is the Python-like one then."""
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
        try:
            _Builder(latex=False).function(Token("NAME", word, column=m.start(1) + 1))
        except FormulaError as exc:
            raise FormulaError(f"{exc.args[0]} (or, for a product, write {word} * (…))",
                               column=exc.column, expected=exc.expected) from None


def parse_python(text):
    """Parse the Python-like notation (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    try:
        tree = _python.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, _python, text) from None
    b = _Builder(latex=False)
    return Formula(text, b.build(tree), False, b.indices, b.sizes)


def parse_latex(text):
    """Parse the LaTeX subset (see the module docstring)."""
    return _parse_latex(text, "start")[0]


def parse_chain(text):
    """``a = b = c`` (LaTeX or Python-like; ``:=`` too) → one `Formula` per side."""
    if not _detect_latex(text):
        parts = [p for p in re.split(r":=|(?<![<>!=])=(?!=)", text)]
        out, offset = [], 0
        for p in parts:
            try:
                out.append(parse_python(p))
            except FormulaError as e:
                col = e.column + offset if e.column else None
                raise FormulaError(f"{e.args[0].splitlines()[0].replace(f'column {e.column}', f'column {col}')}",
                                   column=col, expected=e.expected, text=text) from None
            offset += len(p) + 1
        return out
    return _parse_latex(text, "chain")


_SUB_CHARS = dict(zip("0123456789aehijklmnoprstuvx+-−()", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋₋₍₎"))
_SUP_CHARS = dict(zip("0123456789+-−()abcdefghijklmnoprstuvwxyzLT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴸᵀ"))
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0304", "tilde": "\u0303",
            "widetilde": "\u0303"}
_LATEX_SYMBOLS = {"top": "ᵀ", "intercal": "ᵀ", "prime": "'", "partial": "∂", "nabla": "∇"}
_GREEK_WORD = re.compile(r"(?<![A-Za-z\\])(" + "|".join(sorted(set(LATEX_GREEK) | {"sigma"}, key=len, reverse=True)) +
                         r")(?![A-Za-z])")


_MORE_GREEK = {"sigma": "σ", "Sigma": "Σ", "Gamma": "Γ"}     # σ is read as a function, so GREEK lacks it


def _greek_char(word):
    canonical = LATEX_GREEK.get(word, word)
    return next((ch for ch, name in GREEK.items() if name == canonical), _MORE_GREEK.get(word, word))


def _scripted(text, table):
    return "".join(table[c] for c in text) if text and all(c in table for c in text) else None


@functools.lru_cache(maxsize=4096)
def display(label):
    r"""A label or a formula name the way a learner reads it in words, in either notation:

        >>> [display(s) for s in (r"\hat{y}", "y_hat", "a_1", "a^{(1)}", r"\delta^{(L-1)}", r"\beta_1")]
        ['ŷ', 'ŷ', 'a₁', 'a⁽¹⁾', 'δ⁽ᴸ⁻¹⁾', 'β₁']
        >>> [display(s) for s in ("a1", "w1[0][1]", "z₁", r"A^{[1]}", r"\mathbf{W}_1^T", "epsilon_i", "dZ1")]
        ['a1', 'w1[0][1]', 'z₁', 'A^[1]', 'W₁ᵀ', 'εᵢ', 'dZ1']

    LaTeX markup goes (``\mathbf``, ``$``, braces), accents become accented letters, Greek names
    Greek letters, sub- and superscripts Unicode scripts where Unicode has them (else ``_q`` stays);
    a name written plainly (``a1``, ``w1[0][1]``) stays as written.
    """
    s = unicodedata.normalize("NFC", str(label)).strip().strip("$").strip()
    s = re.sub(r"\\(?:mathbf|boldsymbol|bm|mathrm|mathit|mathsf|vec|operatorname|text)\s*\{([^{}]*)\}", r"\1", s)

    def accent(m):
        inner = (m.group(2) or m.group(3) or "").strip()
        inner = _greek_char(inner[1:]) if inner.startswith("\\") else inner
        return inner + _ACCENTS[m.group(1)]
    s = re.sub(r"\\(hat|widehat|bar|overline|tilde|widetilde)\s*(?:\{([^{}]*)\}|(\\[A-Za-z]+|[A-Za-z]))", accent, s)
    s = re.sub(r"\\([A-Za-z]+)", lambda m: _LATEX_SYMBOLS.get(m.group(1), _greek_char(m.group(1))), s)
    s = re.sub(r"(?<=[^\W\d_])_(hat|bar|tilde)(?![A-Za-z])", lambda m: _ACCENTS[m.group(1)], s)
    s = _GREEK_WORD.sub(lambda m: _greek_char(m.group(1)), s)
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch not in "_^" or i == 0:
            out.append(ch)
            i += 1
            continue
        j = i + 1
        while j < len(s) and s[j] == " ":
            j += 1
        if j < len(s) and s[j] == "{":
            depth, k = 0, j
            while k < len(s):
                depth += {"{": 1, "}": -1}.get(s[k], 0)
                if depth == 0:
                    break
                k += 1
            inner, end = s[j + 1:k].strip(), k + 1
        else:
            m = re.match(r"[A-Za-z0-9]+|.", s[j:]) if ch == "_" else re.match(r".", s[j:])
            inner, end = (m.group(0), j + len(m.group(0))) if m else ("", j)
            if ch == "_" and not inner.isdigit() and len(inner) > 2:    # x_train: a word, not a script
                out.append(ch + inner)
                i = end
                continue
        inner = inner.replace(" ", "")
        if ch == "^" and inner in ("T", "ᵀ"):
            out.append("ᵀ")
        elif ch == "^" and inner in ("'", "′"):
            out.append("'")
        else:
            made = _scripted(inner, _SUB_CHARS if ch == "_" else _SUP_CHARS)
            out.append(made if made is not None else ch + inner)
        i = end
    return unicodedata.normalize("NFC", "".join(out).replace("{", "").replace("}", ""))


@functools.lru_cache(maxsize=4096)
def spellings(label):
    """The names a formula uses for something labelled ``label`` (a node label, a parameter or a
    data name), read as either notation reads a lone name: ``ŷ``, ``\\hat{y}`` → y_hat; ``z₁`` → z1;
    ``a_1``, ``a^{(1)}`` → a1 (LaTeX) and ``a_1`` (Python-like); a plain identifier stays itself."""
    out = []
    for read in (parse_python, parse_latex):
        try:
            tree = read(label).tree
        except (FormulaError, TypeError):
            continue
        if tree.kind == "name" and tree.value not in out:
            out.append(tree.value)
    return tuple(out) or (_name(label),)


def _parse_latex(text, start):
    if not isinstance(text, str):
        raise TypeError(f"a formula is a string, got {type(text).__name__}")
    marked = _pair_bars(text)
    try:
        tree = _latex.parse(marked, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, marked, _latex, text) from None
    b = _LatexBuilder(latex=True)
    if start == "chain":
        sides = [c for c in tree.children if not (isinstance(c, Token) and c.type == "EQ")]
        return [Formula(_slice(text, s), b.build(s), True, b.indices, b.sizes) for s in sides]
    return [Formula(text, b.build(tree), True, b.indices, b.sizes)]


def _slice(text, tree):
    meta = getattr(tree, "meta", None)
    if meta is None or getattr(meta, "empty", True):
        return str(tree) if isinstance(tree, Token) else text
    return text[meta.start_pos:meta.end_pos]


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
            if kind == "add":
                return _elementwise(lambda a, b: a + b)(*args, col, self.text)
            if kind == "sub":
                return _elementwise(lambda a, b: a - b)(*args, col, self.text)
            if kind == "mul":
                return _product(*args, col, self.text)
            if kind == "div":
                if not _is_value(args[1]) and np.any(np.asarray(args[1]) == 0):
                    at = node.args[1].column or col
                    raise FormulaError(f"division by zero: the divisor at column {at} of {self.text!r} is 0",
                                       column=at)
                return _elementwise(lambda a, b: a / b)(*args, col, self.text)
            if kind == "hadamard":
                return _elementwise(lambda a, b: a * b)(*args, col, self.text)
            if kind == "matmul":
                try:
                    return np.matmul(*args)
                except ValueError:
                    raise FormulaError(f"cannot take the matrix product of shapes {_shape(args[0])} and "
                                       f"{_shape(args[1])} at column {col} of {self.text!r}", column=col) from None
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
