"""Same-story evidence (recsys/version/entities.py): what counts as a name, and the weighted overlap
the ranking reads, against answers worked out by hand and against a plain loop."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from recsys.version.entities import ENTITY_FILES, Entities, code_of, names, tagged


def test_names_are_capitalised_words_numbers_and_plain_tags() -> None:
    found = names(
        "Penguins rout Senators",
        "The Pittsburgh Penguins won 5-2 on Monday; Jake Guentzel scored his 200th point in 2025.",
        ("Ottawa Senators", "topic:hockey"),
    )
    assert {"penguins", "senators", "pittsburgh", "jake", "guentzel", "#2025"} <= found
    assert {"t:ottawa senators", "ottawa"} <= found  # a tag, whole and by its words
    assert not {"the", "monday", "#5", "#2"} & found  # function words, weekdays, one-digit numbers
    assert not any("hockey" in name for name in found)  # a `prefix:` tag is a category, not a name
    assert "won" not in found and "point" not in found  # lower-case words are not names


def test_names_count_only_under_an_article_with_tags_of_its_own() -> None:
    assert tagged(("Ottawa Senators", "topic:hockey"))
    assert not tagged(("topic:grain", "place:usa"))  # a wire archive's catalog codes only
    assert not tagged(())


def test_only_the_lead_is_read() -> None:
    body = "x " * 200 + "Zanzibar"
    assert "zanzibar" not in names(None, body)
    assert "zanzibar" in names("Zanzibar", None)


def _corpus() -> Entities:
    return Entities.build(
        [
            ("Kyiv talks with Moscow", "Ukraine and Russia met in Istanbul.", ()),
            ("Moscow rejects Kyiv plan", "Russia said the Istanbul plan failed.", ()),
            ("Storm hits Florida", "Hurricane Milton reached Tampa.", ()),
            ("Tampa cleans up", "Milton left Florida without power.", ()),
            ("", "", ()),
        ]
    )


def test_overlap_by_hand() -> None:
    entities = _corpus()
    # Row 0: kyiv, moscow, russia, istanbul (each in 2 of 5 articles) and ukraine (in 1); row 1: the
    # four shared ones. Overlap = shared weight / sqrt(weight 0 x weight 1).
    shared, ukraine = 4 * math.log(5 / 2), math.log(5)
    got = entities.overlap(entities.of_row(0), np.arange(entities.rows))
    assert got[1] == pytest.approx(shared / math.sqrt((shared + ukraine) * shared))
    assert got[0] == pytest.approx(1.0)  # itself
    assert got[2] == got[3] == got[4] == 0.0  # nothing shared; an empty set


def test_overlap_equals_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    words = [f"Name{i}" for i in range(40)]
    articles = [(" ".join(rng.choice(words, size=6)), "", ()) for _ in range(60)]
    entities = Entities.build(articles)
    sets = [{code_of(n) for n in names(t, b, g)} for t, b, g in articles]
    weight = {int(c): float(w) for c, w in zip(entities.vocab.tolist(), entities.idf.tolist(), strict=True)}
    rows = rng.permutation(60)[:25]
    for subject in (3, 17):
        got = entities.overlap(entities.of_row(subject), rows)
        for i, row in enumerate(rows.tolist()):
            shared = sum(weight[c] for c in sets[subject] & sets[row])
            norm = sum(weight[c] for c in sets[subject]) * sum(weight[c] for c in sets[row])
            assert got[i] == pytest.approx(shared / math.sqrt(norm))


def test_an_article_the_version_lacks_counts_its_unknown_names_as_the_rarest() -> None:
    entities = _corpus()
    known, norm = entities.of_row(0)
    codes, text_norm = entities.of_text("Kyiv talks with Moscow", "Ukraine and Russia met in Istanbul.", ())
    assert codes.tolist() == known.tolist() and text_norm == pytest.approx(norm)
    codes, text_norm = entities.of_text("Kyiv meets Zagreb", "", ())
    assert len(codes) == 1  # kyiv; zagreb is new
    kyiv = float(entities.idf[codes[0]])
    assert text_norm == pytest.approx(kyiv + math.log(entities.rows))
    assert entities.overlap((codes, text_norm), np.array([1]))[0] > 0.0


def test_stored_and_loaded_as_they_were(tmp_path: Path) -> None:
    entities = _corpus()
    for name, array in entities.arrays().items():
        np.save(tmp_path / name, array, allow_pickle=False)
    assert set(entities.arrays()) == set(ENTITY_FILES)
    loaded = Entities.load(tmp_path)
    rows = np.arange(entities.rows)
    assert np.array_equal(loaded.overlap(loaded.of_row(1), rows), entities.overlap(entities.of_row(1), rows))
    np.save(tmp_path / ENTITY_FILES[1], entities.codes[:-1], allow_pickle=False)
    with pytest.raises(ValueError):
        Entities.load(tmp_path)
