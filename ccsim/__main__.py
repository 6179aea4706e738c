"""``python -m ccsim``: the same as the ``ccsim`` command.

Needed because ``python -m ccsim.cli`` would run ``cli.py`` as ``__main__``, a
second copy of the module whose ``CliError`` the commands' errors don't match.
"""

from ccsim.cli import main

raise SystemExit(main())
