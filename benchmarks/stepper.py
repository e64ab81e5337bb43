"""How fast the stepper moves on a big graph: ``goto(k)`` on a graph of over 10,000 steps.

    python benchmarks/stepper.py            # print the figures
    python benchmarks/stepper.py --write    # and put them in benchmarks/RESULTS.md (its stepper section)

The graph is the per-sample loss of ``DeepNet(8, [64, 72, 1])`` (sigmoid hidden layers): every
chain-rule application of its backward pass is one step, after the forward pass. ``goto(k)``
restores every node's value and grad at step k from the nearest snapshot (one every
``Stepper.SNAPSHOT_EVERY`` steps), so its cost does not grow with k.
"""

import argparse
import os
import platform
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from microreg.nn import DeepNet, mse  # noqa: E402
from microreg.step import Stepper  # noqa: E402


def measure():
    net = DeepNet(8, [64, 72, 1], activation="sigmoid", seed=0)
    loss = mse(net([0.1 * i for i in range(8)]), 0.5)
    t = time.perf_counter()
    s = Stepper(loss)
    build = time.perf_counter() - t
    r = random.Random(0)
    ks = [r.randrange(len(s)) for _ in range(2000)]
    times = []
    for k in ks:
        t = time.perf_counter()
        s.goto(k)
        times.append(time.perf_counter() - t)
    times.sort()
    t = time.perf_counter()
    for k in ks[:200]:
        s.frame(k).text
    text = (time.perf_counter() - t) / 200
    t = time.perf_counter()
    for k in ks[:50]:
        s.frame(k).to_dict()
    page = (time.perf_counter() - t) / 50
    return {"nodes": len(s.order), "steps": len(s), "build": build, "median": times[len(times) // 2],
            "p99": times[int(len(times) * 0.99)], "max": times[-1], "text": text, "dict": page,
            "every": Stepper.SNAPSHOT_EVERY, "load": os.getloadavg()[0]}


def report(m):
    return [
        "## The stepper: goto(k) on a graph of over 10,000 steps",
        "",
        f"Made by `python benchmarks/stepper.py --write`. Per-sample loss of DeepNet(8, [64, 72, 1]): "
        f"{m['nodes']:,} nodes, {m['steps']:,} steps (forward, seed, backward); a snapshot every "
        f"{m['every']} steps.",
        "",
        "| | ms |",
        "|---|---|",
        f"| Stepper(loss): run backward once, copy, snapshot | {m['build'] * 1e3:.0f} |",
        f"| goto(k), 2,000 random k: median | {m['median'] * 1e3:.3f} |",
        f"| goto(k): 99th percentile | {m['p99'] * 1e3:.3f} |",
        f"| goto(k): slowest | {m['max'] * 1e3:.3f} |",
        f"| a step's text (formula trees filled with names and numbers) | {m['text'] * 1e3:.3f} |",
        f"| a step's page data (to_dict: text, LaTeX and MathML) | {m['dict'] * 1e3:.2f} |",
        "",
        f"Load average during the run: {m['load']:.1f} on {os.cpu_count()} cores (the slowest goto is a "
        "process descheduled mid-call when the machine is shared; the median and 99th percentile are the "
        "stepper's own cost). Page data is mostly latex2mathml (cached per formula).",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="update the stepper section of benchmarks/RESULTS.md")
    args = parser.parse_args()
    m = measure()
    lines = report(m)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n".join(lines))
    if args.write:
        path = os.path.join(HERE, "RESULTS.md")
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
        section = "<!-- stepper -->\n" + "\n".join(lines) + "\n<!-- /stepper -->\n"
        if "<!-- stepper -->" in old:
            new = re.sub(r"<!-- stepper -->.*?<!-- /stepper -->\n", lambda _: section, old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + section
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
