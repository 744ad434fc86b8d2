"""The lab: DeepDrummer's evaluation protocol with simulated raters, plots, and the benchmarks
behind ``dd-live bench``."""
