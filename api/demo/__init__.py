"""A deterministic synthetic jurisdiction and a year of hazard cases, for demos and benchmarks."""
