"""ccsim.csta (see DESIGN.md §2)."""
