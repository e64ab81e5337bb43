r"""A document's equations, sorted into definitions and claims, as a teacher reads them.

`read_document` finds the math (`microreg.mathspans`), splits each display into rows and equations
(`microreg.layout`), parses each (`microreg.notation`) and keeps where it stands (line, column, cell, section,
and whether it sat in a table, a list or an HTML comment). `sort_equations` then reads them in order:

- **definitions**: ``z = w x + b``, ``a := \sigma(z)``, ``J(w,b) = \frac{1}{2m}\sum …`` (a function of its
  arguments), ``g^{[1]}(z) = \tanh(z)``; a chain ``t = \tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}}`` defines t by
  its first link and claims the rest; a layer-indexed one (``z^{[l]} = W^{[l]} A^{[l-1]} + b^{[l]}``) holds
  for every layer; a redefinition under a heading lasts until the next heading of its level;
- **claims**: a derivative (``\frac{\partial L}{\partial w} = …``, ``dW^{[2]} = …`` in the course's
  shorthand for ∂J/∂W⁽²⁾, ``\nabla_b L = …``, ``\delta^l = …`` once δ is named as a derivative), every link
  of a chain after the first, an identity (``\sigma'(z) = \sigma(z)(1 - \sigma(z))``, ``\sigma(z) = …``), an
  update rule (``w := w - \alpha \frac{\partial J}{\partial w}``, ``w \leftarrow w - \eta\, dw``, Nielsen's
  ``w_k \rightarrow w_k' = w_k - \eta \frac{\partial C}{\partial w_k}``: the gradient it steps along is claimed);
- **not checked, with the reason**: a formula that cannot be read (with its column), an inequality or an
  approximation, a model of the data (``y = w x + b + \epsilon``), a size (``m = 100``), words.
"""

import re
from dataclasses import dataclass, field

from .. import layout
from ..mathspans import Lines, blank_tex_comments, find_math
from ..notation import FormulaError, Node, Symbol, read_row, rewrite, show, show_symbol
from .model import LOSS_NAMES, SIZES, Definition, Key, Named, key_of

__all__ = ["Row", "Unread", "Claim", "read_document", "sort_equations"]

EQUALS = {"=", ":=", "≡", "←", "→"}
#: a document with more equations is read up to here, and says so (a derivation has tens or hundreds)
MAX_EQUATIONS = 5000


@dataclass
class Row:
    """One equation of the document and where it stands."""
    eq: object                 # notation.Equation
    line: int
    column: int
    cell: int | None
    section: tuple
    where: str | None          # "table", "comment", "list" or None
    part: int = 0
    text: str = ""             # the equation's source, for messages
    starts: list = field(default_factory=list)     # (line, column) of each member
    lines: object = None       # offset → (line, column) in the row's part (for the column of a name)


@dataclass
class Unread:
    """Something not checked: where, what, why."""
    line: int
    column: int
    cell: int | None
    text: str
    why: str
    kind: str = "equation"     # "equation", "prose", "picture", "code", "note"


@dataclass
class Claim:
    """A claim to judge: ``kind`` "derivative" (``target`` a derivative: deriv, dname or a Named key),
    "identity" (``target`` an expression), "update" (``param``, ``rate_sign``: the gradient ``members``
    steps along); ``members``: [(tree, line, column, text)] each compared with the target."""
    kind: str
    target: Node
    members: list
    row: Row
    param: Node | None = None
    sign: int = -1
    named: Named | None = None
    note: str = ""
    restates: bool = False        # a cost of another kind written again: checked if it agrees, else a new cost


# --- reading ----------------------------------------------------------------------------------------------

def _headings(text, kind):
    out = []
    if kind == "tex":
        levels = {"part": 0, "chapter": 0, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}
        for m in re.finditer(r"\\(part|chapter|section|subsection|subsubsection|paragraph)\*?\s*\{", text):
            out.append((m.start(), levels[m.group(1)]))
        return out
    for m in re.finditer(r"^(#{1,6})\s", text, flags=re.M):
        out.append((m.start(), len(m.group(1))))
    return out


def _section_of(headings, offset):
    path = []
    for pos, level in headings:
        if pos > offset:
            break
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, pos))
    return tuple(path)


def in_scope(def_section, use_section):
    """A redefinition under a heading holds while the use is inside that heading's section."""
    return use_section[:len(def_section)] == def_section


def read_document(source):
    """A `microreg.mathspans.Source` → (rows, unread, counts): every equation parsed, with its place."""
    rows, unread = [], []
    counts = {"mentions": 0, "prose": 0, "pictures": 0, "comment_math": 0, "code_blocks": 0, "spans": 0,
              "derivative_marks": 0, "failed": {}, "equations": 0, "beyond": 0}
    for p, part in enumerate(source.parts):
        text = part.text if part.kind != "tex" else blank_tex_comments(part.text)     # same length: columns stay
        lines = Lines(text)
        headings = _headings(text, part.kind)
        spans = find_math(text, part.kind)
        counts["spans"] += len(spans)
        covered = _covered_lines(text, spans, lines)
        _prose(text, part, covered, lines, unread, counts)
        for span in spans:
            if span.where == "comment":
                counts["comment_math"] += 1
            if not text[span.start:span.end].strip():
                continue
            if counts["equations"] >= MAX_EQUATIONS:
                counts["beyond"] += 1
                continue
            inner = layout.Text(text[span.start:span.end], base=span.start)
            cleaned = layout.clean(inner)
            for row_text in layout.split_rows(cleaned):
                for eq_text in layout.split_equations(row_text):
                    piece = eq_text.strip()
                    if not piece.s.strip():
                        continue
                    start = piece.origin(0)
                    line, col = lines(start)
                    source_text = text[piece.origin(0):piece.origin(len(piece.s))].strip() or piece.s
                    if _DERIVATIVE_MARKS.search(source_text):
                        counts["derivative_marks"] += 1
                    if not _RELATION.search(piece.s):
                        counts["mentions"] += 1
                        continue
                    counts["equations"] += 1
                    try:
                        eqs = read_row(piece)
                    except FormulaError as exc:
                        off = (exc.column or 1) - 1
                        l2, c2 = lines(off)
                        why = _why(exc).replace(f"column {exc.column}", f"column {c2}")
                        unread.append(Unread(l2, c2, part.cell, source_text, why, "equation"))
                        eqs = _readable_links(piece, off)
                        if not eqs:
                            name = _defined_name(piece)
                            if name is not None:
                                counts["failed"].setdefault(name, lines(start)[0])
                            continue
                    for eq in eqs:
                        if len(eq.members) < 2 and not eq.continues:
                            counts["mentions"] += 1
                            continue
                        first = eq.spans[0][0] if eq.spans and eq.spans[0][0] is not None else start
                        l1, c1 = lines(first)
                        starts = [lines(s)[0:2] if s is not None else (l1, c1) for s, _ in eq.spans]
                        rows.append(Row(eq, l1, c1, part.cell, _section_of(headings, first), span.where, p,
                                        source_text, starts, lines))
    return rows, unread, counts


_RELATION = re.compile(r"(?<![<>!])=|:=|\\coloneqq|\\equiv|\\triangleq|≔|≡|←|\\leftarrow|\\gets|\\rightarrow|"
                       r"\\to(?![A-Za-z])|→|\\approx|≈|\\leq?|\\geq?|[<>≤≥]")
_DERIVATIVE_MARKS = re.compile(r"\\partial|∂|\\nabla|∇|\\frac\s*\{\s*d|\bd[A-Za-z](\^|_|\b)|[:]=|\\leftarrow|"
                               r"\\gets|'\s*\(|\\prime")


def _readable_links(piece, failed_at):
    """The links of a chain before the one that cannot be read (``A = σ(wᵀX + b) = (a⁽¹⁾, …, a⁽ᵐ⁾)`` still defines
    A), or []."""
    cut = None
    depth = 0
    for i, ch in enumerate(piece.s):
        if piece.origin(i) >= failed_at:
            break
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "=" and depth == 0 and i and piece.s[i - 1] not in "<>!:":
            cut = i
    if cut is None:
        return []
    head = piece.slice(0, cut)
    if "=" not in head.s:
        return []
    try:
        return read_row(head)
    except FormulaError:
        return []


def _defined_name(piece):
    """The name an equation that cannot be read would define (``z`` of ``z = w (x + b``), or None."""
    m = re.match(r"\s*(.*?)\s*(?::=|\\coloneqq|=)", piece.s)
    if not m or not m.group(1):
        return None
    try:
        eqs = read_row(m.group(1))
    except FormulaError:
        return None
    if len(eqs) == 1 and len(eqs[0].members) == 1 and eqs[0].members[0].kind == "sym":
        return key_of(eqs[0].members[0].value)[0]
    return None


def _why(exc):
    text = str(exc).split("\n")[0]
    return text.replace("cannot read the formula at column", "cannot read this equation at column")


def _covered_lines(text, spans, lines):
    covered = set()
    for s in spans:
        a, b = lines(max(0, s.start - 1))[0], lines(s.end)[0]
        covered.update(range(a, b + 1))
    return covered


def _prose(text, part, covered, lines, unread, counts):
    """Paragraphs of prose, pictures and code blocks: counted and listed as not checked."""
    in_code = False
    in_comment = False
    paragraph_open = False
    for i, ln in enumerate(text.split("\n"), start=1):
        s = ln.strip()
        if re.match(r"^[ \t>]*(`{3,}|~{3,})", ln):
            if not in_code:
                counts["code_blocks"] += 1
                unread.append(Unread(i, 1, part.cell, "a code block", "code: not math (a fenced block is not "
                                     "read)", "code"))
            in_code = not in_code
            paragraph_open = False
            continue
        if in_code:
            continue
        if "<!--" in s:
            in_comment = "-->" not in s.split("<!--", 1)[1]
            continue
        if in_comment:
            if "-->" in s:
                in_comment = False
            continue
        for m in re.finditer(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>|\\includegraphics", ln):
            counts["pictures"] += 1
            unread.append(Unread(i, m.start() + 1, part.cell, "a picture", "a picture: what it shows cannot be "
                                 "checked", "picture"))
        if not s or i in covered or s.startswith(("#", "![", "|", "%", "\\begin", "\\end", "\\section",
                                                  "\\documentclass", "\\usepackage")) \
                or re.fullmatch(r"(---+|\*\*\*+|[-*]\s*)", s):
            paragraph_open = False
            continue
        if not paragraph_open:
            counts["prose"] += 1
            paragraph_open = True
            if re.search(r"(?<![\\$])\b(d[A-Z]\w*|d[a-z]\d?)\s*=\s*[^=]", s) or re.search(r"∂\w+\s*/\s*∂", s):
                unread.append(Unread(i, 1, part.cell, _short(s, 60), "an equation outside math delimiters ($…$): "
                                     "not read", "prose-equation"))


def _short(text, width=64):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


# --- sorting equations into definitions and claims ---------------------------------------------------------

def replace_subtree(node, old, new):
    """The tree with every subtree equal to ``old`` (columns aside) replaced by ``new``."""
    return rewrite(node, lambda n: new if n == old else None)


def family(tree):
    """What kind of cost a tree is: the functions it applies and the powers it takes (a squared error and a
    cross-entropy differ; the same cost written as a sum and as a matrix product do not)."""
    out = set()
    for n in tree.walk():
        if n.kind == "apply" and n.args[0].kind == "func":
            out.add(str(n.args[0].value))
        if n.kind == "pow" and n.args[1].kind == "num":
            out.add(f"^{n.args[1].value}")
    if any(n.kind == "transpose" for n in tree.walk()) and "^2" not in out:
        out.add("^2")                  # (Xθ − y)ᵀ(Xθ − y): a square written as a product
    return frozenset(out)


def _applied_functions(members):
    """``σ' = σ(1 − σ)``: when the left side is a built-in function's derivative written bare and every name in
    the row is that function (or its derivative), the same row with each applied to a number t; else None."""
    from ..notation import FUNCTION_ALIASES
    lhs = members[0]
    if lhs.kind != "sym" or not lhs.value.primes or lhs.value.sub or lhs.value.layer is not None:
        return None
    base = lhs.value.base
    if FUNCTION_ALIASES.get(base) is None:
        return None
    if any(n.kind == "sym" and n.value.base != base for m in members for n in m.walk()):
        return None
    t = Node("sym", (), Symbol("t"), None)

    def apply(node):
        if node.kind == "sym":
            return Node("apply", (node, t), None, node.column)
        if node.args:
            return Node(node.kind, [apply(a) for a in node.args], node.value, node.column)
        return node
    return [apply(m) for m in members]


def is_number(node):
    """Is a tree a number written out (``−11/3``, ``1/3((1 − 2)·1 + (2 − 4)·2)``, ``e^{-2}``): no name in it?"""
    return not any(n.kind in ("sym", "deriv", "dname", "sum", "all", "nabla", "partial", "dop", "ellipsis", "text",
                              "name", "index", "indexed", "kwarg", "call", "func", "vector", "rowvec", "matrix",
                              "cases", "compare")
                   for n in node.walk())


def has_derivative(node, named=()):
    """Does a tree hold a derivative (∂, d/d, ∇, the course's dW, a name for a derivative)?"""
    for n in node.walk():
        if n.kind in ("deriv", "dname", "dop", "nabla", "partial"):
            return True
        if n.kind == "sym" and key_of(n.value)[0] in named:
            return True
        if n.kind == "sym" and n.value.primes and n.value.base not in ("w", "b", "theta", "W"):
            return True
        if n.kind == "func" and str(n.value).endswith("'"):
            return True
    return False


def expand_ellipsis(node):
    """``θ₀x₀ + θ₁x₁ + ⋯ + θₙxₙ`` → ``Σₖ θₖxₖ`` (k from 0 to n): an elided sum whose terms differ only in one
    index that counts up; anything else is left as written (a pattern the checks do not read)."""
    if node.args:
        args = [expand_ellipsis(a) for a in node.args]
        if any(a is not b for a, b in zip(args, node.args)):
            node = Node(node.kind, args, node.value, node.column)
    if node.kind != "add" or not any(a.kind == "ellipsis" for a in node.args):
        return node
    k = next(i for i, a in enumerate(node.args) if a.kind == "ellipsis")
    before, after = node.args[:k], node.args[k + 1:]
    if len(after) != 1 or not before or len(set(node.value)) != 1 or node.value[0] != "+":
        return node
    terms = list(before) + list(after)
    indices = [_term_index(t) for t in terms]
    if any(i is None for i in indices[:-1]) or indices[-1] is None:
        return node
    first = indices[0]
    if not all(isinstance(i, int) for i in indices[:-1]) or indices[:-1] != list(range(first, first + len(before))):
        return node
    used = {x for t in terms for n in t.walk() if n.kind == "sym" for x in n.value.sub}
    letter = next((x for x in ("k", "j", "q", "p", "r") if x not in used), None)
    if letter is None:
        return node
    template = _with_index(before[0], str(first), letter)
    for t, i in zip(terms, indices):
        if _with_index(template, letter, str(i)) != t:
            return node
    # up to a letter (θₙxₙ): over every element, n the count of them, not of the samples
    upper = str(indices[-1]) if isinstance(indices[-1], int) else None
    return Node("sum", (template,), (letter, str(first), upper), node.column)


def extend_sums(node):
    """``\\sum_i y^{(i)} \\log h^{(i)} + (1 - y^{(i)}) \\log(1 - h^{(i)})``, written without brackets (CS229): the
    terms after the sum that use its index belong to it, as a teacher reads them."""
    def change(n):
        if n.kind != "add":
            return None
        args, signs = [extend_sums(a) for a in n.args], list(n.value)
        k = 0
        out_args, out_signs = [], []
        while k < len(args):
            a = args[k]
            total = a.args[0] if a.kind == "mul" and a.args and a.args[-1].kind == "sum" else None
            body_sum = a if a.kind == "sum" else (a.args[-1] if total is not None else None)
            if body_sum is not None and body_sum.value and body_sum.value[0]:
                letter = body_sum.value[0]
                extra = []
                j = k + 1
                while j < len(args) and _uses_index(args[j], letter):
                    extra.append((signs[j], args[j]))
                    j += 1
                if extra:
                    body = Node("add", [body_sum.args[0]] + [t for _, t in extra], ["+"] + [g for g, _ in extra],
                                body_sum.column)
                    new_sum = Node("sum", (body,), body_sum.value, body_sum.column)
                    a = new_sum if a.kind == "sum" else Node("mul", list(a.args[:-1]) + [new_sum], a.value, a.column)
                    out_args.append(a)
                    out_signs.append(signs[k])
                    k = j
                    continue
            out_args.append(a)
            out_signs.append(signs[k])
            k += 1
        if len(out_args) == len(n.args) and all(x is y for x, y in zip(out_args, n.args)):
            return n
        return out_args[0] if len(out_args) == 1 and out_signs[0] == "+" else \
            Node("add", out_args, tuple(out_signs), n.column)
    return rewrite(node, change)


def _uses_index(node, letter):
    """Does a term name the index ``letter`` (y^{(i)}, x_i) outside a sum of its own?"""
    def walk(n):
        if n.kind == "sum" and n.value and n.value[0] == letter:
            return False
        if n.kind == "sym" and (n.value.sample == letter or letter in n.value.sub):
            return True
        return any(walk(a) for a in n.args)
    return walk(node)


def _term_index(term):
    """The one subscript value (an int, or a size letter such as n) every indexed name of a term carries."""
    values = {n.value.sub[0] for n in term.walk() if n.kind == "sym" and len(n.value.sub) == 1}
    if len(values) != 1:
        return None
    v = values.pop()
    if v.isdigit():
        return int(v)
    return v if len(v) == 1 and v.isalpha() else None


def _with_index(node, old, new):
    return rewrite(node, lambda n: Node("sym", (), n.value.with_(sub=(new,)), n.column)
                   if n.kind == "sym" and n.value.sub == (old,) else None)


def desugar(node, defined_d=False):
    """Rewrite what a teacher reads differently from what is written: the course's ``dW^{[1]}`` (d times
    W⁽¹⁾, as parsed) is ∂J/∂W⁽¹⁾, written ``dname``; ``W1`` glued digits are handled by the key."""
    if node.kind == "mul":
        args, ops = list(node.args), list(node.value)
        out_args, out_ops = [], []
        k = 0
        changed = False
        while k < len(args):
            f = args[k]
            nxt = args[k + 1] if k + 1 < len(args) else None
            inner = nxt.args[0] if nxt is not None and nxt.kind == "transpose" else nxt
            if not defined_d and f.kind == "sym" and f.value == Symbol("d") and nxt is not None \
                    and ops[k] == "juxt" and inner.kind == "sym" and _glued(f, inner):
                f = Node("dname", (inner,), None, f.column)
                if nxt.kind == "transpose":          # dZ^T: the transpose of dZ
                    f = Node("transpose", (f,), None, f.column)
                if out_args:
                    out_ops.append(ops[k - 1])
                out_args.append(f)
                k += 2
                changed = True
                continue
            if out_args:
                out_ops.append(ops[k - 1])
            out_args.append(desugar(f, defined_d))
            k += 1
        if changed or out_args != list(node.args):
            if len(out_args) == 1:
                return out_args[0]
            return Node("mul", out_args, tuple(out_ops), node.column)
        return node
    return rewrite(node, lambda n: desugar(n, defined_d) if n is not node else None)


def _glued(d, target):
    """``dW`` written together (no space between d and the name)."""
    return d.column is not None and target.column is not None and target.column == d.column + 1


def layered_superscripts(rows):
    """The bases a document writes with layer superscripts (``a^l``, ``w^{l+1}``, ``\\delta^L``): their
    numeric superscripts are layers too (``a^2`` is layer 2's a), as in Nielsen's notation."""
    bases = set()
    for row in rows:
        for m in row.eq.members:
            for n in m.walk():
                if n.kind == "sym" and n.value.bracket == "^" and n.value.layer is not None:
                    bases.add(n.value.base)
    return bases


def relayer(node, bases):
    """``a^2`` → layer 2 of a, for a base written with layer superscripts."""
    def change(n):
        if n.kind == "pow" and n.args[0].kind == "sym" and n.args[0].value.base in bases \
                and n.args[0].value.layer is None and n.args[1].kind == "num" \
                and float(n.args[1].value).is_integer() and 0 <= n.args[1].value <= 9:
            sym = n.args[0].value.with_(layer=str(int(n.args[1].value)), bracket="^")
            return Node("sym", (), sym, n.args[0].column)
        return None
    return rewrite(node, change)


def unwrap_named_derivative(node):
    r"""``\delta^l_j`` named as ``\equiv \frac{\partial C}{\partial z^l_j}``: the left side is a name."""
    return node


class Sorter:
    """Reads equations in order into definitions, function definitions, named derivatives and claims."""

    def __init__(self, rows):
        self.rows = rows
        self.definitions = []            # Definition, in order
        self.functions = {}              # Key → Definition
        self.named = {}                  # Key → Named
        self.claims = []
        self.unread = []
        self.notes = []
        self.defined_d = False
        self.aliases = {}                # Key → a built-in function's name: g^{[1]} = \tanh
        self.examples = []               # (Key, number or tuple, Row): θ₀ = 0, w = (1, −2, 0) for a worked example
        self.defined = set()             # keys defined so far
        self.template_names = set()      # names defined with a symbolic layer (z^{[l]})
        self.dropped = {}                # Key → (line, why): a definition that could not be built
        self.failed = {}                 # Key → line: a definition that could not be read
        self.bases = layered_superscripts(rows)
        self.previous = None

    def run(self):
        for row in self.rows:
            eq = row.eq
            eq.members = [relayer(desugar(extend_sums(expand_ellipsis(m)), self.defined_d), self.bases)
                          for m in eq.members]
            try:
                self.sort(row)
            except (FormulaError, ValueError) as exc:
                self.skip(row, str(exc))
        self.prefer_matrices()
        self.unify_arguments()
        self.name_expressions()
        self.link_common_parts()
        return self

    def name_expressions(self):
        r"""``\frac{\partial L}{\partial (XW_1 + b_1)}``: a derivative with respect to an expression is one with
        respect to the quantity it computes: the expression is given a name (shown as written) and a
        definition, so the model holds it as a node (H = max(0, ·) then uses it)."""
        names = {}

        def rename(node):
            if node.kind == "deriv" and node.args[1].kind not in ("sym", "all"):
                expr = node.args[1]
                key = show(expr)
                if key not in names:
                    sym = Symbol(f"({key})")
                    names[key] = sym
                    row = next((c.row for c in self.claims), None)
                    self.add_definition(Definition(key_of(sym)[0], expr, row.line if row else 0,
                                                   row.section if row else (), True, (), f"({key}) = {key}", sym,
                                                   row, 0))
                return Node("deriv", (rename(node.args[0]), Node("sym", (), names[key], expr.column)), node.value,
                            node.column)
            if not node.args:
                return node
            new = [rename(a) for a in node.args]
            if all(a is b for a, b in zip(new, node.args)):
                return node
            return Node(node.kind, new, node.value, node.column)

        for c in self.claims:
            c.target = rename(c.target)
            c.members = [(rename(t), *rest) for t, *rest in c.members]

    def unify_arguments(self):
        r"""``a = \sigma(z)`` and later ``a^{(i)} = \sigma(w^T x^{(i)} + b)``: the same activation of what must be the
        same z, so z = wᵀx + b where the second one holds (a teacher reads the restatement as expanding z)."""
        by_key = {}
        for d in list(self.definitions):
            if d.params or d.symbol is None:
                continue
            for e in by_key.get(d.key, []):
                if e.tree.kind == d.tree.kind == "apply" and len(e.tree.args) == len(d.tree.args) == 2 \
                        and e.tree.args[0] == d.tree.args[0] and e.tree.args[1].kind == "sym" \
                        and d.tree.args[1].kind not in ("sym", "num"):
                    z = e.tree.args[1]
                    zkey = key_of(z.value)[0]
                    if _mentions(d.tree.args[1], zkey):
                        continue
                    zdef = Definition(zkey, d.tree.args[1], d.line, d.section, False, (),
                                      f"{show(z)} = {show(d.tree.args[1])}", z.value.with_(sample=None), d.row,
                                      d.column)
                    self.definitions.insert(self.definitions.index(d), zdef)
                    self.defined.add(zkey)
                    d.tree = Node("apply", (d.tree.args[0], z), None, d.tree.column)
            by_key.setdefault(d.key, []).append(d)

    def prefer_matrices(self):
        """The course writes each layer twice: ``z^{[1](i)} = W^{[1]}x^{(i)} + b^{[1]}`` for one example and
        ``Z^{[1]} = W^{[1]}X + b^{[1]}`` for all. A teacher reads the small letter as a column of the capital one:
        where both are defined, the capital's definition is the model's, and ``z^{[1](i)}`` is its column i."""
        capitals = {d.key for d in self.definitions if len(d.key.name) == 1 and d.key.name.isupper()}
        keep = []
        for d in self.definitions:
            twin = Key(d.key.name.upper(), d.key.slot) if len(d.key.name) == 1 and d.key.name.islower() else None
            per_example = d.symbol is not None and d.symbol.sample is not None
            layered = bool(d.key.slot) or d.key.name in ("z", "a", "h")      # not l beside L: two losses
            if twin is not None and twin in capitals and per_example and layered and not d.params:
                self.defined.discard(d.key)
                continue
            keep.append(d)
        self.definitions = keep

    def link_common_parts(self):
        """A teacher reads ``a^l = σ(w^l a^{l-1} + b^l)`` beside ``z^l = w^l a^{l-1} + b^l`` as a^l = σ(z^l): a
        definition's right side written out inside another definition is that quantity (so ∂C/∂z^l is not 0)."""
        plain = [d for d in self.definitions if not d.params and d.symbol is not None
                 and d.tree.kind not in ("sym", "num") and sum(1 for _ in d.tree.walk()) >= 3]
        by_shape = {}
        for e in plain:                      # looked up by shape: linear in the definitions, not quadratic
            by_shape.setdefault(_shape(e.tree), []).append(e)
        for d in self.definitions:
            inside = {_shape(n) for n in d.tree.walk() if n.args and n is not d.tree}     # a part of it, not all
            for e in [e for k in inside & by_shape.keys() for e in by_shape[k]]:
                if e is d or e.key == d.key or _mentions(e.tree, d.key):
                    continue
                name = Node("sym", (), e.symbol.with_(sub=tuple(i for i in e.symbol.sub if not (len(i) == 1 and
                                                                                               i.isalpha()))), None)
                new = _replace_subtree(d.tree, e.tree, name)
                if new is not d.tree:
                    d.tree = new

    def skip(self, row, why, column=None):
        self.unread.append(Unread(row.line, column or row.column, row.cell, _short(self.text_of(row), 64), why))

    def text_of(self, row, members=None):
        eq = row.eq
        parts = []
        ms = eq.members if members is None else [eq.members[i] for i in members]
        rels = eq.rels
        for k, m in enumerate(ms):
            if k:
                rel = rels[k - 1] if k - 1 < len(rels) else "="
                parts.append(f" {rel} ")
            parts.append(show(m))
        return "".join(parts)

    def defined_keys(self, row):
        keys = set()
        for d in self.definitions:
            if d.line <= row.line or d.first:
                keys.add(d.key)
        return keys

    def is_defined(self, key):
        return key in self.defined or key.name in self.template_names or key in self.functions

    def sort(self, row):
        eq = row.eq
        members = eq.members
        rels = eq.rels
        if eq.continues:
            prev = self.previous
            if prev is None or prev[0] not in ("claim", "definition", "update"):
                self.skip(row, "an equation that starts with '=' and follows no equation")
                return
            kind, claim = prev
            if kind == "update":
                # w = w − α ∂L/∂w \\ = w − α (ŷ − y) x: each further link steps along a gradient too
                for i, m in enumerate(members):
                    self.update_rule([claim.param, m], ["="], row, [row.starts[0], row.starts[i]], keep_previous=True)
                return
            if kind == "claim":
                new = Claim(claim.kind, claim.target, [(m, *row.starts[i], show(m)) for i, m in enumerate(members)],
                            row, claim.param, claim.sign, claim.named)
                self.claims.append(new)
                return
            # continuing a definition: the new links are identities about the defined expression
            d = claim
            self.claims.append(Claim("identity", d.tree, [(m, *row.starts[i], show(m)) for i, m in enumerate(members)],
                                     row))
            return
        bad = [r for r in rels if r not in EQUALS]
        if bad:
            what = {"≈": "an approximation", "∝": "a proportionality", "∈": "a set membership", "~": "a "
                    "distribution"}.get(bad[0], "an inequality")
            if bad[0] in ("<", ">", "≤", "≥", "≠"):
                self.previous = None
                return                       # a condition or a range: not an equation to check
            self.skip(row, f"{what} ({bad[0]}), not a claim of equality")
            self.previous = None
            return
        lhs = members[0]
        # words: L = \text{mean squared error} …
        if lhs.kind == "text":
            self.skip(row, f"a statement in words ({lhs.value}): no formula to check")
            return
        keep = [i for i, m in enumerate(members) if m.kind != "text"]
        if len(keep) < 2:
            self.skip(row, "nothing but words on one side")
            return
        members = [members[i] for i in keep]
        starts = [row.starts[i] if i < len(row.starts) else (row.line, row.column) for i in keep]
        rels = [rels[i - 1] if 0 < i <= len(rels) else "=" for i in keep[1:]]
        upd = self.update_rule(members, rels, row, starts)
        if upd:
            return
        if lhs.kind == "tuple" and len(members) == 2 and members[1].kind == "tuple" \
                and len(lhs.args) == len(members[1].args) and all(a.kind == "sym" for a in lhs.args) \
                and is_number(members[1]):
            for a, v in zip(lhs.args, members[1].args):      # (x, y, z) = (−3, 4, 2): a worked example's values
                self.examples.append((key_of(a.value)[0], v, row))
            return
        if lhs.kind == "sym":
            applied = _applied_functions(members)
            if applied is not None:
                # σ' = σ(1 − σ), tanh' = 1 − tanh²: functions, said of their values at any z
                claim = Claim("identity", applied[0], [(m, *starts[i], show(m)) for i, m in enumerate(applied)
                                                       if i], row)
                self.claims.append(claim)
                self.previous = ("claim", claim)
                return
            self.sort_name(row, members, rels, starts)
            return
        if lhs.kind == "apply" and lhs.args[0].kind == "sym" and not lhs.args[0].value.primes \
                and not all(a.kind == "sym" for a in lhs.args[1:]) and len(members) == 2 \
                and key_of(lhs.args[0].value)[0].name in LOSS_NAMES \
                and not any(is_number(a) for a in lhs.args[1:]) and not has_derivative(members[1], self.named):
            # loss(f_{w,b}(x^{(i)}), y^{(i)}) = −y^{(i)} log f_{w,b}(x^{(i)}) − …: a function written at its
            # arguments; its parameters are those expressions wherever they stand in the body
            params = [Node("sym", (), Symbol(f"⟨{k + 1}⟩"), a.column) for k, a in enumerate(lhs.args[1:])]
            body = members[1]
            for a, p in zip(lhs.args[1:], params):
                body = replace_subtree(body, a, p)
            lhs2 = Node("apply", (lhs.args[0], *params), None, lhs.column)
            self.define_function(row, lhs2, [lhs2, body], starts)
            self.functions[key_of(lhs.args[0].value)[0]].defaults = tuple(lhs.args[1:])
            return
        if lhs.kind == "apply" and lhs.args[0].kind == "sym" and not lhs.args[0].value.primes \
                and all(a.kind == "sym" for a in lhs.args[1:]) and not any(has_derivative(m, self.named)
                                                                         for m in members[1:]):
            self.define_function(row, lhs, members, starts)
            return
        if lhs.kind == "deriv" and lhs.args[1].kind == "all" and lhs.args[0].kind == "apply" \
                and len(lhs.args[0].args) == 2 and lhs.args[0].args[1].kind == "sym":
            # ∇J(θ): the gradient with respect to J's one argument, ∂J/∂θ
            lhs = Node("deriv", (lhs.args[0], lhs.args[0].args[1]), lhs.value, lhs.column)
            members = [lhs] + members[1:]
        if lhs.kind == "deriv" and lhs.args[1].kind == "all":
            # ∇U = [∂U/∂β₀; ∂U/∂β₁]: a gradient vector, its rows in the order of the parameters' names
            claim = Claim("gradient", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
            self.claims.append(claim)
            self.previous = ("claim", claim)
            return
        if lhs.kind in ("deriv", "dname") or (lhs.kind == "sym" and key_of(lhs.value)[0] in self.named):
            self.claim_derivative(row, lhs, members, starts)
            return
        # an identity: σ'(z) = σ(z)(1 − σ(z)), σ(z) = 1/(1 + e^{−z}), tanh'(u) = 1 − tanh²(u)
        claim = Claim("identity", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i],
                      row)
        self.claims.append(claim)
        self.previous = ("claim", claim)

    def sort_name(self, row, members, rels, starts):
        lhs = members[0]
        sym = lhs.value
        key, letters, sample = key_of(sym)
        named = self.named.get(key) or self.named_for_loss(key, sym) or next(
            (n for k, n in self.named.items() if k.name == key.name and k.symbolic()), None) \
            or self.named_instance(key, sym)
        if named is not None and not self.fresh_definition(members):
            self.claim_named(row, named, members, starts)
            return
        derivative_at = next((i for i, m in enumerate(members) if i and has_derivative(m, self.named)), None)
        if derivative_at is not None and not self.is_defined(key):
            first = members[derivative_at]
            if first.kind in ("deriv", "dname"):
                # δ := ∂C/∂z = …: the first derivative names it; the rest are claims about it
                n = Named(key, first.args[0] if first.kind == "deriv" else None,
                          first.args[1] if first.kind == "deriv" else first.args[0], row.line, row.section,
                          symbol=sym)
                if first.kind == "dname":
                    n.of, n.wrt = None, first.args[0]
                self.named[key] = n
                rest = members[derivative_at + 1:]
                if derivative_at > 1:
                    rest = [m for m in members[1:derivative_at]] + rest
                if rest:
                    claim = Claim("derivative", first, [(m, *starts[members.index(m)], show(m)) for m in rest], row,
                                  named=n)
                    self.claims.append(claim)
                    self.previous = ("claim", claim)
                return
            if key.name in ("delta", "Delta", "d"):
                claim = Claim("derivative", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
                self.claims.append(claim)
                self.previous = ("claim", claim)
                return
        body = members[-1]
        if (body.kind == "func" or (body.kind == "sym" and body.value.base == "sigma" and not body.value.sub
                                    and body.value.layer is None)) \
                and all(m.kind == "sym" for m in members[:-1]):
            # g^{[1]} = \tanh, f = σ, g^{[1]} = g^{[2]} = ReLU: the name of an activation function
            name = body.value if body.kind == "func" else "sigmoid"
            for m in members[:-1]:
                self.aliases[key_of(m.value)[0]] = name if isinstance(name, str) else name[0]
            return
        if all(is_number(m) for m in members[1:]):
            if self.is_defined(key) or self.defines_later(key, row):
                # q = x + y, then "the forward pass gives q = 1": the value at the worked example, a claim
                claim = Claim("example", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
                self.claims.append(claim)
                return
            # θ₀ = 0, b = 0.5, w = (1, −2, 0): a value for a worked example (a starting point), not what the name
            # means
            self.examples.append((key, members[1], row))
            if len(members) > 2:
                claim = Claim("arithmetic", members[1], [(m, *starts[2 + i], show(m)) for i, m in
                                                         enumerate(members[2:])], row)
                self.claims.append(claim)
            return
        if len(key.name) == 1 and key.name in "ijkl" and not key.slot and all(
                n.kind in ("num", "add", "neg") or (n.kind == "sym" and n.value.base in ("L", "m", "n", "N", "K"))
                for m in members[1:] for n in m.walk()):
            return                                   # i = 1, l = L − 1: an index's range
        if derivative_at is not None:
            # a defined name equal to a derivative: an identity (ŷ − y = ∂L/∂ŷ)
            claim = Claim("identity", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
            self.claims.append(claim)
            self.previous = ("claim", claim)
            return
        if key.name in ("x", "X", "y", "Y") and not sym.accent and self.models_the_data(members):
            self.skip(row, f"a model of the data {show_symbol(sym)} ({show_symbol(sym)} is data here), not a "
                      "definition the checks use")
            return
        if key.name in SIZES and not key.slot and members[1].kind == "num":
            self.examples.append((key, members[1], row))     # m = 100: a size (m = 1: "with one example")
            return
        if any(n.kind == "sym" and key_of(n.value.with_(primes=0))[0] == key for m in members[1:] for n in m.walk()):
            self.skip(row, f"{show_symbol(sym)} on both sides: an update or a recurrence whose step cannot be read "
                      "(write w := w − α ∂J/∂w)")
            return
        earlier = next((d for d in reversed(self.definitions) if d.key == key and not d.params), None)
        if key.name in LOSS_NAMES and earlier is not None and in_scope(earlier.section, row.section):
            # the cost written again another way (J = 1/(2m)(Xθ − y)ᵀ(Xθ − y) after the sum): a claim they agree;
            # a cost of another kind is also a new cost for what follows
            if not self.restated(earlier, lhs, members, starts, row):
                return
        # a definition: the first link defines; a chain of names (L = MSE = …) defines each name
        k = 1
        names = [lhs]
        while k < len(members) - 1 and members[k].kind == "sym" and not self.is_defined(key_of(members[k].value)[0]):
            names.append(members[k])
            k += 1
        body = members[k]
        first = not self.is_defined(key)
        for n in names:
            nk = key_of(n.value)[0]
            d = Definition(nk, body, row.line, row.section, not self.is_defined(nk), (), self.text_of(row),
                           n.value, row, row.column)
            self.add_definition(d)
        if key == Key("d"):
            self.defined_d = True
        rest = members[k + 1:]
        if rest:
            claim = Claim("identity", body, [(m, *starts[k + 1 + i], show(m)) for i, m in enumerate(rest)], row)
            self.claims.append(claim)
            self.previous = ("claim", claim)
        else:
            self.previous = ("definition", self.definitions[-1])
        if not first:
            self.definitions[-1].first = False

    def restated(self, earlier, lhs, members, starts, row):
        """A cost written again: a claim that it equals the ``earlier`` one. True when it is of another kind
        (squared error, then cross-entropy), so that it also defines the cost from here on."""
        claim = Claim("identity", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row,
                      restates=family(earlier.tree) != family(members[-1]))
        self.claims.append(claim)
        self.previous = ("claim", claim)
        return claim.restates

    def named_for_loss(self, key, sym):
        """δ^{(L)}_{quad} beside C_{quad} = …: the named derivative (δ^{(l)} ≡ ∂C/∂z^{(l)}) of that other cost."""
        parts = key.slot.split(",")
        words = [p for p in parts if len(p) > 1 and p.isalpha()]
        if len(words) != 1:
            return None
        word = words[0]
        loss = next((k for k in self.defined if k.slot == word and k.name in LOSS_NAMES), None)
        template = next((n for k, n in self.named.items() if k.name == key.name and n.of is not None), None)
        if loss is None or template is None or template.wrt is None or template.wrt.kind != "sym":
            return None
        layer = next((p for p in parts if p != word), None)
        wrt = template.wrt.value.with_(layer=layer) if layer is not None and template.wrt.value.layer is not None \
            else template.wrt.value
        one = Named(key, Node("sym", (), Symbol(loss.name, sub=(word,)), None), Node("sym", (), wrt, None),
                    template.line, template.section, symbol=sym)
        self.named[key] = one
        return one

    def named_instance(self, key, sym):
        """δ₂ under ``δ_k = ∂L/∂Z_k`` (a name for the derivative by each layer's Z, the index a letter): the
        named derivative of that layer, ∂L/∂Z₂; None when no such name is given."""
        if not key.slot.isdigit():
            return None
        for k, n in list(self.named.items()):
            s = n.symbol
            if k.name != key.name or s is None or len(s.sub) != 1 or not s.sub[0].isalpha() or len(s.sub[0]) != 1:
                continue
            letter = s.sub[0]
            if n.wrt is None or not any(x.kind == "sym" and letter in x.value.sub for x in n.wrt.walk()):
                continue
            from .judge import substitute_index
            one = Named(key, n.of, substitute_index(n.wrt, letter, key.slot), n.line, n.section,
                        symbol=sym.with_(primes=0))
            self.named[key] = one
            return one
        return None

    def defines_later(self, key, row):
        """Is ``key`` defined by a formula (not a number) on a row after ``row``?"""
        later = False
        for r in self.rows:
            if r is row:
                later = True
                continue
            if later and r.eq.members and r.eq.members[0].kind == "sym" and len(r.eq.members) > 1 \
                    and key_of(r.eq.members[0].value)[0] == key and not is_number(r.eq.members[1]) \
                    and not r.eq.continues:
                return True
        return False

    def add_definition(self, d):
        self.definitions.append(d)
        self.defined.add(d.key)
        if d.key.symbolic():
            self.template_names.add(d.key.name)

    def fresh_definition(self, members):
        return False

    def models_the_data(self, members):
        """Is ``y = w x + b + ε`` a model of the data (y is the target), rather than the net's output y? The
        data when it has a noise term, or when no other name is the target (t, y_true)."""
        body = members[-1]
        if any(n.kind == "sym" and n.value.base in ("epsilon", "varepsilon", "eta", "xi") for n in body.walk()):
            return True
        for row in self.rows:
            for m in row.eq.members:
                for n in m.walk():
                    if n.kind == "sym" and (n.value.base in ("t", "T") or "true" in n.value.sub
                                            or n.value.base in ("target",)):
                        return False
        return True

    def define_function(self, row, lhs, members, starts):
        head, *params = lhs.args
        sym = head.value
        key = key_of(sym)[0]
        from ..notation import FUNCTION_ALIASES
        if key.name in FUNCTION_ALIASES and not key.slot:
            # σ(z) = 1/(1 + e^{−z}): a built-in function: the equation is a claim about it
            claim = Claim("identity", lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
            self.claims.append(claim)
            self.previous = ("claim", claim)
            return
        pkeys = tuple(key_of(p.value)[0] for p in params)
        earlier = self.functions.get(key)
        if earlier is not None and in_scope(earlier.section, row.section) and earlier.params == pkeys \
                and not earlier.defaults:
            # J(θ) written again another way: a claim that both agree, J(θ) as first defined
            if not self.restated(earlier, lhs, members, starts, row):
                return
        body = members[1]
        d = Definition(key, body, row.line, row.section, key not in self.functions, pkeys, self.text_of(row), sym,
                       row, row.column)
        self.functions[key] = d
        self.add_definition(d)
        rest = members[2:]
        if rest:
            claim = Claim("identity", body, [(m, *starts[2 + i], show(m)) for i, m in enumerate(rest)], row)
            self.claims.append(claim)
            self.previous = ("claim", claim)
        else:
            self.previous = ("definition", d)

    def claim_derivative(self, row, lhs, members, starts):
        kind = "derivative"
        from ..notation import FUNCTION_ALIASES
        head = lhs.args[0].args[0] if lhs.kind == "deriv" and lhs.args[0].kind == "apply" else None
        if head is not None and (head.kind == "func" or (head.kind == "sym" and not head.value.sub
                                                         and FUNCTION_ALIASES.get(head.value.base))) \
                and len(lhs.args[0].args) == 2 and lhs.args[0].args[1] == lhs.args[1]:
            kind = "identity"           # dσ(z)/dz = σ(z)(1 − σ(z)): a fact about σ, for any number z
        claim = Claim(kind, lhs, [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row)
        self.claims.append(claim)
        self.previous = ("claim", claim)

    def claim_named(self, row, named, members, starts):
        claim = Claim("derivative", members[0], [(m, *starts[i], show(m)) for i, m in enumerate(members) if i], row,
                      named=named)
        self.claims.append(claim)
        self.previous = ("claim", claim)

    def update_rule(self, members, rels, row, starts, keep_previous=False):
        r"""``w := w - \alpha G`` (also ``w \leftarrow``, Nielsen's ``w \rightarrow w' = w - \eta G``,
        ``w^{(t+1)} = w^{(t)} - \eta G``): a claim that G is the loss's gradient with respect to w."""
        lhs = members[0]
        if lhs.kind != "sym" or len(members) < 2:
            return False
        target_key = _param_key(lhs.value)
        last = members[-1]
        if last.kind != "add" or len(last.args) < 2:
            return False
        first = last.args[0]
        if first.kind != "sym" or _param_key(first.value) != target_key or last.value[0] != "+":
            return False
        if any(m.kind != "sym" or _param_key(m.value) != target_key for m in members[1:-1]):
            return False
        if not (rels[0] in (":=", "←", "→") or lhs.value.primes or lhs.value.layer != first.value.layer
                or _iteration(lhs.value) or _iteration(first.value) or rels[0] == "="):
            return False
        if len(last.args) != 2:
            return False
        sign = -1 if last.value[1] == "-" else 1
        step = last.args[1]
        rate, gradient = _split_rate(step)
        if rate is None:
            return False
        claim = Claim("update", gradient, [(gradient, *starts[-1], show(gradient))], row,
                      param=Node("sym", (), _strip_iteration(lhs.value), lhs.column), sign=sign)
        claim.note = show(rate)
        self.claims.append(claim)
        self.previous = ("update", claim)
        return True


def _mentions(tree, key):
    return any(n.kind == "sym" and key_of(n.value)[0] == key for n in tree.walk())


def _replace_subtree(tree, part, name):
    """``tree`` with every copy of ``part`` (index letters aside) replaced by ``name``; the same object if none."""
    if tree == part or _same_but_indices(tree, part):
        return name
    if not tree.args:
        return tree
    new = [_replace_subtree(a, part, name) for a in tree.args]
    if all(a is b for a, b in zip(new, tree.args)):
        return tree
    return Node(tree.kind, new, tree.value, tree.column)


def _shape(node):
    """A tree's form as `_same_but_indices` compares it (names by what they refer to), hashable."""
    if node.kind == "sym":
        return ("sym", key_of(node.value)[0], node.value.primes)
    return (node.kind, repr(node.value), tuple(_shape(a) for a in node.args))


def _same_but_indices(a, b):
    """Equal trees up to index letters on names (Σₖ wⱼₖ aₖ + bⱼ is the same sum as the one defining zⱼ)."""
    if a.kind != b.kind or len(a.args) != len(b.args):
        return False
    if a.kind == "sym":
        return key_of(a.value)[0] == key_of(b.value)[0] and a.value.primes == b.value.primes
    if a.value != b.value:
        return False
    return all(_same_but_indices(x, y) for x, y in zip(a.args, b.args))


def _iteration(sym):
    return sym.layer is not None and sym.bracket == "(" and re.fullmatch(r"[tτk](?:[+-]\d+)?", sym.layer or "")


def _strip_iteration(sym):
    if _iteration(sym):
        sym = sym.with_(layer=None, bracket="")
    return sym.with_(primes=0)


def _param_key(sym):
    return key_of(_strip_iteration(sym))[0]


_RATES = {"alpha", "eta", "lambda", "epsilon", "gamma", "mu"}


def _split_rate(step):
    """``\\alpha \\frac{\\partial J}{\\partial w}`` → (α, the gradient); ``\\frac{\\alpha}{m}\\sum …`` → (α/m·…)."""
    if step.kind == "apply" and len(step.args) == 2 and step.args[0].kind == "sym" and step.args[0].value.base in \
            _RATES and not step.args[0].value.primes:
        return step.args[0], step.args[1]            # η(…): the rate times a bracket
    if step.kind == "mul" and step.args and step.args[0].kind == "apply":
        rate, first = _split_rate(step.args[0])
        if rate is not None:
            return rate, Node("mul", (first, *step.args[1:]), step.value, step.column)
    if step.kind == "mul":
        factors, ops = list(step.args), list(step.value)
        for k, f in enumerate(factors):
            if f.kind == "sym" and (f.value.base in _RATES or f.value.base in ("lr",)) and not f.value.sub:
                if k and ops[k - 1] == "div":
                    return None, None
                rest = factors[:k] + factors[k + 1:]
                rest_ops = ops[:k - 1] + ops[k:] if k else ops[1:]
                if not rest:
                    return None, None
                g = rest[0] if len(rest) == 1 else Node("mul", rest, tuple(rest_ops), rest[0].column)
                return f, g
            if f.kind == "mul" and f.value == ("div",) and f.args[0].kind == "sym" and f.args[0].value.base in _RATES:
                # \frac{\alpha}{m} Σ …: α over m times the rest
                rest = [Node("mul", (Node("num", (), 1.0, f.column), f.args[1]), ("div",), f.column)] + \
                    factors[:k] + factors[k + 1:]
                rest_ops = ["juxt"] + (ops[:k - 1] + ops[k:] if k else ops[1:])
                g = Node("mul", rest, tuple(rest_ops[:len(rest) - 1]), rest[0].column)
                return f.args[0], g
    return None, None


def sort_equations(rows):
    return Sorter(rows).run()
