"""Benchmarks: each script prints a table and writes JSON to results/ (machine included)."""
