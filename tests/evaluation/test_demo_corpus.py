"""Structural checks on the built-in demo corpus (no model: the embedding checks live elsewhere)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import gzip
import json
import re
from pathlib import Path

import pytest

from recsys import demo_corpus
from recsys.demo_corpus import SECTIONS, DemoArticle, generate, write_jsonl

SEEDS = (2026, 7)
RECORD_KEYS = {"id", "url", "title", "body", "section", "tags", "published_at", "related", "status"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _moment(article: DemoArticle) -> dt.datetime:
    return dt.datetime.strptime(article.published_at, "%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module", params=SEEDS)
def corpus(request: pytest.FixtureRequest) -> list[DemoArticle]:
    return generate(request.param)


@pytest.fixture(scope="module")
def by_id(corpus: list[DemoArticle]) -> dict[str, DemoArticle]:
    return {a.id: a for a in corpus}


def test_same_seed_gives_identical_corpus() -> None:
    assert generate(2026) == generate(2026)
    assert generate() == generate(2026)


def test_other_seed_changes_the_corpus() -> None:
    assert [a.to_record() for a in generate(2026)] != [a.to_record() for a in generate(7)]


def test_counts_are_in_range(corpus: list[DemoArticle]) -> None:
    kinds = collections.Counter(a.kind for a in corpus)
    assert 300 <= len(corpus) <= 450
    assert set(kinds) <= set(demo_corpus.KINDS)
    assert kinds["standalone"] >= 100
    assert 8 <= kinds["syndicated"] <= 15
    assert 8 <= kinds["update"] + kinds["correction"] <= 15
    assert kinds["update"] >= 1 and kinds["correction"] >= 1


def test_storylines_have_enough_originals(corpus: list[DemoArticle]) -> None:
    originals = collections.Counter(a.story for a in corpus if a.kind == "original")
    assert set(originals) == set(demo_corpus.storyline_slugs())
    assert 12 <= len(originals) <= 16
    assert all(8 <= n <= 16 for n in originals.values()), originals


def test_story_field_matches_kind(corpus: list[DemoArticle]) -> None:
    for a in corpus:
        if a.kind == "standalone":
            assert a.story is None and a.variant_of is None
        else:
            assert a.story in demo_corpus.storyline_slugs()
        if a.kind in ("original", "standalone"):
            assert a.variant_of is None


def test_ids_and_urls_are_unique(corpus: list[DemoArticle]) -> None:
    ids = [a.id for a in corpus]
    urls = [a.url for a in corpus]
    assert len(set(ids)) == len(ids)
    assert len(set(urls)) == len(urls)
    for a in corpus:
        assert re.fullmatch(r"demo-\d{4}", a.id)
        day_path = a.published_at[:10].replace("-", "/")
        assert a.url.startswith(f"{demo_corpus.BASE_URL}/{a.section}/{day_path}/")
        assert a.url.endswith(a.id)


def test_exactly_one_retracted_storyline_original(corpus: list[DemoArticle]) -> None:
    retracted = [a for a in corpus if a.status == "retracted"]
    assert len(retracted) == 1
    assert retracted[0].kind == "original" and retracted[0].story is not None
    assert all(a.status in ("published", "retracted") for a in corpus)
    # Nothing copies or updates the retracted piece, so its removal affects only itself.
    assert all(a.variant_of != retracted[0].id for a in corpus)


def test_dates_are_in_range_and_sorted(corpus: list[DemoArticle]) -> None:
    assert all(TIMESTAMP.match(a.published_at) for a in corpus)
    moments = [_moment(a) for a in corpus]
    assert moments == sorted(moments)
    assert moments[0].date() >= demo_corpus.FIRST_DAY
    assert moments[-1].date() <= demo_corpus.LAST_DAY
    # Roughly four months of news, not a cluster on a few days.
    assert (moments[-1] - moments[0]).days >= 100


def test_text_shape(corpus: list[DemoArticle]) -> None:
    for a in corpus:
        assert a.section in SECTIONS
        assert a.title.strip() and a.title == a.title.strip()
        base = a.body
        if a.kind in ("update", "correction"):
            base = a.body.rsplit("\n\n", 1)[0]  # the appended paragraph may push past the limits
        paragraphs = base.split("\n\n")
        assert 3 <= len(paragraphs) <= 6, (a.id, len(paragraphs))
        assert all(p.strip() == p and p for p in paragraphs)
        assert 80 <= len(base.split()) <= 300, (a.id, len(base.split()))
        assert a.tags and all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t) for t in a.tags)
        assert len(set(a.tags)) == len(a.tags)


def test_every_section_is_used(corpus: list[DemoArticle]) -> None:
    assert {a.section for a in corpus} == set(SECTIONS)


def test_standalone_articles_are_distinct(corpus: list[DemoArticle]) -> None:
    standalone = [a for a in corpus if a.kind == "standalone"]
    assert len({a.title for a in standalone}) == len(standalone)
    assert len({a.body for a in standalone}) == len(standalone)
    assert all(a.related == () for a in standalone)


def test_storyline_articles_share_tags(corpus: list[DemoArticle]) -> None:
    tags_by_story: dict[str, list[set[str]]] = collections.defaultdict(list)
    for a in corpus:
        if a.kind == "original" and a.story is not None:
            tags_by_story[a.story].append(set(a.tags))
    for story, tag_sets in tags_by_story.items():
        assert set.intersection(*tag_sets), story


def test_original_titles_are_unique(corpus: list[DemoArticle]) -> None:
    originals = [a for a in corpus if a.kind == "original"]
    assert len({a.title for a in originals}) == len(originals)
    assert len({a.body for a in originals}) == len(originals)


def test_related_links_are_valid(corpus: list[DemoArticle], by_id: dict[str, DemoArticle]) -> None:
    retracted = {a.id for a in corpus if a.status == "retracted"}
    grace = demo_corpus.RELATED_GRACE
    for a in corpus:
        assert len(a.related) <= demo_corpus.MAX_RELATED
        assert len(set(a.related)) == len(a.related)
        assert a.id not in a.related
        for rid in a.related:
            assert rid in by_id, (a.id, rid)
            assert rid not in retracted
            target = by_id[rid]
            assert target.story == a.story
            assert target.kind == "original"
            assert _moment(target) <= _moment(a) + grace, (a.id, rid)
        if a.kind in ("standalone", "syndicated"):
            assert a.related == ()


def test_storyline_pieces_get_a_few_links(corpus: list[DemoArticle]) -> None:
    retracted = {a.id for a in corpus if a.status == "retracted"}
    originals = [a for a in corpus if a.kind == "original"]
    for a in originals:
        earlier = [
            b
            for b in originals
            if b.story == a.story
            and b.id != a.id
            and b.id not in retracted
            and _moment(b) <= _moment(a) + demo_corpus.RELATED_GRACE
        ]
        if len(earlier) >= 2:
            assert 2 <= len(a.related) <= demo_corpus.MAX_RELATED, a.id
    linked = sum(1 for a in originals if a.related)
    assert linked >= 0.8 * len(originals)


def test_variants_point_at_earlier_originals(
    corpus: list[DemoArticle], by_id: dict[str, DemoArticle]
) -> None:
    variants = [a for a in corpus if a.kind in ("syndicated", "update", "correction")]
    assert len({a.variant_of for a in variants}) == len(variants)  # one variant per original at most
    for a in variants:
        assert a.variant_of in by_id
        original = by_id[a.variant_of]
        assert original.kind == "original"
        assert original.story == a.story
        assert original.status == "published"
        assert _moment(original) < _moment(a)
        assert (a.id, a.url) != (original.id, original.url)
        assert a.section == original.section


def test_syndicated_copies_keep_the_body(corpus: list[DemoArticle], by_id: dict[str, DemoArticle]) -> None:
    for a in corpus:
        if a.kind != "syndicated":
            continue
        original = by_id[a.variant_of or ""]
        assert a.body.endswith(original.body)
        assert a.title.startswith(original.title)
        assert _moment(a) - _moment(original) <= dt.timedelta(hours=8)
    styles = {
        (a.body == by_id[a.variant_of or ""].body, a.title == by_id[a.variant_of or ""].title)
        for a in corpus
        if a.kind == "syndicated"
    }
    assert (True, True) in styles  # at least one exact copy for exact-duplicate detection


def test_updates_and_corrections_change_little(
    corpus: list[DemoArticle], by_id: dict[str, DemoArticle]
) -> None:
    for a in corpus:
        if a.kind not in ("update", "correction"):
            continue
        original = by_id[a.variant_of or ""]
        prefix = "UPDATE: " if a.kind == "update" else "CORRECTION: "
        assert a.title == prefix + original.title
        assert a.body != original.body
        old = original.body.split("\n\n")
        new = a.body.split("\n\n")
        assert len(new) == len(old) + 1  # one paragraph appended
        changed = sum(x != y for x, y in zip(old, new, strict=False))
        assert changed <= (1 if a.kind == "correction" else 0)  # at most one figure fixed
        assert a.related == original.related


def test_to_record_has_only_file_fields(corpus: list[DemoArticle]) -> None:
    record = corpus[0].to_record()
    assert set(record) == RECORD_KEYS
    assert isinstance(record["tags"], list) and isinstance(record["related"], list)
    json.dumps(record)


@pytest.mark.parametrize("name", ["demo.jsonl.gz", "demo.jsonl"])
def test_write_jsonl_round_trips(tmp_path: Path, name: str) -> None:
    path = tmp_path / "nested" / name
    count = write_jsonl(path, seed=2026)
    expected = [a.to_record() for a in generate(2026)]
    assert count == len(expected)
    raw = path.read_bytes()
    if name.endswith(".gz"):
        assert raw[:2] == b"\x1f\x8b"
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    else:
        lines = raw.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == expected


def test_write_jsonl_gzip_bytes_are_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    write_jsonl(first)
    write_jsonl(second)
    assert first.read_bytes() == second.read_bytes()


# --------------------------------------------------------------------------------------------------
# The editions in other languages (languages=True)
# --------------------------------------------------------------------------------------------------

SCRIPTS = {
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "de": re.compile(r"[A-Za-zÄÖÜäöüß]"),
    "es": re.compile(r"[A-Za-záéíóúñ]"),
}


@pytest.fixture(scope="module", params=SEEDS)
def with_languages(request: pytest.FixtureRequest) -> list[DemoArticle]:
    return generate(request.param, languages=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_flag_adds_editions_and_changes_no_english_article(seed: int) -> None:
    english = [a for a in generate(seed, languages=True) if a.kind != "edition"]
    assert {a.language for a in english} == {"en"}
    assert [dataclasses.replace(a, language=None) for a in english] == generate(seed)


def test_editions_are_versions_of_english_originals(with_languages: list[DemoArticle]) -> None:
    by_id = {a.id: a for a in with_languages}
    editions = [a for a in with_languages if a.kind == "edition"]
    assert collections.Counter(a.language for a in editions) == {"ar": 6, "zh": 6, "de": 6, "es": 6}
    assert len({a.title for a in editions}) == len({a.body for a in editions}) == len(editions)
    for a in editions:
        assert a.language is not None and re.fullmatch(rf"demo-{a.language}-\d{{2}}", a.id)
        assert a.url.startswith(f"{demo_corpus.BASE_URL}/{a.language}/{a.section}/") and a.url.endswith(a.id)
        original = by_id[a.variant_of or ""]
        assert original.kind == "original" and original.status == "published" and original.story == a.story
        assert original.section == a.section and _moment(original) < _moment(a)
        assert a.related[0] == original.id
        assert all(by_id[r].language == a.language and by_id[r].story == a.story for r in a.related[1:])
        assert all(_moment(by_id[r]) <= _moment(a) for r in a.related)
        assert SCRIPTS[a.language].search(a.title) and SCRIPTS[a.language].search(a.body)
        assert len(a.body.split("\n\n")) == 3 and a.title == a.title.strip()
    moments = [_moment(a) for a in with_languages]
    assert moments == sorted(moments)
    assert len({a.id for a in with_languages}) == len({a.url for a in with_languages}) == len(with_languages)


def test_the_default_file_has_no_language_and_the_flag_writes_utf8(tmp_path: Path) -> None:
    plain, languages = tmp_path / "plain.jsonl", tmp_path / "languages.jsonl"
    write_jsonl(plain)
    assert write_jsonl(languages, languages=True) == len(generate(languages=True))
    assert not any("language" in json.loads(line) for line in plain.read_text(encoding="utf-8").splitlines())
    records = [json.loads(line) for line in languages.read_text(encoding="utf-8").splitlines()]
    assert records == [a.to_record() for a in generate(languages=True)]
    arabic = next(r for r in records if r["id"] == "demo-ar-01")
    assert arabic["language"] == "ar" and "تارن" in arabic["title"]  # UTF-8 as written, not \u escapes
    assert "تارن".encode() in languages.read_bytes()
