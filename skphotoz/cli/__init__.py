"""The ``skphotoz`` command line."""

from skphotoz.cli.common import main

__all__ = ["main"]
