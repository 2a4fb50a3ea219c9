"""The benchmark harness's own logic: synthetic folders come from the product's build using cached
vectors only, and wrk's generated Lua quotes what it embeds."""

from __future__ import annotations

from pathlib import Path

from benchmarks.synthetic import CachedVectorsOnly, Params, make
from benchmarks.wrk_load import lua_string
from recsys.catalog.store import Catalog
from recsys.encoding.protocol import Encoder
from recsys.settings import Settings
from recsys.version.store import IndexStore


def test_synthetic_folder_is_built_from_cached_vectors_only(
    settings: Settings, built: Catalog, tmp_path: Path
) -> None:
    assert isinstance(CachedVectorsOnly("m", 8), Encoder)
    target = tmp_path / "synthetic"
    record = make(settings.data_dir, target, Params(size=80, incremental_change=0.1))

    assert record["full_build"]["build"]["embedded"] == 0  # every vector came from the cache
    assert record["full_build"]["articles"] == 80
    incremental = record["incremental_build"]
    assert incremental["edited"] == 5  # 10% of the 50 synthetic articles
    assert incremental["build"]["changed"] == 5 and incremental["build"]["embedded"] == 0
    store = IndexStore(target / "index")
    assert store.current_version() == incremental["version"]
    assert store.read_manifest(incremental["version"]).model == "fake-bag-of-words"
    assert Catalog(target / "catalog.sqlite3").count("published") == 80

    again = make(settings.data_dir, target, Params(size=80, incremental_change=0.1))
    assert again["reused"] and again["full_build"] == record["full_build"]


def test_lua_long_strings_cannot_be_closed_by_their_content() -> None:
    assert lua_string("/a") == "[[\n/a]]"
    assert lua_string("x]]y") == "[=[\nx]]y]=]"
    assert lua_string("]]]=]") == "[==[\n]]]=]]==]"
