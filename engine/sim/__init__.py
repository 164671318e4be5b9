"""Small synthetic plants with a known truth, for examples, tests and benchmarks."""
