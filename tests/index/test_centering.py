"""Per-language centering end to end with the fake encoder: what a build stores and centers, what the
query side centers (drafts, articles imported since the build), incremental builds, switching it,
damaged means files, the evaluation's index, and that with centering off nothing changes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.build import BuildReport, build_index
from index.evaluation import prepare
from recsys.articles import Article
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.encoding.centering import MIN_ARTICLES, Means, center, language_means
from recsys.errors import ConfigError, IndexCorrupt
from recsys.root import Root
from recsys.serving.query import RelatedQuery
from recsys.serving.unindexed import PreparedSubjects
from recsys.settings import Settings
from recsys.version.store import CENTERING_FILE, MANIFEST, IndexStore
from tests.fakes import FakeEncoder, make_recommender, synthetic_records, write_jsonl
from tests.helpers import ClientFactory

MULTILINGUAL = "multilingual-e5-small"
# Words every article of a language shares, whatever its story: the fake encoder's stand-in for the
# region of the space a multilingual model gives each language.
FILLER = {"en": "the and of with from", "de": "der und die mit von"}


def _records() -> list[dict[str, object]]:
    """The synthetic corpus in each language (30 articles a language, enough for a mean of its own),
    and two articles with no language (centered with the mean of every article)."""
    records: list[dict[str, object]] = [
        {
            **{k: v for k, v in r.items() if k != "related"},
            "id": f"{r['id']}-{language}",
            "url": f"{r['url']}/{language}",
            "body": f"{r['body']} {filler}",
            "language": language,
        }
        for language, filler in FILLER.items()
        for r in synthetic_records()
    ]
    records += [
        {"id": f"nolang-{i}", "title": f"Harbour Ferry {i}", "body": f"harbour ferry dock nolang{i}"}
        for i in range(2)
    ]
    return records


def _import(catalog: Catalog, path: Path, records: list[dict[str, object]]) -> None:
    import_file(catalog, write_jsonl(path, records), strict=True)


def _settings(tmp_path: Path, name: str, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / name, detect_language=False, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Settings, Catalog, FakeEncoder]]:
    """The two-language corpus imported, built with a multilingual model (centering `auto`: on)."""
    settings = _settings(tmp_path, "data")
    root = Root(settings)
    _import(root.catalog, tmp_path / "corpus.jsonl", _records())
    encoder = FakeEncoder(name=MULTILINGUAL)
    build_index(settings, root.catalog, encoder)
    yield settings, root.catalog, encoder
    root.close()


def _raw(
    catalog: Catalog, encoder: FakeEncoder, settings: Settings
) -> tuple[list[str], np.ndarray, list[str]]:
    """(ids, raw vectors, language codes) of every published article, in key order, as the encoder gives
    them (not read from the cache: the cache is checked against them)."""
    recipe = Root(settings).recipe
    stored = sorted(catalog.iter_all(status="published"), key=lambda s: s.key)
    texts = [recipe.text(s.article.title, s.article.body) for s in stored]
    codes = [(s.article.language or "").split("-")[0].lower() for s in stored]
    return [s.article.id for s in stored], encoder.encode(texts), codes


def _index_vectors(settings: Settings, catalog: Catalog, ids: list[str]) -> np.ndarray:
    loaded = IndexStore(settings.index_root).load()
    keys = np.array([catalog.get(i).key for i in ids], dtype=np.int64)
    return loaded.vectors.vectors_of(keys)


def _version_dir(settings: Settings) -> Path:
    store = IndexStore(settings.index_root)
    version = store.current_version()
    assert version is not None
    return store.versions_dir / version


def _checksums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != MANIFEST
    }


# -- off: exactly as without centering ------------------------------------------------------------


def test_off_leaves_vectors_files_and_lists_exactly_as_without_centering(tmp_path: Path) -> None:
    # The English default (`auto` with a model that is not multilingual) and an explicit `off`, on a
    # catalog in two languages: raw vectors, no means file, no manifest entry, the same files.
    encoder = FakeEncoder()
    folders = []
    for name, mode in (("auto", "auto"), ("off", "off")):
        settings = _settings(tmp_path, name, language_centering=mode)
        root = Root(settings)
        _import(root.catalog, tmp_path / f"{name}.jsonl", _records())
        report = build_index(settings, root.catalog, encoder)
        assert "centering" not in report.manifest.data
        assert CENTERING_FILE not in report.manifest.data["files"]
        folder = _version_dir(settings)
        assert not (folder / CENTERING_FILE).exists()
        assert IndexStore(settings.index_root).load().centering is None
        ids, raw, _ = _raw(root.catalog, encoder, settings)
        np.testing.assert_array_equal(_index_vectors(settings, root.catalog, ids), raw)  # to the bit
        folders.append(folder)
        root.close()
    assert _checksums(folders[0]) == _checksums(folders[1])  # index, neighbour and final lists, snapshot


def test_off_queries_embed_drafts_as_the_encoder_gives_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "data")
    root = Root(settings)
    _import(root.catalog, tmp_path / "corpus.jsonl", _records())
    encoder = FakeEncoder()
    build_index(settings, root.catalog, encoder)
    recommender = make_recommender(settings, root.catalog, encoder)
    draft = Article(id="<draft>", title="Ferry Dock", body="harbour ferry der und die", language="de")
    expected = encoder.encode([root.recipe.text(draft.title, draft.body)])[0]
    np.testing.assert_array_equal(recommender.embed(draft, detect=True), expected)
    root.close()


# -- a centered build --------------------------------------------------------------------------------


def test_a_centered_build_stores_its_means_and_indexes_centered_vectors(
    world: tuple[Settings, Catalog, FakeEncoder],
) -> None:
    settings, catalog, encoder = world
    loaded = IndexStore(settings.index_root).load()
    entry = loaded.manifest.data["centering"]
    assert entry == {
        "mode": "auto",
        "languages": ["de", "en"],
        "counts": [30, 30],
        "total": 62,
        "drift": 0.0,
    }
    assert CENTERING_FILE in loaded.manifest.data["files"]

    ids, raw, codes = _raw(catalog, encoder, settings)
    expected = language_means(raw, codes)
    assert loaded.centering is not None
    np.testing.assert_allclose(loaded.centering.matrix(), expected.matrix(), atol=1e-6)
    np.testing.assert_allclose(
        _index_vectors(settings, catalog, ids), center(raw, codes, expected), atol=1e-6
    )

    # The embedding cache keeps the raw vectors.
    hashes = [catalog.get(i).content_hash for i in ids]
    cached = catalog.cached_vectors(encoder.name, Root(settings).recipe.id, hashes)
    np.testing.assert_array_equal(np.vstack([cached[h] for h in hashes]), raw)


def test_centering_on_centers_any_model(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "data", language_centering="on")
    root = Root(settings)
    _import(root.catalog, tmp_path / "corpus.jsonl", _records())
    report = build_index(settings, root.catalog, FakeEncoder())
    assert report.manifest.data["centering"]["mode"] == "on"
    root.close()


# -- the query side ------------------------------------------------------------------------------------


def _means(settings: Settings) -> Means:
    means = IndexStore(settings.index_root).load().centering
    assert means is not None
    return means


def test_a_draft_is_centered_with_the_versions_means(
    world: tuple[Settings, Catalog, FakeEncoder], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, catalog, encoder = world
    means = _means(settings)
    recommender = make_recommender(settings, catalog, encoder)
    recipe = Root(settings).recipe
    draft = Article(id="<draft>", title="Ferry Dock Tide", body="harbour ferry dock der und die mit")
    raw = encoder.encode([recipe.text(draft.title, draft.body)])

    given = replace(draft, language="de-AT")
    np.testing.assert_allclose(
        recommender.embed(given, detect=True), center(raw, ["de"], means)[0], atol=1e-6
    )
    # No language given: the one detected from the text; none detected (or no detector): the overall mean.
    monkeypatch.setattr("recsys.serving.recommend.detect_language", lambda title, body: "en")
    np.testing.assert_allclose(
        recommender.embed(draft, detect=True), center(raw, ["en"], means)[0], atol=1e-6
    )

    def no_detector(title: str | None, body: str | None) -> str | None:
        raise ConfigError("py3langid is not installed")

    monkeypatch.setattr("recsys.serving.recommend.detect_language", no_detector)
    np.testing.assert_allclose(recommender.embed(draft, detect=True), center(raw, [""], means)[0], atol=1e-6)

    blocks = recommender.blocks_for_draft(given, RelatedQuery(limit=5))
    # Its language keeps the list to it, as a saved article's would (items with none pass).
    assert blocks.related.items and {i.article.language for i in blocks.related.items} <= {
        "de-AT",
        "de",
        None,
    }


def test_a_draft_posted_with_a_language_is_answered(
    world: tuple[Settings, Catalog, FakeEncoder], tmp_path: Path
) -> None:
    settings, _, encoder = world
    factory = ClientFactory(settings.data_dir, encoder)
    try:
        client: TestClient = factory()
        draft = {"title": "Ferry Dock Tide", "body": "harbour ferry dock der und die mit"}
        answer = client.post("/related?limit=5", json={**draft, "language": "de"})
        assert answer.status_code == 200, answer.text
        items = answer.json()["related"]["items"]
        assert items and {item["language"] for item in items} <= {"de", None}
        assert client.post("/related", json={**draft, "language": "German"}).status_code == 422
    finally:
        factory.close()


def test_articles_imported_since_the_build_are_centered_with_the_versions_means(
    world: tuple[Settings, Catalog, FakeEncoder], tmp_path: Path
) -> None:
    settings, catalog, encoder = world
    means = _means(settings)
    recipe = Root(settings).recipe
    late = {
        "id": "late-de",
        "title": "Fähre Hafen",
        "body": "harbour ferry dock der und die",
        "language": "de",
    }
    raw = encoder.encode([recipe.text(str(late["title"]), str(late["body"]))])
    expected = center(raw, ["de"], means)[0]

    # Prepared off the request path (the watcher, `refresh` in library use).
    recommender = make_recommender(settings, catalog, encoder)
    _import(catalog, tmp_path / "late.jsonl", [late])
    recommender.refresh()
    entry = recommender.state().unindexed.by_key[catalog.get("late-de").key]
    prepared = recommender.subjects.get(entry)
    assert prepared is not None
    np.testing.assert_allclose(prepared.vector, expected, atol=1e-6)
    assert recommender.related_list("late-de", RelatedQuery(limit=5)).items

    # Not prepared (past the bound): read and embedded on the request, centered alike.
    unprepared = make_recommender(settings.model_copy(update={"unindexed_max_articles": 0}), catalog, encoder)
    unprepared.refresh()
    assert unprepared.subjects.get(entry) is None
    np.testing.assert_allclose(unprepared.query_vector(catalog.get("late-de")), expected, atol=1e-6)

    # Prepared vectors of other means are not taken over by a version centered differently.
    other = PreparedSubjects(catalog, encoder, recipe, model=encoder.name, centering=None)
    other.adopt(recommender.subjects)
    assert len(other) == 0
    same = PreparedSubjects(catalog, encoder, recipe, model=encoder.name, centering=means)
    same.adopt(recommender.subjects)
    assert len(same) == 1


# -- incremental builds and switching --------------------------------------------------------------------


def _late(i: int, language: str = "en") -> dict[str, object]:
    return {
        "id": f"late-{language}-{i}",
        "title": f"Ballot Mayor {i}",
        "body": f"ballot mayor campaign {FILLER[language]} late{i}",
        "language": language,
    }


def test_an_incremental_build_keeps_the_means_until_too_much_changed(
    world: tuple[Settings, Catalog, FakeEncoder], tmp_path: Path
) -> None:
    settings, catalog, encoder = world
    folder = _version_dir(settings)
    first = _means(settings)

    # One new article and one whose language was corrected (same text): the means are kept.
    moved = next(r for r in _records() if r["id"] == "football-0-de")
    _import(catalog, tmp_path / "b.jsonl", [_late(0), {**moved, "language": "en"}])
    encoder.texts_encoded = 0
    second = build_index(settings, catalog, encoder)
    assert second.manifest.data["build"]["incremental"] and encoder.texts_encoded == 1
    entry = second.manifest.data["centering"]
    assert entry["drift"] == pytest.approx(1 / 63) and entry["counts"] == [30, 30]
    assert _checksums(_version_dir(settings))[CENTERING_FILE] == _checksums(folder)[CENTERING_FILE]
    ids, raw, codes = _raw(catalog, encoder, settings)
    assert codes[ids.index("football-0-de")] == "en"
    np.testing.assert_allclose(_index_vectors(settings, catalog, ids), center(raw, codes, first), atol=1e-6)

    # Past REFRESH_SHARE (10%) of the articles changed: estimated again, from the cache, every vector
    # centered anew.
    _import(catalog, tmp_path / "c.jsonl", [_late(i) for i in range(1, 8)])
    encoder.texts_encoded = 0
    third = build_index(settings, catalog, encoder)
    assert not third.manifest.data["build"]["incremental"] and encoder.texts_encoded == 7
    assert third.manifest.data["centering"]["drift"] == 0.0
    ids, raw, codes = _raw(catalog, encoder, settings)
    again = language_means(raw, codes)
    np.testing.assert_allclose(_means(settings).matrix(), again.matrix(), atol=1e-6)
    np.testing.assert_allclose(_index_vectors(settings, catalog, ids), center(raw, codes, again), atol=1e-6)


def test_a_language_reaching_enough_articles_gets_its_mean(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "data")
    root = Root(settings)
    big = [{**r, "id": f"{r['id']}-{n}", "url": None} for n in range(4) for r in _records()]  # 248 articles
    _import(root.catalog, tmp_path / "a.jsonl", big)
    french = [{**_late(i), "id": f"fr-{i}", "language": "fr"} for i in range(MIN_ARTICLES - 1)]
    _import(root.catalog, tmp_path / "b.jsonl", french)
    encoder = FakeEncoder(name=MULTILINGUAL)
    first = build_index(settings, root.catalog, encoder)
    assert first.manifest.data["centering"]["languages"] == ["de", "en"]  # fr: too few
    _import(root.catalog, tmp_path / "c.jsonl", [{**_late(99), "id": "fr-last", "language": "fr"}])
    second = build_index(settings, root.catalog, encoder)  # 1 of 268 changed: far below the drift bound
    assert second.manifest.data["centering"]["languages"] == ["de", "en", "fr"]
    assert not second.manifest.data["build"]["incremental"]
    root.close()


def test_switching_centering_rebuilds_from_the_cache(world: tuple[Settings, Catalog, FakeEncoder]) -> None:
    settings, catalog, encoder = world
    ids, raw, codes = _raw(catalog, encoder, settings)
    encoder.texts_encoded = 0

    off = settings.model_copy(update={"language_centering": "off"})
    report: BuildReport = build_index(off, catalog, encoder)
    assert "centering" not in report.manifest.data and not report.manifest.data["build"]["incremental"]
    np.testing.assert_array_equal(_index_vectors(off, catalog, ids), raw)

    on = build_index(settings, catalog, encoder)
    assert on.manifest.data["centering"]["languages"] == ["de", "en"]
    assert not on.manifest.data["build"]["incremental"]
    np.testing.assert_allclose(
        _index_vectors(settings, catalog, ids), center(raw, codes, language_means(raw, codes)), atol=1e-6
    )
    assert encoder.texts_encoded == 0  # raw vectors from the cache both times


# -- damaged versions ------------------------------------------------------------------------------------


def test_a_damaged_or_missing_means_file_is_refused_like_any_version_file(
    world: tuple[Settings, Catalog, FakeEncoder],
) -> None:
    settings, catalog, encoder = world
    store = IndexStore(settings.index_root)
    folder = _version_dir(settings)
    means = folder / CENTERING_FILE
    good = means.read_bytes()

    means.write_bytes(good[:-4] + bytes(b ^ 0xFF for b in good[-4:]))
    with pytest.raises(IndexCorrupt, match=f"file {CENTERING_FILE} fails its checksum"):
        store.load()
    means.unlink()
    with pytest.raises(IndexCorrupt, match=f"file {CENTERING_FILE} is missing"):
        store.load()
    means.write_bytes(good)

    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(
        json.dumps({**manifest, "centering": {**manifest["centering"], "languages": ["de", "en", "fr"]}})
    )
    with pytest.raises(IndexCorrupt, match=f"file {CENTERING_FILE} is unreadable"):
        store.load()
    files = {k: v for k, v in manifest["files"].items() if k != CENTERING_FILE}
    (folder / MANIFEST).write_text(json.dumps({**manifest, "files": files}))
    with pytest.raises(IndexCorrupt, match=f"centering without {CENTERING_FILE}"):
        store.load()

    # The next build cannot reuse it: a full build, centered afresh.
    report = build_index(settings, catalog, encoder)
    assert not report.manifest.data["build"]["incremental"] and "centering" in report.manifest.data
    assert store.load().centering is not None


# -- the evaluation --------------------------------------------------------------------------------------


def test_recsys_evaluate_judges_the_centered_vectors(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", _records())
    encoder = FakeEncoder(name=MULTILINGUAL)
    root = Root(_settings(tmp_path, "eval"), encoder=encoder)
    prepared = prepare(root, [corpus])
    assert prepared.index.centering is not None
    ids, raw, codes = _raw(prepared.catalog, encoder, root.settings)
    centered = center(raw, codes, prepared.index.centering)
    np.testing.assert_allclose(np.vstack([prepared.corpus.vector(i) for i in ids]), centered, atol=1e-6)

    # The setting changed: the current version no longer fits, and the evaluation builds again.
    off = root.with_settings(root.settings.model_copy(update={"language_centering": "off"}))
    again = prepare(off, [corpus])
    assert again.index.centering is None
    np.testing.assert_array_equal(np.vstack([again.corpus.vector(i) for i in ids]), raw)
    root.close()
