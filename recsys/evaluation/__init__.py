"""Evaluation: ground truth, metrics, baselines, significance, and the report."""
