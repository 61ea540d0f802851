"""The engine a long-running front-end keeps: updated with the paths that changed, or with an editor's
buffers, which stand in for their notes without ever being written or cached."""

from __future__ import annotations

import datetime as dt

from mdtracker.engine import Engine
from mdtracker.pipeline import load_config

DAY = dt.date(2025, 11, 22)
PLAN = "# Plan [/]\n- [x] a\n- [ ] b\n"


def _engine(tmp_path):
    (tmp_path / "plan.md").write_text(PLAN)
    (tmp_path / "all.md").write_text('<!-- mdtracker:begin progress scope="" -->\n<!-- mdtracker:end progress -->\n')
    engine = Engine(tmp_path, load_config(tmp_path), jobs=1)
    engine.update(today=DAY)
    return engine


def test_a_buffer_stands_in_for_its_note_and_is_never_written(tmp_path):
    engine = _engine(tmp_path)
    assert engine.analysis(DAY).counts.done == 1
    typed = "# Plan [/]\n- [x] a\n- [x] b\n- [ ] c\n"
    engine.update({"plan.md"}, today=DAY, buffers={"plan.md": typed})
    assert engine.analysis(DAY).counts.done == 2 and engine.analysis(DAY).counts.total == 3
    outcomes, errors = engine.plan(DAY)
    by_path = {o.path: o for o in outcomes}
    assert errors == [] and by_path["plan.md"].new_text == "# Plan [2/3]\n- [x] a\n- [x] b\n- [ ] c\n"
    assert "(2 of 3 tasks done)" in (by_path["all.md"].new_text or "")
    applied = engine.apply(DAY)
    assert [o.path for o in applied.written] == ["all.md"]  # the note on disk, not the buffer
    assert (tmp_path / "plan.md").read_text() == PLAN
    engine.save()
    again = Engine(tmp_path, load_config(tmp_path), jobs=1)  # a new run sees the file, not the buffer
    again.update(today=DAY)
    assert again.analysis(DAY).counts.done == 1


def test_the_same_buffer_is_not_parsed_again_and_a_closed_one_goes_back_to_disk(tmp_path, monkeypatch):
    import mdtracker.stage

    engine = _engine(tmp_path)
    parsed: list[str] = []
    real = mdtracker.stage.from_buffer
    monkeypatch.setattr(mdtracker.stage, "from_buffer", lambda text, rel, s: parsed.append(rel) or real(text, rel, s))
    typed = "# Plan [/]\n- [x] a\n- [x] b\n"
    engine.update({"plan.md"}, buffers={"plan.md": typed})
    engine.update(set(), buffers={"plan.md": typed})
    assert parsed == ["plan.md"] and engine.analysis(DAY).counts.done == 2
    engine.update({"plan.md"})  # the editor closed it, unsaved: the note is the file again
    assert engine.analysis(DAY).counts.done == 1
