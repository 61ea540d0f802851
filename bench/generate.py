"""Deterministic synthetic vaults for the benchmark: `python bench/generate.py OUT --files N --seed S`.

Notes look like the ones mdtracker is for: front matter, nested headings, nested tasks with statuses and
dates, tables, fenced code full of checkboxes, prose, and here and there a managed region or a cookie;
spread over nested folders. About 5 KB a note, as in the performance issue's 10,000-note, 50 MB vault.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

WORDS = ("gradient descent attention transformer embedding retrieval ranking bias variance regularisation "
         "dropout batch norm convolution pooling recurrent boosting bagging forest kernel margin cluster "
         "precision recall calibration leakage pipeline serving latency throughput feature store drift").split()
MARKS = [" "] * 6 + ["x"] * 4 + ["/", "-"]


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def day(rng: random.Random) -> str:
    return (dt.date(2025, 9, 1) + dt.timedelta(days=rng.randint(0, 120))).isoformat()


def note(rng: random.Random, n: int) -> str:
    out = ["---", f"title: Note {n}", f"created: {day(rng)}", f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]",
           "---", "", f"# {words(rng, 2, 5).title()} [/]", "", words(rng, 20, 40) + ".", ""]
    if rng.random() < 0.2:
        out += ["<!-- mdtracker:begin progress -->", "<!-- mdtracker:end progress -->", ""]
    for section in range(rng.randint(3, 5)):
        out += [f"## {words(rng, 1, 4).title()}{' [%]' if rng.random() < 0.3 else ''}", ""]
        depth = 0
        for item in range(rng.randint(3, 8)):
            depth = 0 if item == 0 else min(depth + 1, rng.choice([0, 0, 0, 1, 1, 2]))  # nested lists nest
            mark = rng.choice(MARKS)
            extra = f" 📅 {day(rng)}" if rng.random() < 0.2 else ""
            extra += f" ✅ {day(rng)}" if mark == "x" and rng.random() < 0.3 else ""
            out.append(f"{'  ' * depth}- [{mark}] {words(rng, 3, 9)}{extra}")
        out.append("")
        out += [words(rng, 25, 60) + ".", ""]
        if rng.random() < 0.4:
            out += ["| Topic | Score | Status |", "|---|---|---|"]
            out += [f"| {words(rng, 1, 3)} | {rng.randint(40, 100)}% | {rng.choice('✅⬜🟡')} |" for _ in range(rng.randint(2, 6))]
            out.append("")
        if rng.random() < 0.3:
            out += ["```python", "# - [ ] not a task", *(f"x_{i} = {i} * {words(rng, 1, 2)!r}" for i in range(rng.randint(3, 10))), "```", ""]
        if rng.random() < 0.3:
            out += [f"**Knowledge Check** ({day(rng)}): Score: **{rng.randint(50, 100)}%**", ""]
    return "\n".join(out)


def generate(root: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    for n in range(files):
        folder = root / f"area-{n % 10}" / f"topic-{(n // 10) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{n:05d}.md").write_text(note(rng, n), encoding="utf-8")
    (root / "mdtracker.toml").write_text('today = "2025-11-22"\n', encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.files, args.seed)


if __name__ == "__main__":
    main()
