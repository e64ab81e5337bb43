"""The stepper page, widget and terminal with hostile labels and non-finite numbers (issue 22)."""

import json

from microreg import Value
from microreg.page import json_for_script, page_data, page_html
from microreg.step import Stepper


def test_a_graph_holding_inf_makes_a_page_and_widget_data():
    # issue 22 item 15 (repro_01): a·b overflows to inf, tanh(inf) = 1: a drawable graph, but to_html raised
    # json's "Out of range float values are not JSON compliant" and the widget got Infinity in its JSON
    a, b = Value(1e308, label="a"), Value(10.0, label="b")
    L = (a * b).tanh()
    L.label = "L"
    data = page_data(Stepper(L))
    json.dumps(data, allow_nan=False)         # what the widget sends: no Infinity, no NaN
    first = data["steps"][0]
    # the forward step of L folds its unlabelled part t1 = a·b: t1 is shown as inf, and the quiz asks
    # only for L = tanh(inf) = 1, a finite number
    assert any(value == "inf" for _, _, value in first["set"]), first
    assert first["quiz"] is not None and first["quiz"]["answer"] == 1.0, first["quiz"]
    every = page_data(Stepper(L, fold=False))  # a step for every node: t1 = inf has its own step, and no quiz
    json.dumps(every, allow_nan=False)
    first = every["steps"][0]
    assert first["quiz"] is None and [value for _, _, value in first["set"]] == ["inf"], first
    assert "inf" in page_html(Stepper(L))


def test_a_non_finite_number_left_in_page_data_is_its_text():
    assert json_for_script({"a": [1.0, float("inf"), float("nan")]}) == '{"a":[1.0,"inf","nan"]}'


def test_a_label_of_100000_characters_makes_a_small_page():
    # issue 22 item 13 (repro_18): four such labels made a 37.6 MB page that took Chromium 77 s to load
    label = "A" * 100_000
    w, x = Value(0.5, label=label), Value(2.0, label=label + "_x")
    z = w * x
    z.label = label + "_z"
    L = (z.tanh() - 1.0) ** 2
    L.label = label + "_L"
    page = page_html(Stepper(L))
    assert len(page) < 600_000, f"{len(page):,} characters"
    from microreg.step import MAX_NAME, shown_name
    name = shown_name(label + "_z")
    assert len(name) < MAX_NAME + 30 and name.endswith("AAAA_z (100,002 characters)"), name


def test_control_characters_and_a_nul_in_a_label_are_escapes():
    # issue 22 item 22: a NUL in a label emptied the page's formula panel (MathML cannot hold it);
    # an ESC in a label reached the terminal stepper
    w = Value(0.5, label="w\x00\x1b[2J")
    L = (w * 2.0).tanh()
    L.label = "L"
    s = Stepper(L)
    assert s.names[id(w)] == "w\\x00\\x1b[2J"
    data = page_data(s)
    text = json.dumps(data)
    assert "\\u0000" not in text and "\\u001b" not in text, "no raw control character reaches the page"
    assert any("<mtext>x00</mtext>" in (step["mathml"] or "") for step in data["steps"]), "the name, escaped, in a formula"
    assert "\x1b" not in s.text(len(s) - 1) and "\x00" not in s.text(len(s) - 1)


def test_a_lone_surrogate_in_a_label_or_title_still_writes_the_page(tmp_path):
    # issue 22 item 19 (repro_25): UnicodeEncodeError from the page writer: no page at all
    w = Value(0.5, label="w\ud800")
    L = (w * 2.0).tanh()
    L.label = "L"
    path = Stepper(L).to_html(str(tmp_path / "s.html"))
    text = open(path, encoding="utf-8").read()
    assert "w\\\\ud800" in text or "w\\ud800" in text
    page = page_html(Stepper(L), title="t\udfff")
    page.encode("utf-8")


def test_the_terminal_stepper_prints_a_label_escaped():
    # issue 22 item 20: a label's ESC sequence reached the terminal through the stepper's text
    import io
    from microreg.terminal import run_terminal
    w = Value(0.5, label="w\x1b[2J\x1b[31m")
    L = (w * 2.0).tanh()
    L.label = "L"
    out = io.StringIO()
    assert run_terminal(Stepper(L), stdin=io.StringIO("n\nn\nq\n"), stdout=out) == 0
    assert "\x1b" not in out.getvalue() and "w\\x1b[2J\\x1b[31m" in out.getvalue(), out.getvalue()[:300]
