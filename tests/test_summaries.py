"""Per-heading progress: what a heading's cookie, the `headings` region and the report show for it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mdtracker.analyze import summarize
from mdtracker.config import Config
from mdtracker.counts import count
from mdtracker.parse import parse

LINE = st.one_of(
    st.integers(1, 4).map(lambda level: "#" * level + f" H{level}"),
    st.sampled_from(" x/-").map(lambda symbol: f"- [{symbol}] task"),
    st.sampled_from(" x").map(lambda symbol: f"  - [{symbol}] subtask"),
    st.just("Some prose."),
    # a region's generated headings and tasks are output, not the user's: they are dropped from the counts
    st.just("<!-- mdtracker:begin progress -->\n## Generated\n- [x] generated\n<!-- mdtracker:end progress -->"),
)


@given(st.lists(LINE, max_size=25))
@settings(max_examples=300, deadline=None)
def test_a_heading_counts_every_task_below_it_and_its_subheadings(lines):
    config = Config()
    doc = parse("\n\n".join(lines) + "\n", "n.md")
    statuses = [config.status(t.symbol) for t in doc.tasks]
    expected = []
    for n, heading in enumerate(doc.headings):  # the tasks whose chain of headings passes through this one
        below = [s for t, s in zip(doc.tasks, statuses) if n in doc.heading_indices(t.heading)]
        if below:
            expected.append((heading.line, heading.level, heading.text, count(below)))
    assert [tuple(h) for h in summarize(doc, config).headings] == expected
    assert all(h.text != "Generated" for h in doc.headings)
