"""Subcommands of the ``simbench`` CLI: each module defines ``add_parser(sub)`` and ``run(args)``."""
