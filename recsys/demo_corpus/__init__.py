"""The built-in, fully fictional demo corpus of news articles, with known answers.

This module owns the demo data set: its storylines, its one-off articles, the near-duplicates
(syndicated copies, updates, corrections), the curated `related` links and the single retraction.
All text is written here from templates; every person, place, company and event is invented.

The corpus is deterministic for a given seed and uses fixed dates (2026-01-05 .. 2026-04-30), so it
works on a fresh machine and doubles as test data whose right answers are known:

* `story` says which storyline an article belongs to (None for standalone pieces): articles of one
  storyline share their named entities and vocabulary, so a sentence-embedding model should rank them
  as each other's nearest neighbours.
* `kind` and `variant_of` say which articles are copies ("syndicated": same body, some with a
  "PLACE, wire report - " dateline or a " - wire" title tag), or small revisions ("update": title
  prefixed "UPDATE: " and one paragraph appended; "correction": title prefixed "CORRECTION: ", one
  figure changed and a one-line note appended) of which original.
* `related` holds the links an editor would have picked: earlier members of the same storyline.

With `languages=True` (`recsys demo-corpus --languages`, `recsys build --demo-languages`) the corpus
also holds other-language editions of a few storyline developments (recsys/demo_corpus/editions.py):
kind "edition", `language` "ar", "zh", "de" or "es", `variant_of` the English original it was written
from, published a few hours after it. Their ids are their own ("demo-ar-01"): the English articles
keep their ids, text and links, and say `language` "en". An edition's `related` links are its
English original and its edition's earlier pieces of the storyline.

`story`, `kind` and `variant_of` are ground truth only; `to_record()` gives the file-format fields.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import pathlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from recsys.articles import Article, Status
from recsys.demo_corpus.editions import EDITIONS, LANGUAGES
from recsys.demo_corpus.oneoffs import FIRST_NAMES, ONE_OFFS, SURNAMES, TOWNS, VOICES, OneOff
from recsys.demo_corpus.storylines import STORYLINES, Person, Storyline

SECTIONS: tuple[str, ...] = ("politics", "business", "sport", "science", "culture", "local")
FIRST_DAY = dt.date(2026, 1, 5)
LAST_DAY = dt.date(2026, 4, 30)
BASE_URL = "https://news.example"

STATUS_PUBLISHED = "published"
STATUS_RETRACTED = "retracted"
KINDS: tuple[str, ...] = ("original", "syndicated", "update", "correction", "standalone", "edition")

# How many near-duplicates to derive from storyline originals.
N_SYNDICATED = 10
N_UPDATES = 5
N_CORRECTIONS = 5
MAX_RELATED = 5
# An editor can link a piece that went out shortly after the one being edited.
RELATED_GRACE = dt.timedelta(hours=12)


@dataclass(frozen=True)
class DemoArticle:
    id: str
    url: str
    title: str
    body: str
    section: str
    tags: tuple[str, ...]
    published_at: str
    related: tuple[str, ...]
    status: str
    story: str | None
    kind: str
    variant_of: str | None
    language: str | None = None  # None in the English corpus: its records carry no language field

    def to_article(self) -> Article:
        """The Article the file format carries (the ground-truth fields are left out on purpose)."""
        status: Status = "retracted" if self.status == STATUS_RETRACTED else "published"
        return Article(
            id=self.id,
            url=self.url,
            title=self.title,
            body=self.body,
            section=self.section,
            tags=self.tags,
            published_at=self.published_at,
            related=self.related,
            status=status,
            language=self.language,
        )

    def to_record(self) -> dict[str, object]:
        """The file-format dict."""
        return self.to_article().to_record()


# --------------------------------------------------------------------------------------------------
# Writing text
# --------------------------------------------------------------------------------------------------


def _as_clause(quote: str) -> str:
    """'Words.' -> 'Words,' so the quote can run into 'said X'."""
    return quote[:-1] + "," if quote.endswith(".") else quote


def _attribute(quote: str, person: Person, introduced: set[str], rng: random.Random) -> str:
    """One quoted sentence; the speaker's role is given only on first mention, as in print."""
    if person.name in introduced:
        who = person.name
    else:
        who = f"{person.name}, {person.role},"
        introduced.add(person.name)
    who_end = who.rstrip(",")
    templates = (
        f'"{_as_clause(quote)}" said {who_end}.',
        f'{who} said: "{quote}"',
        f'"{_as_clause(quote)}" {who} told reporters.',
        f'Speaking afterwards, {who} said: "{quote}"',
        f'"{_as_clause(quote)}" {who} said in a statement.',
    )
    return rng.choice(templates)


def _word_count(paragraphs: Sequence[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


MIN_WORDS = 80
MAX_WORDS = 300


@dataclass(frozen=True)
class _Allotment:
    """The shared storyline material one article gets: two facts, one or two quotes, an outlook line."""

    facts: tuple[str, str]
    quotes: tuple[tuple[str, str], ...]
    outlook: str


def _allot(story: Storyline, rng: random.Random) -> list[_Allotment]:
    """Deal the storyline's facts and quotes out in rotation over a shuffled order.

    Dealing instead of sampling independently means consecutive pieces (the ones most alike in
    subject) never repeat each other's background, which keeps distinct articles of one storyline
    clearly below copy-level similarity while they still share the storyline's vocabulary.
    """
    facts = rng.sample(story.facts, k=len(story.facts))
    quotes = rng.sample(story.quotes, k=len(story.quotes))
    outlook = rng.sample(story.outlook, k=len(story.outlook))
    allotments = []
    for i in range(len(story.developments)):
        pair = (facts[(2 * i) % len(facts)], facts[(2 * i + 1) % len(facts)])
        first = quotes[i % len(quotes)]
        # The second quote comes from the far side of the rotation and from another speaker.
        second = quotes[(i + len(quotes) // 2) % len(quotes)]
        chosen = (first, second) if rng.random() < 0.4 and second[0] != first[0] else (first,)
        allotments.append(_Allotment(pair, chosen, outlook[i % len(outlook)]))
    return allotments


def _story_body(story: Storyline, index: int, share: _Allotment, rng: random.Random) -> list[str]:
    """Paragraphs for one storyline article: its own lead and detail, then its allotted material."""
    dev = story.developments[index]
    introduced: set[str] = set()
    said = [_attribute(text, story.people[key], introduced, rng) for key, text in share.quotes]
    (fact_a, fact_b), outlook = share.facts, share.outlook
    if len(said) == 2:
        paragraphs = [f"{dev.lead} {dev.detail}", said[0], f"{fact_a} {fact_b}", said[1], outlook]
    elif rng.random() < 0.5:
        paragraphs = [dev.lead, f"{dev.detail} {fact_a}", f"{said[0]} {fact_b}", outlook]
    else:
        paragraphs = [f"{dev.lead} {dev.detail}", said[0], fact_a, f"{fact_b} {outlook}"]
    spare = [f for f in story.facts if not any(f in p for p in paragraphs)]
    rng.shuffle(spare)
    return _fit_length(paragraphs, spare)


def _fit_length(paragraphs: list[str], spare: list[str]) -> list[str]:
    """Keep a body within 3-6 paragraphs and MIN_WORDS..MAX_WORDS words."""
    while _word_count(paragraphs) < MIN_WORDS and spare:
        if len(paragraphs) < 6:
            paragraphs.insert(-1, spare.pop(0))
        else:
            paragraphs[-2] = f"{paragraphs[-2]} {spare.pop(0)}"
    while _word_count(paragraphs) > MAX_WORDS and len(paragraphs) > 3:
        del paragraphs[-2]
    return paragraphs


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def _one_off_body(section: str, item: OneOff, town: str, rng: random.Random) -> list[str]:
    voice = VOICES[section]
    context, closing = rng.choice(voice.context), rng.choice(voice.closings)
    speaker = Person(_person_name(rng), item.role.format(town=town))
    said = _attribute(rng.choice(voice.quotes), speaker, set(), rng)
    lead, detail = item.lead.format(town=town), item.detail.format(town=town)
    if rng.random() < 0.5:
        paragraphs = [lead, f"{detail} {context}", said, closing]
    else:
        paragraphs = [lead, detail, f"{said} {context}", closing]
    spare = [c for c in voice.context if c != context]
    rng.shuffle(spare)
    spare += [c for c in voice.closings if c != closing]
    return _fit_length(paragraphs, spare)


def _slugify(text: str, max_words: int = 8) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return "-".join(words[:max_words])


def _timestamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _daytime(day: dt.date, rng: random.Random) -> dt.datetime:
    """A plausible newsroom publishing time on `day` (UTC, naive)."""
    return dt.datetime.combine(day, dt.time(rng.randint(6, 20), rng.randrange(0, 60, 5)))


# --------------------------------------------------------------------------------------------------
# Assembling the corpus
# --------------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """An article before ids exist: `key` is stable across runs and breaks ties when sorting."""

    key: str
    title: str
    body: str
    section: str
    tags: tuple[str, ...]
    published: dt.datetime
    story: str | None
    kind: str
    dateline: str = ""
    variant_of: str | None = None  # key of the original
    status: str = STATUS_PUBLISHED
    related: list[str] = field(default_factory=list)  # keys


def _schedule(story: Storyline, rng: random.Random) -> list[dt.datetime]:
    """Publication times for a storyline's developments, in order, spread over its span."""
    n = len(story.developments)
    moments = []
    for i in range(n):
        frac = (i / (n - 1)) ** story.front_loading
        day = round(frac * story.span_days)
        if 0 < i < n - 1:
            day += rng.randint(-1, 1)
        moments.append(_daytime(story.start + dt.timedelta(days=max(0, day)), rng))
    return sorted(moments)


def _story_drafts(story: Storyline, seed: int) -> list[_Draft]:
    rng = random.Random(f"{seed}/schedule/{story.slug}")
    moments, shares = _schedule(story, rng), _allot(story, rng)
    drafts = []
    for i, (dev, moment) in enumerate(zip(story.developments, moments, strict=True)):
        # A per-article generator keeps each article's text stable if another article's recipe changes.
        art_rng = random.Random(f"{seed}/story/{story.slug}/{i}")
        extra = [t for t in story.extra_tags if art_rng.random() < 0.4][:2]
        drafts.append(
            _Draft(
                key=f"story/{story.slug}/{i:02d}",
                title=dev.headline,
                body="\n\n".join(_story_body(story, i, shares[i], art_rng)),
                section=dev.section or story.section,
                tags=story.tags + tuple(extra),
                published=moment,
                story=story.slug,
                kind="original",
                dateline=story.dateline,
            )
        )
    return drafts


def _standalone_drafts(seed: int) -> list[_Draft]:
    drafts = []
    n_days = (LAST_DAY - FIRST_DAY).days
    for section in SECTIONS:
        for i, item in enumerate(ONE_OFFS[section]):
            rng = random.Random(f"{seed}/standalone/{section}/{i}")
            town = rng.choice(TOWNS)
            uses_town = any("{town}" in text for text in (item.headline, item.lead, item.detail))
            tags = (item.tag, _slugify(town)) if uses_town else (item.tag,)
            day = FIRST_DAY + dt.timedelta(days=rng.randint(0, n_days))
            drafts.append(
                _Draft(
                    key=f"standalone/{section}/{i:02d}",
                    title=item.headline.format(town=town),
                    body="\n\n".join(_one_off_body(section, item, town, rng)),
                    section=section,
                    tags=tags,
                    published=_daytime(day, rng),
                    story=None,
                    kind="standalone",
                )
            )
    return drafts


def _pick_retracted(originals: list[_Draft], rng: random.Random) -> _Draft:
    """One storyline original, never the first two of its storyline, so links around it are testable."""
    eligible = [d for d in originals if int(d.key.rsplit("/", 1)[1]) >= 2]
    chosen = rng.choice(eligible)
    chosen.status = STATUS_RETRACTED
    return chosen


def _syndicated(original: _Draft, n: int, rng: random.Random) -> _Draft:
    # Three styles, never stacked, so duplicate detection has an exact copy, a copy with a wire
    # dateline in the body and a copy with a tagged title to find. No "(Wire)" in parentheses:
    # all-MiniLM-L6-v2 reacts to it strongly enough to pull a short copy below 0.95 cosine.
    style = n % 3
    title = f"{original.title} - wire" if style == 2 else original.title
    body = f"{original.dateline}, wire report - {original.body}" if style == 1 else original.body
    delay = dt.timedelta(hours=rng.randint(2, 6), minutes=rng.randrange(0, 60, 5))
    return _Draft(
        key=f"syndicated/{n:02d}",
        title=title,
        body=body,
        section=original.section,
        tags=original.tags,
        published=original.published + delay,
        story=original.story,
        kind="syndicated",
        dateline=original.dateline,
        variant_of=original.key,
    )


def _updated(original: _Draft, n: int, story: Storyline, rng: random.Random) -> _Draft:
    delay = dt.timedelta(hours=rng.randint(3, 20), minutes=rng.randrange(0, 60, 5))
    published = original.published + delay
    person_key, words = rng.choice(story.quotes)
    said = _attribute(words, story.people[person_key], set(), rng)
    addition = f"Update, {published:%H:%M}: {said}"
    return _Draft(
        key=f"update/{n:02d}",
        title=f"UPDATE: {original.title}",
        body=f"{original.body}\n\n{addition}",
        section=original.section,
        tags=original.tags,
        published=published,
        story=original.story,
        kind="update",
        dateline=original.dateline,
        variant_of=original.key,
    )


def _change_first_figure(body: str) -> str:
    """Nudge the first small figure in the body, as a correction of a misreported number would."""
    match = re.search(r"\b(\d{2,3})\b", body)
    if match is None:
        return body
    value = int(match.group(1))
    fixed = str(value + max(1, value // 10))
    return body[: match.start()] + fixed + body[match.end() :]


def _corrected(original: _Draft, n: int, rng: random.Random) -> _Draft:
    # Kept short on purpose: a longer note pulled some corrections below 0.9 cosine with the original.
    note = "This article has been corrected."
    return _Draft(
        key=f"correction/{n:02d}",
        title=f"CORRECTION: {original.title}",
        body=f"{_change_first_figure(original.body)}\n\n{note}",
        section=original.section,
        tags=original.tags,
        published=original.published + dt.timedelta(days=rng.randint(1, 2), hours=rng.randint(0, 6)),
        story=original.story,
        kind="correction",
        dateline=original.dateline,
        variant_of=original.key,
    )


def _variant_drafts(originals: list[_Draft], rng: random.Random) -> list[_Draft]:
    stories = {s.slug: s for s in STORYLINES}
    candidates = [d for d in originals if d.status == STATUS_PUBLISHED]
    picked = rng.sample(candidates, N_SYNDICATED + N_UPDATES + N_CORRECTIONS)
    syndicated = picked[:N_SYNDICATED]
    updates = picked[N_SYNDICATED : N_SYNDICATED + N_UPDATES]
    corrections = picked[N_SYNDICATED + N_UPDATES :]
    drafts = [_syndicated(d, n, rng) for n, d in enumerate(syndicated)]
    drafts += [_updated(d, n, stories[d.story or ""], rng) for n, d in enumerate(updates)]
    drafts += [_corrected(d, n, rng) for n, d in enumerate(corrections)]
    return drafts


def _link_related(drafts: list[_Draft], rng: random.Random) -> None:
    """Fill curated links the way an editor would: earlier pieces of the same storyline.

    Only published originals are link targets (an editor links the story, not its wire copy or its
    superseded version). An update or correction carries its original's links.
    """
    by_key = {d.key: d for d in drafts}
    targets: dict[str, list[_Draft]] = {}
    for d in drafts:
        if d.kind == "original" and d.status == STATUS_PUBLISHED and d.story is not None:
            targets.setdefault(d.story, []).append(d)
    for d in drafts:
        if d.kind != "original" or d.story is None:
            continue
        pool = [t for t in targets[d.story] if t.key != d.key and t.published <= d.published + RELATED_GRACE]
        pool.sort(key=lambda t: (t.published, t.key), reverse=True)
        if not pool:
            continue
        # Editors nearly always link the latest development, then a few older pieces for background.
        k = min(len(pool), rng.randint(2, MAX_RELATED))
        chosen = [pool[0], *rng.sample(pool[1:], k - 1)]
        d.related = [t.key for t in chosen]
    for d in drafts:
        if d.kind in ("update", "correction") and d.variant_of is not None:
            d.related = list(by_key[d.variant_of].related)


def _finalise(drafts: list[_Draft]) -> list[DemoArticle]:
    drafts.sort(key=lambda d: (d.published, d.key))
    ids = {d.key: f"demo-{n:04d}" for n, d in enumerate(drafts, start=1)}
    articles = []
    for d in drafts:
        article_id = ids[d.key]
        url = f"{BASE_URL}/{d.section}/{d.published:%Y/%m/%d}/{_slugify(d.title)}-{article_id}"
        articles.append(
            DemoArticle(
                id=article_id,
                url=url,
                title=d.title,
                body=d.body,
                section=d.section,
                tags=d.tags,
                published_at=_timestamp(d.published),
                related=tuple(ids[k] for k in d.related),
                status=d.status,
                story=d.story,
                kind=d.kind,
                variant_of=ids[d.variant_of] if d.variant_of is not None else None,
            )
        )
    return articles


@dataclass(frozen=True)
class _Planned:
    """An edition before its id: which development of which storyline, in which language, when."""

    published: dt.datetime
    language: str
    story: str
    development: int
    original: DemoArticle


def _editions(english: list[DemoArticle], seed: int) -> list[DemoArticle]:
    """The other-language editions (editions.py), each a few hours after its English original."""
    stories = {s.slug: s for s in STORYLINES}
    originals = {(a.story, a.title): a for a in english if a.kind == "original"}
    planned = []
    for slug, by_language in EDITIONS.items():
        for language in LANGUAGES:
            for i in range(len(by_language[language])):
                original = originals[(slug, stories[slug].developments[i].headline)]
                rng = random.Random(f"{seed}/edition/{slug}/{language}/{i}")
                delay = dt.timedelta(hours=rng.randint(1, 8), minutes=rng.randrange(0, 60, 5))
                published = dt.datetime.strptime(original.published_at, "%Y-%m-%dT%H:%M:%SZ") + delay
                planned.append(_Planned(published, language, slug, i, original))
    planned.sort(key=lambda p: (p.published, p.language, p.story, p.development))
    ids: dict[tuple[str, str, int], str] = {}
    counts: dict[str, int] = {}
    articles = []
    for p in planned:
        counts[p.language] = counts.get(p.language, 0) + 1
        article_id = f"demo-{p.language}-{counts[p.language]:02d}"
        ids[(p.language, p.story, p.development)] = article_id
        earlier = [ids[key] for j in range(p.development) if (key := (p.language, p.story, j)) in ids]
        edition = EDITIONS[p.story][p.language][p.development]
        section = p.original.section
        # The English slug: readable in every edition's URL, as newsrooms with several scripts do.
        slug = _slugify(p.original.title)
        articles.append(
            DemoArticle(
                id=article_id,
                url=f"{BASE_URL}/{p.language}/{section}/{p.published:%Y/%m/%d}/{slug}-{article_id}",
                title=edition.headline,
                body="\n\n".join(edition.paragraphs),
                section=section,
                tags=stories[p.story].tags,
                published_at=_timestamp(p.published),
                related=(p.original.id, *reversed(earlier))[:MAX_RELATED],
                status=STATUS_PUBLISHED,
                story=p.story,
                kind="edition",
                variant_of=p.original.id,
                language=p.language,
            )
        )
    return articles


def generate(seed: int = 2026, *, languages: bool = False) -> list[DemoArticle]:
    """The demo corpus for `seed`, sorted by published_at (ties by a stable internal key); with
    `languages`, also its editions in Arabic, Chinese, German and Spanish (English ones unchanged)."""
    rng = random.Random(seed)
    originals = [d for story in STORYLINES for d in _story_drafts(story, seed)]
    _pick_retracted(originals, rng)
    drafts = originals + _standalone_drafts(seed) + _variant_drafts(originals, rng)
    _link_related(drafts, rng)
    english = _finalise(drafts)
    if not languages:
        return english
    # Beside other languages every article says its own: an article without one would list, and be
    # listed beside, every language (docs/ranking.md#languages).
    english = [replace(a, language="en") for a in english]
    # A stable sort: the English articles keep their order, an edition follows any of its moment.
    return sorted(english + _editions(english, seed), key=lambda a: a.published_at)


def storyline_slugs() -> tuple[str, ...]:
    """The storyline slugs that `DemoArticle.story` can take."""
    return tuple(s.slug for s in STORYLINES)


def write_jsonl(path: pathlib.Path, seed: int = 2026, *, languages: bool = False) -> int:
    """Write one `to_record()` JSON object per line (gzip when the name ends in .gz); return the count."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    articles = generate(seed, languages=languages)
    lines = "".join(json.dumps(a.to_record(), ensure_ascii=False) + "\n" for a in articles)
    data = lines.encode("utf-8")
    if path.name.endswith(".gz"):
        # mtime=0 and no stored file name keep the compressed bytes identical from run to run.
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as gz:
            gz.write(data)
        data = buffer.getvalue()
    path.write_bytes(data)
    return len(articles)
