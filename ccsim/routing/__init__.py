"""ccsim.routing (see DESIGN.md §2)."""
