"""The lab: DeepDrummer's evaluation protocol with simulated raters (``dd-live evaluate``), a performer's first
minutes simulated, the drum prior learned from Debian's drum parts (``dd-live prior``), and songs with known
sections for section finding."""

POLICIES = ("lean", "explore")  # how the protocol's Phase I picks its loops (see evaluate.run_protocol)
