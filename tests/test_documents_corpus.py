"""The document checker on the real-style corpus (tests/documents/real_styles/): a ratchet.

The corpus's ground truth is worked out with sympy (``truth.py``), independently of the checker; the scoring is
``benchmarks/documents.py`` (the same numbers as ``python benchmarks/documents.py``). These floors are the
scores reached; a change that reads fewer claims, judges fewer right, finds fewer planted mistakes or raises
more false alarms fails here. Raise the floors when the checker gets better.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: the scores reached (python benchmarks/documents.py): read, right among read, planted found, explained
FLOORS = dict(read=253, right=253, found=48, explained=30)
#: at most this many false alarms (a right claim, or a definition, judged wrong)
MAX_ALARMS = 0


@pytest.fixture(scope="module")
def scores():
    spec = importlib.util.spec_from_file_location("documents_benchmark", ROOT / "benchmarks" / "documents.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    per_doc, totals, seconds, rows = mod.run()
    return per_doc, totals, rows


def test_the_corpus_scores_do_not_fall(scores):
    _, totals, _ = scores
    low = {k: (totals[k], floor) for k, floor in FLOORS.items() if totals[k] < floor}
    assert not low, f"below the floor (got, floor): {low}"
    assert totals["alarms"] <= MAX_ALARMS, f"{totals['alarms']} false alarms (at most {MAX_ALARMS})"


def test_most_of_the_corpus_is_read_and_read_right(scores):
    _, totals, _ = scores
    assert totals["read"] >= 0.95 * totals["checkable"]
    assert totals["right"] >= 0.95 * totals["read"]


def test_no_claim_judged_right_stops_being_so(scores):
    # judged_right.json: the claims (document, cell, line, n-th on the line) judged as the sympy truth judges
    # them when the floors were last raised; each must stay so (add to the list when more are)
    import json
    _, _, rows = scores
    now = {(r["doc"], r["cell"] or 0, r["line"], r["n"]) for r in rows if r["outcome"] == "right"}
    listed = json.loads((ROOT / "tests" / "documents" / "real_styles" / "judged_right.json").read_text("utf-8"))
    lost = [tuple(x) for x in listed if tuple(x) not in now]
    assert not lost, f"claims no longer judged right: {lost}"


def test_every_document_has_claims_read(scores):
    per_doc, _, _ = scores
    unread = [name for name, d in per_doc if d["checkable"] and not d["read"]]
    assert not unread, f"documents with no claim read: {unread}"
