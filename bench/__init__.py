"""Benchmarks of openai-sentinel's overhead; see ``bench/README.md``."""
