"""recsys: the core library of the related-stories recommender.

The public surface is listed in __all__; everything else is internal.
"""

from recsys.articles import Article, read_articles
from recsys.catalog import Catalog, StoredArticle
from recsys.embed import Encoder, ExportedEncoder, SentenceTransformerEncoder, TextRecipe, load_encoder
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
from recsys.ranking import Recommendation
from recsys.recommend import Recommender
from recsys.settings import Settings
from recsys.store import IndexStore, LoadedIndex, Manifest
from recsys.vectors import IndexSpec, VectorIndex

__version__ = "0.1.0"

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
    "SentenceTransformerEncoder",
    "Settings",
    "StoredArticle",
    "TextRecipe",
    "VectorIndex",
    "__version__",
    "load_encoder",
    "read_articles",
]
