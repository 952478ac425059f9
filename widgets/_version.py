"""The widget's version; ``package.json`` carries the same one (a test checks it)."""

__version__ = "0.1.0"
