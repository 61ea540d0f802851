"""Every item a summary lists is true: the product's findings on the user's seeds and the corpus, compared
item by item with the hand-checked truth files in tests/truth/ (docs/recognizers.md has the rules).

Prints precision and recall per recognizer; fails below 100 % precision or 95 % recall."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import SHARED
from mdtracker.engine import Engine
from mdtracker.files import decode
from mdtracker import mojibake
from mdtracker.parse import parse
from mdtracker.pipeline import load_config

TRUTH = Path(__file__).parent / "truth"
RECOGNIZERS = ("scores", "topic_scores", "gaps", "history", "milestones", "scenarios", "stories", "applications",
               "followups", "domain_tables", "placeholders")


def _norm(topic: str) -> str:
    return " ".join(re.sub(r"[*_`~]", "", topic).casefold().split())


def _same_topic(a: str, b: str) -> bool:
    """The same topic, as the author means it: one name in the other, or a word of it in both (`Gap Q177
    (FiD) closed` is `FiD (Gap Q177)`; `Inertia resolved` is `Inertia`)."""
    a, b = _norm(a), _norm(b)
    words = lambda t: {w for w in re.findall(r"[\w/+-]{3,}", t)} - {"the", "and", "gap", "areas", "area"}  # noqa: E731
    return a in b or b in a or bool(words(a) & words(b))


def _close(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or abs(a - b) < 0.0015)


# How a found item and a truth item are the same: the fields that must agree.
def _same(kind: str, found: dict[str, Any], truth: dict[str, Any]) -> bool:
    if found["line"] != truth["line"]:
        return kind == "gaps" and _same_topic(found["topic"], truth["topic"])
    if kind == "scores":
        return _close(found["value"], truth["value"]) and found.get("date") == truth.get("date")
    if kind == "topic_scores":
        return _same_topic(found["topic"], truth["topic"]) and _close(found["value"], truth["value"]) and \
            found.get("date") == truth.get("date")
    if kind == "gaps":
        return _same_topic(found["topic"], truth["topic"])
    if kind in ("history", "followups"):
        return found["date"] == truth["date"]
    if kind == "milestones":
        return found["target"] == truth["target"]
    if kind == "scenarios":
        return (found["done"], found["in_progress"], found["total"]) == (truth["done"], truth["in_progress"],
                                                                         truth["total"])
    if kind == "stories":
        return found["complete"] == truth["complete"]
    if kind == "applications":
        return (found["company"], found["status"]) == (truth["company"], truth["status"])
    if kind == "domain_tables":
        return [tuple(d) for d in found["domains"]] == [tuple(d) for d in truth["domains"]]
    return True


def findings(note: Path, today: dt.date) -> dict[str, list[dict[str, Any]]]:
    """What the product finds in one note, recognizer by recognizer."""
    vault = note.parent
    engine = Engine(vault, load_config(vault), jobs=1, use_cache=False)
    engine.update()
    a = engine.analysis(today)
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    [summary] = a.files
    text, _ = decode(note.read_bytes(), note.name)
    repairs = mojibake.find(text)
    doc = parse(mojibake.apply(text, repairs) if repairs else text, note.name)
    tables: dict[int, list[list[Any]]] = {}
    for spec, line in summary.domain_specs:
        tables.setdefault(line, []).append([spec.name, spec.weight, spec.total])
    return {
        "scores": [{"line": p.line, "value": p.value, "date": iso(p.date)} for p in a.scores],
        "topic_scores": [{"line": t.line, "topic": t.topic, "value": t.value, "date": iso(t.date)}
                         for t in a.topic_scores],
        "gaps": [{"line": g.line, "topic": g.topic} for g in a.gaps],
        "history": [{"line": c.line, "date": iso(c.date)} for c in a.history],
        "milestones": [{"line": m.line, "target": iso(m.target)} for m in a.milestones],
        "scenarios": [{"line": s.line, "done": s.done, "in_progress": s.in_progress, "total": s.total}
                      for s in a.scenarios],
        "stories": [{"line": s.line, "complete": s.complete} for s in a.stories],
        "applications": [{"line": x.line, "company": x.company, "status": x.status} for x in a.applications],
        "followups": [{"line": o.line, "date": iso(o.due)} for o in a.overdue if o.kind == "followup"],
        "domain_tables": [{"line": line, "domains": domains} for line, domains in tables.items()],
        "placeholders": [{"line": r.line} for t in doc.tables if not t.generated for r in t.rows if r.placeholder],
    }


def _truths() -> list[Path]:
    return sorted(TRUTH.glob("*.toml"))


def compare(truth_file: Path, tmp: Path) -> dict[str, tuple[int, int, int, list[str]]]:
    """Per recognizer: (found and true, found, true, what differs)."""
    truth = tomllib.loads(truth_file.read_text())
    source = SHARED / truth["source"]
    if not source.exists():
        pytest.skip(f"{source} is not here")
    vault = tmp / truth_file.stem
    vault.mkdir()
    note = vault / "note.md"
    shutil.copyfile(source, note)
    found = findings(note, dt.date.fromisoformat(truth["today"]))
    out = {}
    for kind in RECOGNIZERS:
        want = list(truth.get(kind, []))
        got = list(found[kind])
        hits, misses = 0, []
        unmatched = list(want)
        # items on the same line are matched first, then a gap found at another line than the truth gives
        for item in sorted(got, key=lambda i: not any(w["line"] == i["line"] for w in want)):
            match = next((w for w in unmatched if w["line"] == item["line"] and _same(kind, item, w)), None) or \
                next((w for w in unmatched if _same(kind, item, w)), None)
            if match is None:
                misses.append(f"{truth_file.stem}:{item['line']}: {kind} found but not true: {item}")
            else:
                unmatched.remove(match)
                hits += 1
        misses += [f"{truth_file.stem}:{w['line']}: {kind} true but not found: "
                   f"{ {k: v for k, v in w.items() if k != 'text'} }" for w in unmatched]
        out[kind] = (hits, len(got), len(want), misses)
    return out


def test_precision_and_recall_per_recognizer(tmp_path, capsys):
    totals = {kind: [0, 0, 0] for kind in RECOGNIZERS}
    differences: list[str] = []
    for truth_file in _truths():
        for kind, (hits, got, want, misses) in compare(truth_file, tmp_path).items():
            totals[kind][0] += hits
            totals[kind][1] += got
            totals[kind][2] += want
            differences += misses
    rows = []
    for kind, (hits, got, want) in totals.items():
        precision = hits / got if got else 1.0
        recall = hits / want if want else 1.0
        rows.append((kind, hits, got, want, precision, recall))
    with capsys.disabled():
        print("\nrecognizer       true found truth  precision  recall")
        for kind, hits, got, want, precision, recall in rows:
            print(f"{kind:15} {hits:5} {got:5} {want:5}    {precision:7.1%} {recall:7.1%}")
        for line in differences:
            print("  " + line)
    failing = [kind for kind, _, _, _, precision, recall in rows if precision < 1.0 or recall < 0.95]
    assert failing == [], failing
