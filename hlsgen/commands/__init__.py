"""Commands over written projects, above the user-facing objects: ``check`` (csim and cosim against
tb_data/, JUnit XML; ``python -m hlsgen.commands.check``) and ``cosim`` (the ``hlsgen cosim``
subcommand)."""
