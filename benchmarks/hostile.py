"""What used to hang or grow without bound under hostile input (issue 22), timed.

    python benchmarks/hostile.py [REPO ...]       # a markdown table, one column per REPO

REPO is a checkout (or any folder holding a ``microreg`` package) to measure; by default the one
holding this file. Each measurement runs in a fresh process with that REPO first on the path, on
this machine, so a before/after pair is comparable; the rows:

- ``wide table``: preparing the columns of a CSV of 20 rows × n columns (``Preparation.fit`` and
  ``features``, what ``microreg train`` does before training), for n = 5,000 … 40,000: it was
  quadratic in n (each column's name looked up with ``list.index``); ``3 × 20,000 train`` is the
  reproducer's whole command (3 rows: "too few rows"), start-up included;
- ``100,000-character labels``: the stepper page of a 4-node loss whose labels are that long;
- ``FIFO`` and ``/dev/zero``: ``microreg train`` on each (a FIFO blocked for ever; /dev/zero was
  read until memory ran out): the time to refuse it, start-up included; "> 10 s" when it had not
  returned after 10 s (the process is then stopped);
- ``check at the flags' bounds``: ``microreg check`` of a small document at ``--samples 10000``,
  ``--points 1000`` and ``--dims f=64,h=64``, the largest values the flags now take.
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTS = os.path.join(os.path.dirname(HERE), "tests", "documents")

WIDE = textwrap.dedent("""
    import time
    from microreg.data import Preparation, Table, choose_columns, target_values
    n = {n}
    header = [f"c{{j}}" for j in range(n)] + ["y"]
    rows = [[str(float((i * j) % 7)) for j in range(n)] + [str(float(i))] for i in range(20)]
    start = time.perf_counter()
    table = Table("wide.csv", header, rows)
    columns = choose_columns(table, "y")
    y, kept = target_values(table, "y")
    prep, _ = Preparation.fit(table, "y", columns, kept, y)
    prep.features(table)
    print(time.perf_counter() - start)
""")

LABELS = textwrap.dedent("""
    import os, time, tempfile
    from microreg import Value
    from microreg.step import Stepper
    label = "A" * 100_000
    w, x = Value(0.5, label=label), Value(2.0, label=label + "_x")
    z = w * x
    z.label = label + "_z"
    L = (z.tanh() - 1.0) ** 2
    L.label = label + "_L"
    path = os.path.join(tempfile.mkdtemp(), "page.html")
    start = time.perf_counter()
    Stepper(L).to_html(path)
    print(time.perf_counter() - start, os.path.getsize(path))
""")


def python(repo, code, timeout=600):
    env = dict(os.environ, PYTHONPATH=repo)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return [float(v) for v in done.stdout.split()]


def command(repo, args, cwd, timeout=10.0):
    """Seconds until ``microreg ARGS`` returns, or None if it had not after ``timeout``."""
    env = dict(os.environ, PYTHONPATH=repo)
    start = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "microreg", *args], env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None
    return time.perf_counter() - start


def seconds(value):
    return "> 10 s" if value is None else f"{value:.2f} s"


def rows(repo, work):
    out = []
    for n in (5_000, 10_000, 20_000, 40_000):
        out.append((f"wide table, 20 rows × {n:,} columns: prepared", seconds(python(repo, WIDE.format(n=n))[0])))
    wide = os.path.join(work, "wide.csv")
    with open(wide, "w") as f:
        f.write(",".join([f"c{j}" for j in range(20_000)] + ["y"]) + "\n")
        f.write(("," .join(["1"] * 20_001) + "\n") * 3)
    out.append(("wide table, 3 rows × 20,000 columns: `microreg train` until it refuses",
                 seconds(command(repo, ["train", wide, "--target", "y", "--out", os.path.join(work, "o"),
                                        "--quiet"], work, timeout=600))))
    took, size = python(repo, LABELS)
    out.append(("stepper page of 4 labels of 100,000 characters", f"{took:.2f} s, {size / 1e6:.1f} MB"))
    fifo = os.path.join(work, "pipe.csv")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    out.append(("`microreg train` on a FIFO", seconds(command(repo, ["train", fifo, "--target", "y"], work))))
    out.append(("`microreg train` on /dev/zero (memory limited to 3 GiB)",
                seconds(command(repo, ["train", "/dev/zero", "--target", "y"], work))))
    for flag in (["--samples", "10000"], ["--points", "1000"], ["--dims", "f=64,h=64"]):
        doc = os.path.join(DOCUMENTS, "vector_net.md" if flag[0] == "--dims" else "linear_inline.md")
        out.append((f"`microreg check {os.path.basename(doc)} {' '.join(flag)}`",
                    seconds(command(repo, ["check", doc, *flag], work, timeout=600))))
    return out


def main(repos):
    import resource
    limit = 3 * 1024 ** 3        # so that /dev/zero fails with MemoryError, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results = []
    for repo in repos:
        with tempfile.TemporaryDirectory() as work:
            results.append(rows(os.path.abspath(repo), work))
    print("| input | " + " | ".join(repos) + " |")
    print("|---|" + "---|" * len(repos))
    for i, (name, _) in enumerate(results[0]):
        print(f"| {name} | " + " | ".join(r[i][1] for r in results) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or [os.path.dirname(HERE)])
