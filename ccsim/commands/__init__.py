"""Subcommands of the ``ccsim`` CLI, one module each (see ``ccsim.cli``)."""
