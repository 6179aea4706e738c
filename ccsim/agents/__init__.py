"""ccsim.agents (see DESIGN.md §2)."""
