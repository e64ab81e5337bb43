"""How well `microreg check` reads the real-style derivation corpus (tests/documents/real_styles/).

The corpus holds 30 documents written in the notation courses, textbooks and blogs use, with a ground truth
worked out with sympy (``truth.py``: every claim's verdict, and for a planted mistake its kind and the words a
right explanation names). This script checks each document and matches microreg's rows to the truth's claims
by where they stand (the cell, the line, and the columns the claim's text covers), then counts:

- **read**: claims microreg judged (ok, factor or wrong) among those the truth can judge;
- **right**: read claims whose verdict is the truth's (and, for a factor, the same factor);
- **found**: planted mistakes judged right whose explanation names the truth's words;
- **false alarms**: a claim that is right, or a definition line, judged wrong or off by a factor;
- **seconds**: the time to check the whole corpus.

    python benchmarks/documents.py            # the table and the summary line
    python benchmarks/documents.py --json     # one JSON object per claim (for a closer look)
    python benchmarks/documents.py --write    # also record the summary in benchmarks/RESULTS.md
"""

import argparse
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "documents" / "real_styles"
sys.path.insert(0, str(ROOT))

from microreg.document import check_file  # noqa: E402

FACTORS = {"m": None, "n": None, "1/m": None, "-1": -1.0, "1/2": 0.5, "2": 2.0, "-2": -2.0, "-1/2": -0.5}


def load_truth():
    spec = importlib.util.spec_from_file_location("real_styles_truth", CORPUS / "truth.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DOCS


def _squash(text):
    return re.sub(r"\s+", "", text)


def _lines_of(path):
    """(cell, line) → the line's text: a notebook's cells (1-based among all cells), or the file's lines."""
    if path.suffix == ".ipynb":
        import nbformat
        nb = nbformat.read(str(path), as_version=4)
        out = {}
        for c, cell in enumerate(nb.cells, start=1):
            for k, line in enumerate(cell.source.split("\n"), start=1):
                out[(c, k)] = line
        return out
    return {(None, k): line for k, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)}


def _span(line, text):
    """The 1-based columns [start, end] of ``text`` in ``line``, whitespace aside; None if it is not there."""
    target = _squash(text)
    if not target:
        return None
    kept = [(i, ch) for i, ch in enumerate(line) if not ch.isspace()]
    flat = "".join(ch for _, ch in kept)
    k = flat.find(target)
    if k < 0:
        return None
    return kept[k][0] + 1, kept[k + len(target) - 1][0] + 1


def _factor_value(text, samples):
    if text in ("m", "n"):
        return float(samples)
    if text in ("1/m", "1/n"):
        return 1.0 / samples
    return FACTORS.get(text)


def score_document(name, doc, samples=5):
    """[(claim, row or None, outcome)] for one document, and the false alarms on its definition lines."""
    path = CORPUS / name
    report = check_file(path, samples=samples)
    lines = _lines_of(path)
    rows = [r for r in report.results if r.kind in ("derivative", "identity", "update", "equation", "gradient", "arithmetic", "example")]
    used = set()
    outcomes = []
    spans = {}
    for c in doc.claims:
        key = (c.cell, c.line)
        span = _span(lines.get(key, ""), c.text)
        spans.setdefault(key, []).append((c, span))
    for key, claims in spans.items():
        here = [r for r in rows if (r.cell, r.line) == key]
        for c, span in claims:
            match = None
            if span is not None:
                inside = [r for r in here if span[0] <= r.column <= span[1] + 1 and id(r) not in used]
                readable = [r for r in inside if r.verdict != "unchecked"]
                match = (readable or inside or [None])[0]
            if match is None:
                leftovers = [r for r in here if id(r) not in used]
                same_n = [r for r in leftovers if r.verdict != "unchecked"]
                match = same_n[0] if len(claims) == 1 and len(same_n) == 1 else None
            if match is not None:
                used.add(id(match))
            outcomes.append((c, match, _outcome(c, match, samples)))
    defs = {d if isinstance(d, tuple) else (None, d) for d in doc.defs}
    alarms = [r for r in rows if id(r) not in used and (r.cell, r.line) in defs and r.verdict in ("wrong", "factor")]
    return outcomes, alarms, report


def _outcome(c, row, samples):
    """"right", "wrong verdict", "not read", "unchecked as it should be", "read what cannot be read"."""
    if c.verdict == "unchecked":
        return "unchecked as it should be" if row is None or row.verdict == "unchecked" else "read what cannot be read"
    if row is None or row.verdict == "unchecked":
        return "not read"
    if row.verdict != c.verdict:
        return "wrong verdict"
    if c.verdict == "factor":
        k = _factor_value(c.factor, samples)
        if k is not None and row.factor is not None and abs(row.factor - k) > 1e-6 * max(1.0, abs(k)):
            return "wrong verdict"
    return "right"


def _explained(c, row):
    words = [w for w in (c.explain or ())]
    if not words:
        return True
    text = _squash(row.explanation.lower())
    return any(_squash(w.lower()) in text or _squash(_unicode(w).lower()) in text for w in words)


def _unicode(word):
    from microreg.notation import display
    try:
        return display(word)
    except Exception:  # noqa: BLE001 - a word that is not a formula stays as written
        return word


def run(samples=5):
    truth = load_truth()
    per_doc, rows_out = [], []
    t0 = time.perf_counter()
    totals = dict(claims=0, checkable=0, read=0, right=0, planted=0, found=0, explained=0, alarms=0)
    for name in sorted(truth):
        doc = truth[name]
        outcomes, alarms, report = score_document(name, doc, samples)
        d = dict(claims=len(outcomes), checkable=0, read=0, right=0, planted=0, found=0, explained=0, alarms=len(alarms))
        for c, row, outcome in outcomes:
            checkable = c.verdict != "unchecked"
            d["checkable"] += checkable
            d["read"] += checkable and outcome != "not read"
            d["right"] += outcome == "right" and checkable
            if c.verdict in ("ok",) and row is not None and row.verdict in ("wrong", "factor"):
                d["alarms"] += 1
            if c.verdict in ("wrong", "factor"):
                d["planted"] += 1
                if outcome == "right":
                    d["found"] += 1
                    d["explained"] += _explained(c, row)
            rows_out.append(dict(doc=name, cell=c.cell, line=c.line, n=c.n, truth=c.verdict, kind=c.kind,
                                 verdict=row.verdict if row else None, outcome=outcome,
                                 claim=row.claim if row else None, explanation=row.explanation if row else None))
        for key in totals:
            totals[key] += d[key]
        per_doc.append((name, d))
    seconds = time.perf_counter() - t0
    return per_doc, totals, seconds, rows_out


def summary(totals, seconds):
    t = totals
    return (f"corpus: {t['read']}/{t['checkable']} claims read ({100 * t['read'] / max(1, t['checkable']):.0f}%), "
            f"{t['right']}/{t['read']} read claims judged right, {t['found']}/{t['planted']} planted mistakes found "
            f"({t['explained']} with the right explanation), {t['alarms']} false alarms, {seconds:.1f} s")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="one JSON object per claim")
    p.add_argument("--write", action="store_true", help="record the summary in benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    per_doc, totals, seconds, rows = run()
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    print(f"{'document':36s} {'read':>9s} {'right':>6s} {'found':>9s} {'alarms':>6s}")
    for name, d in per_doc:
        print(f"{name:36s} {d['read']:>4d}/{d['checkable']:<4d} {d['right']:>6d} {d['found']:>4d}/{d['planted']:<4d} "
              f"{d['alarms']:>6d}")
    line = summary(totals, seconds)
    if args.write:
        _write(line)
    print(line)
    return 0


def _write(line):
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    block = ("## The real-style document corpus\n\n`python benchmarks/documents.py` (tests/documents/real_styles/: "
             "30 documents in the notation of courses, textbooks and blogs, a sympy ground truth):\n\n"
             f"    {line}\n")
    if "## The real-style document corpus" in text:
        text = re.sub(r"## The real-style document corpus\n.*?(?=\n## |\Z)", block.rstrip("\n") + "\n", text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
