"""The report of a checked document: its rows, a table for a terminal, JSON lines, and an exit status.

Exit status (``microreg check FILE``): **0** every claim found was read and holds; **1** a claim is wrong or
off by a factor; **3** claims were found but some could not be read (none found wrong), or the document has
derivatives, update rules or ∂ and not one claim could be read. A document with no math at all is 0 and
says so.
"""

import json
import re
import textwrap
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Report", "format_results", "to_json", "exit_status", "escape"]

VERDICTS = ("ok", "factor", "wrong", "unchecked")


@dataclass
class Report:
    """What `check_report` found: the rows (`ClaimResult`), the model read, what was skipped, how it was read."""

    results: list
    definitions: list = field(default_factory=list)   # (line, text)
    mentions: int = 0                                  # math without an equals sign
    prose_lines: int = 0
    samples: int = 5
    dims: str | None = None                            # the reading, in words
    notes: list = field(default_factory=list)
    derivative_marks: int = 0
    name: str = "<text>"

    @property
    def claims(self):
        return [r for r in self.results if r.kind in ("derivative", "identity", "update", "gradient", "arithmetic", "example")]

    @property
    def unread_equations(self):
        return [r for r in self.results if r.verdict == "unchecked" and r.kind in (
            "derivative", "identity", "update", "gradient", "arithmetic", "example", "equation", "prose-equation")]


def exit_status(report):
    """0 all read and right, 1 a claim wrong or off, 3 claims found but some (or all) not read, or nothing to
    check at all (an empty file, prose only): never 0 for a document of which nothing was checked."""
    verdicts = Counter(r.verdict for r in report.claims)
    if verdicts["wrong"] or verdicts["factor"]:
        return 1
    if report.unread_equations:
        return 3
    if not any(r.verdict == "ok" for r in report.claims):
        return 3
    return 0


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape(text):
    """Control characters (ANSI escapes, carriage returns, bidi overrides) shown, never obeyed: a document
    cannot erase or forge rows of its own report."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else
                        f"\\u{ord(m.group(0)):04x}", str(text))


def _width(text):
    return sum(0 if unicodedata.combining(c) else (2 if unicodedata.east_asian_width(c) in "WF" else 1)
               for c in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


def _short(text, width=64):
    text = " ".join(text.split())
    return text if _width(text) <= width else text[:width - 1] + "…"


def _where(r):
    return f"{r.cell}:{r.line}" if r.cell is not None else str(r.line)


def format_results(report, width=None):
    """The table ``microreg check FILE`` prints: line, claim, verdict, explanation; then a summary.

    With ``width`` (a terminal's columns) long explanations wrap under their own column. A notebook's rows
    say ``cell:line``."""
    results = report.results
    out = []
    if report.definitions:
        out.append("model read from the document:")
        for line, text in report.definitions:
            out.append(f"  line {str(line):>4}  {escape(text)}")
        out.append("")
    shown = [r for r in results if r.kind not in ("prose", "picture", "code")]
    if shown:
        where_width = max(5, max(len(_where(r)) for r in shown))
        claim_width = min(64 if not width else max(30, width // 3), max(_width(escape(r.claim)) for r in shown))
        indent = where_width + 2 + claim_width + 2 + 9 + 2
        room = width - indent if width and width - indent >= 30 else None
        head = "cell:line" if any(r.cell is not None for r in shown) else "line"
        out.append(f"{head:>{where_width}}  {_pad('claim', claim_width)}  {'verdict':<9}  explanation")
        out.append(f"{'-' * where_width}  {'-' * claim_width}  {'-' * 9}  {'-' * 11}")
        for r in shown:
            text = escape(r.explanation)
            lines = (textwrap.wrap(text, room) if room else [text]) or [""]
            claim = escape(r.claim)
            claim = claim if _width(claim) <= claim_width else _short(claim, claim_width)
            out.append(f"{_where(r):>{where_width}}  {_pad(claim, claim_width)}  {r.verdict:<9}  {lines[0]}")
            out.extend(" " * indent + more for more in lines[1:])
        out.append("")
    out.extend(summary_lines(report, width))
    return "\n".join(out)


def summary_lines(report, width=None):
    claims = report.claims
    counts = Counter(r.verdict for r in claims)
    read = counts["ok"] + counts["factor"] + counts["wrong"]
    not_read = counts["unchecked"]
    other_unread = [r for r in report.results if r.verdict == "unchecked" and r.kind in ("equation", "prose-equation")]
    lines = []
    if not claims and not other_unread:
        if report.derivative_marks:
            lines.append("no claim could be read, though the document has derivatives or update rules: "
                         "see the rows (exit status 3)")
        else:
            lines.append("no claims to check: the document has no derivative, identity or update rule")
    else:
        lines.append(f"{read} claim(s) read and checked: {counts['ok']} ok, {counts['factor']} off by a factor, "
                     f"{counts['wrong']} wrong; {not_read + len(other_unread)} equation(s) not read")
    reasons = Counter(_reason(r.explanation) for r in report.results
                      if r.verdict == "unchecked" and r.kind not in ("prose", "picture", "code"))
    if reasons:
        lines.append("not read, most frequent first: " + "; ".join(f"{n} × {why}" for why, n in reasons.most_common(6)))
    pictures = sum(1 for r in report.results if r.kind == "picture")
    code = sum(1 for r in report.results if r.kind == "code")
    lines.append(f"not checked: {report.prose_lines} paragraph(s) of prose, {pictures} picture(s), {code} code "
                 f"block(s), {report.mentions} math span(s) without an equation")
    lines.append(f"read with {report.dims}, {len(report.definitions)} definition(s)")
    for note in report.notes:
        lines.append(note)
    out = []
    for ln in lines:
        out.extend(textwrap.wrap(escape(ln), width) if width and width >= 40 else [escape(ln)])
    return out


def _reason(text):
    """The kind of a reason, for counting: "cannot read this equation at column 5: unexpected …" → "cannot
    read this equation"."""
    text = re.sub(r" at column \d+.*", "", text)
    text = re.sub(r"^\S+ is never defined.*", "a name that is never defined", text)
    text = re.sub(r"^\S+ is defined on line \d+, which could not be read.*", "a name whose definition could not be "
                  "read", text)
    text = re.sub(r"\(.*?\)", "", text)
    text = re.split(r"[:;]", text)[0].strip()
    return text[:70]


def to_json(report):
    """One JSON object per row, a line each: line, column, cell, claim, wrt, verdict, explanation, factor, kind."""
    return "\n".join(json.dumps(r.to_dict(), ensure_ascii=False) for r in report.results)
