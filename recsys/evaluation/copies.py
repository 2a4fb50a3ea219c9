"""Identical copies in an evaluation corpus: one article filed under several ids.

Public corpora hold the same text more than once (bbc_fulltext: 98 pairs of identical articles,
reuters21578: 244 groups, semeval2022_pairs_train: one pair), and their labels are per id. Scored by
id, a list that shows one text twice earns two hits, a copy of the article itself is an easy hit,
and the copy of a judged partner that the editors did not link earns nothing, whichever of the two
a method happens to list first. A reader sees one article in each case, so the metrics count one:

* a copy of the article is the article: it is left out of every list, like the article itself (the
  method is asked for as many more items, so no list is shorter for it);
* a copy earns what the best-judged member of its group earns for the query;
* a second member of a group already in the list earns nothing.

"Identical" is the content hash of the catalog: the same title and body, the text the model reads.
Near-copies (an update, a correction) stay distinct articles here; they are the duplicate rule's
business (recsys/serving/dedup.py) and the `dup` and `echo` metrics'. `recsys evaluate --copies-as-distinct`
scores by id, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


class Copies:
    """The groups of ids that share one text; an id outside every group is a group of one."""

    def __init__(self, texts: Iterable[tuple[str, str]]) -> None:
        """`texts`: (article id, content hash) pairs."""
        by_text: dict[str, list[str]] = {}
        for article_id, content_hash in texts:
            by_text.setdefault(content_hash, []).append(article_id)
        self._group = {i: tuple(ids) for ids in by_text.values() if len(ids) > 1 for i in ids}

    @property
    def groups(self) -> int:
        """How many texts are filed under more than one id."""
        return len(set(self._group.values()))

    def of(self, article_id: str) -> tuple[str, ...]:
        return self._group.get(article_id, (article_id,))

    def others(self, article_id: str) -> tuple[str, ...]:
        """The ids of the same text besides `article_id` (usually none)."""
        return tuple(i for i in self.of(article_id) if i != article_id)

    def credited(self, items: Sequence[str], gain: Callable[[str], float]) -> list[str | None]:
        """For each listed id, the id whose judgement it earns: the best-judged member of its group
        (ties: the listed id itself), or None for a text the list has shown already."""
        shown: set[tuple[str, ...]] = set()
        out: list[str | None] = []
        for item in items:
            group = self.of(item)
            if group in shown:
                out.append(None)
                continue
            shown.add(group)
            out.append(item if len(group) == 1 else max(group, key=lambda i: (gain(i), i == item)))
        return out
