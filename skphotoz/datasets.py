"""Galaxy samples: the embedded demo sample and loaders for real survey catalogs.

``load_demo`` needs nothing beyond the pip dependencies. The real-catalog
loaders read the files described in ``../shared/data/README.md``; they never
ship with the package.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that points at a folder laid out like ``shared/data``.
DATA_HOME_ENV = "SKPHOTOZ_DATA_HOME"


def shared_data_home(data_home=None):
    """Find the folder of real survey data, or return None when it is absent.

    Looks, in order, at ``data_home``, ``$SKPHOTOZ_DATA_HOME``, and
    ``../shared/data`` relative to the repository and to the working
    directory.

    Parameters
    ----------
    data_home : str or path-like, optional
        Explicit folder.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> from skphotoz.datasets import shared_data_home
    >>> home = shared_data_home()
    >>> home is None or home.is_dir()
    True
    """
    candidates = []
    if data_home is not None:
        candidates.append(Path(data_home))
    if os.environ.get(DATA_HOME_ENV):
        candidates.append(Path(os.environ[DATA_HOME_ENV]))
    repo = Path(__file__).resolve().parent.parent
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path
    return None
