"""Offline side: building and publishing index versions, and the `recsys` command line."""
