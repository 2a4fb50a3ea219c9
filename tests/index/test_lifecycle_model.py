"""With the real model: after an update, a newly published story piece joins the related lists of the
older pieces of its storyline (demo corpus, whose storylines are known)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.demo_corpus import generate
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.settings import Settings
from tests.fakes import make_recommender, write_jsonl

pytestmark = pytest.mark.model

STORIES = ("harbour-bridge-toll", "kestrel-battery-plant", "westmoor-by-election")


def test_a_new_story_piece_joins_the_lists_of_its_storyline(
    settings: Settings, catalog: Catalog, real_encoder: SentenceTransformerEncoder, tmp_path: Path
) -> None:
    corpus = generate()
    story = [a for a in corpus if a.kind == "original" and a.story == STORIES[0]]
    others = [a for a in corpus if a.kind == "original" and a.story in STORIES[1:]]
    standalone = [a for a in corpus if a.kind == "standalone"][:30]
    newest = max(story, key=lambda a: a.published_at)
    older = [a for a in story if a is not newest]
    first = [a.to_record() for a in [*older, *others, *standalone]]
    import_file(catalog, write_jsonl(tmp_path / "first.jsonl", first), strict=True)
    build_index(settings, catalog, real_encoder)

    import_file(catalog, write_jsonl(tmp_path / "new.jsonl", [newest.to_record()]), strict=True)
    stale = make_recommender(settings, catalog, real_encoder)
    limit = len(older)  # room for every other piece of the storyline
    assert all(newest.id not in [i.article.id for i in stale.related(a.id, limit)] for a in older)

    report = build_index(settings, catalog, real_encoder)
    assert report.changes is not None and (report.changes.added, report.embedded) == (1, 1)
    fresh = make_recommender(settings, catalog, real_encoder)
    listed = [a.id for a in older if newest.id in [i.article.id for i in fresh.related(a.id, limit)]]
    print(f"{newest.id} is listed by {len(listed)} of {len(older)} older pieces")
    assert len(listed) >= len(older) - 1, listed
