"""The HTTP API: create_app(settings) builds a FastAPI app serving related stories."""

from service.app import create_app

__all__ = ["create_app"]
