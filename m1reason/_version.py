"""The package's version, on the bottom floor so that any layer can report it without importing the front door.

>>> from m1reason._version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.1.0"
