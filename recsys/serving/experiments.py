"""Experiments: arms that rank the lists differently, how a page view gets one, and interleaving.

One experiment runs at a time (or none). It is stored in the catalog's `meta` table as JSON
(recsys/catalog/experiment.py), so every worker and replica reads the same one through the change
feed, and a change moves the catalog's generation: every ETag changes with it. The live state holds
it parsed (`LiveState.experiment`, recsys/serving/live.py); the query side ranks an arm's list
(recsys/serving/recommend.py).

Config (JSON):

    {"name": "fusion-test", "design": "ab",            # or "interleave" (exactly two arms)
     "blocks": ["related"],                            # the blocks the arms' settings apply to
     "arms": [{"name": "control", "share": 0.5},
              {"name": "fusion", "share": 0.5, "settings": {"fusion_weight": 0.3},
               "method": "system"}]}                   # system (default) | bm25 | recent | random

Names: an experiment's and an arm's are 1..32 (64 for the experiment) characters of [a-z0-9_-];
"default" is no arm's name: it is what a list outside any experiment says. `settings` overrides the
ranking policy's knobs named in TUNABLE, within their bounds (those of the RECSYS_* settings).
`share`s sum to 1 (omitted everywhere: equal shares); interleaving ignores them.

A page view's bucket, 0..99: given as `bucket`, or made from `assign` (a page-view id, or a
first-party id the site has) by FNV-1a, 32 bits, over the string's UTF-8 bytes:

    h = 2166136261
    for each byte b:  h = ((h XOR b) * 16777619) mod 2**32
    bucket = h mod 100

In JavaScript (the widget computes the same bucket, so that the CDN sees only 100 variants):

    let h = 2166136261;
    for (const b of new TextEncoder().encode(text)) { h ^= b; h = Math.imul(h, 16777619) >>> 0; }
    const bucket = h % 100;

A/B: buckets are split by the arms' shares in their order: arm i gets the buckets from
round(100 x the shares before it) up to round(100 x the shares up to it), rounded half up.
Interleaving: the two arms' lists are merged by team draft (`team_draft`), its coin flips seeded by
the article, the index version and the bucket, so a page view sees the same list every time.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from recsys.catalog.experiment import read_experiment, write_experiment
from recsys.catalog.store import Catalog
from recsys.errors import ConfigError, InvalidInput

T = TypeVar("T")

Design = Literal["ab", "interleave"]
Method = Literal["system", "bm25", "recent", "random"]
DESIGNS: tuple[str, ...] = ("ab", "interleave")
METHODS: tuple[str, ...] = ("system", "bm25", "recent", "random")
BLOCKS: tuple[str, ...] = ("related", "section")
BUCKETS = 100
DEFAULT_ARM = "default"  # the arm a list outside any experiment names
MAX_ARMS = 10
_ARM_NAME = re.compile(r"[a-z0-9_-]{1,32}")
_EXPERIMENT_NAME = re.compile(r"[a-z0-9_-]{1,64}")
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619

# The ranking policy's knobs an arm may override (recsys/serving/policy.py), with the bounds of the
# settings they come from: (lowest, highest, whether the lowest is excluded, integer).
TUNABLE: dict[str, tuple[float, float, bool, bool]] = {
    "fusion_weight": (0.0, 1.0, False, False),
    "entity_weight": (0.0, 1.0, False, False),
    "mmr_lambda": (0.0, 1.0, False, False),
    "redundancy_cap": (0.0, 1.0, True, False),
    "freshness_weight": (0.0, 1.0, False, False),
    "half_life_days": (0.0, 36_500.0, True, False),
    "time_prior_weight": (0.0, 1.0, False, False),
    "time_prior_half_life_days": (0.0, 36_500.0, True, False),
    "time_prior_long_share": (0.0, 1.0, False, False),
    "time_prior_long_half_life_days": (0.0, 36_500.0, True, False),
    "time_prior_undated_days": (0.0, 36_500.0, False, False),
}


@dataclass(frozen=True)
class Arm:
    """One way of ranking: the policy's knobs it overrides, or a baseline method."""

    name: str
    share: float
    settings: Mapping[str, float] = field(default_factory=dict)
    method: str = "system"

    @property
    def plain(self) -> bool:
        """Ranks exactly as the service does without an experiment."""
        return self.method == "system" and not self.settings


@dataclass(frozen=True)
class Experiment:
    name: str
    design: str  # ab | interleave
    arms: tuple[Arm, ...]
    blocks: tuple[str, ...] = ("related",)
    # Derived once: the events endpoint checks an event's arm against it on every batch.
    arm_names: frozenset[str] = field(init=False, compare=False)
    _bounds: tuple[int, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arm_names", frozenset(arm.name for arm in self.arms))
        bounds, total = [], 0.0
        for arm in self.arms:
            total += arm.share
            bounds.append(min(BUCKETS, math.floor(BUCKETS * total + 0.5)))
        if bounds:
            bounds[-1] = BUCKETS  # shares that sum to 1 within rounding: the last arm takes the rest
        object.__setattr__(self, "_bounds", tuple(bounds))

    def arm(self, name: str) -> Arm | None:
        return next((arm for arm in self.arms if arm.name == name), None)

    def arm_of_bucket(self, bucket: int) -> Arm:
        """A/B: the arm whose share of the buckets holds `bucket`."""
        for arm, end in zip(self.arms, self._bounds, strict=True):
            if bucket < end:
                return arm
        return self.arms[-1]

    def buckets(self, arm: str) -> range:
        """The buckets an A/B arm gets."""
        at = [a.name for a in self.arms].index(arm)
        return range(self._bounds[at - 1] if at else 0, self._bounds[at])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "design": self.design,
            "blocks": list(self.blocks),
            "arms": [
                {"name": a.name, "share": a.share, "settings": dict(a.settings), "method": a.method}
                for a in self.arms
            ],
        }

    def to_json(self) -> str:
        """The canonical text: what the catalog stores, and what a change is compared by."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


# -- parsing ----------------------------------------------------------------------------------------


def parse_experiment(data: object) -> Experiment:
    """An Experiment from its JSON value (a dict), every rule checked; InvalidInput says which one
    fails, naming the field."""
    if not isinstance(data, dict):
        raise InvalidInput("experiment: expected a JSON object")
    _only(data, {"name", "design", "blocks", "arms"}, "experiment")
    name = _name(data.get("name"), _EXPERIMENT_NAME, "experiment.name", 64)
    design = data.get("design", "ab")
    if design not in DESIGNS:
        raise InvalidInput(f"experiment.design: one of {', '.join(DESIGNS)}")
    blocks = data.get("blocks", ["related"])
    if not isinstance(blocks, list) or not blocks or any(b not in BLOCKS for b in blocks):
        raise InvalidInput(f"experiment.blocks: a non-empty list of {', '.join(BLOCKS)}")
    blocks = tuple(dict.fromkeys(blocks))
    raw_arms = data.get("arms")
    if not isinstance(raw_arms, list) or not 2 <= len(raw_arms) <= MAX_ARMS:
        raise InvalidInput(f"experiment.arms: a list of 2 to {MAX_ARMS} arms")
    if design == "interleave" and len(raw_arms) != 2:
        raise InvalidInput("experiment.arms: interleaving compares exactly two arms")
    if design == "interleave" and blocks != ("related",):
        raise InvalidInput('experiment.blocks: interleaving merges the related block only: ["related"]')
    shares = [arm.get("share") if isinstance(arm, dict) else None for arm in raw_arms]
    if all(share is None for share in shares):
        shares = [1.0 / len(raw_arms)] * len(raw_arms)
    arms = tuple(
        _arm(raw, share, f"experiment.arms[{i}]", blocks)
        for i, (raw, share) in enumerate(zip(raw_arms, shares, strict=True))
    )
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise InvalidInput("experiment.arms: two arms share a name")
    if design == "ab" and abs(sum(arm.share for arm in arms) - 1.0) > 1e-6:
        raise InvalidInput("experiment.arms: the shares must sum to 1")
    experiment = Experiment(name=name, design=design, arms=arms, blocks=blocks)
    if design == "ab":
        for arm in arms:
            if not experiment.buckets(arm.name):
                raise InvalidInput(f"experiment.arms: arm {arm.name!r} gets no bucket (share below 0.01)")
    return experiment


def experiment_from_json(text: str) -> Experiment | None:
    """An experiment from its JSON text; None for `null` (no experiment)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"experiment: not JSON ({exc.msg} at line {exc.lineno})") from None
    return None if data is None else parse_experiment(data)


def experiment_from_file(path: Path) -> Experiment | None:
    """The experiment a config file describes (RECSYS_EXPERIMENTS_FILE, `recsys experiment set`);
    ConfigError naming the file when it cannot be read or is not a valid config."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"experiment file {path}: cannot be read ({exc})") from None
    try:
        return experiment_from_json(text)
    except InvalidInput as exc:
        raise ConfigError(f"experiment file {path}: {exc}") from None


# -- in the catalog -------------------------------------------------------------------------------------


def store_experiment(catalog: Catalog, experiment: Experiment | None) -> bool:
    """Make `experiment` the running one (None: stop it) for every worker and replica; returns
    whether it changed (storing the running one again moves no generation, no ETag)."""
    return write_experiment(catalog, None if experiment is None else experiment.to_json())


def stored_experiment(catalog: Catalog) -> Experiment | None:
    """The running experiment as the catalog has it."""
    text = read_experiment(catalog.connection())
    return None if text is None else experiment_from_json(text)


def _only(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _name(value: object, pattern: re.Pattern[str], where: str, longest: int) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidInput(f"{where}: 1 to {longest} characters of a-z, 0-9, _ and -")
    return value


def _arm(raw: object, share: object, where: str, blocks: tuple[str, ...]) -> Arm:
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    _only(raw, {"name", "share", "settings", "method"}, where)
    name = _name(raw.get("name"), _ARM_NAME, f"{where}.name", 32)
    if name == DEFAULT_ARM:
        raise InvalidInput(f"{where}.name: 'default' is reserved (a list outside any experiment)")
    if not _number(share) or not 0.0 < float(share) <= 1.0:  # type: ignore[arg-type]
        raise InvalidInput(f"{where}.share: a number in (0, 1] (give every arm one, or none)")
    method = raw.get("method", "system")
    if method not in METHODS:
        raise InvalidInput(f"{where}.method: one of {', '.join(METHODS)}")
    if method != "system" and "related" not in blocks:
        raise InvalidInput(f"{where}.method: a baseline method ranks the related block: add it to blocks")
    settings = raw.get("settings", {})
    if not isinstance(settings, dict):
        raise InvalidInput(f"{where}.settings: expected a JSON object")
    checked: dict[str, float] = {}
    for knob, value in settings.items():
        bounds = TUNABLE.get(knob)
        if bounds is None:
            raise InvalidInput(
                f"{where}.settings: {knob!r} is not a ranking setting an arm may change "
                f"({', '.join(sorted(TUNABLE))})"
            )
        low, high, open_low, integer = bounds
        if not _number(value) or (integer and float(value) != int(value)):
            raise InvalidInput(f"{where}.settings.{knob}: expected {'an integer' if integer else 'a number'}")
        number = float(value)
        if not (low < number if open_low else low <= number) or number > high:
            raise InvalidInput(
                f"{where}.settings.{knob}: must be {'above' if open_low else 'at least'} {low:g} "
                f"and at most {high:g}"
            )
        checked[knob] = int(number) if integer else number
    return Arm(name=name, share=float(share), settings=checked, method=method)  # type: ignore[arg-type]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# -- buckets and assignment ---------------------------------------------------------------------------


def fnv1a_32(text: str) -> int:
    """FNV-1a, 32 bits, over the UTF-8 bytes of `text` (a lone surrogate as U+FFFD, as the browser's
    TextEncoder has it)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket_of(text: str) -> int:
    return fnv1a_32(text) % BUCKETS


@dataclass(frozen=True)
class Assignment:
    """What a request's list is ranked with: no arm (the default ranking), one arm, or two arms
    interleaved. `arm` and `experiment` are what the list body says (docs/experiments.md)."""

    experiment: str = ""
    arm: str = DEFAULT_ARM
    arms: tuple[Arm, ...] = ()
    bucket: int = 0

    @property
    def interleaved(self) -> bool:
        return len(self.arms) == 2


NO_ARM = Assignment()


def assign(
    experiment: Experiment | None, *, arm: str | None, bucket: int | None, assign: str | None
) -> Assignment:
    """The arm(s) of a request that gave `arm`, `bucket` or `assign` (at most one: RelatedQuery
    checks); none of them, or no experiment running: the default ranking. An explicit arm ranks that
    arm alone, under either design; "default" is the default ranking. An arm the running experiment
    lacks is an InvalidInput (HTTP 422), never echoing the name."""
    if arm is not None:
        if arm == DEFAULT_ARM:
            return NO_ARM
        chosen = experiment.arm(arm) if experiment is not None else None
        if experiment is None or chosen is None:
            running = (
                f"the arms of {experiment.name!r} are {', '.join(a.name for a in experiment.arms)}"
                if experiment is not None
                else "no experiment is running"
            )
            raise InvalidInput(f"query.arm: not an arm of the running experiment ({running})")
        return Assignment(experiment.name, chosen.name, (chosen,))
    if experiment is None or (bucket is None and assign is None):
        return NO_ARM
    if bucket is None:
        bucket = bucket_of(assign or "")
    if experiment.design == "interleave":
        # The body names the first arm; each item names the arm that contributed it.
        return Assignment(experiment.name, experiment.arms[0].name, experiment.arms[:2], bucket)
    chosen = experiment.arm_of_bucket(bucket)
    return Assignment(experiment.name, chosen.name, (chosen,), bucket)


# -- interleaving ---------------------------------------------------------------------------------------


def interleave_seed(article: str, version: str, bucket: int) -> int:
    """The seed of an interleaved list's coin flips: the same article, version and bucket, the same list."""
    digest = hashlib.blake2b(f"{article}\x1f{version}\x1f{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def team_draft(
    first: Sequence[T],
    second: Sequence[T],
    limit: int,
    seed: int,
    key: Callable[[T], Hashable] = lambda item: item,
) -> list[tuple[T, int]]:
    """Team-draft interleaving (Radlinski, Kurup and Joachims, 2008) of two ranked lists into at most
    `limit` items, each with its team (0: `first`, 1: `second`). Each round a coin flip decides which
    team picks first; each team then adds its highest-ranked item not already in the list. A team
    with nothing left to add sits out while the other goes on. An item both lists hold counts for the
    team that picked it; each team's items keep their relative order; no item appears twice."""
    teams = (first, second)
    at = [0, 0]
    merged: list[tuple[T, int]] = []
    taken: set[Hashable] = set()
    flips = random.Random(seed)

    def pick(team: int) -> bool:
        items = teams[team]
        while at[team] < len(items):
            item = items[at[team]]
            at[team] += 1
            if key(item) not in taken:
                taken.add(key(item))
                merged.append((item, team))
                return True
        return False

    while len(merged) < limit and (at[0] < len(first) or at[1] < len(second)):
        order = (0, 1) if flips.random() < 0.5 else (1, 0)
        for team in order:
            if len(merged) >= limit:
                break
            pick(team)
    return merged
