"""Mojibake repair is certain or not made: properties over generated text."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mdtracker import mojibake

# What notes hold: ASCII, the symbols of study trackers, accented letters, typographic punctuation.
NOTE_CHARS = st.sampled_from(
    list("abc XYZ 019-|*#[]()\n") + list("🔴🟡🟢✅⬜☐🔥📌📋🎉📊💯—–’“”…éèüñçßø→✓×²μσ") + ["⏱️", "🗣️", "x̄"]
)
note_text = st.lists(NOTE_CHARS, max_size=60).map("".join)


@given(note_text, st.sampled_from(mojibake.CODECS))
@settings(max_examples=300)
def test_whole_text_mojibake_is_repaired_to_the_original(original, codec):
    try:
        broken = original.encode("utf-8").decode(codec)
    except UnicodeDecodeError:
        assume(False)  # cp1252 has no character for some bytes: such text cannot have been produced
    assert mojibake.apply(broken, mojibake.find(broken)) == original


@given(note_text)
def test_clean_text_is_left_alone(text):
    assert mojibake.find(text) == []


@given(note_text, note_text, st.sampled_from(mojibake.CODECS))
def test_only_the_broken_part_changes(clean, damaged, codec):
    try:
        broken = damaged.encode("utf-8").decode(codec)
    except UnicodeDecodeError:
        assume(False)
    text = clean + "\n" + broken
    repaired = mojibake.apply(text, mojibake.find(text))
    assert repaired == clean + "\n" + damaged


def test_cut_variation_selector_is_restored():
    # U+FE0F's last byte (0x8F) has no cp1252 character; a lossy decode leaves `ï¸`
    assert mojibake.apply("### ðŸ—£ï¸ Pillar", mojibake.find("### ðŸ—£ï¸ Pillar")) == "### 🗣️ Pillar"


def test_a_repair_that_would_give_control_characters_is_not_made():
    assert mojibake.find("Â\x85") == []  # decodes to U+0085, a control character
