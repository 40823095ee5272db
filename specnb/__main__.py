"""``python -m specnb``: the ``specnb`` command, for when the script is not on PATH."""

from .cli import run

if __name__ == "__main__":
    run()
