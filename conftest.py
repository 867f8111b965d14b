"""Root pytest configuration: import gradfit once, before pytest collects any of its files.

pytest runs with ``--import-mode=importlib`` and collects doctests over ``src/gradfit``
(see ``[tool.pytest.ini_options]`` in pyproject.toml). When it collects a module such
as ``src/gradfit/nn/init.py`` whose package is not imported yet, it imports the package
first, and the package imports that very module; pytest then executes the file a
second time as a fresh module and puts the copy in ``sys.modules`` and on the package
(``gradfit.nn.init``, ``gf.autograd``), so later tests see two copies of the module
state (grad mode, hook registry, ``no_init`` flags) and fail depending on the order
of collection.

Importing every gradfit package here, before collection, makes pytest find each
module already in ``sys.modules`` and reuse it; a module no package imports is then
executed once, by whichever of pytest and a test gets to it first. Only packages are
imported (their ``__init__`` pulls in what they need), which is cheap and NumPy-only.
"""

from __future__ import annotations

import importlib
import pkgutil

import gradfit


def _import_packages() -> None:
    """Import ``gradfit`` and each of its subpackages (``gradfit.nn``, ``gradfit.data``, ...)."""
    for info in pkgutil.walk_packages(gradfit.__path__, "gradfit."):
        if info.ispkg:
            importlib.import_module(info.name)


_import_packages()
