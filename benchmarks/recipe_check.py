"""Text recipe variants judged by the evaluation's metrics (docs/ranking-candidates.md, recipe checks).

Each variant turns (title, body) into the text the model embeds: `title+lead` (the shipped recipe:
title, then the first N words of the body), `title2+lead` (the title twice: more weight), `title`
(the title alone, the body where there is none) and `lead` (the body alone). Every article of the
input (and the optional haystack files) is embedded with each variant, in memory; plain dense
neighbours (exact inner product) are judged against the input's curated links (and graded pairs
beside it), as `recsys evaluate` judges its `dense` method.

    python -m benchmarks.recipe_check -i ../shared/data/semeval2022_pairs_train/articles.jsonl.gz \
        --variant title+lead:200 --variant title+lead:100 --variant title+lead:300 \
        --variant title2+lead:200 --variant title:0 --variant lead:200 --json recipe.json

Runs the configured model (RECSYS_MODEL) on the CPU; nothing is written but the JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from recsys.articles import Article, read_articles
from recsys.catalog.store import StoredArticle
from recsys.encoding.encoders import SentenceTransformerEncoder
from recsys.evaluation.corpus import EvalCorpus
from recsys.evaluation.report import format_table
from recsys.evaluation.runner import run
from recsys.evaluation.truth import choose_queries, make_truth, read_pairs
from recsys.settings import Settings

_WORD = re.compile(r"\S+")


def recipe_text(kind: str, words: int, title: str | None, body: str | None) -> str:
    title = (title or "").strip()
    lead = " ".join(_WORD.findall(body or "")[:words]) if words else ""
    if kind == "title":
        return title or " ".join(_WORD.findall(body or "")[:200])
    if kind == "lead":
        return lead or title
    head = f"{title}. {title}" if kind == "title2+lead" and title else title
    if head and lead:
        return f"{head}.\n{lead}" if head[-1] not in ".!?" else f"{head}\n{lead}"
    return head or lead


def seen_ids(articles: list[Article]) -> set[str]:
    return {a.id for a in articles}


class Dense:
    def __init__(self, name: str, corpus: EvalCorpus) -> None:
        self.name = name
        self.corpus = corpus

    def recommend(self, query: StoredArticle, k: int) -> list[str]:
        scores = self.corpus.vectors @ self.corpus.vector(query.id)
        order = np.lexsort((np.arange(len(scores)), -scores))
        ids = [self.corpus.articles[i].id for i in order[: k + 1]]
        return [i for i in ids if i != query.id][:k]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-i", "--input", type=Path, required=True)
    parser.add_argument("--haystack", type=Path, action="append", default=[])
    parser.add_argument("--variant", action="append", required=True, help="KIND:WORDS, e.g. title+lead:200")
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--every", type=int, default=1, help="keep every n-th article of the files")
    parser.add_argument("--relevance", default="auto", help="as recsys evaluate: auto, section, tags")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    settings = Settings()
    encoder = SentenceTransformerEncoder(settings.model, settings.device)
    articles: list[Article] = []
    seen: set[str] = set()
    for path in [args.input, *args.haystack]:
        for _, found in read_articles(path):
            if isinstance(found, Article) and found.id not in seen:
                seen.add(found.id)
                articles.append(found)
    articles = articles[:: args.every]
    judged = {a.id for _, a in read_articles(args.input) if isinstance(a, Article)} & seen_ids(articles)
    stored = [
        StoredArticle(key=i, article=a, status="published", content_hash="", updated_at="")
        for i, a in enumerate(articles)
    ]
    pairs = args.input.parent / "pairs.tsv"
    graded = read_pairs(pairs) if pairs.is_file() else None
    methods = []
    seconds: dict[str, float] = {}
    corpus: EvalCorpus | None = None
    for spec in args.variant:
        kind, _, words = spec.partition(":")
        texts = [recipe_text(kind, int(words or 0), a.title, a.body) for a in articles]
        started = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=settings.batch_size)
        seconds[spec] = round(time.perf_counter() - started, 1)
        corpus = EvalCorpus(stored, np.asarray(vectors, dtype=np.float32))
        methods.append(Dense(spec, corpus))
    assert corpus is not None
    truth = make_truth(corpus, args.relevance, graded=graded)
    queries = choose_queries(truth, judged, sample=args.sample)
    results = []
    for method in methods:
        evaluation = run(method.corpus, [method], truth, queries, graded=graded)
        results.append(evaluation)
        print(format_table(evaluation))
    if args.json:
        out = {
            "articles": len(articles),
            "queries": len(queries),
            "embed_seconds": seconds,
            "results": [e.as_dict() for e in results],
        }
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
