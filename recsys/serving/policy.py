"""The ranking policy: the knobs of the ranking that are configuration, not request parameters.

Built from Settings once (`Policy.from_settings`); recsys/serving/ranking.py reads it on every list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recsys.serving.dedup import DuplicateRule
from recsys.settings import Settings


@dataclass(frozen=True)
class Policy:
    """The ranking knobs that are configuration, not request parameters (see Settings)."""

    duplicates: DuplicateRule = field(default_factory=DuplicateRule)
    mmr_lambda: float = 0.7
    redundancy_cap: float = 1.0  # MMR: cosine to a listed item from which a candidate comes last
    freshness_weight: float = 0.3
    half_life_days: float = 7.0
    section_pool: int = 200
    # Share of relevance given to the normalised BM25 match (0: cosine alone); see recsys/version/lexical.py.
    fusion_weight: float = 0.0
    # Share of relevance given to the names two articles share (0: none); see recsys/version/entities.py.
    entity_weight: float = 0.0
    time_prior_weight: float = 0.0
    time_prior_half_life_days: float = 30.0
    # Shapes of the time prior measured against the default (docs/ranking-candidates.md); none beat
    # it on both wcep2025_dev and reuters, so they are sweep knobs, not settings.
    # The prior re-orders only the close matches: candidates whose relevance is at least this share
    # of the best candidate's. The rest take the prior's floor (1 - weight), so they stay below every
    # close match and in relevance order. 0: the prior applies to every candidate.
    time_prior_band: float = 0.0
    # False: relevance x (1 - w + w x decay); True: relevance - w x (1 - decay), a penalty in
    # cosine units that does not shrink with the candidate's relevance.
    time_prior_additive: bool = False
    # Shape of the decay: 0.5 ** ((gap / half-life) ** exponent). 1: exponential in the gap; 2: a
    # Gaussian, nearly flat within the half-life and steep past it.
    time_prior_exponent: float = 1.0
    # The prior's long tail (issue 22): this share of its decay halves every
    # time_prior_long_half_life_days instead (0: none), so months still rank above years.
    time_prior_long_share: float = 0.0
    time_prior_long_half_life_days: float = 365.0
    # An undated candidate under a dated article is scored as if this many days away (0: as if of
    # the article's own day, relevance unchanged).
    time_prior_undated_days: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            duplicates=DuplicateRule(
                cosine=settings.dup_cosine,
                cosine_with_title=settings.dup_cosine_with_title,
                title=settings.dup_title_similarity,
            ),
            mmr_lambda=settings.mmr_lambda,
            redundancy_cap=settings.redundancy_cap,
            freshness_weight=settings.freshness_weight,
            half_life_days=settings.freshness_half_life_days,
            section_pool=settings.section_pool,
            fusion_weight=settings.fusion_weight if settings.fusion == "blend" else 0.0,
            entity_weight=settings.entity_weight,
            time_prior_weight=settings.time_prior_weight,
            time_prior_half_life_days=settings.time_prior_half_life_days,
            time_prior_long_share=settings.time_prior_long_share,
            time_prior_long_half_life_days=settings.time_prior_long_half_life_days,
            time_prior_undated_days=settings.time_prior_undated_days,
        )

    def relevance(self, cosine: Any, lexical: Any, names: Any = None) -> Any:
        """What the ranking calls a candidate's relevance: its cosine, blended with its normalised
        BM25 match (0 where the article's lexical list does not hold it), then with the overlap of
        the names the two share (`names`, 0..1; None where names do not count for the article, as
        for an undated one: the blend alone, as with no names at all); arrays or scalars."""
        w = self.fusion_weight
        blend = cosine if w == 0.0 else (1.0 - w) * cosine + w * lexical
        e = self.entity_weight
        return blend if e == 0.0 or names is None else (1.0 - e) * blend + e * names
