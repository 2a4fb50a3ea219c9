"""Neighbour lists per language (recsys/version/neighbours.py): a version whose articles are in several
languages computes each list among the articles of its own language and those of none, so that the
default (same-language) lists are stored; a catalog in one language, or none, is built as before."""

from __future__ import annotations

import hashlib
from pathlib import Path

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.language import primary
from recsys.root import Root
from recsys.settings import Settings
from recsys.version.lists import FILES as LIST_FILES
from recsys.version.neighbours import NEIGHBOURS_FILE, SCORES_FILE, LanguageGroups
from recsys.version.store import IndexStore, LoadedIndex
from tests.fakes import FakeEncoder, synthetic_records, write_jsonl

# Words every article of a language shares: the fake encoder's stand-in for a language's region.
FILLER = {"en": "the and of with from", "de": "der und die mit von", "fr": "le et de avec pour"}


def _records(languages: tuple[str | None, ...]) -> list[dict[str, object]]:
    """The synthetic corpus once per language (None: no language field), ids kept apart."""
    return [
        {
            **{k: v for k, v in r.items() if k != "related"},
            "id": f"{r['id']}-{language or 'none'}",
            "url": f"{r['url']}/{language or 'none'}",
            "body": f"{r['body']} {FILLER.get(language or '', '')}",
            **({"language": language} if language else {}),
        }
        for language in languages
        for r in synthetic_records()
    ]


def _build(folder: Path, records: list[dict[str, object]], **overrides: object) -> tuple[Root, LoadedIndex]:
    settings = Settings(data_dir=folder, detect_language=False, **overrides)  # type: ignore[arg-type]
    root = Root(settings)
    import_file(root.catalog, write_jsonl(folder.parent / f"{folder.name}.jsonl", records), strict=True)
    build_index(settings, root.catalog, FakeEncoder())
    return root, IndexStore(settings.index_root).load()


def _digests(loaded: LoadedIndex) -> dict[str, str]:
    names = [NEIGHBOURS_FILE, SCORES_FILE, *LIST_FILES]
    return {name: hashlib.sha256((loaded.path / name).read_bytes()).hexdigest() for name in names}


def _group_of(loaded: LoadedIndex) -> list[str]:
    return [
        primary(tag) if tag else "" for tag in map(loaded.snapshot.language_of, range(len(loaded.snapshot)))
    ]


def test_one_language_or_none_builds_the_lists_as_before(tmp_path: Path) -> None:
    # The same texts without languages, all in English, and English with some of none: one group,
    # so every list is over every article, to the byte, and the manifest says nothing new.
    texts = _records(("en",))
    plain = [{k: v for k, v in r.items() if k != "language"} for r in texts]
    half = [r if n % 2 else {k: v for k, v in r.items() if k != "language"} for n, r in enumerate(texts)]
    digests = []
    for name, records in (("plain", plain), ("english", texts), ("half", half)):
        root, loaded = _build(tmp_path / name, records)
        assert loaded.manifest.data["neighbours"] == {"k": 64}
        assert loaded.neighbour_groups is None and loaded.every_neighbours is None
        assert not (loaded.path / "neighbours_every.npy").exists()
        digests.append(_digests(loaded))
        root.close()
    assert digests[0] == digests[1] == digests[2]


def test_several_languages_list_their_own_and_the_articles_of_none(tmp_path: Path) -> None:
    root, loaded = _build(tmp_path / "data", _records(("en", "de", None)))
    assert loaded.manifest.data["neighbours"] == {"k": 64, "by_language": True}
    groups = loaded.neighbour_groups
    assert groups is not None and sorted(groups.names) == ["de", "en"]
    group = _group_of(loaded)
    n = len(group)
    for row in range(n):
        listed = loaded.neighbours[row]
        listed = listed[listed >= 0].tolist()
        assert row not in listed
        if group[row]:  # its language and none: every such article (30 + 30 - itself)
            assert {group[r] for r in listed} <= {group[row], ""}
            assert len(listed) == 59
        else:  # no language: every article is a candidate, the nearest 64 of them
            assert len(listed) == 64
    # Each list is the exact nearest of its group (flat index).
    vectors = loaded.vectors.vectors_of(loaded.snapshot.keys)
    for row in (0, 31, 65):
        pool = [r for r in range(n) if r != row and (not group[row] or group[r] in (group[row], ""))]
        sims = dict(zip(pool, (vectors[pool] @ vectors[row]).tolist(), strict=True))
        listed = set(loaded.neighbours[row][loaded.neighbours[row] >= 0].tolist())
        assert listed <= set(pool) and len(listed) == min(64, len(pool))
        if len(listed) < len(pool):  # no article left out is nearer than one listed (ties aside)
            assert min(sims[r] for r in listed) >= max(sims[r] for r in set(pool) - listed) - 1e-6
    # Beside them, every article's list over all articles, for requests beyond its language.
    every = loaded.every_neighbours
    assert every is not None and every.shape == loaded.neighbours.shape
    assert all(len({group[m] for m in every[r] if m >= 0}) > 1 for r in (0, 31))
    # The default lists of every article with a language are stored (each has its whole group).
    lists = loaded.lists
    assert lists is not None
    stored = lists.collapsed >= 0
    assert stored[[r for r in range(n) if group[r]]].all()
    root.close()


def test_an_incremental_build_follows_languages(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    root, loaded = _build(folder, _records(("en", "de")))
    settings = Settings(data_dir=folder, detect_language=False)
    # One German article relabelled English (same text, so the same vector): its list is computed
    # again among the English articles, and it joins their lists, not the German ones.
    moved = {**_records(("de",))[0], "language": "en"}
    import_file(root.catalog, write_jsonl(tmp_path / "moved.jsonl", [moved]), strict=True)
    build_index(settings, root.catalog, FakeEncoder())
    after = IndexStore(settings.index_root).load()
    group = _group_of(after)
    row = after.snapshot.by_id.row(str(moved["id"]))
    assert row is not None and group[row] == "en"
    for r in range(len(group)):
        listed = after.neighbours[r]
        assert {group[m] for m in listed[listed >= 0].tolist()} <= {group[r]}
    # The German articles gone: one language left, so lists over every article, as a full build's.
    for record in _records(("de",))[1:]:
        root.catalog.delete(str(record["id"]))
    build_index(settings, root.catalog, FakeEncoder())
    last = IndexStore(settings.index_root).load()
    assert last.neighbour_groups is None and "by_language" not in last.manifest.data["neighbours"]
    full_root, full = _build(tmp_path / "full", [*_records(("en",)), moved])
    assert {
        last.snapshot.ids[r]: sorted(last.snapshot.ids[m] for m in last.neighbours[r] if m >= 0)
        for r in range(len(last.snapshot))
    } == {
        full.snapshot.ids[r]: sorted(full.snapshot.ids[m] for m in full.neighbours[r] if m >= 0)
        for r in range(len(full.snapshot))
    }
    full_root.close()
    root.close()
    assert loaded.neighbour_groups is not None


def test_groups_take_the_primary_subtag_as_the_language_rule_does() -> None:
    groups = LanguageGroups.of(["en", "en-GB", None, "pt-BR", "pt", ""])
    assert groups is not None
    assert groups.names == ["en", "pt"]
    assert groups.codes.tolist() == [0, 0, -1, 1, 1, -1]
    assert groups.pools.tolist() == [4, 4]  # two of each, and the two of none
    assert LanguageGroups.of(["en", "en-US", None]) is None
    assert LanguageGroups.of([None, None]) is None
