"""``python -m greedlab``: the ``greedlab`` command, for environments without the console script."""

from greedlab.cli import app

app(prog_name="greedlab")
