"""An edited share of a catalog, for measuring an incremental update.

Write a JSON Lines file of a random share of a catalog's articles with their body edited, for
measuring an incremental update (`recsys build --input` on the file re-embeds exactly those).

    python -m benchmarks.edit_sample --data-dir /tmp/reuters-copy --share 0.01 --output /tmp/edits.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import replace
from pathlib import Path

from recsys.root import Root
from recsys.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--share", type=float, default=0.01, help="fraction of published articles to edit")
    parser.add_argument("--tag", default="update 1", help="text appended to each edited body")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir, catalog_path=args.data_dir / "catalog.sqlite3")
    articles = list(Root(settings).catalog.iter_all("published"))
    picked = random.Random(args.seed).sample(articles, max(1, round(args.share * len(articles))))
    with open(args.output, "w", encoding="utf-8") as out:
        for stored in picked:
            a = stored.article
            record = replace(a, body=f"{a.body or ''}\n({args.tag})").to_record()
            out.write(json.dumps(record) + "\n")
    print(f"wrote {len(picked)} of {len(articles)} articles, edited, to {args.output}")


if __name__ == "__main__":
    main()
