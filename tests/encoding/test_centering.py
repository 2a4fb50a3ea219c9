"""Per-language centering's pure functions (recsys/encoding/centering.py): means, centering, when a
build centers and when it estimates the means again."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.encoding.centering import (
    MIN_ARTICLES,
    REFRESH_SHARE,
    Means,
    applies,
    center,
    language_code,
    language_means,
    stale,
)
from recsys.encoding.encoders import MULTILINGUAL_MODELS
from recsys.encoding.protocol import normalise


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    return normalise(rng.normal(size=(n, dim)).astype(np.float32))


def test_articles_are_grouped_by_primary_subtag_in_lower_case() -> None:
    assert language_code("zh-Hant-TW") == "zh"
    assert language_code("pt-BR") == "pt"
    assert language_code("EN") == "en"
    assert language_code(None) == "" and language_code("") == ""


def test_auto_centers_the_multilingual_models_only() -> None:
    assert frozenset({"multilingual-e5-small", "use-multilingual-v3"}) == MULTILINGUAL_MODELS
    for model in MULTILINGUAL_MODELS:
        assert applies("auto", model, MULTILINGUAL_MODELS)
        assert applies("auto", f"{model}+openvino+len512", MULTILINGUAL_MODELS)  # the identity's suffixes
        assert not applies("off", model, MULTILINGUAL_MODELS)
    english = "sentence-transformers/all-MiniLM-L6-v2+openvino"
    assert not applies("auto", english, MULTILINGUAL_MODELS)
    assert applies("on", english, MULTILINGUAL_MODELS)


def test_means_are_per_language_with_enough_articles_and_overall() -> None:
    rng = np.random.default_rng(0)
    vectors = _unit(rng, 2 * MIN_ARTICLES + 5 + 3)
    codes = ["de"] * MIN_ARTICLES + ["en"] * MIN_ARTICLES + ["ko"] * 5 + [""] * 3
    means = language_means(vectors, codes)
    assert means.languages == ("de", "en")  # ko has too few; "" is no language
    assert means.counts == (MIN_ARTICLES, MIN_ARTICLES) and means.total == len(vectors)
    np.testing.assert_allclose(means.vectors[0], vectors[:MIN_ARTICLES].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(
        means.vectors[1], vectors[MIN_ARTICLES : 2 * MIN_ARTICLES].mean(axis=0), atol=1e-6
    )
    np.testing.assert_allclose(means.overall, vectors.mean(axis=0), atol=1e-6)
    assert means.vectors.dtype == np.float32 and means.overall.dtype == np.float32
    with pytest.raises(ValueError, match="language codes"):
        language_means(vectors, codes[:-1])


def test_center_subtracts_each_rows_mean_and_renormalises() -> None:
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 2 * MIN_ARTICLES)
    codes = ["de"] * MIN_ARTICLES + ["en"] * MIN_ARTICLES
    means = language_means(vectors, codes)
    queries = _unit(rng, 4)
    centered = center(queries, ["de", "en", "", "xx"], means)
    assert centered.dtype == np.float32 and centered.shape == queries.shape
    np.testing.assert_allclose(np.linalg.norm(centered, axis=1), 1.0, atol=1e-6)
    expected = [means.vectors[0], means.vectors[1], means.overall, means.overall]  # unknown: overall
    for row, mean in enumerate(expected):
        np.testing.assert_allclose(centered[row], normalise((queries[row] - mean)[None, :])[0], atol=1e-6)
    with pytest.raises(ValueError, match="dimension"):
        center(_unit(rng, 1, dim=8), ["de"], means)


def test_centering_finds_the_same_story_across_languages() -> None:
    # Known by construction: each language adds its own offset, larger than what tells stories apart,
    # so without centering an article's nearest neighbour is another story in its own language.
    rng = np.random.default_rng(2)
    stories, dim = 40, 64
    topics = rng.normal(size=(stories, dim))
    offsets = {"de": 3.0 * rng.normal(size=dim), "en": 3.0 * rng.normal(size=dim)}
    rows, codes, story = [], [], []
    for code, offset in offsets.items():
        for s in range(stories):
            rows.append(topics[s] + offset + 0.3 * rng.normal(size=dim))
            codes.append(code)
            story.append(s)
    raw = normalise(np.array(rows, dtype=np.float32))

    def cross_language_recall(vectors: np.ndarray) -> float:
        scores = vectors @ vectors.T
        np.fill_diagonal(scores, -np.inf)
        best = scores.argmax(axis=1)
        return float(np.mean([story[b] == story[i] and codes[b] != codes[i] for i, b in enumerate(best)]))

    assert cross_language_recall(raw) < 0.1
    assert cross_language_recall(center(raw, codes, language_means(raw, codes))) > 0.9


def test_stored_means_round_trip_and_refuse_what_does_not_fit() -> None:
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 3 * MIN_ARTICLES)
    codes = ["ar"] * MIN_ARTICLES + ["zh"] * MIN_ARTICLES + [""] * MIN_ARTICLES
    means = language_means(vectors, codes)
    again = Means.from_matrix(means.matrix(), means.meta())
    assert again.languages == means.languages and again.counts == means.counts and again.total == means.total
    assert again.identity == means.identity
    np.testing.assert_array_equal(again.matrix(), means.matrix())
    with pytest.raises(ValueError, match="shape"):
        Means.from_matrix(means.matrix()[:2], means.meta())
    with pytest.raises(ValueError, match="float64"):
        Means.from_matrix(means.matrix().astype(np.float64), means.meta())
    with pytest.raises(ValueError, match="lacks"):
        Means.from_matrix(means.matrix(), {"languages": ["ar", "zh"]})
    other = language_means(_unit(rng, 3 * MIN_ARTICLES), codes)
    assert other.identity != means.identity


def test_means_are_estimated_again_after_drift_or_when_a_language_grows() -> None:
    rng = np.random.default_rng(4)
    codes = ["en"] * MIN_ARTICLES + ["ko"] * 3
    means = language_means(_unit(rng, len(codes)), codes)
    assert stale(means, codes, 0.0) is None
    assert stale(means, codes, REFRESH_SHARE) is None
    assert "changed" in (stale(means, codes, REFRESH_SHARE + 0.01) or "")
    grown = ["en"] * MIN_ARTICLES + ["ko"] * MIN_ARTICLES
    assert "ko" in (stale(means, grown, 0.0) or "")
