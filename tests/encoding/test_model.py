"""Integration tests with the real sentence-transformers model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.encoding.protocol import Encoder
from recsys.errors import ModelLoadError
from recsys.root import Root
from recsys.settings import Settings
from tests.fakes import make_recommender
from tests.helpers import shared_corpus

pytestmark = pytest.mark.model


def test_real_model_gives_normalised_vectors_that_rank_paraphrases_first(
    real_encoder: SentenceTransformerEncoder,
) -> None:
    assert real_encoder.dimension == 384
    vectors = real_encoder.encode(
        [
            "Floods close the coastal highway after days of heavy rain",
            "Heavy rainfall leaves the coast road under water",
            "The central bank raises interest rates by a quarter point",
        ]
    )
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_an_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelLoadError, match="cannot load embedding model 'no-such-org/no-such-model'"):
        SentenceTransformerEncoder("no-such-org/no-such-model")


def test_semeval_curated_partner_in_top_5(tmp_path: Path, real_encoder: SentenceTransformerEncoder) -> None:
    """The bar: for >= 90% of articles with a curated same-story partner, one is in the top 5."""
    _semeval_bar(Settings(data_dir=tmp_path / "data"), real_encoder)


def test_semeval_bar_with_the_backend_chosen_for_this_cpu(
    tmp_path: Path, auto_encoder: tuple[Settings, Encoder]
) -> None:
    """The same bar with the default (automatic) encoder backend, as measured on this CPU."""
    _, encoder = auto_encoder
    print(f"encoder: {getattr(encoder, 'choice', encoder.name)}")
    _semeval_bar(Settings(data_dir=tmp_path / "data"), encoder)


def _semeval_bar(settings: Settings, encoder: Encoder) -> None:
    path = shared_corpus("semeval2022_pairs_train")
    catalog = Root(settings).catalog
    import_file(catalog, path, strict=True)
    build_index(settings, catalog, encoder)
    recommender = make_recommender(settings, catalog, encoder, now=None)
    with_partner = [s for s in catalog.iter_all() if s.article.related]
    hits = sum(
        bool({r.article.id for r in recommender.related(s.id, 5)} & set(s.article.related))
        for s in with_partner
    )
    assert len(with_partner) > 100
    assert hits / len(with_partner) >= 0.9, f"{hits}/{len(with_partner)}"
