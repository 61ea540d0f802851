"""Facts that stand inside one line wherever they are: scores (`Score: **86.5%**`, `78/100`), and mojibake
(the problem lint reports, line by line)."""

from __future__ import annotations

import bisect
import re

from mdtracker import mojibake, recognize
from mdtracker.model import Score
from mdtracker.parse.state import State

_NEWLINE = re.compile(r"\r\n|\r|\n")


def score(state: State, line: int, text: str) -> None:
    """A knowledge-check score written on the line, if any."""
    if "core" not in text and "CORE" not in text:
        return
    value = recognize.score(text)
    if value is not None:
        state.scores.append(Score(line, value, text.strip(), state.heading))


def mojibake_problems(state: State) -> None:
    """A `mojibake` problem on every line that holds some, with the repair `lint --fix` would make."""
    text = state.text
    repairs = mojibake.find(text)
    if not repairs:
        return
    starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    by_line: dict[int, list[mojibake.Repair]] = {}
    for r in repairs:
        by_line.setdefault(bisect.bisect_right(starts, r.offset), []).append(r)
    for line, found in by_line.items():
        first = found[0]
        more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
        state.problem(line, "mojibake",
                      f"{first.old!r} is UTF-8 read as {first.codec}; lint --fix makes it {first.new!r}{more}")
