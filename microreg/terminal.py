"""Step through backprop in a terminal, one key per step (``microreg step``).

    → n Enter Space   next step          ← b p   previous step
    g                 go to a step       q Esc   quit

In a real terminal the keys act at once (the terminal is put in cbreak mode with ``termios`` and
restored on exit, even after Ctrl-C); every line is wrapped to the terminal's width. When input is
not a terminal (a pipe, a script), one command per line is read instead. At the end a table lists
every parameter's gradient.
"""

import os
import re
import shutil
import sys
import textwrap

HELP = "→/n/Enter next · ←/b back · g go to · q quit"

NEXT, BACK, GOTO, QUIT = "next", "back", "goto", "quit"
_KEYS = {"\r": NEXT, "\n": NEXT, " ": NEXT, "n": NEXT, "\x1b[C": NEXT, "\x1bOC": NEXT, "l": NEXT,
         "b": BACK, "p": BACK, "\x1b[D": BACK, "\x1bOD": BACK, "h": BACK,
         "g": GOTO, "q": QUIT, "\x1b": QUIT, "\x03": QUIT, "\x04": QUIT}
_WORDS = {"": NEXT, "n": NEXT, "next": NEXT, "b": BACK, "back": BACK, "p": BACK, "g": GOTO, "goto": GOTO,
          "q": QUIT, "quit": QUIT, "exit": QUIT}


#: What must never reach a terminal as itself: C0 controls but tab and newline (ESC starts an escape
#: sequence that can erase or forge lines, CR returns to the line's start, BEL rings), DEL, the C1
#: controls, the bidirectional overrides (they reorder what follows) and lone surrogates (not text).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                       "\ud800-\udfff]")


def printable(text):
    """``text`` with every control character shown as its escape (``\\x1b``, ``\\r``, ``\\u202e``), so
    text from a document, a CSV or a label cannot move the cursor, erase or forge lines of a report."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def wrap(text, width):
    """Wrap every line of ``text`` to ``width`` columns, continuing an indented line under its indent."""
    out = []
    for line in text.splitlines() or [""]:
        indent = line[:len(line) - len(line.lstrip(" "))]
        if len(line) <= width:
            out.append(line)
            continue
        out.extend(textwrap.wrap(line, width=width, subsequent_indent=indent + "  ", break_long_words=True,
                                 break_on_hyphens=False) or [""])
    return "\n".join(out)


def gradient_table(stepper, width=80):
    """Every parameter's data and final gradient, one row each, as text."""
    from .viz import format_data, node_kind

    rows = [(str(stepper.name(n)), format_data(n.data, stepper.fmt), format_data(stepper.final[id(n)], stepper.fmt))
            for n in stepper.order if not n._prev and node_kind(n) == "param"]
    root = stepper.name(stepper.root)
    head = ("parameter", "data", f"∂{root}/∂parameter")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)), "  ".join("─" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(line[:width] for line in lines)


class _Keys:
    """Single keys from a terminal in cbreak mode (arrow keys arrive as escape sequences)."""

    def __init__(self, stream):
        self.stream = stream
        self.fd = stream.fileno()

    def __enter__(self):
        import termios
        import tty
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        import termios
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def read(self):
        import select
        key = os.read(self.fd, 1).decode("utf-8", "replace")
        if key == "\x1b":   # an arrow key sends ESC [ C within a few ms; a lone Esc sends nothing more
            while select.select([self.fd], [], [], 0.05)[0]:
                key += os.read(self.fd, 1).decode("utf-8", "replace")
                if len(key) >= 3:
                    break
        return key

    def line(self, prompt, write):
        """Read a line with echo (cooked mode) for the goto prompt."""
        import termios
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        try:
            write(prompt)
            return self.stream.readline().strip()
        finally:
            import tty
            tty.setcbreak(self.fd)


def run_terminal(stepper, stdin=None, stdout=None):
    """Walk the steps of ``stepper``; returns 0. Keys act at once in a terminal, lines otherwise."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout

    def write(text=""):
        stdout.write(text)
        stdout.flush()

    def width():
        return max(30, shutil.get_terminal_size((100, 24)).columns - 1)

    last = len(stepper) - 1
    root = stepper.name(stepper.root)
    interactive = stdin.isatty() and stdout.isatty()

    def show(note=""):
        w = width()
        head = printable(f"Backprop of {root}: step {stepper.position + 1} of {len(stepper)}")
        body = wrap(printable(stepper.text()), w)
        write("\x1b[2J\x1b[H" if interactive else "\n")
        write(wrap(head, w) + "\n" + wrap(HELP, w) + "\n\n" + body + "\n" + (f"\n{wrap(note, w)}\n" if note else ""))

    def goto(answer):
        try:
            k = int(answer)
        except ValueError:
            return f"(not a step number: {answer!r}; steps are 1 to {len(stepper)})"
        if not 1 <= k <= len(stepper):
            return f"(no step {k}: steps are 1 to {len(stepper)})"
        stepper.goto(k - 1)
        return ""

    def act(command, ask):
        if command == NEXT:
            if stepper.position == last:
                return "(that was the last step: every gradient is final. b = back, q = quit)"
            stepper.next()
        elif command == BACK:
            if stepper.position == 0:
                return "(already at the first step)"
            stepper.prev()
        elif command == GOTO:
            return goto(ask(f"go to step (1-{len(stepper)}): "))
        return ""

    show()
    if interactive:
        with _Keys(stdin) as keys:
            while True:
                key = keys.read()
                command = _KEYS.get(key, _KEYS.get(key.lower()))
                if command == QUIT:
                    break
                if command is None:
                    show(f"(unknown key {key!r}: {HELP})")
                    continue
                show(act(command, lambda prompt: keys.line(prompt, write)))
    else:
        while True:
            line = stdin.readline()
            if not line:
                break
            command = _WORDS.get(line.strip().lower())
            if command == QUIT:
                break
            if command is None:
                show(printable(f"(unknown command {line.strip()!r}: {HELP})"))
                continue

            def ask(prompt):
                write(prompt)
                answer = stdin.readline().strip()
                write(answer + "\n")
                return answer
            show(act(command, ask))
    write("\nEvery parameter's gradient (after the whole backward pass):\n" + printable(gradient_table(stepper, width()))
          + "\n")
    return 0
