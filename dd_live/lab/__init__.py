"""The lab: DeepDrummer's evaluation protocol with simulated raters, plots, and the benchmarks
behind ``dd-live bench``."""

POLICIES = ("lean", "explore")  # how the protocol's Phase I picks its loops (see evaluate.run_protocol)
