"""Lazy re-exports: a module keeps offering names that moved to a module importing it.

When code moves from module A into a new module B that itself imports A, a
plain ``from .B import name`` in A would be circular. PEP 562's module-level
``__getattr__`` resolves such names on first use instead.
"""

from __future__ import annotations

import importlib
import sys


def lazy_reexport(module_name, source, names):
    """``(__getattr__, __dir__)`` for module ``module_name``, serving ``names`` from ``source``.

    Examples
    --------
    >>> from skphotoz._lazy import lazy_reexport
    >>> getattr_, dir_ = lazy_reexport("skphotoz.io", "skphotoz.catalog_model", {"load_model"})
    >>> getattr_("load_model").__module__
    'skphotoz.catalog_model'
    """
    names = frozenset(names)

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(source), name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*vars(sys.modules[module_name]), *names})

    return __getattr__, __dir__
