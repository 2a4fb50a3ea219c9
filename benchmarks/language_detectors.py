"""Language detectors on articles whose language is known: accuracy and articles per second.

Each detector that is importable classifies `title + "\\n" + body` of every article with a `language`
field, one process, one thread; a guess agrees when it equals the given tag's primary subtag. `load`
is the seconds to import the package and build the detector. The candidates are the maintained
detectors whose models ship inside their PyPI package (nothing downloaded at run time); `shipped` is
what recsys itself runs (recsys/language.py: py3langid on the first 2,000 characters).

    pip install --target /tmp/langdet py3langid lingua-language-detector
    PYTHONPATH=$PWD:/tmp/langdet python -m benchmarks.language_detectors \\
        --input ../shared/data/semeval2022_multilingual_train/articles.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

Detect = Callable[[str], str | None]


def _py3langid() -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    return lambda text: str(identifier.classify(text)[0])


def _lingua() -> Detect:
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        return None if language is None else str(language.iso_code_639_1.name).lower()

    return detect


def _shipped() -> Detect:
    from recsys.language import detect_language

    detect_language(None, "a first call loads the model, as the first import does")
    return lambda text: detect_language(None, text)


DETECTORS: dict[str, Callable[[], Detect]] = {"py3langid": _py3langid, "lingua": _lingua, "shipped": _shipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    args = parser.parse_args()
    with gzip.open(args.input, "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    known = [r for r in records if r.get("language")]
    texts = [f"{r.get('title') or ''}\n{r.get('body') or ''}" for r in known]
    given = [str(r["language"]).split("-")[0].lower() for r in known]
    print(f"{len(known)} articles with a language: {dict(Counter(given).most_common())}")
    print("| detector | agrees | articles/s | load |\n| --- | --- | --- | --- |")
    for name in args.detectors.split(","):
        start = time.perf_counter()
        try:
            detect = DETECTORS[name]()
        except ImportError as exc:
            print(f"| {name} | not installed: {exc} | | |")
            continue
        load = time.perf_counter() - start
        start = time.perf_counter()
        guesses = [detect(text) for text in texts]
        rate = len(texts) / (time.perf_counter() - start)
        agree = sum(guess == tag for guess, tag in zip(guesses, given, strict=True))
        print(f"| {name} | {agree / len(given):.2%} ({agree} / {len(given)}) | {rate:.0f} | {load:.1f} s |")
        misses = Counter((tag, guess) for guess, tag in zip(guesses, given, strict=True) if guess != tag)
        print(f"  misses (given, guessed): {dict(misses)}")


if __name__ == "__main__":
    main()
