"""Rapport's benchmarks: each hot path against the bare SQL doing the same work."""
