"""otelite's benchmark suite: ``python -m bench`` measures and rewrites BENCHMARKS.md."""
