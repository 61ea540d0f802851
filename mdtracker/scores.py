"""Scores (seeds 000 and 001): the dated series of knowledge-check scores, per-topic scores, and knowledge
gaps (topics whose latest score is below `[scores] gap_threshold`).

A score takes the date written on its own line, else the date of the day entry it stands in: the nearest
`Day N` heading or bold label above it, or, when that entry has no date, the next entry of the same day
that has one (`**Day 3 Results Summary** (2025-10-30)`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any, NamedTuple

from mdtracker import days, recognize
from mdtracker.model import Document


@dataclass(frozen=True)
class ScorePoint:
    path: str
    line: int
    value: float
    text: str
    date: dt.date | None
    section: str | None
    rule: str = ""  # the rule that read it, and where its date came from (`report --explain`)


@dataclass(frozen=True)
class Gap:
    """A knowledge gap: a topic listed as one (`why` "listed"), or whose latest result is low ("low-latest")."""

    path: str
    line: int
    topic: str
    value: float | None
    date: dt.date | None
    why: str


@dataclass(frozen=True)
class TopicResult:
    path: str
    line: int
    topic: str
    value: float
    date: dt.date | None
    rule: str = ""  # the rule that read it, and where its date came from (`report --explain`)


def series(doc: Document, calendar: days.Calendar) -> tuple[list[ScorePoint], list[TopicResult]]:
    if not doc.scores and not doc.topic_scores:
        return [], []
    points: list[ScorePoint] = []
    seen: set[tuple[object, float]] = set()
    for s in doc.scores:
        day, dated = calendar.dated(s.line, s.text, s.label)
        entry = calendar.entry_of(s.line)
        where = day or (("entry", entry.line) if entry is not None else ("heading", s.heading))
        if (where, round(s.value, 4)) in seen:
            continue  # the same result said again in the day's summary: one check, not two
        seen.add((where, round(s.value, 4)))
        points.append(ScorePoint(doc.path, s.line, s.value, s.text, day,
                                 doc.headings[s.heading].text if s.heading is not None else None,
                                 f"{s.rule}; {dated}"))
    # a line that names several topics is read only in a check's breakdown: nested in a score's item, or in
    # the list of a label whose list holds a score
    score_lines = {s.line for s in doc.scores}
    score_labels = {s.label for s in doc.scores if s.label is not None}
    topics = []
    for t in doc.topic_scores:
        if not t.many or t.parent in score_lines or (t.label is not None and t.label in score_labels):
            day, dated = calendar.dated(t.line, t.topic, t.label)
            topics.append(TopicResult(doc.path, t.line, t.topic, t.value, day, f"{t.rule}; {dated}"))
    return points, topics


_NOTHING = re.compile(r"^(?:none\b|n/?a\b|tbd\b|nothing\b|-+$|—$|\[)", re.IGNORECASE)
_DISMISSED = re.compile(r"^[\W_]*(?:can\s+skip|skip|refreshed|resolved|closed|fixed|done)\b", re.IGNORECASE)
_DONE_ITEM = re.compile(r"✅|~~|\bGAP CLOSED\b", re.IGNORECASE)
_GAP_VALUE = re.compile(r"\(\s*(\d{1,3}(?:\.\d+)?)\s?%\s*\)")


def listed_gaps(doc: Document, calendar: days.Calendar) -> list[Gap]:
    """The gaps a note lists (docs/recognizers.md, "gaps"): each topic of an item under a heading or label
    that names gaps, or led by a gaps label, split at commas outside parentheses; not placeholders (`None
    identified yet`), dismissals (`Can skip:`), items marked done. A list of the gaps that *remain* replaces
    the lists the note wrote before it."""
    found = []
    for item in doc.listed:
        text = recognize.strip_emphasis(item.text)
        if _NOTHING.match(text) or _DISMISSED.match(text) or _DONE_ITEM.search(item.text):
            continue
        day = calendar.date_of(item.line, item.text, item.label)
        names = recognize.split_names(text) if item.led else [text]  # (an item of a gaps list is one gap)
        for name in names:
            value = _GAP_VALUE.search(name)
            topic = recognize.clean_topic(_GAP_VALUE.sub("", name).split(" - ")[0])
            if topic and not _NOTHING.match(topic):
                found.append((item, Gap(doc.path, item.line, topic, float(value.group(1)) / 100 if value else None,
                                        day, "listed")))
    remaining = [(item, gap) for item, gap in found if item.remaining]
    if remaining:
        since = min((g.date for _, g in remaining if g.date), default=None)
        first = min(item.line for item, _ in remaining)
        found = [(item, gap) for item, gap in found if item.remaining or (
            gap.date is not None and since is not None and gap.date > since and item.line > first)]
    return [gap for _, gap in found]


def same_topic(a: str, b: str) -> bool:
    """Two names of one topic, as notes write them: the words of one among the other's (`ZeRO` and `ZeRO
    understanding`, `LLM Systems` and `LLM systems optimization`), or the same acronym first (`FSDP stream
    sync` and `FSDP internals`)."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    if wa <= wb or wb <= wa:
        return True
    first = _acronym(a)
    return first is not None and first == _acronym(b)


_QUESTIONS = re.compile(r"\(\s*Q[\d\s,-]+(?:subset)?\s*\)", re.IGNORECASE)
_WORD = re.compile(r"[\w/+-]+")
_SMALL_WORDS = frozenset(("the", "a", "of", "and"))


@functools.lru_cache(maxsize=1 << 16)  # (a vault's topic names, met again and again by `gaps`)
def _words(topic: str) -> frozenset[str]:
    return frozenset(_WORD.findall(_QUESTIONS.sub("", topic).casefold())) - _SMALL_WORDS


def _acronym(topic: str) -> str | None:
    """The first word when it is an acronym (`FSDP`): names that begin with the same one are one topic."""
    first = topic.split(maxsplit=1)[0] if topic.strip() else ""
    return first if len(first) >= 3 and first.isupper() and first.isalpha() else None


class _Shape(NamedTuple):
    words: frozenset[str]
    subsets: tuple[frozenset[str], ...]  # every non-empty subset of the words (none when they are many)
    acronym: str | None


SUBSETS_UP_TO = 8  # words: a name with more is compared with every entry that shares a word with it


@functools.lru_cache(maxsize=1 << 16)
def _shape(topic: str) -> _Shape:
    words = _words(topic)
    ordered = sorted(words)
    subsets = tuple(frozenset(c) for k in range(1, len(ordered) + 1) for c in itertools.combinations(ordered, k)) \
        if len(ordered) <= SUBSETS_UP_TO else ()
    return _Shape(words, subsets, _acronym(topic) if words else None)


class _Topics:
    """Entries with a `topic`, in order, and the first of them that is the same topic as a name (`same_topic`),
    looked up rather than compared with every entry (60,000 results of 17,000 names on 10,000 notes: half a
    minute): those whose words are among the name's (each subset of its words, looked up), those that have all
    of its words (the entries of its rarest word), those with its acronym."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._by_word: dict[str, set[int]] = {}
        self._by_words: dict[frozenset[str], set[int]] = {}
        self._by_acronym: dict[str, set[int]] = {}

    def find(self, topic: str) -> int | None:
        shape = _shape(topic)
        if not shape.words:
            return None  # (never the same topic as anything)
        best = len(self.items)
        empty: set[int] = set()
        postings = sorted((self._by_word.get(w, empty) for w in shape.words), key=len)
        if postings[0]:  # the entries that have every word of the name
            best = min(postings[0].intersection(*postings[1:]), default=best)
        if len(shape.words) <= SUBSETS_UP_TO:  # those whose words are among the name's
            by_words = self._by_words
            for subset in shape.subsets:
                same = by_words.get(subset)
                if same:
                    best = min(best, min(same))
        else:
            best = min((n for n in set().union(*postings) if _words(self.items[n].topic) <= shape.words),
                       default=best)
        if shape.acronym is not None and (same := self._by_acronym.get(shape.acronym)):
            best = min(best, min(same))
        return best if best < len(self.items) else None

    def put(self, entry: Any, at: int | None = None) -> None:
        """Add `entry`, or put it in the place of the entry at `at`."""
        if at is None:
            at = len(self.items)
            self.items.append(entry)
        else:
            old = self.items[at].topic
            self.items[at] = entry
            if old == entry.topic:
                return
            self._index(old, at, set.discard)
        self._index(entry.topic, at, set.add)

    def _index(self, topic: str, at: int, change: Any) -> None:
        shape = _shape(topic)
        if not shape.words:
            return
        for w in shape.words:
            change(self._by_word.setdefault(w, set()), at)
        change(self._by_words.setdefault(shape.words, set()), at)
        if shape.acronym is not None:
            change(self._by_acronym.setdefault(shape.acronym, set()), at)


def gaps_inputs(results: Sequence[TopicResult], listed: Sequence[Gap], threshold: float) -> bytes:
    """All that `gaps` reads of its inputs, as bytes (to know a result kept for the same ones): a line a result
    (texts quoted, so that no text can pass for another field), then the listed gaps."""
    lines = (f"{r.path!r}\t{r.line}\t{r.topic!r}\t{r.value!r}\t{r.date}" for r in results)
    listed_lines = (repr(astuple(g)) for g in listed)
    return "\n".join([repr(threshold), *lines, "", *listed_lines]).encode("utf-8", "surrogatepass")


def gaps(results: list[TopicResult], listed: list[Gap], threshold: float) -> list[Gap]:
    """Knowledge gaps, each topic once, weakest first: topics whose latest result (by date, then place;
    undated ones count as oldest) is below the threshold, and listed gaps no later result lifts to it."""
    ordered = sorted(results, key=lambda r: (r.date or dt.date.min, r.path, r.line))
    latest = _Topics()  # one per topic, the latest
    for r in ordered:
        latest.put(r, latest.find(r.topic))
    found = _Topics()
    for r in latest.items:
        if r.value < threshold:
            found.put(Gap(r.path, r.line, r.topic, r.value, r.date, "low-latest"))
    for gap in listed:
        at = latest.find(gap.topic)
        scored = latest.items[at] if at is not None else None
        if scored is not None and (scored.date or dt.date.min) >= (gap.date or dt.date.min):
            continue  # a result since tells where the topic stands (a low one is a gap above)
        if found.find(gap.topic) is not None:
            continue
        found.put(gap)
    found_items: list[Gap] = found.items
    return sorted(found_items, key=lambda g: (g.value if g.value is not None else -1.0, g.topic))
