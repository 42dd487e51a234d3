"""Side-by-side benchmarks of maskjax against its peers (see bench/README.md)."""
