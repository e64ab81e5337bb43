r"""Normalize layout away: the second stage of microreg's reader (find math → **layout** → parse → resolve).

A formula as people type it carries much that is not math: spacing (``\,`` ``\quad``), sizes
(``\left( \bigl[``), colours, tags and labels, fonts (``\mathbf{x}``), remarks (``\text{(chain rule)}``),
conditions after a comma (``, \text{if } z > 0``), Markdown escapes (``a\_1``), Unicode scripts
(``x²``, ``Wᵀ``, ``a₁``). Each **rule** below removes or rewrites one such thing; each is small, named in
`RULES`, and tested on its own. A `Text` remembers, for every character left, where it stood in the
original, so a reader's error still points at the user's column.

What this module lets you do:

- ``clean(text, python=False) -> Text``: every rule applied, in order (``python=True`` for the
  Python-like notation of `verify` strings: fewer rules, names keep their Unicode digits).
- ``split_rows(text) -> [Text]``: the rows of a display (``\\``, ``\newline``, ``align``/``gather``
  environments; ``cases`` and matrices stay whole), alignment ``&`` removed.
- ``split_equations(row) -> [Text]``: several equations in one row, separated by ``,`` ``;``
  ``\quad`` ``\qquad`` or words (``\text{and}``, ``\text{where}``); a condition after a comma (``, z > 0``,
  ``\text{for } i = 1, \dots, m``) is dropped, as a teacher reads it.
- `Text`: ``.s`` (the text now), ``.pos`` (original offset of each character, one more at the end),
  ``.origin(i)`` (the original offset of position ``i``).

Markers the grammar (``notation.lark``) reads: ``\x10`` a ``\quad`` (spacing, or a separator between two
equations: `split_equations` decides), ``\x01 … \x02`` a pair of bars ``|x|``, ``\x03 … \x04``
a norm ``‖x‖``, ``\x05 … \x06`` a ``cases`` environment with rows split by ``\x07``, ``\x0e … \x0f`` a
matrix (rows ``\x07``, columns ``&``).
"""

import re

__all__ = ["Text", "clean", "split_rows", "split_equations", "RULES", "matching"]


class Text:
    """A string and the original offset of each of its characters (``pos`` has one more entry: the end)."""

    __slots__ = ("s", "pos")

    def __init__(self, s, pos=None, base=0):
        self.s = s
        self.pos = list(range(base, base + len(s) + 1)) if pos is None else pos

    def __repr__(self):
        return f"Text({self.s!r})"

    def __len__(self):
        return len(self.s)

    def origin(self, i):
        """The original offset of position ``i`` (clamped to the text)."""
        return self.pos[max(0, min(i, len(self.pos) - 1))]

    def slice(self, a, b):
        return Text(self.s[a:b], self.pos[a:b] + [self.pos[b] if b < len(self.pos) else self.pos[-1]])

    def edit(self, edits, inserts_first=False):
        """Apply ``edits`` [(start, end, replacement)], sorted and not overlapping: replacement is a string
        (its characters take the start's offset) or "" to delete. Linear in the length. ``inserts_first``:
        an insertion (start == end) goes before a replacement that starts at the same place."""
        if not edits:
            return self
        out, pos, i = [], [], 0
        order = (lambda e: (e[0], e[1] != e[0])) if inserts_first else (lambda e: (e[0], e[1]))
        for a, b, rep in sorted(edits, key=order):
            if a < i:           # overlapping edits: keep the first
                continue
            out.append(self.s[i:a])
            pos.extend(self.pos[i:a])
            if rep:
                out.append(rep)
                pos.extend([self.pos[a]] * len(rep))
            i = b
        out.append(self.s[i:])
        pos.extend(self.pos[i:])
        return Text("".join(out), pos)

    def strip(self):
        a = len(self.s) - len(self.s.lstrip())
        b = len(self.s.rstrip())
        return self.slice(a, max(a, b))


def matching(s, i, open_="{", close="}"):
    """Index of the bracket closing the one at ``s[i]`` (escaped brackets skipped), or -1."""
    depth, j, n = 0, i, len(s)
    while j < n:
        ch = s[j]
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


def _group_after(s, i):
    """(start, end) of the ``{…}`` group, command or single character starting at ``s[i]`` (spaces skipped);
    end is exclusive. (i, i) if there is nothing."""
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    if i >= n:
        return i, i
    if s[i] == "{":
        j = matching(s, i)
        return (i, j + 1) if j > 0 else (i, i)
    if s[i] == "\\":
        m = re.match(r"\\[A-Za-z]+|\\.", s[i:])
        return i, i + m.end()
    return i, i + 1


def _regex_rule(pattern, replacement="", flags=0):
    """A rule that replaces every match of ``pattern`` by ``replacement`` (a string, or a function of the match)."""
    rx = re.compile(pattern, flags)

    def rule(t):
        edits = []
        for m in rx.finditer(t.s):
            rep = replacement(m) if callable(replacement) else replacement
            edits.append((m.start(), m.end(), rep))
        return t.edit(edits)
    return rule


def _unwrap_rule(commands, drop_args=0, keep=True):
    r"""``\cmd{a}{b}{X}`` → ``X`` (``drop_args`` groups dropped, then the kept group unwrapped), or the
    whole thing dropped (``keep=False``)."""
    rx = re.compile(r"\\(" + "|".join(commands) + r")\*?(?![A-Za-z])\s*")

    def rule(t):
        s = t.s
        edits = []
        for m in rx.finditer(s):
            i = m.end()
            ok = True
            for _ in range(drop_args):
                a, b = _group_after(s, i)
                if a == b:
                    ok = False
                    break
                i = b
            if not ok:
                continue
            a, b = _group_after(s, i)
            if not keep:
                edits.append((m.start(), b if a < b else i, " "))
            elif a < b and s[a] == "{":
                edits.append((m.start(), a + 1, ""))
                edits.append((b - 1, b, ""))
            else:
                edits.append((m.start(), a, ""))
        return t.edit(_disjoint(edits))
    return rule


def _disjoint(edits):
    """Edits that overlap an earlier one (nested commands) are dropped: the rule runs again."""
    out, end = [], -1
    for e in sorted(edits, key=lambda e: (e[0], e[1])):
        if e[0] >= end or e[0] == e[1]:
            out.append(e)
            end = max(end, e[1])
    return out


def _repeat(rule, times=8):
    def run(t):
        for _ in range(times):
            before = t.s
            t = rule(t)
            if t.s == before:
                break
        return t
    run.__doc__ = rule.__doc__
    return run


# --- the rules ------------------------------------------------------------------------------------------

def control_characters(t):
    """Control characters a user typed become spaces (the reader's markers are control characters)."""
    return _regex_rule(r"[\x00-\x08\x0b-\x1f\x7f]", " ")(t)


def markdown_escapes(t):
    r"""Markdown's escapes inside math: ``a\_1`` → ``a_1``, ``\\frac`` (a doubled backslash before a
    command, as some blog engines need) → ``\frac``, ``\*`` → ``*``."""
    t = _regex_rule(r"\\(?=_)|\\(?=\*)", "")(t)
    return _regex_rule(r"\\(?=\\[A-Za-z])", "")(t) if re.search(r"\\\\(frac|partial|sum|hat|sigma)", t.s) else t


_SUPERSCRIPTS = {"⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8",
                 "⁹": "9", "⁺": "+", "⁻": "-", "⁽": "(", "⁾": ")", "ⁱ": "i", "ⁿ": "n", "ᴸ": "L", "ˡ": "l",
                 "ᵀ": "T", "ʲ": "j", "ᵏ": "k", "ᵗ": "t", "ᵐ": "m"}
_SUBSCRIPTS = {"₀": "0", "₁": "1", "₂": "2", "₃": "3", "₄": "4", "₅": "5", "₆": "6", "₇": "7", "₈": "8",
               "₉": "9", "₊": "+", "₋": "-", "₍": "(", "₎": ")", "ᵢ": "i", "ⱼ": "j", "ₖ": "k", "ₗ": "l",
               "ₘ": "m", "ₙ": "n"}
_SUP_RUN = re.compile("[" + "".join(_SUPERSCRIPTS) + "]+")
_SUB_RUN = re.compile("[" + "".join(_SUBSCRIPTS) + "]+")


def unicode_scripts(t):
    """Unicode superscripts and subscripts become scripts: ``x²`` → ``x^{2}``, ``Wᵀ`` → ``W^{T}``,
    ``a⁽ˡ⁾`` → ``a^{(l)}``, ``a₁`` → ``a_{1}``."""
    t = _regex_rule(_SUP_RUN, lambda m: "^{" + "".join(_SUPERSCRIPTS[c] for c in m.group(0)) + "}")(t)
    return _regex_rule(_SUB_RUN, lambda m: "_{" + "".join(_SUBSCRIPTS[c] for c in m.group(0)) + "}")(t)


def unicode_symbols(t):
    """Symbols with a LaTeX twin: ``≔`` stays, ``∑`` is ``Σ``, ``⋅`` is ``·``, a non-breaking space is a space."""
    return _regex_rule(r"[\u00a0\u2009\u202f\u2002\u2003]", " ")(t)


def delimiters(t):
    r"""Sizes of brackets carry no math: ``\left( … \right)``, ``\bigl[``, ``\Bigg\{`` keep just the bracket;
    ``\left.`` and ``\right.`` go; an evaluation bar ``\right|_{z=0}`` goes with its note; ``\lvert``,
    ``\vert``, ``\mid`` are ``|``, ``\lVert``, ``\Vert``, ``\|`` and ``‖`` a norm's bar; ``\lbrace`` is ``\{``."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\right\s*(\||\\vert|\\rvert)\s*_\s*", s):
        a, b = _group_after(s, m.end())
        edits.append((m.start(), b, " "))
    t = t.edit(edits)
    t = _regex_rule(r"\\(left|right|middle)\s*\.", " ")(t)
    t = _regex_rule(r"\\(left|right|middle|[bB]igg?[lrm]?)(?![A-Za-z])\s*", "")(t)
    t = _regex_rule(r"\\(lvert|rvert|vert|mid)(?![A-Za-z])", "|")(t)
    t = _regex_rule(r"\\(lVert|rVert|Vert)(?![A-Za-z])|\\\||‖", "‖")(t)
    t = _regex_rule(r"\\lbrace(?![A-Za-z])", r"\{")(t)
    t = _regex_rule(r"\\rbrace(?![A-Za-z])", r"\}")(t)
    t = _regex_rule(r"\\langle(?![A-Za-z])", "(")(t)
    return _regex_rule(r"\\rangle(?![A-Za-z])", ")")(t)


def spacing(t):
    r"""Spacing: ``\, \; \: \! \ ~ \quad \qquad \hspace{…} \enspace \phantom{…}`` (between equations,
    ``\quad`` separates them: `split_equations` reads it first)."""
    t = _regex_rule(r"\\(hspace|hskip)\*?\s*(\{[^{}]*\}|[0-9.]+\s*[a-z]{2})", " \x10 ")(t)
    t = _unwrap_rule(["vspace", "phantom", "hphantom", "vphantom", "kern", "mkern", "mspace"], keep=False)(t)
    t = _regex_rule(r"\\(quad|qquad)(?![A-Za-z])", " \x10 ")(t)    # maybe between equations: split_equations decides
    return _regex_rule(r"\\(enspace|thinspace|medspace|thickspace|negthinspace)(?![A-Za-z])|"
                       r"(?<!\\)\\[,;:! >]|(?<!\\)~", " ")(t)


def sizes_and_styles(t):
    r"""``\displaystyle``, ``\textstyle``, ``\large``, ``\small``, ``\limits``, ``\nonumber``, ``\notag``,
    ``\hline`` and the like change how a formula looks, not what it says."""
    return _regex_rule(r"\\(displaystyle|textstyle|scriptstyle|scriptscriptstyle|tiny|scriptsize|footnotesize|"
                       r"small|normalsize|large|Large|LARGE|huge|Huge|limits|nolimits|nonumber|notag|hline|"
                       r"toprule|midrule|bottomrule|bf|it|rm|sf|tt|boldmath|unboldmath|allowbreak|newpage|"
                       r"centering|noindent)(?![A-Za-z])", " ")(t)


def tags_and_labels(t):
    r"""Equation numbers and references: ``\tag{3}``, ``\tag*{…}``, ``\label{eq:grad}``, ``\eqref{…}``,
    ``\ref{…}``, ``\nonumber``."""
    return _unwrap_rule(["tag", "label", "eqref", "ref", "cite", "footnote", "hypertarget"], keep=False)(t)


def colours(t):
    r"""Colours and boxes: ``\color{red}{X}`` → X, ``\color{red} X`` → X, ``\textcolor{red}{X}``,
    ``\colorbox{…}{X}``, ``\boxed{X}``, ``\fbox{X}``, ``\cancel{X}`` → X."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\color\s*", s):
        a, b = _group_after(s, m.end())
        if a == b:
            continue
        c, d = _group_after(s, b)
        if c < d and s[c] == "{":
            edits.append((m.start(), c + 1, ""))
            edits.append((d - 1, d, ""))
        else:
            edits.append((m.start(), b, " "))
    t = t.edit(_disjoint(edits))
    t = _repeat(_unwrap_rule(["textcolor", "colorbox"], drop_args=1))(t)
    t = _repeat(_unwrap_rule(["fcolorbox"], drop_args=2))(t)
    return _repeat(_unwrap_rule(["boxed", "fbox", "cancel", "bcancel", "xcancel", "bbox", "smash", "mathstrut",
                                 "underline", "emph", "hbox"]))(t)


def fonts(t):
    r"""Fonts carry no math: ``\mathbf{x}``, ``\boldsymbol{\delta}``, ``\bm{w}``, ``\mathit{x}``, ``\vec{w}``
    (a vector's arrow), ``\pmb{x}`` → the letter. ``\mathrm{d}`` (a derivative's d) → d, ``\mathrm{T}``,
    ``\mathsf{T}``, ``\top``, ``\intercal`` (a transpose) → T; ``\operatorname*`` → ``\operatorname``."""
    t = _regex_rule(r"\\(mathrm|mathsf|mathit|text|operatorname)\s*\{\s*(T|\\top)\s*\}|\\top(?![A-Za-z])|"
                    r"\\intercal(?![A-Za-z])|\\mathsf\s*T(?![A-Za-z])", "T")(t)
    t = _regex_rule(r"\\(mathrm|mathit|text|operatorname)\s*\{\s*d\s*\}", "d")(t)
    t = _regex_rule(r"\\operatorname\*", r"\\operatorname")(t)
    return _repeat(_unwrap_rule(["mathbf", "boldsymbol", "bm", "pmb", "mathbfit", "vec", "overrightarrow",
                                 "mathnormal", "symbf", "symbfit", "textbf", "mathbb"]))(t)


def definitions(t):
    r"""Ways of writing "is defined as": ``\overset{\text{def}}{=}``, ``\stackrel{\mathrm{def}}{=}``,
    ``\stackrel{\triangle}{=}``, ``\overset{!}{=}`` (a claim: ``=``) → ``:=``; ``\equiv`` and
    ``\triangleq`` are read by the grammar."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\(overset|stackrel)\s*", s):
        a, b = _group_after(s, m.end())
        c, d = _group_after(s, b)
        if a == b or c == d:
            continue
        top, under = s[a:b], s[c:d].strip("{} ")
        if under == "=":
            edits.append((m.start(), d, "=" if "!" in top else ":="))
        else:                                   # \overset{a}{X}: a note over X
            edits.append((m.start(), c + (1 if s[c] == "{" else 0), ""))
            if s[c] == "{":
                edits.append((d - 1, d, ""))
    return t.edit(_disjoint(edits))


def braces_notes(t):
    r"""``\underbrace{X}_{note}`` → (X) with the note dropped; ``\overbrace{X}^{note}`` likewise;
    ``\underset{note}{X}`` → X."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\(underbrace|overbrace)\s*", s):
        a, b = _group_after(s, m.end())
        if a == b or s[a] != "{":
            continue
        edits.append((m.start(), a + 1, "("))
        edits.append((b - 1, b, ")"))
        k = b
        while k < len(s) and s[k] == " ":
            k += 1
        if k < len(s) and s[k] in "_^":
            c, d = _group_after(s, k + 1)
            if s[c:d].startswith("\\") and d < len(s):      # _\text{data loss}: the command and its group
                e, f = _group_after(s, d)
                if e < f and s[e] == "{":
                    d = f
            edits.append((k, d, " "))
    t = t.edit(_disjoint(edits))
    return _repeat(_unwrap_rule(["underset"], drop_args=1))(t)


def slices(t):
    r"""numpy's slices in a subscript: ``(\frac{\partial L}{\partial f})_{i,:}`` (row i) → ``_{i}``, ``_{:,j}`` → ``_{j}``."""
    t = _regex_rule(r"_\s*\{\s*([A-Za-z0-9]+)\s*,\s*:\s*\}", lambda m: "_{" + m.group(1) + "}")(t)
    return _regex_rule(r"_\s*\{\s*:\s*,\s*([A-Za-z0-9]+)\s*\}", lambda m: "_{" + m.group(1) + "}")(t)


def short_fractions(t):
    r"""``\frac12`` → ``\frac{1}{2}``, ``\frac1m``, ``\frac1{2m}``, ``\tfrac{1}2``: each argument braced."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\[dtc]?frac(?![A-Za-z])\s*", s):
        i = m.end()
        for _ in range(2):
            a, b = _group_after(s, i)
            if a == b:
                break
            if s[a] != "{":
                edits.append((a, a, "{"))
                edits.append((b, b, "}"))
            i = b
    return _insert(t, edits)


def _insert(t, edits):
    """Apply insertions (start == end) and replacements together, insertions before the character at start."""
    return t.edit(edits, inserts_first=True)


_WORDS = r"(?:if|for|when|where|with|and|or|otherwise|else|since|as|so|because|i\.e\.|e\.g\.|by|using|then|thus|hence)"


def remarks(t):
    r"""Words that are not part of the formula: a ``\text{…}`` (or ``\mbox``, ``\textrm``) after the
    formula (``= 0.5 \text{ (by the chain rule)}``), a ``\text{(…)}`` in brackets, ``\therefore``,
    ``\because``, and a condition after a comma or a word (``, \text{if } z > 0``, ``\text{for all } i``)
    are removed. Words between two equations (``\text{and}``, ``\text{where}``) become the separator
    ``;`` that `split_equations` reads. Words that name things (``\text{MSE}``, ``\text{ReLU}``) stay."""
    s = t.s
    edits = []
    text_rx = re.compile(r"\\(text|textrm|textit|mbox|textnormal|textsf|texttt|mathrm)\s*\{")
    for m in text_rx.finditer(s):
        close = matching(s, m.end() - 1)
        if close < 0:
            continue
        words = s[m.end():close].strip()
        if not words:
            edits.append((m.start(), close + 1, " "))
            continue
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(\s*-\s*[A-Za-z]+)?", words) and not re.fullmatch(_WORDS, words, re.I) \
                and len(words) >= 1 and not re.fullmatch(r"(all|any|each|every|some|is|are|the|of|in|at|to|on|"
                                                          r"it|we|this|that|which|gives|get|have|has)", words, re.I):
            continue                            # a name: \text{MSE}, \text{ReLU}, \mathrm{softmax}
        before = s[:m.start()].rstrip()
        wrapped = re.search(r"[\[(]\s*$", before) and re.match(r"\s*[\])]", s[close + 1:])
        if wrapped and before[:-1].strip() and not re.search(r"(=|\\frac|[-+*/(\[{])\s*$", before[:-1]):
            b = close + 1 + re.match(r"\s*[\])]", s[close + 1:]).end()
            edits.append((len(before) - 1, b, " "))
            continue
        rel = re.search(r"(=|:=|\\coloneqq|\\equiv|\\leftarrow|\\gets|\\rightarrow)\s*$", before)
        if re.match(r"\(.*\)$", words) or (before and not rel and re.match(r"\(?\s*" + _WORDS + r"\b", words, re.I)
                                            is None and not re.search(r"[=<>]", words)):
            # a remark in brackets, or plain words after an expression
            if before:
                edits.append((m.start(), close + 1, " "))
                continue
        if _inside_cases(s, m.start()):
            continue
        if re.match(r"\s*(and|where|with|or)\s*,?\s*$", words, re.I):
            edits.append((m.start(), close + 1, " ; "))
        elif re.match(r"\s*(if|for|when|as|since|because)\b", words, re.I) and before:
            edits.append((m.start(), close + 1, " , \\text{" + words + "} "))   # a condition: split_equations drops it
    t = t.edit(_disjoint(edits))
    return _regex_rule(r"\\(therefore|because|implies|iff|qquad\s*\\text)(?![A-Za-z])", " ; ")(t)


def _inside_cases(s, i):
    """Is offset ``i`` inside a cases environment's markers?"""
    opened = s.rfind("\x05", 0, i)
    return opened >= 0 and s.rfind("\x06", 0, i) < opened


def environments(t):
    r"""``\begin{cases}`` … ``\end{cases}`` → the grammar's cases markers (rows ``\x07``, ``&`` kept; a comma or
    ``\text{if}`` before a condition becomes ``&``); matrices (``bmatrix``, ``pmatrix``, ``vmatrix``, ``matrix``,
    ``array``) → matrix markers; every other environment's ``\begin``/``\end`` goes (its rows are split
    by `split_rows`)."""
    s = t.s
    edits = []
    for m in re.finditer(r"\\(begin|end)\s*\{\s*([A-Za-z]+\*?)\s*\}", s):
        kind, env = m.group(1), m.group(2)
        base = env.rstrip("*")
        end = m.end()
        if kind == "begin" and base in ("array", "tabular", "alignat", "alignedat"):
            a, b = _group_after(s, end)          # the column spec {cc}, or alignat's count
            end = b if a < b and s[a] == "{" else end
        if base in ("cases", "dcases", "rcases"):
            edits.append((m.start(), end, "\x05" if kind == "begin" else "\x06"))
        elif base in ("bmatrix", "pmatrix", "vmatrix", "Bmatrix", "matrix", "array", "smallmatrix"):
            edits.append((m.start(), end, "\x0e" if kind == "begin" else "\x0f"))
        else:
            edits.append((m.start(), end, " "))
    t = t.edit(_disjoint(edits))
    # inside cases and matrices: \\ separates rows
    s = t.s
    edits = []
    depth = 0
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch in "\x05\x0e":
            depth += 1
        elif ch in "\x06\x0f":
            depth = max(0, depth - 1)
        elif depth and s.startswith("\\\\", i):
            edits.append((i, i + 2, "\x07"))
            i += 2
            continue
        elif depth and s.startswith("\\newline", i):
            edits.append((i, i + 8, "\x07"))
            i += 8
            continue
        elif depth and s.startswith("\\cr", i) and not s[i + 3:i + 4].isalpha():
            edits.append((i, i + 3, "\x07"))
            i += 3
            continue
        i += 1
    t = t.edit(edits)
    return _cases_conditions(t)


def _cases_conditions(t):
    r"""In a cases row without ``&``, a comma or ``\text{if}`` before the condition becomes ``&``; a
    comma right before ``&`` goes."""
    s = t.s
    edits = []
    for m in re.finditer(r"\x05(.*?)\x06", s, flags=re.S):
        body_start = m.start(1)
        rows = m.group(1).split("\x07")
        off = body_start
        for row in rows:
            if "&" in row:
                k = row.find("&")
                before = row[:k].rstrip()
                if before.endswith(","):
                    edits.append((off + len(before) - 1, off + len(before), " "))
            else:
                mm = re.search(r",\s*(?=\\text\s*\{\s*(if|for|when|otherwise|else))|\\text\s*\{\s*(if|for|when)\b|"
                               r",\s*(?=[^,]*[<>]|[^,]*\\[lg]e)", row)
                if mm:
                    edits.append((off + mm.start(), off + mm.start() + (1 if row[mm.start()] == "," else 0), "&"))
            off += len(row) + 1
    return _insert(t, edits)


def bars(t):
    """Mark each ``|`` as an opening or a closing bar (the grammar's ``\\x01`` … ``\\x02``) and each ``‖``
    likewise (``\\x03`` … ``\\x04``): a bar closes when one is open and the thing before it ends an operand."""
    out = list(t.s)
    for bar, opening, closing in (("|", "\x01", "\x02"), ("‖", "\x03", "\x04")):
        depth, prev = 0, ""
        for i, ch in enumerate(out):
            if ch == bar:
                closes = depth > 0 and (prev.isalnum() or prev in ")}]'\x02\x04" or ord(prev or " ") > 127)
                out[i] = closing if closes else opening
                depth += -1 if closes else 1
                prev = out[i]
                continue
            if not ch.isspace():
                prev = ch
    return Text("".join(out), t.pos)


def alignment(t):
    """An alignment ``&`` outside cases and matrices carries no math."""
    s = t.s
    edits, depth = [], 0
    for i, ch in enumerate(s):
        if ch in "\x05\x0e":
            depth += 1
        elif ch in "\x06\x0f":
            depth = max(0, depth - 1)
        elif ch == "&" and depth == 0 and not s[i - 1:i] == "\\":
            edits.append((i, i + 1, " "))
    return t.edit(edits)


def trailing_punctuation(t):
    """A full stop, comma or semicolon ending the formula is the sentence's, not the math's."""
    s = t.s.rstrip()
    k = len(s)
    while k and s[k - 1] in ".,;:" and not s[max(0, k - 2):k] in ("\\;", "\\,", "\\:"):
        if s.endswith("...", 0, k):
            break
        k -= 1
    return t.edit([(k, len(s), "")]) if k < len(s) else t


def dollars(t):
    """Stray ``$`` (math delimiters inside a verify string) go."""
    return _regex_rule(r"(?<!\\)\$", " ")(t)


#: every rule, in the order `clean` applies them: (name, function, applies to the Python-like notation?)
RULES = [
    ("control characters", control_characters, True),
    ("markdown escapes", markdown_escapes, False),
    ("dollars", dollars, False),
    ("unicode symbols", unicode_symbols, True),
    ("environments", environments, False),
    ("tags and labels", tags_and_labels, False),
    ("colours", colours, False),
    ("definitions", definitions, False),
    ("braces notes", braces_notes, False),
    ("remarks", remarks, False),
    ("fonts", fonts, False),
    ("delimiters", delimiters, False),
    ("sizes and styles", sizes_and_styles, False),
    ("short fractions", short_fractions, False),
    ("slices", slices, False),
    ("unicode scripts", unicode_scripts, False),
    ("alignment", alignment, False),
    ("bars", bars, True),
]


_NOTHING_TO_DO = re.compile(r"[\\$&|‖~\x00-\x1f\x7f\u00a0-\uffff]")


def clean(text, python=False, base=0, keep_spacing=False):
    """Every rule of `RULES`, in order: a `Text` whose ``pos`` maps back into ``text`` (offset by ``base``)."""
    t = text if isinstance(text, Text) else Text(text, base=base)
    if not _NOTHING_TO_DO.search(t.s):
        return t                          # plain ASCII with no command, bar or alignment: nothing to remove
    for name, rule, for_python in RULES:
        if python and not for_python:
            continue
        t = rule(t)
        if name == "delimiters" and not keep_spacing:
            t = spacing(t)
    return t


# --- rows and equations -----------------------------------------------------------------------------------

def split_rows(t):
    r"""The rows of a display: split at ``\\``, ``\newline`` and ``\cr`` outside cases and matrices (run
    `environments` first). Empty rows are dropped."""
    s = t.s
    rows, start, depth, i, n = [], 0, 0, 0, len(s)
    while i < n:
        ch = s[i]
        if ch in "\x05\x0e":
            depth += 1
        elif ch in "\x06\x0f":
            depth = max(0, depth - 1)
        elif depth == 0 and ch == "\\":
            m = re.match(r"\\\\(\s*\[[^\]]*\])?|\\newline(?![A-Za-z])|\\cr(?![A-Za-z])", s[i:])
            if m:
                rows.append(t.slice(start, i))
                i += m.end()
                start = i
                continue
            i += 2
            continue
        i += 1
    rows.append(t.slice(start, n))
    return [r for r in rows if r.s.strip()]


_REL = re.compile(r"(?<![<>!=:])=(?!=)|:=|\\coloneqq|\\equiv|\\triangleq|≔|≡|←|\\leftarrow|\\gets|\\rightarrow|"
                  r"\\to(?![A-Za-z])|→|\\approx|≈")
_CONDITION = re.compile(r"^\s*(\\text\s*\{\s*" + _WORDS + r"\b|\\forall|∀|[A-Za-z]\s*(\\in|∈)|"
                        r"[^=]*(\\[lg]eq?|\\neq?|[<>≤≥≠])|[a-z]\s*=\s*[0-9A-Za-z]+\s*,\s*(\\l?dots|…|\.\.\.)|"
                        r".*(\\[lc]?dots|…))", re.I)


_ITEM = r"(?:\d+|[A-Za-z](?:\s*[-+]\s*\d+)?|\\[lcv]?dots[bcmio]?|…|\.\.\.)"
_INDEX_LIST = re.compile(r"\s*(?:[ijklnt]|\\ell|ℓ)\s*=\s*" + _ITEM + r"(\s*,\s*" + _ITEM + r")+[.,;\s\x10]*$")


def split_equations(t):
    r"""Several equations in one row → one `Text` each. Separators at bracket depth 0: ``;``, ``,``,
    ``\quad``/``\qquad``, and ``;`` left by `remarks` for words (``\text{and}``). A piece that holds no
    relation (``=``, ``:=``, ``\leftarrow``…) joins the piece before it, and a condition (``z > 0``,
    ``\text{for } i = 1, \dots, m``, ``j \in …``) after a separator is dropped."""
    s = t.s
    cuts, depth, i, n = [], 0, 0, len(s)
    while i < n:
        ch = s[i]
        if ch == "\\":
            m = re.match(r"\\(quad|qquad|rightarrow|Rightarrow|longrightarrow|implies|to)(?![A-Za-z])|\\[{}]", s[i:])
            if m and m.group(1) and depth == 0:
                cuts.append((i, i + m.end()))
            i += m.end() if m else 2
            continue
        if ch == "\x10" and depth == 0:
            cuts.append((i, i + 1))
            i += 1
            continue
        if depth == 0 and ch in "→⇒⟹":
            cuts.append((i, i + 1))               # z = wx + b → a = σ(z): "then", between two equations
            i += 1
            continue
        if ch in "([{\x01\x03\x05\x0e":
            depth += 1
        elif ch in ")]}\x02\x04\x06\x0f":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",;":
            cuts.append((i, i + 1))
        i += 1
    if not cuts:
        return [trailing_punctuation(t)]
    pieces, start = [], 0
    for a, b in cuts:
        pieces.append((start, a, b))
        start = b
    pieces.append((start, n, n))
    out = []
    for k, (a, b, _) in enumerate(pieces):
        piece = s[a:b]
        while b > a and s[b - 1] in " .,;:\x10\n\t\r" and not (b - 2 >= a and s[b - 2] == "\\"):
            b -= 1                                   # the sentence's full stop, not the equation's
        piece = s[a:b]
        if not piece.strip():
            continue
        if _INDEX_LIST.match(s[a:]):
            break                                   # l = 1, 2, 3: the range of an index, not an equation
        if out and _CONDITION.match(piece) and k > 0:
            break                                   # a condition: the rest of the row qualifies the equation
        arrow = k > 0 and re.match(r"\\(rightarrow|Rightarrow|longrightarrow|implies|to)|[→⇒⟹]", s[pieces[k - 1][1]:])
        if out and arrow and not _REL.search(s[out[-1][0]:out[-1][1]]):
            pa, pb = out.pop()                      # w_k → w_k' = …: a mapping written with an arrow, one equation
            a = pa
            piece = s[a:b]
        if not _REL.search(piece) or (out and re.match(r"\s*(\\[lcv]?dots|…|\.\.\.)", piece)):
            if out:                                  # no relation: part of the previous equation (x, y pairs)
                pa, pb = out[-1]
                out[-1] = (pa, b)
                continue
        out.append((a, b))
    return [t.slice(a, b) for a, b in out]
