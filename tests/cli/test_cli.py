from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app as cli
from cli import serve as cli_serve
from recsys.articles import Article, read_articles
from recsys.catalog.store import Catalog
from recsys.encoding import encoders
from tests.fakes import topic_of, use_fake_model, write_jsonl
from tests.helpers import one_line_error

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, list(args), env=env)


def test_build_then_related(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    data = str(tmp_path / "d")
    result = _run("build", "--input", str(corpus_file), "--data-dir", data, "--no-progress")
    assert result.exit_code == 0, result.output
    assert "30 records, 30 new" in result.stdout and "published index version" in result.stdout

    table = _run("related", "vaccine-1", "--limit", "3", "--data-dir", data)
    assert table.exit_code == 0, table.output
    assert len(table.stdout.strip().splitlines()) == 3 and "vaccine-" in table.stdout

    as_json = _run("related", "vaccine-1", "--limit", "4", "--json", "--data-dir", data)
    body = json.loads(as_json.stdout)
    assert len(body["items"]) == 4 and {topic_of(i["id"]) for i in body["items"]} == {"vaccine"}


def test_settings_come_from_the_environment(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    env = {"RECSYS_DATA_DIR": str(tmp_path / "from-env")}
    assert _run("build", "-i", str(corpus_file), "--no-progress", env=env).exit_code == 0
    assert (tmp_path / "from-env" / "index" / "CURRENT").is_file()


def test_empty_catalog_builds_the_demo_corpus(tmp_path: Path, fake_model: None) -> None:
    result = _run("build", "--data-dir", str(tmp_path / "d"), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "built-in demo corpus" in result.stdout
    assert Catalog(tmp_path / "d" / "catalog.sqlite3").count() >= 300


def test_demo_languages_builds_the_demo_with_its_editions(tmp_path: Path, fake_model: None) -> None:
    data = str(tmp_path / "d")
    result = _run("build", "--demo-languages", "--data-dir", data, "--no-progress")
    assert result.exit_code == 0, result.output
    arabic = json.loads(_run("related", "demo-ar-03", "--json", "--data-dir", data).stdout)["items"]
    assert arabic and {i["language"] for i in arabic} == {"ar"}  # the edition's own language
    english = json.loads(_run("related", "demo-0018", "--json", "--data-dir", data).stdout)["items"]
    assert english and {i["language"] for i in english} == {"en"}
    # Never into a catalog that holds something: said, and nothing imported.
    again = _run("build", "--demo-languages", "--data-dir", data, "--no-progress")
    assert again.exit_code == 0 and "--demo-languages: ignored" in again.stderr


def test_ingest_and_retract(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    data = str(tmp_path / "d")
    assert _run("build", "-i", str(corpus_file), "--data-dir", data, "--no-progress").exit_code == 0
    extra = write_jsonl(tmp_path / "more.jsonl", [{"id": "new-1", "title": "ferry dock tide harbour"}])
    result = _run("ingest", str(extra), "--data-dir", data, "--no-progress")
    assert result.exit_code == 0 and "1 new" in result.stdout
    top = json.loads(_run("related", "harbour-0", "--json", "--data-dir", data).stdout)["items"][0]["id"]
    assert _run("retract", top, "--data-dir", data).exit_code == 0
    after = json.loads(_run("related", "harbour-0", "--json", "--data-dir", data).stdout)["items"]
    assert top not in [i["id"] for i in after]
    one_line_error(_run("retract", "nope", "--data-dir", data), "no article with id 'nope'")


def test_bad_inputs_give_one_line_errors(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    data = str(tmp_path / "d")
    one_line_error(
        _run("build", "-i", str(tmp_path / "missing.jsonl"), "--data-dir", data, "--no-progress"),
        "no such file",
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "A"}\n{"id": "b", "published_at": "soon", "title": "B"}\n')
    one_line_error(
        _run("build", "-i", str(bad), "--strict", "--data-dir", data, "--no-progress"),
        ":2: field 'published_at'",
    )
    assert Catalog(tmp_path / "d" / "catalog.sqlite3").count() == 0  # strict: nothing half-written
    lenient = _run("ingest", str(bad), "--data-dir", data, "--no-progress")
    assert (
        lenient.exit_code == 0
        and "1 skipped" in lenient.stdout
        and ":2: field 'published_at'" in lenient.stderr
    )

    one_line_error(_run("related", "x", "--data-dir", data), "no article with id 'x'")
    one_line_error(_run("related", "a", "--data-dir", data), "no index has been built")
    one_line_error(_run("serve", "--data-dir", data), "run `recsys build` first")
    one_line_error(_run("build", "--data-dir", data, env={"RECSYS_BATCH_SIZE": "0"}), "batch_size")
    one_line_error(_run("build", "--data-dir", data, "--index-type", "magic"), "index_type")


def test_corrupt_index_is_refused(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    data = tmp_path / "d"
    assert _run("build", "-i", str(corpus_file), "--data-dir", str(data), "--no-progress").exit_code == 0
    version = (data / "index" / "CURRENT").read_text().strip()
    (data / "index" / "versions" / version / "keys.npy").write_bytes(b"garbage")
    one_line_error(_run("related", "harbour-0", "--data-dir", str(data)), "keys.npy fails its checksum")


def test_missing_model_folder_is_a_clear_error(tmp_path: Path, corpus_file: Path) -> None:
    data = str(tmp_path / "d")
    result = _run("build", "-i", str(corpus_file), "--data-dir", data, "--model", str(tmp_path / "no-model"))
    one_line_error(result, "does not exist")


def test_demo_corpus_command(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl.gz"
    result = _run("demo-corpus", "--output", str(out))
    assert result.exit_code == 0 and out.is_file()
    count = int(result.stdout.split()[1])
    assert count == len(list(read_articles(out))) >= 300
    languages = tmp_path / "languages.jsonl"
    result = _run("demo-corpus", "--output", str(languages), "--languages")
    assert result.exit_code == 0 and int(result.stdout.split()[1]) == count + 24
    records = [a for _, a in read_articles(languages)]
    assert all(isinstance(a, Article) for a in records)
    assert {a.language for a in records if isinstance(a, Article)} == {"en", "ar", "zh", "de", "es"}


def test_related_takes_the_api_filters(tmp_path: Path, corpus_file: Path, fake_model: None) -> None:
    data = str(tmp_path / "d")
    assert _run("build", "-i", str(corpus_file), "--data-dir", data, "--no-progress").exit_code == 0

    def ids(*options: str) -> list[str]:
        result = _run("related", "vaccine-1", "--json", "--data-dir", data, *options)
        assert result.exit_code == 0, result.output
        return [item["id"] for item in json.loads(result.stdout)["items"]]

    assert {topic_of(i) for i in ids("--section", "harbour", "--limit", "4")} == {"harbour"}
    assert "vaccine-2" not in ids("--exclude", "vaccine-2")
    # vaccine-1 is published 2026-03-02: background mode lists only what came before it
    assert ids("--background", "--section", "vaccine") == ["vaccine-0"]
    assert ids("--until", "2026-03-01T00:00:00Z", "--section", "vaccine") == []
    one_line_error(_run("related", "vaccine-1", "--since", "soon", "--data-dir", data), "--since")
    one_line_error(
        _run("related", "vaccine-1", "--section", "a", "--exclude-section", "a", "--data-dir", data),
        "both included and excluded",
    )


def test_version() -> None:
    from importlib import metadata

    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"recsys-news {metadata.version('recsys-news')}"


def test_serve_checks_settings_and_model_before_any_worker_starts(
    tmp_path: Path, corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "d")
    real_load, real_check = encoders.load_encoder, cli_serve._check_model
    use_fake_model(monkeypatch)
    assert _run("build", "-i", str(corpus_file), "--data-dir", data, "--no-progress").exit_code == 0
    checked: list[str] = []
    monkeypatch.setattr(cli_serve, "_check_model", lambda settings: checked.append(settings.model))
    started: list[tuple[object, ...]] = []
    monkeypatch.setattr("service.run.serve", lambda *args: started.append(args))
    one_line_error(_run("serve", "--data-dir", data, "--workers", "0"), "workers")
    one_line_error(_run("serve", "--data-dir", data, "--log-format", "xml"), "log_format")
    one_line_error(_run("serve", "--data-dir", data, "--server", "hypercorn"), "http_server")
    one_line_error(_run("serve", "--data-dir", data, env={"RECSYS_WORKERS": "many"}), "workers")

    result = _run("serve", "--data-dir", data, "--workers", "2", "--log-format", "json", "--port", "8123")
    assert result.exit_code == 0 and "2 workers" in result.stderr
    ((settings, flags, _),) = started
    assert (settings.workers, settings.log_format, settings.port) == (2, "json", 8123)  # type: ignore[attr-defined]
    assert flags == {  # handed to the workers as RECSYS_* variables (service/run.py)
        "data_dir": Path(data), "model": None, "host": None, "port": 8123, "log_level": None,
        "workers": 2, "log_format": "json", "http_server": None,
    }  # fmt: skip

    # with several workers the model is checked in a process of its own
    assert checked == ["sentence-transformers/all-MiniLM-L6-v2"]
    # and so on granian with one: its worker is a process of its own, this one only supervises
    started.clear()
    assert _run("serve", "--data-dir", data, "--server", "granian").exit_code == 0
    ((settings, flags, _),) = started
    assert settings.http_server == "granian" and flags["http_server"] == "granian"  # type: ignore[attr-defined, index]
    assert len(checked) == 2

    # the real checks: a wrong model fails once, before any worker starts, with one or several
    monkeypatch.setattr(encoders, "load_encoder", real_load)
    monkeypatch.setattr(cli_serve, "_check_model", real_check)
    started.clear()
    for workers in ("1", "2"):
        wrong = _run("serve", "--data-dir", data, "--workers", workers, "--model", "/no/such/model")
        one_line_error(wrong, "model folder '/no/such/model' does not exist")
    assert not started
