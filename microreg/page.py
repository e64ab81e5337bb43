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
from pathlib import Path

from .viz import LEGEND, OP_SYMBOLS, PALETTE, format_data, node_kind

WEB = Path(__file__).with_name("web")

FONT = 13            # px of node text at zoom 1 (the view never starts below 12/13 zoom for small graphs)
LINE = 16            # px between text lines in a node box
CHAR = 0.62 * FONT   # a generous average glyph width, to size boxes
COLUMN_GAP = 34      # px between a column's boxes and the next column's op pills
OP_GAP = 16          # px between an op pill and its box
ROW_GAP = 14
OP_RADIUS = 13


def asset(name):
    """The text of one front-end file (``stepper.js`` or ``stepper.css``)."""
    return (WEB / name).read_text(encoding="utf-8")


# --- layout -------------------------------------------------------------------------------------

def _columns(order):
    """Column of each node: computed nodes one right of their deepest input, leaves one left of
    their nearest consumer (so w1 sits beside z1, not far left with x)."""
    col = {}
    consumers = {}
    for n in order:
        for c in n._prev:
            consumers.setdefault(id(c), []).append(n)
        if n._prev:
            col[id(n)] = 1 + max(col.get(id(c), 0) for c in n._prev)
    for n in reversed(order):
        if not n._prev:
            users = consumers.get(id(n), [])
            col[id(n)] = max(0, min((col[id(u)] for u in users), default=1) - 1)
    return col


def op_width(symbol):
    """Width of an op's pill: a circle for one or two characters, wider for ``Σ w·x + b``."""
    return 0 if symbol is None else max(2 * OP_RADIUS, round(len(symbol) * CHAR + 14))


def op_symbol(node):
    if node._rule is None:
        return None
    if node._rule.const is not None:
        k = float(node._rule.const)
        return "^" + (str(int(k)) if k.is_integer() else repr(k))
    return OP_SYMBOLS.get(node._rule.name, node._rule.name)


def layout(order, lines_of):
    """Positions {id(node): (x, y, w, h)} for the value boxes, columns left to right; each box's
    op pill sits in the gap on its left.

    Within a column nodes are ordered by the mean row of their neighbours (a few sweeps of the
    barycentre heuristic), which keeps most edges short and uncrossed.
    """
    col = _columns(order)
    ncols = 1 + max(col.values())
    columns = [[] for _ in range(ncols)]
    for n in order:
        columns[col[id(n)]].append(n)
    neighbours = {id(n): [] for n in order}
    for n in order:
        for c in n._prev:
            neighbours[id(n)].append(id(c))
            neighbours[id(c)].append(id(n))
    rank = {}
    for members in columns:
        for i, n in enumerate(members):
            rank[id(n)] = i - (len(members) - 1) / 2
    for sweep in range(4):
        sequence = columns if sweep % 2 == 0 else columns[::-1]
        for members in sequence:
            def centre(n):
                near = [rank[m] for m in neighbours[id(n)]]
                return sum(near) / len(near) if near else rank[id(n)]
            members.sort(key=lambda n: (centre(n), rank[id(n)]))
            for i, n in enumerate(members):
                rank[id(n)] = i - (len(members) - 1) / 2
    sizes = {}
    for n in order:
        lines = lines_of(n)
        width = max(len(t) for t in lines) * CHAR + 16
        sizes[id(n)] = (max(64.0, width), len(lines) * LINE + 10)
    box = {}
    x = 12
    for members in columns:
        x += max(op_width(op_symbol(n)) for n in members) + (OP_GAP if any(n._prev for n in members) else 0)
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

def _mathml(latex):
    """LaTeX → MathML with latex2mathml (offline); None when it is not installed or cannot parse."""
    if not latex:
        return None
    try:
        from latex2mathml.converter import convert
    except ImportError:
        return None
    try:
        mathml = convert(latex)
    except Exception:  # noqa: BLE001 - the plain-text formula is shown instead
        return None
    # latex2mathml writes \mathrel{+=} as two spaced operators; one <mo> reads as "+="
    return mathml.replace("<mo><mrow><mo>&#x0002B;</mo><mo>&#x0003D;</mo></mrow></mo>", "<mo>+=</mo>")


def _hints(record, fmt):
    """Wrong answers a learner is likely to give for a backward step, each with what it means."""
    hints = []
    if record.local != 1:
        hints.append([float(record.upstream), "That is the upstream gradient alone: multiply by the local derivative."])
    if record.upstream != 1:
        hints.append([float(record.local), "That is the local derivative alone: multiply by the upstream gradient."])
    if record.before != 0:
        hints.append([float(record.contribution),
                      f"That is this contribution alone: add it to the running sum {fmt.format(record.before)}."])
    if record.grad != 0:
        hints.append([-float(record.grad), "Sign flipped."])
    return hints


def _backward_steps(stepper):
    """The steps of today's Stepper: the seed, then one chain-rule application per record."""
    fmt = stepper.fmt
    root = stepper.name(stepper.root)
    steps = [{"phase": "seed", "title": f"Seed: ∂{root}/∂{root} = 1", "text": stepper.text(0),
              "latex": None, "lit": [id(stepper.root)], "op": None, "edges": [],
              "set": [(id(stepper.root), "grad", 1.0)], "quiz": None}]
    for k, r in enumerate(stepper.records, start=1):
        names = [stepper.name(c) for c in r.node._prev]
        child, node = stepper.name(r.input), stepper.name(r.node)
        _, local_latex = r.op.local_expression(r.position, names, latex=True) \
            if _accepts_latex(r.op.local_expression) else (None, None)
        latex = None
        if local_latex:
            latex = (rf"\frac{{\partial {_tex(root)}}}{{\partial {_tex(child)}}} \mathrel{{+=}} "
                     rf"\frac{{\partial {_tex(root)}}}{{\partial {_tex(node)}}} \cdot {local_latex}")
        steps.append({
            "phase": "backward", "title": f"∂{root}/∂{child} += ∂{root}/∂{node} · local derivative",
            "text": stepper.text(k), "latex": latex, "lit": [id(r.input)], "op": id(r.node),
            "edges": [(id(r.input), id(r.node))], "set": [(id(r.input), "grad", r.grad)],
            "quiz": {"ask": f"∂{root}/∂{child} after this step", "answer": float(r.grad),
                     "hints": _hints(r, fmt),
                     "formula": f"∂{root}/∂{child} += ∂{root}/∂{node} · {r.op.local_expression(r.position, names)[1]}"},
        })
    return steps


def _accepts_latex(fn):
    import inspect
    try:
        return "latex" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _tex(name):
    """A node name as LaTeX text (any characters: \\text{} with LaTeX specials escaped)."""
    special = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%",
               "&": r"\&", "_": r"\_", "^": r"\hat{}", "~": r"\sim "}
    return r"\text{" + "".join(special.get(ch, ch) for ch in str(name)) + "}"


def _sample(stepper):
    """'x = 0.5, y = 0.4794': the data leaves the loss was given."""
    parts = []
    for n in stepper.order:
        if n._prev or node_kind(n) != "data" or n.label is None:
            continue
        parts.append(f"{n.label} = {format_data(n.data, stepper.fmt)}")
    return ", ".join(parts)


def page_data(stepper, title="microreg: backprop, step by step", sample=None):
    """Everything the view shows, as plain JSON-able data (no HTML anywhere in it)."""
    fmt = stepper.fmt
    order = list(stepper.order)
    index = {id(n): i for i, n in enumerate(order)}

    def name_of(n):
        return str(stepper.names.get(id(n), "")) if n.label is None else str(n.label)

    steps = _backward_steps(stepper)
    shown_grad = {}       # what a node's grad line says before the first step: nothing yet
    for n in order:
        shown_grad[id(n)] = ""

    def lines_of(n):
        widest_grad = format_data(stepper.final.get(id(n), n.grad), fmt)
        return [*name_of(n).split("\n"), "data " + format_data(n.data, fmt), "grad " + widest_grad]

    boxes = layout(order, lines_of)
    nodes = []
    for n in order:
        x, y, w, h = boxes[id(n)]
        op = op_symbol(n)
        nodes.append({"name": name_of(n).split("\n"), "kind": node_kind(n), "x": x, "y": y, "w": w, "h": h,
                      "data": format_data(n.data, fmt), "grad": shown_grad[id(n)], "op": op,
                      "ow": op_width(op), "og": OP_GAP})
    edges, edge_index = [], {}
    for n in order:
        for c in n._prev:
            key = (id(c), id(n))
            if key not in edge_index:
                edge_index[key] = len(edges)
                edges.append([index[id(c)], index[id(n)]])
    out_steps = []
    for s in steps:
        quiz = s["quiz"]
        out_steps.append({
            "phase": s["phase"], "title": s["title"], "text": s["text"], "mathml": _mathml(s["latex"]),
            "lit": [index[i] for i in s["lit"] if i in index],
            "op": index.get(s["op"]) if s["op"] is not None else None,
            "edges": [edge_index[e] for e in s["edges"] if e in edge_index],
            "set": [[index[i], field, format_data(v, fmt)] for i, field, v in s["set"] if i in index],
            "quiz": None if quiz is None else {
                "ask": quiz["ask"], "answer": quiz["answer"], "shown": format_data(quiz["answer"], fmt),
                "tolerance": _tolerance(quiz["answer"], fmt), "hints": quiz["hints"], "formula": quiz["formula"]},
        })
    return {"title": str(title), "sample": sample if sample is not None else _sample(stepper),
            "root": name_of(stepper.root), "legend": LEGEND, "colors": dict(PALETTE), "font": FONT,
            "nodes": nodes, "edges": edges, "steps": out_steps}


def _tolerance(answer, fmt):
    """How close an answer must be: half a unit in the last digit the page shows, at least 1e-9."""
    digits = 4
    if fmt.startswith("{:.") and fmt[3:-2].isdigit():
        digits = int(fmt[3:-2])
    if not math.isfinite(answer) or answer == 0:
        return 10.0 ** -digits
    return max(1e-9, abs(answer) * 10.0 ** (1 - digits))


# --- the page -----------------------------------------------------------------------------------

def json_for_script(data):
    """JSON that is safe inside <script type="application/json">: <, >, & and the line separators
    are \\u escapes, so no label can end the script element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


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
    return _PAGE.format(title=html.escape(str(title)), css=asset("stepper.css"), data=json_for_script(data), js=js)


def write_page(stepper, path, title="microreg: backprop, step by step", sample=None):
    """Write the standalone page to ``path`` (atomically); returns the path as a string."""
    from .nn import atomic_write
    atomic_write(path, page_html(stepper, title=title, sample=sample))
    return str(path)
