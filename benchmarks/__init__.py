"""Benchmark scripts. Each prints a table and JSON records, and rewrites its own section of BENCHMARKS.md."""
