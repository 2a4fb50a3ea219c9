"""`recsys evaluate --also-model`: a second model's index in a sub-folder of the data folder, its
`dense` and `system` judged beside the first model's in one run (fake encoders: the first model a
256-dimension bag of words, the other one 64 dimensions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from index.evaluation import also_folder
from recsys.settings import Settings
from tests.fakes import FakeEncoder
from tests.helpers import bilingual_corpus

runner = CliRunner()


@pytest.fixture
def two_fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    def load(settings: Settings) -> FakeEncoder:
        return FakeEncoder(dimension=64 if "other" in settings.model else 256, name=settings.model)

    monkeypatch.setattr("recsys.encoding.encoders.load_encoder", load)


def test_also_model_joins_the_same_run(two_fake_models: None, tmp_path: Path) -> None:
    corpus = bilingual_corpus(tmp_path)
    data, output = tmp_path / "d", tmp_path / "eval.json"
    local = str(tmp_path / "models" / "other-local") + "/"
    result = runner.invoke(
        cli.app,
        [
            "evaluate", "-i", str(corpus), "--data-dir", str(data), "--baselines", "bm25,dense,system",
            "--also-model", "other", "--also-model", local, "--k", "1,5,10", "--resamples", "200",
            "--permutations", "200", "--cross-language", "-o", str(output),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (data / "also" / "other" / "catalog.sqlite3").is_file()
    assert also_folder(data, local) == data / "also" / "other-local"
    assert (data / "also" / "other-local" / "index").is_dir()
    report = json.loads(output.read_text())
    expected = [
        "bm25",
        "dense",
        "system",
        "dense[other]",
        "system[other]",
        f"dense[{local}]",
        f"system[{local}]",
    ]
    assert list(report["methods"]) == expected
    assert report["also_models"]["other"]["data_dir"] == str(data / "also" / "other")
    assert report["system_languages"] == "every language (cross_language)"
    # Paired with every other method: system against the other model's methods, on the same queries.
    compared = {c["baseline"] for c in report["significance"]["comparisons"]}
    assert {"dense[other]", "system[other]"} <= compared
    assert report["per_query"]["methods"]["system[other]"]["R@1"].__len__() == report["queries"] == 12
    # Every method that scores a pair is correlated with the ratings, the other model's too.
    rated = report["rated_pairs"]["groups"]["all"]
    assert rated["pairs"] == 8 and set(rated["methods"]) == {m for m in expected if m != "hybrid"}
    groups = {(g["kind"], g["name"]) for g in report["languages"]["groups"]}
    assert {("query language", "en"), ("query language", "de"), ("language pair", "en-de")} <= groups
    assert "R@1 by language pair" in result.stdout and "score vs human rating" in result.stdout


def test_other_languages_judges_cross_language_units_on_the_other_editions_list(
    two_fake_models: None, tmp_path: Path
) -> None:
    corpus = bilingual_corpus(tmp_path)
    data, output = tmp_path / "d", tmp_path / "eval.json"
    result = runner.invoke(
        cli.app,
        [
            "evaluate", "-i", str(corpus), "--data-dir", str(data), "--baselines", "dense,system",
            "--also-model", "other", "--k", "1,5,10", "--resamples", "200", "--permutations", "200",
            "--other-languages", "-o", str(output),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(output.read_text())
    assert report["system_languages"] == "the article's own"
    assert report["system_elsewhere"].startswith("cross-language units judged")
    groups = {g["name"]: g for g in report["languages"]["groups"] if g["kind"] == "language pair"}
    cross = groups["cross-language"]["means"]
    # The other editions' lists (German for an English article) find one of its two partners there
    # first (R@1 at most 1/2), for both models; the default lists hold the article's own language.
    assert cross["system"]["R@1"] == cross["system[other]"]["R@1"] == 0.5
    assert cross["system"]["R@5"] > 0.5
    assert "every unit" in groups


def test_also_model_with_an_unknown_folder_name_is_still_a_sub_folder(tmp_path: Path) -> None:
    assert (
        also_folder(tmp_path, "sentence-transformers/all-MiniLM-L6-v2")
        == tmp_path / "also" / "all-MiniLM-L6-v2"
    )
    assert also_folder(tmp_path, "///") == tmp_path / "also" / "model"
