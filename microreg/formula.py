"""Formulas as expression trees: write a piece of math once, print it with the right brackets in
plain text, LaTeX and MathML.

    >>> from microreg.formula import sym, call
    >>> a = sym("a")
    >>> f = call("σ", a) * (1 - call("σ", a))
    >>> f.text
    'σ(a)·(1 − σ(a))'
    >>> (sym("ŷ − y") ** 2).text       # a name holding an operator is bracketed where it must be
    '(ŷ − y)²'

The rule table (`microreg.ops`) writes each op's result and local derivatives with these trees,
and the stepper fills them with node names (``w1[0]``) or with numbers (``0.5``). Brackets come
from precedence, never from the strings glued together, so ``∂L/∂a · (1 − tanh²(z))`` keeps its
brackets and ``a − (b − c)`` never loses them.

Build a tree with ``sym(name)``, ``num(value)``, ``call(fn, x)``, ``indicator(x)`` and Python's
``+ - * / **`` and unary ``-`` (numbers are wrapped for you). Read it with ``.text``, ``.latex`` and
``.mathml`` (MathML through the ``latex2mathml`` package, offline; any label is escaped, so a
label can never become markup).
"""

import functools
import html
import re
import xml.etree.ElementTree as ElementTree

# precedence: a child binding more loosely than its place needs gets brackets
RELATION, SUM, PRODUCT, UNARY, POWER, ATOM = 0, 1, 2, 3, 4, 5

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_GREEK = {"σ": r"\sigma", "δ": r"\delta", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "ε": r"\varepsilon",
          "η": r"\eta", "θ": r"\theta", "λ": r"\lambda", "μ": r"\mu", "ŷ": r"\hat{y}", "Σ": r"\Sigma",
          "½": r"\frac{1}{2}", "∂": r"\partial"}
_LATEX_FUNCTIONS = {"σ": r"\sigma", "exp": r"\exp", "ln": r"\ln", "tanh": r"\tanh", "relu": r"\operatorname{relu}",
                    "Σ": r"\sum", "mean": r"\operatorname{mean}"}
_LAYERED = re.compile(r"^([A-Za-z]|[δσŷ])(\d+)((?:\[\d+\])*)$")      # z1[0], w1[0][2], δ2, b2
_INDEXED = re.compile(r"^([A-Za-z]|[δσŷ])((?:\[\d+\])+)$")            # x[0]
_LATEX_ESCAPES = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "<": r"\lt ", ">": r"\gt ", "&": r"\&",
                  "$": r"\$", "%": r"\%", "#": r"\#", "_": r"\_", "^": r"\hat{}", "~": r"\sim "}


def has_operator(name):
    """Whether a name holds an operator outside brackets (``ŷ − y`` does, ``w1[0]`` does not)."""
    depth = 0
    for ch in name:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in " +−-·×/^*":
            return True
    return False


def latex_name(name):
    """A node's name in LaTeX: ``z1[0]`` → ``z_{1}[0]``, ``ŷ`` → ``\\hat{y}``, anything else as text."""
    if len(name) == 1 and name.isascii() and name.isalpha():
        return name
    if name in _GREEK:
        return _GREEK[name]
    m = _LAYERED.match(name)
    if m:
        return f"{_GREEK.get(m.group(1), m.group(1))}_{{{m.group(2)}}}{m.group(3)}"
    m = _INDEXED.match(name)
    if m:
        return f"{_GREEK.get(m.group(1), m.group(1))}{m.group(2)}"
    if re.fullmatch(r"[A-Za-z]+", name):
        return rf"\mathrm{{{name}}}"
    out, run = [], []
    for ch in name:
        if ch in _LATEX_ESCAPES:
            if run:
                out.append(r"\text{" + "".join(run) + "}")
                run = []
            out.append(_LATEX_ESCAPES[ch])
        else:
            run.append(ch)
    if run:
        out.append(r"\text{" + "".join(run) + "}")
    return "".join(out)


def number_text(value, fmt="{:.4g}"):
    """A number for people: ``2`` not ``2.0``, ``−0.3`` with a real minus sign."""
    if value.__class__ is not float and hasattr(value, "shape"):     # a batch: its first values
        head = ", ".join(number_text(float(v), fmt) for v in value[:3])
        return f"[{head}{', …' if value.shape[0] > 3 else ''}]"
    if not isinstance(value, float):
        value = float(value)            # a float subclass keeps its own format (ops.Wide: its true size)
    if value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = fmt.format(value)
    return text.replace("-", "−")


def _latex_number(text):
    text = text.replace("−", "-")
    if text.startswith("["):
        return r"\left[" + text[1:-1].replace("…", r"\ldots") + r"\right]"
    m = re.fullmatch(r"(-?[\d.]+)e([+-])0*(\d+)", text)
    if m:
        return rf"{m.group(1)} \times 10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}"
    text = text.replace("inf", r"\infty").replace("nan", r"\mathrm{NaN}")
    return "{" + text + "}" if text.startswith("-") else text      # a group: the minus is a sign


def _wrap(x):
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, float)):
        return Num(x)
    if isinstance(x, str):
        return Sym(x)
    raise TypeError(f"a formula can hold names, numbers and formulas, not {type(x).__name__} {x!r}")


class Expr:
    """A formula. ``.text``, ``.latex`` and ``.mathml`` print it; ``str()`` is its text."""

    prec = ATOM          # how tightly the formula binds (for the brackets around it)
    negative = False     # does its text start with a minus sign (``a + (−b)`` needs brackets)

    def latex_prec(self):
        return self.prec

    # builders: numbers are wrapped, so rule-table formulas read like math
    def __add__(self, other):
        return Add(self, _wrap(other))

    def __radd__(self, other):
        return Add(_wrap(other), self)

    def __sub__(self, other):
        return Sub(self, _wrap(other))

    def __rsub__(self, other):
        return Sub(_wrap(other), self)

    def __mul__(self, other):
        return Mul(self, _wrap(other))

    def __rmul__(self, other):
        return Mul(_wrap(other), self)

    def __truediv__(self, other):
        return Div(self, _wrap(other))

    def __rtruediv__(self, other):
        return Div(_wrap(other), self)

    def __pow__(self, other):
        return Pow(self, _wrap(other))

    def __neg__(self):
        return Neg(self)

    @property
    def text(self):
        return self._text()

    @property
    def latex(self):
        return self._latex()

    @property
    def mathml(self):
        """The formula as a ``<math>`` element (for web pages); safe to insert whatever the labels."""
        return mathml(self.latex, self.text)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"{type(self).__name__}({self.text!r})"

    def __eq__(self, other):
        return isinstance(other, Expr) and type(self) is type(other) and self.text == other.text

    def __hash__(self):
        return hash((type(self).__name__, self.text))


# latex2mathml turns ``\mathrel{+}=`` into an <mo> holding an <mrow> (which browsers draw as "+ =")
_PLUS_EQUALS_NESTED = "<mo><mrow><mo>&#x0002B;</mo></mrow></mo><mo>&#x0003D;</mo>"


@functools.lru_cache(maxsize=4096)
def mathml(latex, text=""):
    """LaTeX → MathML with latex2mathml; checked to be well-formed, else the text in an ``<mtext>``.
    (A few milliseconds for a long formula: results are cached.)"""
    try:
        from latex2mathml.converter import convert
        out = convert(latex).replace(_PLUS_EQUALS_NESTED, "<mo>+=</mo>")
        ElementTree.fromstring(out)
        return out
    except Exception:  # noqa: BLE001 - any converter failure falls back to the plain text
        return ('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mtext>'
                f"{html.escape(text or latex)}</mtext></math>")


def _bracket_text(child, need):
    s = child._text()
    return f"({s})" if need else s


def _bracket_latex(child, need):
    s = child._latex()
    return rf"\left({s}\right)" if need else s


class Sym(Expr):
    """A name: an input of a rule (``a``), a node (``w1[0]``), a gradient (``δ1[0]``)."""

    def __init__(self, name, latex=None):
        self.name = str(name)
        self._latex_name = latex
        operator = has_operator(self.name)
        self.prec = SUM if operator else ATOM
        self.negative = self.name.startswith(("−", "-"))

    def latex_prec(self):
        return ATOM if self._latex_name is not None else self.prec

    def _text(self):
        return self.name

    def _latex(self):
        return self._latex_name if self._latex_name is not None else latex_name(self.name)


class Num(Expr):
    """A number: a constant of a rule (``1``, ``2``), a constant the user wrote, or a value."""

    def __init__(self, value, fmt="{:.4g}", text=None):
        self.value = value
        self.fmt = fmt
        self._text_value = text if text is not None else number_text(value, fmt)
        self.negative = self._text_value.startswith("−")
        self.prec = UNARY if self.negative else ATOM

    def _text(self):
        return self._text_value

    def _latex(self):
        if self._text_value == "½":
            return r"\frac{1}{2}"
        return _latex_number(self._text_value)


class Raw(Expr):
    """A formula given as text and LaTeX directly (``Σᵢ wᵢ·xᵢ + b`` for the generic affine op)."""

    def __init__(self, text, latex, prec=ATOM):
        self._t, self._l, self.prec = text, latex, prec

    def _text(self):
        return self._t

    def _latex(self):
        return self._l


class Call(Expr):
    """A function applied to one argument: ``σ(z1[0])``, ``exp(a)``, ``ln(a)``, ``tanh(a)``."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, _wrap(arg)

    def _text(self):
        return f"{self.fn}({self.arg._text()})"

    def _latex(self):
        fn = _LATEX_FUNCTIONS.get(self.fn, rf"\operatorname{{{self.fn}}}")
        return rf"{fn}\left({self.arg._latex()}\right)"


class Indicator(Expr):
    """``[x > 0]``: 1 where the condition holds, else 0 (Iverson's bracket; relu's derivative)."""

    def __init__(self, arg):
        self.arg = _wrap(arg)

    def _text(self):
        return f"[{self.arg._text()} > 0]"

    def _latex(self):
        return rf"\left[{self.arg._latex()} > 0\right]"


class Neg(Expr):
    prec = UNARY
    negative = True

    def __init__(self, arg):
        self.arg = _wrap(arg)

    def _text(self):
        return "−" + _bracket_text(self.arg, self.arg.prec < PRODUCT or self.arg.negative)

    def _latex(self):
        return "-" + _bracket_latex(self.arg, self.arg.latex_prec() < PRODUCT or self.arg.negative)


class _Binary(Expr):
    def __init__(self, left, right):
        self.left, self.right = _wrap(left), _wrap(right)
        self.negative = self.left.negative if self.prec < POWER else False


class Add(_Binary):
    prec = SUM
    _op_text, _op_latex = " + ", " + "

    def _right_needs(self, prec, right):
        return prec < SUM or right.negative

    def _text(self):
        right = self.right
        return (_bracket_text(self.left, self.left.prec < SUM) + self._op_text
                + _bracket_text(right, self._right_needs(right.prec, right)))

    def _latex(self):
        right = self.right
        return (_bracket_latex(self.left, self.left.latex_prec() < SUM) + self._op_latex
                + _bracket_latex(right, self._right_needs(right.latex_prec(), right)))


class Sub(Add):
    _op_text, _op_latex = " − ", " - "

    def _right_needs(self, prec, right):
        return prec <= SUM or right.negative


class Mul(_Binary):
    prec = PRODUCT

    def _text(self):
        left, right = self.left, self.right
        return (_bracket_text(left, left.prec < PRODUCT) + "·"
                + _bracket_text(right, right.prec < PRODUCT or right.negative or isinstance(right, Div)))

    def _latex(self):
        left, right = self.left, self.right
        return (_bracket_latex(left, left.latex_prec() < PRODUCT) + r" \cdot "
                + _bracket_latex(right, right.latex_prec() < PRODUCT or right.negative))


class Product(Mul):
    """``u · l`` with spaces: the chain rule's product of an upstream gradient and a local derivative,
    set apart from the products inside them (``∂L/∂a · σ(z)·(1 − σ(z))``)."""

    def _text(self):
        left, right = self.left, self.right
        return (_bracket_text(left, left.prec < PRODUCT) + " · "
                + _bracket_text(right, right.prec < PRODUCT or right.negative or isinstance(right, Div)))


class Div(_Binary):
    """``a/b`` in text, ``\\frac{a}{b}`` in LaTeX (where the fraction bar is the bracket)."""

    prec = PRODUCT

    def latex_prec(self):
        return UNARY    # a fraction needs no brackets in a product, but does as a base of a power

    def _text(self):
        left, right = self.left, self.right
        return (_bracket_text(left, left.prec < PRODUCT) + "/"
                + _bracket_text(right, right.prec <= PRODUCT or right.negative))

    def _latex(self):
        return rf"\frac{{{self.left._latex()}}}{{{self.right._latex()}}}"


class Pow(_Binary):
    prec = POWER

    def _small_integer(self):
        r = self.right
        if isinstance(r, Num) and isinstance(r.value, (int, float)) and float(r.value).is_integer() \
                and -9 <= r.value <= 99:
            return str(int(r.value))
        return None

    def _text(self):
        base, k = self.left, self._small_integer()
        if k is not None and isinstance(base, Call) and base.fn == "tanh" and int(k) > 0:    # tanh²(a)
            return f"{base.fn}{k.translate(_SUPERSCRIPT)}({base.arg._text()})"
        b = _bracket_text(base, base.prec < ATOM or base.negative)
        if k is not None:
            return b + k.translate(_SUPERSCRIPT)
        r = self.right
        return f"{b}^" + _bracket_text(r, r.prec < ATOM or r.negative)

    def _latex(self):
        base = self.left
        k = self._small_integer()
        if k is not None and isinstance(base, Call) and base.fn == "tanh" and int(k) > 0:
            fn = _LATEX_FUNCTIONS.get(base.fn, rf"\operatorname{{{base.fn}}}")
            return rf"{fn}^{{{k}}}\left({base.arg._latex()}\right)"
        b = _bracket_latex(base, base.latex_prec() < ATOM or base.negative)
        return f"{{{b}}}^{{{self.right._latex()}}}"


class Partial(Expr):
    """∂of/∂wrt: ``∂L/∂w1[0]`` (``of`` and ``wrt`` are formulas or names)."""

    def __init__(self, of, wrt):
        self.of, self.wrt = _wrap(of), _wrap(wrt)

    def _text(self):
        return f"∂{_bracket_text(self.of, self.of.prec < ATOM)}/∂{_bracket_text(self.wrt, self.wrt.prec < ATOM)}"

    def _latex(self):
        of = _bracket_latex(self.of, self.of.latex_prec() < PRODUCT or self.of.negative)
        wrt = _bracket_latex(self.wrt, self.wrt.latex_prec() < ATOM)
        return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"


class Relation(Expr):
    """``a = b = c`` or ``a += b`` (a chain of formulas joined by relations)."""

    prec = RELATION
    _LATEX_RELATIONS = {"=": "=", "+=": r"\mathrel{+}=", "≈": r"\approx", "←": r"\leftarrow"}

    def __init__(self, parts, relations):
        self.parts = [_wrap(p) for p in parts]
        self.relations = list(relations)
        if len(self.relations) != len(self.parts) - 1:
            raise ValueError("a relation needs one relation sign between each two parts")

    def _text(self):
        out = [self.parts[0]._text()]
        for rel, part in zip(self.relations, self.parts[1:]):
            out.append(f" {rel} {part._text()}")
        return "".join(out)

    def _latex(self):
        out = [self.parts[0]._latex()]
        for rel, part in zip(self.relations, self.parts[1:]):
            out.append(f" {self._LATEX_RELATIONS.get(rel, rel)} {part._latex()}")
        return "".join(out)


def sym(name, latex=None):
    """A name (of an input, a node, a gradient)."""
    return Sym(name, latex)


def num(value, fmt="{:.4g}"):
    """A number, printed with ``fmt`` (whole numbers without a decimal point)."""
    return Num(value, fmt)


def call(fn, arg):
    """``fn(arg)`` for fn in σ, exp, ln, tanh, relu, Σ, mean."""
    return Call(fn, arg)


def indicator(arg):
    """``[arg > 0]``."""
    return Indicator(arg)


def partial(of, wrt):
    """``∂of/∂wrt``."""
    return Partial(of, wrt)


def equation(*parts, relation="="):
    """``parts[0] = parts[1] = …`` (or another relation, such as ``+=``, between the first two)."""
    relations = [relation] + ["="] * (len(parts) - 2)
    return Relation(parts, relations)
