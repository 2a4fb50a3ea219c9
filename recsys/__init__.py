"""recsys: the core library of the related-stories recommender.

The public surface is listed in __all__; everything else is internal. Names are imported on first
use (PEP 562), so `import recsys.errors` loads neither faiss nor torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Article": "recsys.articles",
    "read_articles": "recsys.articles",
    "Catalog": "recsys.catalog.store",
    "StoredArticle": "recsys.catalog.store",
    "Encoder": "recsys.encoding.protocol",
    "TextRecipe": "recsys.encoding.recipe",
    "ExportedEncoder": "recsys.encoding.encoders",
    "SentenceTransformerEncoder": "recsys.encoding.encoders",
    "load_encoder": "recsys.encoding.encoders",
    "ArticleNotFound": "recsys.errors",
    "BuildLocked": "recsys.errors",
    "ConfigError": "recsys.errors",
    "IndexCorrupt": "recsys.errors",
    "IndexError_": "recsys.errors",
    "IndexMismatch": "recsys.errors",
    "IndexMissing": "recsys.errors",
    "InvalidArticle": "recsys.errors",
    "InvalidInput": "recsys.errors",
    "ModelLoadError": "recsys.errors",
    "RecsysError": "recsys.errors",
    "Recommendation": "recsys.serving.types",
    "Recommender": "recsys.serving.recommend",
    "Root": "recsys.root",
    "Settings": "recsys.settings",
    "IndexStore": "recsys.version.store",
    "LoadedIndex": "recsys.version.store",
    "Manifest": "recsys.version.store",
    "IndexSpec": "recsys.version.vectors",
    "VectorIndex": "recsys.version.vectors",
}

__all__ = [
    "Article",
    "ArticleNotFound",
    "BuildLocked",
    "Catalog",
    "ConfigError",
    "Encoder",
    "ExportedEncoder",
    "IndexCorrupt",
    "IndexError_",
    "IndexMismatch",
    "IndexMissing",
    "IndexSpec",
    "IndexStore",
    "InvalidArticle",
    "InvalidInput",
    "LoadedIndex",
    "Manifest",
    "ModelLoadError",
    "Recommendation",
    "Recommender",
    "RecsysError",
    "Root",
    "SentenceTransformerEncoder",
    "Settings",
    "StoredArticle",
    "TextRecipe",
    "VectorIndex",
    "__version__",
    "load_encoder",
    "read_articles",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'recsys' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup skips this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from recsys.articles import Article, read_articles
    from recsys.catalog.store import Catalog, StoredArticle
    from recsys.encoding.encoders import ExportedEncoder, SentenceTransformerEncoder, load_encoder
    from recsys.encoding.protocol import Encoder
    from recsys.encoding.recipe import TextRecipe
    from recsys.errors import (
        ArticleNotFound,
        BuildLocked,
        ConfigError,
        IndexCorrupt,
        IndexError_,
        IndexMismatch,
        IndexMissing,
        InvalidArticle,
        InvalidInput,
        ModelLoadError,
        RecsysError,
    )
    from recsys.root import Root
    from recsys.serving.recommend import Recommender
    from recsys.serving.types import Recommendation
    from recsys.settings import Settings
    from recsys.version.store import IndexStore, LoadedIndex, Manifest
    from recsys.version.vectors import IndexSpec, VectorIndex
