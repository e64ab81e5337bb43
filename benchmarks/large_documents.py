"""How long `microreg check` takes on large documents: reading is linear in the size (issue 22, item 9).

    python benchmarks/large_documents.py

Each case writes a document to a temporary folder and times `microreg.document.check_file` on it (the whole
check: finding the math, reading the equations, judging the claims), best of two runs. The documents are the
kinds that were quadratic before: a large file of prose, many inline math spans, many display equations (read up
to `microreg.document.equations.MAX_EQUATIONS`, the rest said in one row), and many claims.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from microreg.document import check_file  # noqa: E402

MODEL = "$$z = w x + b$$\n\n$$L = (z - y)^2$$\n\n"
CLAIM = "$$\\frac{\\partial L}{\\partial w} = 2(z - y) x$$\n\n"


def cases():
    yield "10 MB of prose", "Backpropagation applies the chain rule, layer by layer, to every weight.\n" * 140_000
    yield "40,000 lines of inline math", MODEL + "".join(f"A value $x_{{{i}}}$ on its own line.\n" for i in range(40_000))
    yield "100,000 one-line equations", MODEL + "".join(f"$$a_{{{i}}} = w x$$\n" for i in range(100_000))
    yield "1,000 claims", MODEL + CLAIM * 1000


def main():
    folder = tempfile.mkdtemp()
    for name, text in cases():
        path = os.path.join(folder, "doc.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        best = None
        for _ in range(2):
            t0 = time.perf_counter()
            report = check_file(path)
            seconds = time.perf_counter() - t0
            best = seconds if best is None else min(best, seconds)
        print(f"{name:32s} {len(text) / 1e6:6.1f} MB  {len(report.results):6d} rows  {best:6.2f} s")


if __name__ == "__main__":
    main()
