"""Domains and weighted readiness: from a domain table in the notes, and from the config."""

from __future__ import annotations

import pytest

from conftest import copy_seed, report_json, run


def _add_rows(text: str, heading: str, count: int) -> str:
    """Fill `count` rows into the Topics Mastered table under `heading` (after its `—` placeholder row)."""
    start = text.index(heading)
    placeholder = text.index("| — | — | — | — |\n", start) + len("| — | — | — | — |\n")
    rows = "".join(f"| Topic {n} | 2025-11-{10 + n:02d} | High | notes |\n" for n in range(count))
    return text[:placeholder] + rows + text[placeholder:]


def test_seed_tracker_readiness_from_topics_mastered_rows(tmp_path, capsys):
    note = copy_seed("000", tmp_path, "tracker.md")
    run(["lint", "--fix", str(tmp_path)])
    text = note.read_text()
    for heading, count in (("### A. ML Fundamentals", 4), ("### B. Classical ML", 7), ("### C. Deep Learning", 2)):
        text = _add_rows(text, heading, count)
    note.write_text(text)
    data = report_json(tmp_path, capsys=capsys)
    readiness = data["readiness"]
    assert readiness["overall"] == pytest.approx((20 * 4 / 8 + 15 * 7 / 7 + 25 * 2 / 8) / 100)  # 31.25 %
    assert [(d["name"], d["weight"], d["covered"], d["total"]) for d in readiness["domains"]] == [
        ("A. ML Fundamentals", 20, 4, 8), ("B. Classical ML", 15, 7, 7), ("C. Deep Learning", 25, 2, 8),
        ("D. NLP", 12, 0, 6), ("E. ML System Design", 18, 0, 8), ("F. Practical ML", 10, 0, 6),
    ]


def test_placeholder_rows_and_template_slots_are_not_topics(tmp_path, capsys):
    (tmp_path / "t.md").write_text(
        "| Domain | Topics Covered | Total Topics |\n|---|---|---|\n| Stats (40%) | 0 | 2 |\n| ML (60%) | 0 | 4 |\n\n"
        "## Stats\n| Topic | Date |\n|---|---|\n| — | — |\n| [Topic] | [Date] |\n\n"
        "## ML\n| Topic | Date |\n|---|---|\n| SVM | 2025-11-01 |\n"
    )
    data = report_json(tmp_path, capsys=capsys)
    assert [(d["name"], d["covered"], d["progress"]) for d in data["readiness"]["domains"]] == [
        ("Stats", 0, 0), ("ML", 1, 0.25)]
    assert data["readiness"]["overall"] == pytest.approx(0.6 * 0.25)


def test_config_domains_count_tasks_under_headings_and_labels(tmp_path, capsys):
    (tmp_path / "mdtracker.toml").write_text(
        '[statuses]\n"S" = { type = "in_progress", credit = 0.25 }\n\n'
        '[[domains]]\nname = "Deep Learning"\nweight = 3\nsections = ["C. Deep Learning", "Deep Learning"]\n\n'
        '[[domains]]\nname = "NLP"\nweight = 1\ntotal = 10\n'
    )
    (tmp_path / "plan.md").write_text(
        "## C. Deep Learning [0/0]\n### CNNs\n- [x] convolutions\n- [S] pooling\n- [-] dropped\n\n"
        "**Deep Learning**\n- [ ] attention\n\n## NLP\n- [x] tokenizers\n- [/] BERT\n"
    )
    domains = report_json(tmp_path, capsys=capsys)["readiness"]
    dl, nlp = domains["domains"]
    assert (dl["covered"], dl["total"], dl["items"]) == (1.25, 3, 4)  # cancelled: an item, not in the total
    assert (nlp["covered"], nlp["total"], nlp["progress"]) == (1.5, 10, 0.15)
    assert domains["overall"] == pytest.approx((3 * 1.25 / 3 + 1 * 0.15) / 4)


def test_no_domains_means_no_readiness(tmp_path, capsys):
    (tmp_path / "a.md").write_text("- [x] one\n")
    assert report_json(tmp_path, capsys=capsys)["readiness"] == {"overall": None, "domains": []}
