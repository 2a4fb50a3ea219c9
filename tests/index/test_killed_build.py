"""Real build processes: killed with SIGKILL at several moments, and two at once (on one host, and on
two hosts that share a PostgreSQL catalog); a rollback on one host while a build runs on another."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import app as cli
from index.build import build_index
from recsys.catalog.ingest import import_file
from recsys.catalog.store import Catalog
from recsys.errors import BuildLocked
from recsys.settings import Settings
from recsys.version.store import IndexStore
from tests.fakes import FakeEncoder
from tests.helpers import one_line_error, until
from tests.postgres import settings_on
from tests.slow_build import start, wait_for_stage


def _assert_serving(settings: Settings, catalog: Catalog, allowed: set[str]) -> str:
    store = IndexStore(settings.index_root)
    current = store.current_version()
    assert current in allowed
    loaded = store.load(expect_model="fake-bag-of-words", expect_dimension=256)  # checksums included
    assert len(loaded.vectors) == loaded.manifest.count > 0
    return loaded.version


@pytest.mark.parametrize(
    "stage",
    [
        "stage embed",  # embedding, nothing written yet
        "stage fsync index.faiss",  # staging folder half written
        "stage fsync manifest.json",  # all files written, not yet synced
        "stage fsync versions",  # the version moved into place, CURRENT not yet switched
        "stage fsync index",  # CURRENT switched, its folder not yet synced
    ],
)
def test_a_build_killed_at_any_moment_leaves_a_loadable_current_version(
    settings: Settings, built: Catalog, stage: str
) -> None:
    before = IndexStore(settings.index_root).current_version()
    assert before is not None
    process = start(settings.data_dir, "--tag", "killed", "--delay", "0.3")
    wait_for_stage(process, stage)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    store = IndexStore(settings.index_root)
    new = set(store.list_versions()) - {before}
    served = _assert_serving(settings, built, {before, *new})
    if stage == "stage fsync index":
        assert served != before  # the pointer had moved: the new version is complete
    elif stage == "stage fsync versions":
        assert served == before and len(new) == 1  # complete but never made current
        assert store.load(new.pop()).manifest.count == 33
    else:
        assert served == before and not new

    report = build_index(settings, built, FakeEncoder())  # the next build succeeds
    assert _assert_serving(settings, built, {report.version}) == report.version
    assert {"killed-0", "killed-1", "killed-2"} <= set(store.load().vectors.article_ids.tolist())
    assert not [p for p in (settings.index_root / "versions").iterdir() if p.name.startswith(".tmp-")]


def test_a_second_build_at_the_same_time_refuses_with_a_clear_message(
    settings: Settings, built: Catalog
) -> None:
    before = IndexStore(settings.index_root).current_version()
    first = start(settings.data_dir, "--tag", "first", "--delay", "0.5")
    wait_for_stage(first, "stage embed")  # it holds the lock now
    second = start(settings.data_dir, "--delay", "0")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert err.strip().splitlines() == [
        f"error: another build is running on {settings.index_root} "
        f"(lock {settings.index_root / '.build.lock'}); try again when it finishes"
    ]
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    version = out.strip().splitlines()[-1].removeprefix("published ")
    assert version != before
    assert _assert_serving(settings, built, {version}) == version


def test_a_build_on_another_host_sharing_the_catalog_is_refused_until_a_killed_build_releases_it(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The build process reads RECSYS_CATALOG_URL from this environment: both hosts share the catalog,
    # each with an index folder of its own (so only the catalog's lock stands between them).
    settings = settings_on("postgresql", tmp_path, request, monkeypatch)
    other_host = Settings(data_dir=tmp_path / "other-host")
    settings.data_dir.mkdir(parents=True)  # the catalog is on the server: nothing else made it
    catalog = Catalog(settings.catalog_location)
    try:
        first = start(settings.data_dir, "--tag", "first", "--delay", "30")  # killed long before
        wait_for_stage(first, "stage embed")  # it holds both locks now
        with pytest.raises(BuildLocked, match="another build is running on a host that shares the catalog"):
            build_index(other_host, catalog, FakeEncoder())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

        # The server ends the killed process's session, and its lock with it (bounded wait).
        deadline = time.monotonic() + 30
        while True:
            try:
                report = build_index(other_host, catalog, FakeEncoder())
                break
            except BuildLocked:
                if time.monotonic() > deadline:
                    pytest.fail("the killed build's catalog lock was not released within 30 s")
                time.sleep(0.1)
        assert IndexStore(other_host.index_root).current_version() == report.version
        assert IndexStore(settings.index_root).current_version() is None  # the killed one published nothing
        build_index(settings, catalog, FakeEncoder())  # a finished build released the lock too
    finally:
        catalog.dispose()


def test_a_rollback_on_another_host_sharing_the_catalog_waits_for_its_build(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, corpus_file: Path
) -> None:
    # As above, each host has an index folder of its own: only the catalog's lock stands between them.
    settings = settings_on("postgresql", tmp_path, request, monkeypatch)
    other_host = Settings(data_dir=tmp_path / "other-host")
    settings.data_dir.mkdir(parents=True)
    monkeypatch.setattr("recsys.encoding.encoders.encoder_identity", lambda settings: "fake-bag-of-words")
    catalog = Catalog(settings.catalog_location)
    try:
        import_file(catalog, corpus_file, strict=True)
        older = build_index(other_host, catalog, FakeEncoder()).version
        newer = build_index(other_host, catalog, FakeEncoder()).version
        first = start(settings.data_dir, "--tag", "first", "--stop-at", "embed")
        wait_for_stage(first, "stage embed")  # it holds both locks now, until killed
        try:
            refused = CliRunner().invoke(cli.app, ["rollback", "--data-dir", str(other_host.data_dir)])
            one_line_error(refused, "another build is running on a host that shares the catalog")
            assert IndexStore(other_host.index_root).current_version() == newer
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)

        def rolled_back() -> Result | None:  # once the server has ended the killed build's session
            result = CliRunner().invoke(cli.app, ["rollback", "--data-dir", str(other_host.data_dir)])
            return None if "another build is running" in result.stderr else result

        done = until("the killed build's catalog lock is released", rolled_back, 30)
        assert done.exit_code == 0 and done.stdout.strip() == f"current index version: {older} (was {newer})"
        assert IndexStore(other_host.index_root).current_version() == older
    finally:
        catalog.dispose()
