"""An article's language: BCP 47 tags as the input gives them, and detection where it does not.

`normalise_tag` checks a tag's shape (RFC 5646's syntax: language, extended language, script, region,
variants, extensions, private use) and writes it in the registry's casing ("pt-br" -> "pt-BR",
"zh-hant-tw" -> "zh-Hant-TW"); it does not look subtags up in the IANA registry, so a well-formed tag
for a language it has never heard of is kept. POSIX locales' underscore ("pt_BR") is taken as a hyphen:
feeds exported from CMSs write them so.

`detect_language` guesses from the title and body with py3langid (its model ships inside the package,
nothing is downloaded), imported on first use: a process that never detects never loads it. Measured
on the SemEval-2022 multilingual articles (docs/index-lifecycle.md, Language).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from recsys.errors import ConfigError

MAX_TAG_LENGTH = 35  # RFC 5646 section 4.4.1: the longest tag an implementation must accept
# Fewer letters than this, and a guess is a coin toss: a headline of two words, a number, a URL.
MIN_LETTERS = 12
# The detector reads the start of the text: a story's language is settled in its first paragraphs,
# and the cost of a guess grows with the length read.
DETECT_CHARS = 2_000
# A guess the detector itself gives less than even odds is no language rather than a wrong one: a
# wrong language hides an article from every list of its own language, none only lets it through.
# On the SemEval-2022 multilingual articles, 1 of 2,413 falls below it.
MIN_CONFIDENCE = 0.5

_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")


def normalise_tag(text: str) -> str:
    """`text` as a well-formed BCP 47 tag in canonical casing, or ValueError saying what is wrong."""
    tag = text.strip().replace("_", "-")
    if not tag:
        raise ValueError("an empty language tag")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"longer than {MAX_TAG_LENGTH} characters")
    parts = tag.split("-")
    if not all(_SUBTAG.fullmatch(part) for part in parts):
        raise ValueError(f"not a BCP 47 language tag (subtags of 1-8 letters or digits): {text[:40]!r}")
    if parts[0].lower() in ("x", "i"):  # private-use or grandfathered: kept as written, lower-case
        return "-".join(part.lower() for part in parts)
    language = parts[0]
    # RFC 5646 also allows 5-8 letters for languages registered in future; none is, and "English" or
    # "german" in this field is a mistake worth reporting.
    if not (language.isalpha() and len(language) in (2, 3)):
        raise ValueError(f"not a BCP 47 language tag (the language is 2-3 letters, e.g. 'en'): {text[:40]!r}")
    out = [language.lower()]
    rest = parts[1:]
    extlangs = 0
    while rest and len(rest[0]) == 3 and rest[0].isalpha() and extlangs < 3:
        out.append(rest.pop(0).lower())
        extlangs += 1
    if rest and len(rest[0]) == 4 and rest[0].isalpha():
        out.append(rest.pop(0).title())  # script: "Hant"
    if rest and ((len(rest[0]) == 2 and rest[0].isalpha()) or (len(rest[0]) == 3 and rest[0].isdigit())):
        out.append(rest.pop(0).upper())  # region: "BR", "419"
    while rest and (len(rest[0]) >= 5 or (len(rest[0]) == 4 and rest[0][0].isdigit())):
        out.append(rest.pop(0).lower())  # variants: "1996", "valencia"
    while rest and len(rest[0]) == 1 and rest[0].lower() != "x":
        singleton = rest.pop(0).lower()
        body = []
        while rest and len(rest[0]) >= 2:
            body.append(rest.pop(0).lower())
        if not body:
            raise ValueError(f"extension '{singleton}' has no subtags: {text[:40]!r}")
        out += [singleton, *body]
    if rest and rest[0].lower() == "x":
        if len(rest) == 1:
            raise ValueError(f"private use 'x' has no subtags: {text[:40]!r}")
        out += [part.lower() for part in rest]
        rest = []
    if rest:
        raise ValueError(f"not a BCP 47 language tag (unexpected subtag {rest[0]!r}): {text[:40]!r}")
    return "-".join(out)


def primary(tag: str) -> str:
    """The language subtag of a normalised tag: "pt-BR" -> "pt"."""
    return tag.split("-", 1)[0]


@functools.cache
def _identifier() -> Any:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError as exc:
        raise ConfigError(
            "language detection needs the py3langid package (pip install py3langid), or give every "
            "record a `language` field, or turn detection off (RECSYS_DETECT_LANGUAGE=false)"
        ) from exc
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detection_available() -> bool:
    """Whether the detector can be imported (tests skip without it)."""
    try:
        _identifier()
    except ConfigError:
        return False
    return True


def detect_language(title: str | None, body: str | None) -> str | None:
    """The language of an article's text (an ISO 639-1 code, which is a BCP 47 tag), or None where the
    text is too short to tell or the detector unsure. ConfigError where it is not installed."""
    text = f"{title or ''}\n{body or ''}"[:DETECT_CHARS]
    if sum(char.isalpha() for char in text) < MIN_LETTERS:
        return None
    language, probability = _identifier().classify(text)
    return normalise_tag(str(language)) if probability >= MIN_CONFIDENCE else None
