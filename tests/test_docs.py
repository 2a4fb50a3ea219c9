"""The documentation keeps up with the code: every setting in docs/configuration.md (the generated
table, with its default), every CLI command in docs/cli.md, every route in docs/*.md, every module in
the generated Layout of docs/architecture.md, and every relative link in README.md and docs/*.md
pointing at a file (and heading) that exists; and the other way, every RECSYS_* variable and every
`recsys` command in a shell block of docs/*.md existing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from cli import app as cli
from recsys import settings_doc
from recsys.settings import Settings
from service.app import create_app
from tests import layout_doc

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
LAYOUT = layout_doc.REGENERATE
REGENERATE = "run `python -m recsys.settings_doc --write` and describe any new setting (meaning TODO)"


def _docs() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md"))}


def test_the_settings_table_is_the_generated_one() -> None:
    document = settings_doc.DOC.read_text(encoding="utf-8")
    assert settings_doc.regenerated(document) == document, f"docs/configuration.md is stale: {REGENERATE}"
    undescribed = [name for name, meaning in settings_doc.meanings(document).items() if meaning == "TODO"]
    assert not undescribed, f"settings without a meaning in docs/configuration.md: {undescribed}"


def test_every_setting_is_documented_with_its_default() -> None:
    rows = {
        line.split("|")[1].strip(): line
        for line in settings_doc.DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `RECSYS_")
    }
    for field in Settings.model_fields:
        variable = f"`RECSYS_{field.upper()}`"
        assert variable in rows, f"{variable} is not in docs/configuration.md: {REGENERATE}"
        assert f"| {settings_doc.default_text(field)} |" in rows[variable], f"{variable}: {REGENERATE}"


def test_the_generated_defaults_are_the_settings_defaults() -> None:
    # The generator reads the model's defaults without the environment: check it against a real load.
    loaded = Settings(_env_file=None)  # type: ignore[call-arg]  # tests run with no RECSYS_* variable
    assert settings_doc.default_text("port") == f"`{loaded.port}`"
    assert settings_doc.default_text("catalog_path") == f"`{loaded.catalog_file}`"
    assert (
        settings_doc.default_text("api_key") == "unset"
        and settings_doc.default_text("cors_origins") == "empty"
    )
    assert settings_doc.values_text(Settings.model_fields["index_type"]) == "`auto`, `flat`, `hnsw`, `ivf`"
    assert settings_doc.values_text(Settings.model_fields["batch_size"]) == "1..4,096"


def test_every_variable_the_docs_name_is_a_setting() -> None:
    # A recipe (docs/deployment.md's above all) that sets a variable no setting reads does nothing.
    # RECSYS_TEST_* are the test suite's own switches (CI's), not settings.
    known = {f"RECSYS_{field.upper()}" for field in Settings.model_fields}
    unknown = {
        f"{path.name}: {name}"
        for path, text in _docs().items()
        for name in re.findall(r"\bRECSYS_[A-Z0-9_]*[A-Z0-9]\b", text)
        if name not in known and not name.startswith("RECSYS_TEST_")
    }
    assert not unknown, f"variables named in docs/*.md that are no setting: {sorted(unknown)}"


def test_every_command_in_the_docs_shell_blocks_exists() -> None:
    commands = set(typer.main.get_group(cli.app).commands)
    unknown = {
        f"{path.name}: recsys {name}"
        for path, text in _docs().items()
        for block in re.findall(r"^```(?:sh|bash)\n(.*?)^```", text, re.M | re.S)
        for name in re.findall(r"(?:^|[\s;&|(/])recsys ([a-z][a-z-]*)", block, re.M)
        if name not in commands
    }
    assert not unknown, f"commands in docs/*.md shell blocks that the CLI does not have: {sorted(unknown)}"


def test_every_cli_command_is_documented() -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = typer.main.get_group(cli.app).commands
    assert len(commands) >= 10
    missing = [name for name in commands if f"## `recsys {name}`" not in reference]
    assert not missing, f"commands without a `## \\`recsys NAME\\`` section in docs/cli.md: {missing}"


def test_every_cli_option_is_documented() -> None:
    # In docs/cli.md, or (an option another part of the project adds) in its own document.
    documented = "\n".join(_docs().values())

    def mentioned(flag: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", documented) is not None

    missing = []
    for name, command in typer.main.get_group(cli.app).commands.items():
        for param in command.params:
            flags = [flag for flag in [*param.opts, *param.secondary_opts] if flag.startswith("--")]
            if flags and "--help" not in flags and not any(mentioned(flag) for flag in flags):
                missing.append(f"recsys {name} {flags[0]}")
    assert not missing, f"options documented in no docs/*.md: {missing}"


def _normalise(path: str) -> str:
    """`/articles/{article_id}/related` and `/articles/{id}/related` alike: parameters unnamed."""
    path = re.split(r"[?\[]", path)[0].rstrip("/") or "/"  # no query string, no [optional part]
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_route_is_documented(tmp_path: Path) -> None:
    spec = create_app(Settings(data_dir=tmp_path, api_key="k")).openapi()
    routes = {(method.upper(), _normalise(path)) for path, item in spec["paths"].items() for method in item}
    documented: set[tuple[str, str]] = set()
    for text in _docs().values():
        # `GET /path`, `GET/PUT/DELETE /path` and `GET /path?query` in code spans or headings
        for methods, path in re.findall(
            r"\b((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*) (/[^\s`|)]*)", text
        ):
            for method in methods.split("/"):
                documented.add((method, _normalise(path)))
    missing = sorted(routes - documented)
    assert not missing, f"routes documented in no docs/*.md (as `METHOD /path`): {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


MARKDOWN = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("source", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_at_files_and_headings_that_exist(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks hold no links
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (source.parent / file_part).resolve() if file_part else source
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"broken links in {source.relative_to(REPO)}: {broken}"


def test_the_docs_index_lists_every_document() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    unlisted = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"({p.name})" not in index]
    assert not unlisted, f"docs/README.md does not link: {unlisted}"


def test_the_layout_is_the_generated_one() -> None:
    # Each line is a module's docstring summary, so a module without one fails here, by name.
    document = layout_doc.DOC.read_text(encoding="utf-8")
    _, problems = layout_doc.layout()
    unsummarised = "\n".join(str(problem) for problem in problems)
    assert not problems, f"give these modules a one-line docstring summary, then `{LAYOUT}`:\n{unsummarised}"
    stale = "the Layout of docs/architecture.md differs from the tree"
    assert layout_doc.regenerated(document) == document, f"{stale}: run `{LAYOUT}`"
