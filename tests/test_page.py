"""The stepper page in a real browser (headless Chromium driven by Playwright): stepping, keys,
zoom and pan, the quiz, hostile labels, a 1,000-node graph, and no request leaving the page."""

import json

import pytest

from microreg import Value
from microreg.page import json_for_script, page_data, page_html
from microreg.step import Stepper, document_000_example

def open_page(browser, tmp_path, stepper, width=1280, height=900, name="page.html"):
    """Load the page from file://, recording errors and every request it makes."""
    path = tmp_path / name
    stepper.to_html(path)
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors, page.requests = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector(".mr-counter")
    return page


def tanh_example():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    L = (w * x).tanh()
    L.label = "L"
    return L


def grad_text(page, name):
    return page.evaluate("""name => {
        const g = [...document.querySelectorAll('.mr-node')].find(g => g.querySelector('.mr-name').textContent === name);
        return g.querySelector('.mr-grad').textContent; }""", name)


def data_text(page, name):
    return page.evaluate("""name => {
        const g = [...document.querySelectorAll('.mr-node')].find(g => g.querySelector('.mr-name').textContent === name);
        return g.querySelector('.mr-data').textContent; }""", name)


def lit_counts(page):
    return page.evaluate("""() => ({nodes: document.querySelectorAll('.mr-node.mr-lit').length,
        ops: document.querySelectorAll('.mr-op.mr-lit').length,
        edges: document.querySelectorAll('.mr-edges .mr-lit').length})""")


# --- data (no browser) ------------------------------------------------------------------------

def test_json_in_the_page_cannot_end_the_script():
    text = json_for_script({"label": "</script><!--<script>&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"label": "</script><!--<script>&\u2028"}


def test_page_data_has_every_step_and_no_markup():
    L = tanh_example()
    data = page_data(Stepper(L))
    assert len(data["steps"]) == len(Stepper(tanh_example()))
    assert [n["name"] for n in data["nodes"]] == [["w"], ["x"], ["t1"], ["L"]] or \
        sorted(n["name"][0] for n in data["nodes"]) == ["L", "t1", "w", "x"]
    assert data["steps"][0]["phase"] in ("seed", "forward")
    assert all(s["mathml"] is None or s["mathml"].startswith("<math") for s in data["steps"])


def test_page_is_one_file_with_no_network_and_no_label_in_markup():
    L = tanh_example()
    L.label = "</script><b>bold</b>"
    html = page_html(Stepper(L))
    assert "<b>bold</b>" not in html and "</script><b>" not in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert html.count("<script") == 2 and "export function mount" in html


# --- in the browser ---------------------------------------------------------------------------

def test_stepping_with_buttons_keys_and_slider(browser, tmp_path):
    page = open_page(browser, tmp_path, Stepper(tanh_example(), fold=False))     # w·x a step of its own
    total = len(Stepper(tanh_example(), fold=False))
    assert page.text_content(".mr-counter") == f"Step 1 / {total}"
    assert grad_text(page, "w") == "grad —", "no gradient before the backward pass reaches w"
    assert data_text(page, "L") == "data —", "no value before the forward pass computes L"
    page.click(".mr-next")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.text_content(".mr-counter") == f"Step 4 / {total}"
    page.evaluate("() => { const s = document.querySelector('.mr-slider'); s.value = s.max; "
                  "s.dispatchEvent(new Event('input')); }")
    assert page.text_content(".mr-counter") == f"Step {total} / {total}"
    # ∂L/∂w = (1 − tanh²(w·x))·x = (1 − tanh²(1))·2 = 0.419974·2 = 0.839949 (worked by hand)
    assert grad_text(page, "w") == "grad 0.8399", grad_text(page, "w")
    assert grad_text(page, "x") == "grad 0.21", grad_text(page, "x")     # (1 − tanh²(1))·0.5 = 0.20999
    page.keyboard.press("ArrowLeft")
    page.click(".mr-prev")
    for _ in range(total):
        page.keyboard.press("ArrowLeft")
    assert page.text_content(".mr-counter") == f"Step 1 / {total}"
    assert grad_text(page, "w") == "grad —", "going back restores what the step overwrote"
    assert data_text(page, "L") == "data —"
    assert page.is_disabled(".mr-prev") and not page.is_disabled(".mr-next")
    assert not page.errors and all(u.startswith("file://") for u in page.requests), (page.errors, page.requests)
    page.close()


def test_only_the_current_node_op_and_edge_are_lit_and_math_is_rendered(browser, tmp_path):
    stepper = Stepper(document_000_example())
    page = open_page(browser, tmp_path, stepper)
    seen = set()
    for k in range(len(stepper)):
        frame = stepper.frame(k)
        counts = lit_counts(page)
        if frame.phase == "backward":
            # the node whose op is applied, the input receiving the gradient, that op, the input's
            # edge into the op and the op's arrow to its node: nothing else
            assert counts == {"nodes": 2, "ops": 1, "edges": 2}, (k, counts)
            assert page.locator(".mr-formula math").count() >= 1, "the formula is rendered MathML"
        elif frame.phase == "forward":        # the node, its stepped inputs, their edges and the op's arrow
            lit = frame.lit
            nodes, edges = {id(n) for n in lit["nodes"]}, {(id(a), id(b)) for a, b in lit["edges"]}   # x·x: once
            assert counts == {"nodes": len(nodes), "ops": 1, "edges": len(edges) + 1}, (k, counts)
        seen.add(frame.phase)
        page.keyboard.press("ArrowRight")
    assert seen == {"forward", "seed", "backward"}, seen
    assert page.locator(".mr-phase").count() == 3, "phase markers: forward, seed, backward"
    page.close()


def test_text_is_readable_at_the_default_zoom(browser, tmp_path):
    for width in (800, 1280, 1920):
        page = open_page(browser, tmp_path, Stepper(document_000_example()), width=width)
        size = page.evaluate("""() => { const t = document.querySelector('.mr-node text');
            return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a; }""")
        assert size >= 12, f"node text is {size:.1f} px at {width} px wide"
        page.close()


def test_zoom_pan_and_fit(browser, tmp_path):
    page = open_page(browser, tmp_path, Stepper(document_000_example()))
    scale = lambda: page.evaluate("() => document.querySelector('.mr-viewport').getCTM().a")  # noqa: E731
    shift = lambda: page.evaluate("() => document.querySelector('.mr-viewport').getCTM().e")  # noqa: E731
    start = scale()
    box = page.locator(".mr-graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    assert scale() > start * 1.3, (scale(), start)
    x0 = shift()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()
    assert abs(shift() - x0 - 120) < 2, (shift(), x0)
    page.click(".mr-fit")
    graph = page.evaluate("() => { const b = document.querySelector('.mr-viewport').getBoundingClientRect(); "
                          "return [b.left, b.right]; }")
    assert box["x"] - 1 <= graph[0] and graph[1] <= box["x"] + box["width"] + 1, (graph, box)
    page.close()


def test_quiz_hints_and_score(browser, tmp_path):
    page = open_page(browser, tmp_path, Stepper(tanh_example(), fold=False))
    page.check(".mr-quiz-toggle input")          # step 1 (forward): t1 = w·x = 0.5·2 = 1
    assert page.is_visible(".mr-quiz-input") and "?" in page.text_content(".mr-quiz-ask")

    def answer(text):
        page.fill(".mr-quiz-input", text)
        page.click(".mr-quiz-check")
        return page.text_content(".mr-quiz-hint")

    answer("1")
    assert not page.is_visible(".mr-quiz-input"), "right: the numbers show"
    page.click(".mr-next")                       # L = tanh(t1) = tanh(1) = 0.761594
    assert "input t1 itself" in answer("1")
    answer("0.7616")
    page.click(".mr-next")                       # the seed: nothing to ask
    assert not page.is_visible(".mr-quiz-input")
    page.click(".mr-next")                       # ∂L/∂t1 = 1 · (1 − tanh²(1)) = 0.419974
    assert "(a forgotten local derivative)" in answer("1")      # the mistake search's words, as verify's
    assert "the sign is flipped" in answer("-0.42")
    answer("0.42")
    assert not page.is_visible(".mr-quiz-input") and "0.42" in page.text_content(".mr-text")
    assert page.text_content(".mr-text").startswith("correct: ∂L/∂t1 += ∂L/∂L · (1 − tanh²(t1)) = "), \
        page.text_content(".mr-text")
    page.click(".mr-next")                       # ∂L/∂w = 0.419974 · x = 0.839949
    page.fill(".mr-quiz-input", "0.84")
    page.keyboard.press("Enter")
    assert page.text_content(".mr-score") == "Score: 2 right of 4 asked", page.text_content(".mr-score")
    page.close()


HOSTILE = ["<!--<script>", "</script>", '"><img src=x onerror="window.__pwned=1">']


def test_hostile_labels_are_text_and_the_page_still_steps(browser, tmp_path):
    a, b, c = (Value(v, label=s) for v, s in zip((0.5, -1.5, 2.0), HOSTILE))
    L = (a * b + c).tanh()
    L.label = "<script>window.__pwned=2</script>"
    page = open_page(browser, tmp_path, Stepper(L))
    page.click(".mr-next")
    page.keyboard.press("ArrowRight")
    assert page.text_content(".mr-counter").startswith("Step 3 / ")
    names = page.evaluate("() => [...document.querySelectorAll('.mr-name')].map(t => t.textContent)")
    for label in HOSTILE:
        assert label in names, (label, names)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("img").count() == 0 and not page.errors, page.errors
    page.close()


def test_a_1000_node_graph_page_steps(browser, tmp_path):
    v = Value(0.3, label="x")
    for i in range(333):
        v = (v * Value(1.0 + 0.001 * i, label=f"w{i}")).tanh()
    stepper = Stepper(v)
    assert len(stepper.order) >= 1000
    page = open_page(browser, tmp_path, stepper)
    total = len(stepper)
    page.evaluate("() => { const s = document.querySelector('.mr-slider'); s.value = s.max; "
                  "s.dispatchEvent(new Event('input')); }")
    assert page.text_content(".mr-counter") == f"Step {total} / {total}"
    assert page.locator(".mr-node").count() == len(stepper.order)
    assert grad_text(page, "x") != "grad —" and not page.errors
    page.click(".mr-fit")
    page.close()


def test_no_request_leaves_the_page(browser, tmp_path):
    page = browser.new_page()
    outside = []
    page.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
               if not route.request.url.startswith("file://") else route.continue_())
    path = tmp_path / "p.html"
    Stepper(document_000_example()).to_html(path)
    page.goto(path.as_uri())
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    page.click(".mr-play")
    page.wait_for_timeout(300)
    assert outside == [], outside
    page.close()


@pytest.mark.parametrize("width", [800, 1280, 1920])
def test_long_formulas_fit_the_side_panel_or_scroll(browser, tmp_path, width):
    """Step 1's formula z1[0] = w1[0][0]·x + b1[0] = 0.2515·0.5 + 0.1049 = 0.2306 is wider than the
    380 px panel: it is broken at "=" so the result 0.2306 is shown, and nothing is clipped."""
    page = open_page(browser, tmp_path, Stepper(document_000_example()), width=width)
    try:
        for k in (0, 12):
            page.evaluate("""k => { const s = document.querySelector('input[type=range]');
                s.value = k; s.dispatchEvent(new Event('input', {bubbles: true})); }""", k)
            box = page.evaluate("""() => { const f = document.querySelector('.mr-formula');
                const p = document.querySelector('.mr-panel').getBoundingClientRect();
                const r = f.getBoundingClientRect();
                return {scroll: f.scrollWidth, client: f.clientWidth, overflow: getComputedStyle(f).overflowX,
                        right: r.right, panel: p.right, text: f.textContent}; }""")
            fits = box["scroll"] <= box["client"] + 1
            assert fits or box["overflow"] in ("auto", "scroll"), f"step {k + 1} at {width} px is clipped: {box}"
            assert box["right"] <= box["panel"], f"formula box {box['right']} past the panel {box['panel']}"
        page.evaluate("""() => { const s = document.querySelector('input[type=range]');
            s.value = 0; s.dispatchEvent(new Event('input', {bubbles: true})); }""")
        lines = page.locator(".mr-formula math")
        last = lines.nth(lines.count() - 1)
        assert "0.2306" in last.text_content(), last.text_content()
        right = page.evaluate("() => document.querySelector('.mr-formula').getBoundingClientRect().right")
        assert last.bounding_box()["x"] + last.bounding_box()["width"] <= right + 1, "the result 0.2306 is visible"
        assert page.errors == [], page.errors
    finally:
        page.close()


# --- what a learner meets first: the output in view, readable text, one form of each step -----------

def goto_step(page, k):
    page.evaluate("""k => { const s = document.querySelector('.mr-slider');
        s.value = k; s.dispatchEvent(new Event('input', {bubbles: true})); }""", k)


VISIBLE = """i => { const box = document.querySelectorAll('.mr-node')[i].querySelector('rect').getBoundingClientRect();
    const v = document.querySelector('.mr-graph').getBoundingClientRect();
    return box.left >= v.left - 1 && box.right <= v.right + 1 && box.top >= v.top - 1 && box.bottom <= v.bottom + 1; }"""


@pytest.mark.parametrize("width", [800, 1280, 1920])
def test_the_output_and_the_current_step_are_in_view_at_every_step(browser, tmp_path, width):
    """Document 000's net: at 1280 and 1920 px the loss L's own box is in view at every step, with node
    text at 12 px or more; at 800 px, where the net cannot be both whole and readable, the output is
    pinned to the view's corner whenever its box is out of view. The step's first lit node is in view."""
    stepper = Stepper(document_000_example())
    page = open_page(browser, tmp_path, stepper, width=width)
    data = page_data(stepper)
    root = data["root_index"]
    names = [n["name"][0] for n in data["nodes"]]
    try:
        for k, step in enumerate(data["steps"]):
            goto_step(page, k)
            shown = page.evaluate(VISIBLE, root)
            chip = page.evaluate("() => { const c = document.querySelector('.mr-output'); "
                                 "return c.style.display !== 'none' ? c.textContent : null; }")
            if width >= 1280:
                assert shown, f"step {k + 1}: L is out of view at {width} px"
            else:
                assert shown or (chip and chip.startswith("L (output)")), f"step {k + 1}: no output in view"
            if step["lit"]:
                assert page.evaluate(VISIBLE, step["lit"][0]), f"step {k + 1}: {names[step['lit'][0]]} out of view"
        size = page.evaluate("""() => { const t = document.querySelector('.mr-node text');
            return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a; }""")
        assert size >= 12, f"node text is {size:.1f} px at {width} px"
        assert not page.errors, page.errors
    finally:
        page.close()


def test_the_panel_shows_each_step_once(browser, tmp_path):
    """The title is the heading, the formula is rendered math, the explanation below repeats neither."""
    stepper = Stepper(document_000_example())
    page = open_page(browser, tmp_path, stepper)
    try:
        for k in (0, 20, len(stepper) - 1):
            goto_step(page, k)
            frame = stepper.frame(k)
            words = page.text_content(".mr-text")
            assert frame.title not in words and frame.formula.text not in words, (k, words)
            assert page.text_content(".mr-step-title") == frame.title
            assert page.locator(".mr-formula math").count() >= 1
        goto_step(page, 20)
        assert "local derivative" in page.text_content(".mr-text"), "the explanation is still there"
    finally:
        page.close()


@pytest.mark.parametrize("width", [800, 1280, 1920])
def test_the_layer_views_formulas_wrap_inside_the_panel(browser, tmp_path, width):
    """δ1 = (W2ᵀ δ2) ⊙ σ'(z1) = [..] ⊙ [..] = [..] is wider than the panel: it breaks before = and ⊙,
    every line within the panel, nothing cut at the top (the ᵀ) or the side."""
    stepper = Stepper(document_000_example(), view="layers")
    page = open_page(browser, tmp_path, stepper, width=width)
    try:
        for k in range(len(stepper)):
            goto_step(page, k)
            box = page.evaluate("""() => { const f = document.querySelector('.mr-formula');
                const r = f.getBoundingClientRect();
                const parts = [...f.querySelectorAll('math *')].map(m => m.getBoundingClientRect());
                return {right: r.right, lines: parts.map(p => p.right), scroll: f.scrollWidth, client: f.clientWidth,
                        room: Math.min(...parts.map(p => p.top)) - r.top, text: f.textContent}; }""")
            assert box["scroll"] <= box["client"] + 1 and max(box["lines"]) <= box["right"] + 1, (k, box)
            # a superscript's ink (the T of W2ᵀ) rises above its box: the formula leaves room over it
            assert box["room"] >= 3, f"step {k + 1}: the formula's top is at the box's edge: {box}"
        if width == 1920:          # beside the graph the panel is 380 px: δ1's formula takes several lines
            goto_step(page, len(stepper) - 1)
            assert page.locator(".mr-formula math").count() >= 3, "the long δ1 formula is on several lines"
    finally:
        page.close()


def test_phase_markers_and_data_nodes_at_800_px(browser, tmp_path):
    page = open_page(browser, tmp_path, Stepper(document_000_example()), width=800)
    try:
        cut = page.evaluate("() => [...document.querySelectorAll('.mr-phase')]"
                            ".filter(m => m.scrollWidth > m.clientWidth + 1).map(m => m.textContent)")
        assert cut == [], f"phase markers cut: {cut}"
        grads = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.mr-node')].map(
            g => [g.querySelector('.mr-name').textContent, !!g.querySelector('.mr-grad')]))""")
        assert grads["x"] is False and grads["y"] is False, "data (x, y) shows no grad, as in every picture"
        assert grads["w1[0][0]"] and grads["L"]
    finally:
        page.close()
