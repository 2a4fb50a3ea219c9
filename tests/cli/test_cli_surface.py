"""What the command line shows a user: --help names each option's RECSYS_* variable (while Settings
stays the one reader of the environment), shell completion works, and `recsys related --json` prints
exactly what the API returns for the same article and parameters (fake encoder)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.core import TyperOption
from typer.testing import CliRunner

from cli import app as cli
from recsys.settings import Settings
from service.app import create_app
from tests.fakes import FakeEncoder
from tests.helpers import REPO

runner = CliRunner()


def _commands() -> dict[str, typer.core.TyperCommand]:
    return dict(typer.main.get_group(cli.app).commands)  # type: ignore[arg-type]


def _help(*args: str) -> str:
    # Wide, so that rich does not wrap a variable's name across two lines.
    result = runner.invoke(cli.app, [*args, "--help"], env={"COLUMNS": "250"}, prog_name="recsys")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("command", "variables"),
    [
        ("serve", ["RECSYS_HOST", "RECSYS_PORT", "RECSYS_DATA_DIR", "RECSYS_MODEL", "RECSYS_LOG_LEVEL"]),
        ("build", ["RECSYS_DATA_DIR", "RECSYS_MODEL", "RECSYS_INDEX_TYPE", "RECSYS_BATCH_SIZE"]),
        ("related", ["RECSYS_DATA_DIR", "RECSYS_MODEL"]),
        ("versions", ["RECSYS_DATA_DIR"]),
    ],
)
def test_help_names_the_environment_variables(command: str, variables: list[str]) -> None:
    text = _help(command)
    for variable in variables:
        assert f"[env var: {variable}]" in text, text


def test_every_option_that_is_a_setting_shows_its_variable_and_no_other_does() -> None:
    for name, command in _commands().items():
        for param in command.params:
            if not isinstance(param, TyperOption) or param.name is None:
                continue
            is_setting = param.name in Settings.model_fields
            shown = getattr(param, "show_envvar", False) and param.envvar == f"RECSYS_{param.name.upper()}"
            assert shown == is_setting, f"recsys {name} {param.opts[0]}"


def test_the_environment_is_read_by_settings_only(tmp_path: Path) -> None:
    # Click would report a bad value as a usage error naming the option; Settings reports it as the
    # one-line settings error, the same as for a bad value that comes from a flag or .env.
    result = runner.invoke(cli.app, ["serve"], env={"RECSYS_PORT": "not-a-port"})
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().startswith("error: invalid settings: port:"), result.stderr
    (tmp_path / ".env").write_text("RECSYS_PORT=99999\n")  # the tests run in tmp_path
    from_dotenv = runner.invoke(cli.app, ["serve"])
    assert "error: invalid settings: port:" in from_dotenv.stderr


def test_show_completion_prints_the_script_for_the_shell_it_runs_in() -> None:
    # Typer detects the shell from the process tree: run it from bash (`; true` keeps bash from
    # replacing itself with the command), as a user typing `recsys --show-completion` would.
    command = f"{shlex.quote(sys.executable)} -m cli --show-completion; true"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert "_recsys_completion()" in done.stdout, done.stdout + done.stderr
    assert "_RECSYS_COMPLETE=complete_bash" in done.stdout


def test_completion_completes_commands_and_options() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "_RECSYS_COMPLETE": "complete_bash"}

    def complete(words: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "cli"],
            env={**env, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.split()

    assert complete("recsys bu") == ["build"]
    assert "--data-dir" in complete("recsys serve --da")


def test_version_and_every_command_have_help() -> None:
    assert runner.invoke(cli.app, ["--version"]).stdout.startswith("recsys-news ")
    for name in _commands():
        assert f"Usage: recsys {name} " in _help(name)


@pytest.mark.parametrize(
    ("options", "params"),
    [
        ([], {}),
        (
            ["--limit", "4", "--section", "vaccine", "--exclude", "vaccine-2"],
            {"limit": 4, "section": "vaccine", "exclude": "vaccine-2"},
        ),
        (
            ["--freshness", "--exclude-tag", "nothing", "--max-age-days", "30"],
            {"freshness": "true", "exclude_tag": "nothing", "max_age_days": 30},
        ),
        (
            ["--background", "--until", "2026-04-01T00:00:00Z"],
            {"background": "true", "until": "2026-04-01T00:00:00Z"},
        ),
    ],
)
def test_related_json_is_what_the_api_returns(
    tmp_path: Path, corpus_file: Path, fake_model: None, options: list[str], params: dict[str, object]
) -> None:
    data = tmp_path / "d"
    env = {"RECSYS_DEFAULT_LIMIT": "3"}  # the CLI's default limit is the API's setting
    built = runner.invoke(
        cli.app, ["build", "-i", str(corpus_file), "--data-dir", str(data), "--no-progress"]
    )
    assert built.exit_code == 0, built.output
    printed = runner.invoke(
        cli.app, ["related", "vaccine-1", "--json", "--data-dir", str(data), *options], env=env
    )
    assert printed.exit_code == 0, printed.output
    settings = Settings(data_dir=data, default_limit=3, reload_interval=0)
    with TestClient(create_app(settings, encoder=FakeEncoder())) as client:
        answered = client.get("/articles/vaccine-1/related", params=params)
    assert answered.status_code == 200, answered.text
    cli_body, api_body = json.loads(printed.stdout), answered.json()
    assert cli_body == api_body and list(cli_body) == list(api_body)
    assert cli_body["items"] or options  # the unfiltered list is not empty: the comparison means something
