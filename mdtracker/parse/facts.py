"""Facts that stand inside one line wherever they are: scores (`Score: **86.5%**`, `78/100`), and mojibake
(the problem lint reports, line by line)."""

from __future__ import annotations

import bisect
import re

from mdtracker import mojibake, recognize
from mdtracker.model import Score
from mdtracker.parse.state import State

_NEWLINE = re.compile(r"\r\n|\r|\n")


def may_score(text: str) -> bool:
    """A cheap test first: a line that can hold a score (`score`, `knowledge check`, `n/m = p%`)."""
    return "core" in text or "CORE" in text or "heck" in text or "HECK" in text or ("=" in text and "%" in text)


def score(state: State, line: int, text: str) -> None:
    """The result of a whole check written on the line, if any; in the list of a `**Knowledge Check**:`
    label, also its first result written `n/m = p%`."""
    if not may_score(text):
        return
    found = recognize.score_rule(text)
    if found is None and state.label is not None and "=" in text and "knowledge check" in \
            state.labels[state.label].text.casefold() and not any(s.label == state.label for s in state.scores):
        value = recognize.result_of(text)
        found = (value, "the first n/m = p% of a knowledge check's list") if value is not None else None
    if found is not None:
        state.scores.append(Score(line, found[0], text.strip(), state.heading, state.label,
                                  state.parent_line() if state.items else None, found[1]))


def mojibake_problems(state: State) -> None:
    """A `mojibake` problem on every line that holds some, with the repair `lint --fix` would make."""
    text = state.text
    repairs = mojibake.find(text)
    if not repairs:
        return
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    by_line: dict[int, list[mojibake.Repair]] = {}
    in_code = set()
    for r in repairs:
        line = bisect.bisect_right(starts, r.offset)
        column = r.offset - starts[line - 1]
        if any(first <= line <= last for first, last in state.code) or state.source_line(line)[:column].count("`") % 2:
            in_code.add(r.offset)
    if len(in_code) == len(repairs):
        return  # only in code: examples, the note's text as meant (a README quoting `ðŸ”´`); else the note's own
    for r in repairs:
        by_line.setdefault(bisect.bisect_right(starts, r.offset), []).append(r)
        state.repairs.append(r.offset)
    for line, found in by_line.items():
        first = found[0]
        more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
        state.problem(line, "mojibake",
                      f"{first.old!r} is UTF-8 read as {first.codec}; lint --fix makes it {first.new!r}{more}")
