"""`recsys evaluate`: one-line errors, the table and the JSON, on the synthetic corpus (fake encoder),
the built-in demo corpus and a shared corpus (real model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from recsys.demo_corpus import write_jsonl as write_demo
from tests.helpers import shared_corpus

runner = CliRunner()


def _evaluate(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, ["evaluate", *args])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--baselines", "dense,magic"], "unknown method(s) magic"),
        (["--k", "1,x"], "--k expects comma-separated integers"),
        (["--k", "0,5"], "between 1 and 100"),
        (["--relevance", "vibes"], "unknown relevance 'vibes'"),
        (["--haystack", "nowhere.jsonl"], "nowhere.jsonl: no such file"),
        (["--pairs", "nowhere.tsv"], "no such pairs file"),
    ],
)
def test_bad_options_are_one_line_errors(
    fake_model: None, corpus_file: Path, tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = _evaluate("-i", str(corpus_file), "--data-dir", str(tmp_path / "d"), *args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and fragment in lines[-1], result.stderr
    assert "Traceback" not in result.output


def test_a_missing_input_is_a_one_line_error(fake_model: None, tmp_path: Path) -> None:
    result = _evaluate("-i", str(tmp_path / "none.jsonl"), "--data-dir", str(tmp_path / "d"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {tmp_path / 'none.jsonl'}: no such file"


def test_evaluate_prints_the_table_and_writes_json(
    fake_model: None, corpus_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "eval.json"
    result = _evaluate(
        "-i", str(corpus_file), "--data-dir", str(tmp_path / "d"), "--baselines", "random,dense,system",
        "--k", "1,5", "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("30 articles, 30 queries; truth: curated related links")
    assert [line.split()[0] for line in lines[2:5]] == ["random", "dense", "system"]
    data = json.loads(output.read_text())
    assert data["ks"] == [1, 5] and data["methods"]["dense"]["recall"]["5"] == 1.0


def test_evaluate_prints_intervals_and_the_significance_table(
    fake_model: None, corpus_file: Path, tmp_path: Path
) -> None:
    output = tmp_path / "eval.json"
    args = ["-i", str(corpus_file), "--data-dir", str(tmp_path / "d"), "--baselines", "random,dense,system"]
    result = _evaluate(
        *args, "--k", "1,5,10", "--resamples", "500", "--permutations", "1000", "-o", str(output)
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("system minus each baseline")))
    assert "Holm-corrected across the 2 baselines" in lines[start]
    assert lines[start + 1].split() == [
        "metric",
        "baseline",
        "difference",
        "[95%",
        "CI]",
        "p",
        "p",
        "Holm",
        "significant",
    ]
    rows = {tuple(line.split()[:2]): line for line in lines[start + 2 :] if line.strip()}
    # the synthetic topics are easy: system finds every curated neighbour, random almost none
    assert rows[("R@5", "random")].endswith("yes, better")
    assert rows[("R@5", "dense*")].endswith("no") and "0.000 [0.000, 0.000]" in rows[("R@5", "dense*")]
    assert any(re.fullmatch(r"system +0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\].*", line) for line in lines)
    significance = json.loads(output.read_text())["significance"]
    assert significance["resamples"] == 500 and significance["permutations"] == 1000
    assert "Holm" in significance["method"]
    again = _evaluate(*args, "--k", "1,5,10", "--resamples", "500", "--permutations", "1000")
    assert again.stdout.split("means with")[1] == result.stdout.split("means with")[1].split("wrote")[0]


def test_proxy_relevance_by_tag_prefix(fake_model: None, tmp_path: Path) -> None:
    records = [
        {"id": f"n{i}", "title": f"{topic} story {i} {topic}", "tags": [f"topic:{topic}", "place:x"]}
        for i, topic in enumerate(["grain", "grain", "oil", "oil", "oil"])
    ]
    path = tmp_path / "tagged.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = _evaluate(
        "-i", str(path), "--data-dir", str(tmp_path / "d"), "--relevance", "tags", "--tag-prefix", "topic:",
        "--baselines", "dense", "--k", "1", "--output", str(tmp_path / "e.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "e.json").read_text())
    assert data["truth"] == "proxy: a shared tag (topic:*) is relevant"
    assert data["methods"]["dense"]["precision"]["1"] == 1.0


@pytest.mark.model
def test_evaluate_the_builtin_demo_corpus_with_the_real_model(tmp_path: Path) -> None:
    corpus = tmp_path / "demo.jsonl"
    write_demo(corpus)
    output = tmp_path / "demo.json"
    result = _evaluate("-i", str(corpus), "--data-dir", str(tmp_path / "d"), "--output", str(output))
    assert result.exit_code == 0, result.output
    methods = json.loads(output.read_text())["methods"]
    # storylines share names and vocabulary: the model finds editors' links far above chance
    assert methods["system"]["recall"]["10"] > 0.6
    assert methods["system"]["recall"]["10"] > 5 * methods["random"]["recall"]["10"]
    assert methods["recent"]["section_agreement"]["10"] == 1.0


@pytest.mark.model
@pytest.mark.shared_data
def test_evaluate_semeval_with_graded_pairs(tmp_path: Path) -> None:
    corpus = shared_corpus("semeval2022_pairs_train")
    output = tmp_path / "semeval.json"
    result = _evaluate(
        "-i", str(corpus), "--data-dir", str(tmp_path / "d"), "--baselines", "random,bm25,dense,system",
        "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cosine vs human rating over 161 rated pairs" in result.stdout
    data = json.loads(output.read_text())
    assert data["pairs_file"].endswith("pairs.tsv") and data["queries"] > 100
    assert data["pair_correlation"]["spearman"] > 0.6
    assert data["methods"]["system"]["recall"]["5"] > 0.9
    assert data["methods"]["random"]["recall"]["5"] < 0.1
