"""``python -m greedlab``: the ``greedlab`` command, for environments without the console script."""

from greedlab.cli import app

if __name__ == "__main__":  # worker processes (spawned, for parallel runs) import this module too
    app(prog_name="greedlab")
