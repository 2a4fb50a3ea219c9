"""The tests: unit (fake encoder), integration (real model) and end-to-end (uvicorn) tests."""
