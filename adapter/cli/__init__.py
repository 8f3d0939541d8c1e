"""The ``tempflare`` command line, like ``wrangler workflows``: see :mod:`adapter.cli.app`.

Needs the ``cli`` extra (``pip install 'tempflare[cli]'``: Click and rich).
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """The ``tempflare`` console script."""
    from .app import cli

    cli()
