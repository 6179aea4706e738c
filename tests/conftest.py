"""Suite-wide settings: hypothesis runs derandomized so every run (and CI) sees the same cases.

DESIGN.md §5 asks for deterministic tests; a property test that found a
counterexample once must find it again on the next run, not by luck.
"""

from hypothesis import settings

settings.register_profile("ccsim", derandomize=True, print_blob=True)
settings.load_profile("ccsim")
