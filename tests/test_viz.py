"""Graph pictures: DOT content, escaping, rendering without a system `dot`, big graphs."""

import re
import shutil
import time

import numpy as np
import pytest

from microreg import Value
from microreg import viz
from microreg.nn import TwoLayerNet
from microreg.viz import draw_graph, layer_of


@pytest.fixture
def no_dot(monkeypatch):
    """Pretend there is no graphviz `dot` on PATH: rendering must still work, in-process."""
    real = shutil.which
    monkeypatch.setattr(viz.shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))


def test_dot_shows_labels_data_grads_and_ops():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = (a * b).tanh()
    c.label = "c"
    c.backward()
    g = draw_graph(c)
    assert "a | data 2 | grad" in g.dot and "{ c | data -1 | grad 1 }" in g.dot
    assert "×" in g.dot and "tanh" in g.dot and "rankdir=LR" in g.dot
    assert "grad" not in draw_graph(c, show_grad=False).dot
    assert "rankdir=TB" in draw_graph(c, rankdir="TB").dot


def test_nn_parameter_names_and_layer_clusters():
    net = TwoLayerNet(1, 2, seed=0)
    g = draw_graph(net([0.5]))
    for name in ("w1[0][0]", "b1[1]", "w2[1]", "b2", "z1[0]", "a1[1]", "z2"):
        assert name.replace("[", "[") in g.dot, name
    assert "subgraph cluster_layer1" in g.dot and "subgraph cluster_layer2" in g.dot
    assert "cluster" not in draw_graph(net([0.5]), cluster=False).dot
    assert layer_of("w1[0][2]") == 1 and layer_of("z2") == 2 and layer_of("x") is None


def test_highlight_nodes_and_edges():
    a = Value(1.0, label="a")
    b = a * 2.0
    g = draw_graph(b, highlight=[b], highlight_edges=[(a, b)])
    assert g.dot.count(viz.HIGHLIGHT) >= 3, g.dot


def test_labels_are_escaped_and_render_as_text(no_dot):
    v = Value(1.0, label='a<b>"{x|y}"\\')
    g = draw_graph(v * 2)
    svg = g.svg()
    assert "a&lt;b&gt;&quot;{x|y}&quot;\\" in svg, svg[:2000]


def test_svg_renders_with_no_dot_on_path(no_dot, tmp_path):
    x = Value(0.5, label="x")
    y = x.sigmoid() * x
    g = draw_graph(y)
    assert g.svg().lstrip().startswith("<?xml") and "<svg" in g.svg()
    assert g.save(tmp_path / "g.svg").endswith("g.svg") and (tmp_path / "g.svg").read_text().count("<svg") == 1
    g.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.dot
    with pytest.raises(ValueError, match="unknown picture format"):
        g.save(tmp_path / "g.jpg")
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" in bundle and g._repr_svg_().count("<svg") == 1


def test_batch_nodes_show_a_summary_not_every_number():
    x = Value(np.arange(10_000.0), label="X")   # mean 4999.5 → "5000" at 4 digits
    g = draw_graph((x * 2.0).mean())
    assert "N=10000" in g.dot and "mean 5000" in g.dot and len(g.dot) < 3000


def test_a_2000_node_graph_is_summarised_and_renders_in_seconds(no_dot):
    v = Value(0.1, label="x")
    for i in range(1000):
        v = (v * 1.001).tanh()
    start = time.perf_counter()
    g = draw_graph(v, max_nodes=200)
    svg = g.svg()
    seconds = time.perf_counter() - start
    assert g.total > 2000 and g.shown == 200 and g.collapsed
    assert "summarised" in g.dot and "more input(s)" in g.dot and "<svg" in svg
    assert seconds < 20, f"{seconds:.1f}s"


def test_same_graph_same_dot():
    def build():
        a, b = Value(1.0, label="a"), Value(2.0, label="b")
        return ((a + b) * a).exp()
    assert draw_graph(build()).dot == draw_graph(build()).dot


def _png_size(data):
    """Width and height from a PNG's IHDR chunk (bytes 16-24, big-endian)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_png_is_rendered_in_process_at_the_svg_pixel_size(no_dot, tmp_path):
    import re
    x = Value(0.5, label="x")
    y = x.sigmoid() * x
    y.backward()
    g = draw_graph(y)
    width_pt = float(re.search(r'<svg[^>]*\swidth="([0-9.]+)pt"', g.svg()).group(1))
    path = g.save(tmp_path / "g.png")
    width, height = _png_size(open(path, "rb").read())
    expected = width_pt * 4 / 3 * 2          # pt → CSS px (96/72), then the default scale 2
    assert abs(width - expected) <= 2, f"PNG is {width} px wide, expected {expected:.0f}"
    assert 'width="' in viz.svg_pixels(g.svg()) and "pt\"" not in viz.svg_pixels(g.svg()).split(">", 2)[1]


def test_png_has_text_without_system_fonts(no_dot):
    """resvg draws no text for an unknown font; the DejaVu fonts from matplotlib must be used."""
    import io
    from matplotlib.image import imread
    x = Value(0.5, label="x")
    with_text = imread(io.BytesIO(draw_graph(x, legend=False).png()))
    blank_label = imread(io.BytesIO(draw_graph(Value(0.5, label=" "), show_grad=False, legend=False).png()))
    dark = (with_text[..., :3].mean(axis=2) < 0.5).sum()
    assert dark > 200, f"only {dark} dark pixels: the text was not drawn"
    assert blank_label.size > 0


def test_graph_after_backward_shows_gradients_and_a_legend():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.backward()
    dot = draw_graph(c).dot
    assert "grad -3" in dot and "grad 2" in dot, dot          # ∂c/∂a = b = -3, ∂c/∂b = a = 2
    assert "the gradient of the output" in dot and viz.PALETTE["param"] in dot and "blue = parameter or input" in dot, dot
    c.label = "c"
    assert "grad = ∂c/∂node" in draw_graph(c).dot
    assert "orange" not in dot and "grey = data" not in dot, "the legend names only colours the picture has"
    assert "orange = the current step" in draw_graph(c, highlight=[a]).dot
    assert "∂c/∂node" not in draw_graph(c, legend=False).dot and "grad =" not in draw_graph(c, legend=False).dot


def test_a_small_graphs_legend_is_wrapped_to_fit_the_picture():
    import io
    from matplotlib.image import imread
    x = Value(0.5, label="x")
    y = (x * x).tanh()
    y.backward()
    png = imread(io.BytesIO(draw_graph(y).png()))
    rightmost = png[:, -3:, :3].mean(axis=2).min()   # a cut-off caption leaves dark text at the right edge
    assert rightmost > 0.9, f"darkest pixel in the last 3 columns {rightmost:.2f}: something is cut off"


def test_newlines_and_non_string_labels(no_dot):
    v = Value(1.0, label="first\nsecond")
    w = Value(2.0, label=42)
    out = v * w
    out.label = ("tuple", 1)
    svg = draw_graph(out).svg()
    assert ">first<" in svg and ">second<" in svg, "a newline in a label starts a new SVG text line"
    assert ">42<" in svg and "(&#39;tuple&#39;, 1)" in svg or "('tuple', 1)" in svg


def _half_squared_error():
    """L = ½(ŷ − y)² with ŷ = 0.8, y = 0.5: L = 0.045, ∂L/∂ŷ = ŷ − y = 0.3, ∂L/∂y = −0.3 (by hand)."""
    y_hat, y = Value(0.8, label="ŷ"), Value(0.5, label="y")
    L = 0.5 * (y_hat - y) ** 2
    L.label = "L"
    L.backward()
    return L, y_hat, y


def test_constants_are_folded_into_their_op_by_default():
    L, y_hat, y = _half_squared_error()
    g = draw_graph(L)
    half = L._prev[0]                       # the ½ the user wrote (0.5 * … puts it first)
    assert half.data == 0.5 and id(half) not in g.ids, "the ½ has no box of its own"
    assert [n.label for n in g.nodes] == ["ŷ", "y", None, None, "L"], [n.label for n in g.nodes]
    assert 'label="×½"' in g.dot and 'label="^2"' in g.dot and 'label="−"' in g.dot, g.dot
    assert "data 0.5 |" not in g.dot.replace("{ y | data 0.5 |", ""), "no node but y holds 0.5"
    edges = [line for line in g.dot.splitlines() if "->" in line and "invis" not in line]
    assert len(edges) == 4 + 3, edges       # ŷ, y → −; (ŷ − y) → ^2; (ŷ − y)² → ×½; and op → its node ×3
    assert "{ ŷ | data 0.8 | grad 0.3 }" in g.dot and "{ y | data 0.5 | grad -0.3 }" in g.dot, g.dot
    assert g.total == 5 and not g.collapsed


def test_constants_true_draws_the_constant_as_a_box():
    L, _, _ = _half_squared_error()
    g = draw_graph(L, constants=True)
    half = L._prev[0]
    assert id(half) in g.ids and g.total == 6
    # ∂L/∂½ = (ŷ − y)² = 0.09, worked by hand
    assert "{ data 0.5 | grad 0.09 }" in g.dot, g.dot
    assert 'label="×"' in g.dot and f"{g.ids[id(half)]} -> {g.ids[id(L)]}op" in g.dot, g.dot
    assert "×½" not in g.dot


def test_op_labels_are_the_pages_symbols():
    a, b = Value(3.0, label="a"), Value(2.0, label="b")
    cases = {(a - 1): "− 1", (1 - a): "1 −", (a / 4): "/ 4", (3 / a): "3 /", (a * 2): "×2", (2 ** b): "2^",
             (a - b): "−", (a / b): "/", (-a): "−", a.sigmoid(): "σ", (a + 0.25): "+ ¼"}
    for node, label in cases.items():
        dot = draw_graph(node).dot
        assert f'label="{label}"' in dot, (label, dot)
        assert not any(word in dot for word in ('"sub"', '"div"', '"neg"', '"sigmoid"')), dot


def test_the_demo_graph_has_no_node_for_its_half(no_dot):
    from microreg.step import Stepper, document_000_example
    loss = document_000_example()
    loss.backward()
    svg = draw_graph(loss).svg()
    # x = 0.5 is data and keeps its box; the ½ of L = ½(ŷ − y)² must not have one
    assert svg.count(">data 0.5<") == 1 and ">x<" in svg, svg.count(">data 0.5<")
    assert ">×½<" in svg
    assert draw_graph(loss, constants=True).svg().count(">data 0.5<") == 2
    page_ops = {r["op_label"] for r in Stepper(loss).node_table() if r["op_label"]}
    drawn = set(re.findall(r'op \[label="([^"]*)"', draw_graph(loss).dot))
    assert drawn == page_ops, (drawn, page_ops)


# --- one rule for every picture: index order, data without a grad, colours, layers ------------------

def _heights(svg):
    """{label: y of its box} from a rendered SVG (graphviz writes each node's label as text)."""
    import re
    out = {}
    for m in re.finditer(r'<text[^>]*y="([-\d.]+)"[^>]*>([^<]+)</text>', svg):
        out.setdefault(m.group(2), float(m.group(1)))
    return out


@pytest.mark.parametrize("cluster", [None, False])
def test_a_columns_nodes_stand_in_index_order(cluster, no_dot):
    from microreg.step import document_000_example
    loss = document_000_example()
    loss.backward()
    y = _heights(draw_graph(loss, cluster=cluster).svg())
    for names in (["z1[0]", "z1[1]", "z1[2]"], ["a1[0]", "a1[1]", "a1[2]"], ["w2[0]", "w2[1]", "w2[2]", "b2"],
                  ["w1[0][0]", "b1[0]", "w1[1][0]", "b1[1]", "w1[2][0]", "b1[2]"]):
        heights = [y[n] for n in names]
        assert heights == sorted(heights), f"{names} top to bottom: {heights}"


def test_data_has_no_grad_and_every_leaf_a_colour_of_its_own():
    from microreg.step import document_000_example
    loss = document_000_example()
    loss.backward()
    dot = draw_graph(loss).dot
    assert "{ x | data 0.5 }" in dot and "{ y | data 0.4794 }" in dot, "x and y are data: no grad, as on the page"
    assert "grad" in draw_graph(loss, constants=True).dot.split("{ x | data 0.5")[1].split("}")[0], \
        "constants=True steps data, so it shows x's grad"
    x, w = Value(2.0), Value(-3.0, label="w")        # an unlabelled Value is an input that gets a gradient
    (x * w).backward()
    assert viz.node_kind(x) == viz.node_kind(w) == "param"


def test_layers_only_for_a_models_graph_or_when_asked():
    # the micrograd video's neuron: free labels with digits are never boxed as layers
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    o = (x1 * w1 + x2 * w2 + Value(6.88, label="b")).tanh()
    assert "cluster" not in draw_graph(o).dot
    assert "cluster_layer1" in draw_graph(o, cluster=True).dot          # asked for: the digits decide
    net = TwoLayerNet(1, 2, seed=0)
    assert "cluster_layer1" in draw_graph(net([0.5])).dot              # a model's graph: its layers
