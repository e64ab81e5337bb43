"""The stepper's interactive view as data, and as one self-contained web page.

    >>> from microreg import Value
    >>> from microreg.step import Stepper
    >>> from microreg.page import page_data, write_page
    >>> w, x = Value(0.5, label="w"), Value(2.0, label="x")
    >>> L = (w * x).tanh()
    >>> data = page_data(Stepper(L))
    >>> sorted(data)[:4], len(data["steps"]) == len(Stepper(L))
    (['colors', 'edges', 'legend', 'nodes'], True)

``page_data(stepper)`` lays the graph out (columns by depth, every position computed here, in
Python, the same on every run) and turns each step of the Stepper into what the view needs: its
phase, its words, its formula as MathML, what to light and which numbers change. The front end
(``microreg/web/stepper.js`` and ``stepper.css``, one ES module used by the page and by the
Jupyter widget) only shows that data: labels reach it as JSON and are set as text, never as HTML.

``page_html(stepper)`` is one HTML file with the script, the style and the data inlined (no
network, opens from ``file://``); ``write_page(stepper, path)`` writes it atomically.
"""

import html
import json
import math
import re
from pathlib import Path

from .files import atomic_write
from .viz import LEGEND, NOT_YET, PALETTE, columns, format_data, node_kind, stacking

WEB = Path(__file__).with_name("web")

FONT = 13            # px of node text at zoom 1 (the view never starts below 12/13 zoom for small graphs)
LINE = 16            # px between text lines in a node box
CHAR = 0.62 * FONT   # a generous average glyph width, to size boxes
COLUMN_GAP = 24      # px between a column's boxes and the next column's op pills
OP_GAP = 10          # px between an op pill and its box
ROW_GAP = 12
PAD = 8              # px of box padding left and right of the text (stepper.js draws text at x + 8)
OP_RADIUS = 13


def asset(name):
    """The text of one front-end file (``stepper.js`` or ``stepper.css``)."""
    return (WEB / name).read_text(encoding="utf-8")


# --- layout -------------------------------------------------------------------------------------

def op_width(symbol):
    """Width of an op's pill: a circle for one or two characters, wider for ``Σ w·x + b``."""
    return 0 if symbol is None else max(2 * OP_RADIUS, round(len(symbol) * CHAR + 14))


def layout(order, lines_of, op_of=lambda n: None, skip=()):
    """Positions {id(node): (x, y, w, h)} for the value boxes of ``order`` (a topological order;
    the ids in ``skip`` left out), columns left to right, each box's op pill in the gap on its
    left. A column stacks its computed nodes, then its leaves, each in index order: the rule of
    every picture (`microreg.viz.columns`, `microreg.viz.stacking`; the static graph keeps it)."""
    col = columns(order, skip)
    place = stacking(order, col)
    shown = [n for n in order if id(n) not in skip]
    ncols = 1 + max(col.values())
    members_of = [[] for _ in range(ncols)]
    for n in sorted(shown, key=lambda n: place[id(n)]):
        members_of[col[id(n)]].append(n)
    sizes = {}
    for n in shown:
        lines = lines_of(n)
        width = max(len(t) for t in lines) * CHAR + 2 * PAD
        sizes[id(n)] = (max(56.0, width), len(lines) * LINE + 10)
    box = {}
    x = 12
    for members in members_of:
        if not members:
            continue
        x += max(op_width(op_of(n)) for n in members) + (OP_GAP if any(n._prev for n in members) else 0)
        width = max(sizes[id(n)][0] for n in members)
        heights = [sizes[id(n)][1] for n in members]
        total = sum(heights) + ROW_GAP * (len(members) - 1)
        y = -total / 2
        for n, h in zip(members, heights):
            box[id(n)] = (round(x, 1), round(y, 1), round(width, 1), round(h, 1))
            y += h + ROW_GAP
        x += width + COLUMN_GAP
    top = min(b[1] for b in box.values())
    return {k: (bx, round(by - top + 12, 1), bw, bh) for k, (bx, by, bw, bh) in box.items()}


# --- steps --------------------------------------------------------------------------------------

def _quizzes(stepper):
    """{step k: what the page's quiz needs}: the question (the step with its result as ?), the
    answer, and the hint the Stepper's `Quiz` gives for each likely slip, asked through its public
    ``answer``/``reveal`` (the page has no Python to ask)."""
    position = stepper.position
    quiz = stepper.quiz()
    out = {}
    try:
        while not quiz.done:
            f = quiz.frame
            expected = float(f.answer)
            if not math.isfinite(expected):    # nothing to type in for ∞ or nan: the step is shown, not asked
                quiz.reveal()
                continue
            question = quiz.question()
            candidates = [-expected]
            if f.phase == "backward":
                up, local = float(f.upstream), float(f.local)
                before = float(f.before) if isinstance(f.before, float) else 0.0
                candidates += [before + up, before + local, up * local, before - up * local]
                inputs = [stepper.values[stepper.index[id(c)]] for c in f.node._prev]
                try:
                    locals_ = f.node._rule.locals(inputs, stepper.values[stepper.index[id(f.node)]])
                except Exception:  # noqa: BLE001 - no other-input slip to offer
                    locals_ = ()
                candidates += [before + up * float(v) for v in locals_ if isinstance(v, float)]
            else:
                candidates += [float(stepper.values[stepper.index[id(c)]]) for c in f.node._prev
                               if isinstance(stepper.values[stepper.index[id(c)]], float)]
                if f.node._prev and isinstance(stepper.values[stepper.index[id(f.node._prev[-1])]], float):
                    candidates.append(expected - stepper.values[stepper.index[id(f.node._prev[-1])]])
            hints, fallback = [], None
            far = expected * 7.31 + 11.17       # no slip lands here: the Quiz's general hint
            moved = False
            for value in candidates + [far]:
                if not math.isfinite(value) or math.isclose(value, expected, rel_tol=quiz.rtol, abs_tol=quiz.atol):
                    continue
                verdict = quiz.answer(value)
                if verdict.ok:           # as the page prints it, it is the answer: the quiz moved on
                    moved = True
                    break
                if value is far:
                    fallback = verdict.hint
                elif verdict.kind != "wrong" and all(abs(v - value) > 1e-12 for v, _ in hints):
                    hints.append([value, verdict.hint])
            for value, hint in quiz.slips(f):       # every slip the mistake search knows, in its words
                if all(not math.isclose(v, value, rel_tol=1e-9, abs_tol=1e-12) for v, _ in hints):
                    hints.append([value, hint])
            out[f.k] = {"ask": question, "answer": expected, "shown": format_data(expected, stepper.fmt),
                        "correct": quiz.correct_words(f),
                        "rtol": quiz.rtol, "atol": quiz.atol, "hints": hints,
                        "fallback": fallback or f"not quite: {f.formula.text}"}
            if not moved:
                quiz.reveal()
    finally:
        stepper.goto(position)
    return out


def _sample(stepper):
    """'x = 0.5, y = 0.4794': the data leaves the loss was given."""
    from .engine import is_data
    leaves = sorted((stepper.names[id(n)], format_data(n.data, stepper.fmt)) for n in stepper.order if is_data(n))
    return ", ".join(f"{name} = {value}" for name, value in leaves)


def page_data(stepper, title="microreg: backprop, step by step", sample=None):
    """Everything the view shows, as plain JSON-able data (no HTML anywhere in it)."""
    fmt = stepper.fmt
    table = stepper.node_table()
    shown = [i for i, row in enumerate(table) if row["shown"]]
    where = {i: j for j, i in enumerate(shown)}            # stepper.order index → page node index
    order = stepper.order
    final = [stepper.final[id(n)] for n in order]
    values = list(stepper.values)

    def has_grad(i):          # data the stepper does not step (x, y) gets no grad, as in every picture
        return id(order[i]) not in stepper.hidden

    def lines_of(n):
        i = stepper.index[id(n)]
        lines = [*str(table[i]["name"]).split("\n"), "data " + format_data(values[i], fmt)]
        return lines + ["grad " + format_data(final[i], fmt)] if has_grad(i) else lines

    folded = {id(order[i]) for i, row in enumerate(table) if not row["shown"]}
    boxes = layout(order, lines_of, lambda n: table[stepper.index[id(n)]]["op_label"], skip=folded)

    first_values = [None if (stepper.with_forward and order[i]._rule is not None) else values[i]
                    for i in range(len(order))]
    nodes = []
    for i in shown:
        x, y, w, h = boxes[id(order[i])]
        row = table[i]
        op = row["op_label"]
        nodes.append({"name": str(row["name"]).split("\n"), "kind": node_kind(order[i]), "x": x, "y": y, "w": w,
                      "h": h, "data": NOT_YET if first_values[i] is None else format_data(first_values[i], fmt),
                      "grad": NOT_YET if has_grad(i) else None, "op": op, "ow": op_width(op), "og": OP_GAP,
                      "delta": row["delta"]})
    edges, edge_index = [], {}
    for i in shown:
        for j in table[i]["inputs"]:
            if j in where and (j, i) not in edge_index:
                edge_index[(j, i)] = len(edges)
                edges.append([where[j], where[i]])

    quizzes = _quizzes(stepper)
    steps = []
    for k in range(len(stepper)):
        d = stepper.frame(k).to_dict(mathml=True)
        formula = d["formula"] or {}
        lit = d["lit"]
        lines = d["text"].split("\n")
        steps.append({
            "phase": d["phase"], "title": d["title"], "text": d["text"],
            "formula": lines[1] if len(lines) > 1 else "",      # the step's formula as text (the fallback)
            "detail": "\n".join(line[2:] if line.startswith("  ") else line for line in lines[2:]),   # below it
            "mathml": formula.get("mathml"),
            "lit": [where[i] for i in lit["nodes"] if i in where],
            "op": where.get(lit["op"]) if lit["op"] is not None else None,
            "edges": [edge_index[(a, b)] for a, b in lit["edges"] if (a, b) in edge_index],
            "set": [[where[i], "data" if what == "value" else "grad", format_data(after, fmt)]
                    for i, what, before, after in d["updates"] if i in where],
            "quiz": quizzes.get(k),
        })
    return {"title": str(title), "sample": sample if sample is not None else _sample(stepper),
            "root": stepper.names[id(stepper.root)], "root_index": where.get(stepper.index[id(stepper.root)]),
            "legend": LEGEND, "colors": dict(PALETTE), "font": FONT,
            "nodes": nodes, "edges": edges, "steps": steps}


# --- the page -----------------------------------------------------------------------------------

def json_for_script(data):
    """JSON that is safe inside <script type="application/json">: <, >, & and the line separators
    are \\u escapes, so no label can end the script element or open a comment; a lone surrogate is a
    \\u escape too (it is not text: the page could not be written as UTF-8); a number that is not
    finite is its text ("inf", "nan"), where JSON has none."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_json(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _finite_json(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _finite_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_json(v) for v in x]
    return x


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
{css}
</style></head>
<body class="mr-page">
<div id="microreg-stepper"></div>
<script type="application/json" id="microreg-data">{data}</script>
<script type="module">
{js}
mount(document.getElementById("microreg-stepper"),
      JSON.parse(document.getElementById("microreg-data").textContent), {{keys: document}});
</script>
</body></html>
"""


def page_html(stepper, title="microreg: backprop, step by step", sample=None):
    """The standalone page as one string: style, script and data inlined; no network."""
    js = asset("stepper.js")
    if "</script" in js.lower():
        raise ValueError("microreg/web/stepper.js must not contain '</script'")
    data = page_data(stepper, title=title, sample=sample)
    title = _SURROGATE.sub("\ufffd", html.escape(str(title)))
    return _PAGE.format(title=title, css=asset("stepper.css"), data=json_for_script(data), js=js)


def write_page(stepper, path, title="microreg: backprop, step by step", sample=None):
    """Write the standalone page to ``path`` (atomically); returns the path as a string."""
    atomic_write(path, page_html(stepper, title=title, sample=sample))
    return str(path)
