"""Splitters and out-of-fold predictions for joint (type, redshift) targets.

scikit-learn's ``check_cv`` turns an integer ``cv`` into a plain ``KFold``
when ``y`` has two columns, so it never stratifies on the galaxy type; with
8% early types (the paper's sample) a fold can then miss them entirely.
The splitters here read the type column of the joint target and delegate the
splitting itself to scikit-learn wherever it has the splitter.

* :func:`paper_split`: the paper's 100 trials of 192 train / 178 test,
  stratified by type (``StratifiedShuffleSplit``). The paper's further 128
  pure-train / 64 validation split of the 192 happens inside ``fit``:
  ``JointMorphZ(protocol="paper", validation_fraction=1/3)`` holds out a
  type-stratified third (64 of 192) for its early-stopping callbacks.
* :class:`BootstrapSplit`: bootstrap resamples tested out of bag.

Out-of-fold predictions for any of these splitters are made by
:mod:`skphotoz.model_selection.out_of_fold`.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit
from sklearn.model_selection._split import BaseShuffleSplit
from sklearn.utils import check_random_state

from skphotoz.validation import (
    split_targets,
)


# ================================================================ splitters
class _StratifyOnTypeColumn:
    """Mixin for a scikit-learn stratified splitter: it stratifies on the type column
    of a joint ``[type, z]`` target, read with ``type_column`` and ``redshift_column``.

    It comes before the splitter in the bases, so that its ``split`` hands the
    splitter the types as ``y``.
    """

    def split(self, X, y, groups=None):
        """Yield train and test indices, stratified on the galaxy type."""
        types, _ = split_targets(y, self.type_column, self.redshift_column)
        return super().split(X, types, groups)


class StratifiedTypeKFold(_StratifyOnTypeColumn, StratifiedKFold):
    """K-fold splitter stratified on the type column of a joint ``[type, z]`` target.

    Parameters
    ----------
    n_splits : int, default=5
    shuffle : bool, default=False
    random_state : int, RandomState instance or None, default=None
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or astropy Table.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.model_selection import StratifiedTypeKFold
    >>> y = np.array([["ET", 0.1]] * 4 + [["LT", 0.5]] * 8, dtype=object)
    >>> [int((y[test, 0] == "ET").sum()) for _, test in StratifiedTypeKFold(4).split(y, y)]
    [1, 1, 1, 1]
    """

    def __init__(
        self,
        n_splits=5,
        *,
        shuffle=False,
        random_state=None,
        type_column="type",
        redshift_column="redshift",
    ):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.type_column = type_column
        self.redshift_column = redshift_column


class StratifiedTypeShuffleSplit(_StratifyOnTypeColumn, StratifiedShuffleSplit):
    """``StratifiedShuffleSplit`` stratified on the type column of a joint target.

    Parameters are those of :class:`sklearn.model_selection.StratifiedShuffleSplit`
    plus ``type_column`` and ``redshift_column``. See :func:`paper_split`.
    """

    def __init__(
        self,
        n_splits=10,
        *,
        test_size=None,
        train_size=None,
        random_state=None,
        type_column="type",
        redshift_column="redshift",
    ):
        super().__init__(
            n_splits=n_splits, test_size=test_size, train_size=train_size, random_state=random_state
        )
        self.type_column = type_column
        self.redshift_column = redshift_column


def paper_split(n_trials=100, *, train_size=192, test_size=178, random_state=None):
    """The paper's repeated split: 192 train / 178 test galaxies, stratified by type.

    de Diego et al. (2021, Sect. 2.2.1) redraw the training and test sets for
    each of 100 trials. The 128 pure-train / 64 validation split of the 192
    training galaxies is done inside the fit by
    ``JointMorphZ(protocol="paper", validation_fraction=1/3)`` (a
    type-stratified hold-out of exactly 64 of 192).

    Parameters
    ----------
    n_trials : int, default=100
    train_size, test_size : int or float, default=192, 178
        As in ``StratifiedShuffleSplit`` (counts, or fractions of the sample).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    StratifiedTypeShuffleSplit

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.model_selection import paper_split
    >>> y = np.array([["ET", 0.3]] * 30 + [["LT", 0.6]] * 340, dtype=object)
    >>> train, test = next(paper_split(random_state=0).split(y, y))
    >>> len(train), len(test), int((y[test, 0] == "ET").sum())
    (192, 178, 14)
    """
    return StratifiedTypeShuffleSplit(
        n_splits=n_trials, train_size=train_size, test_size=test_size, random_state=random_state
    )


class BootstrapSplit(BaseShuffleSplit):
    """Bootstrap resamples as a cross-validation splitter.

    Each split draws as many training indices as there are rows, with
    replacement, and tests on the out-of-bag rows (those never drawn; about
    37% of the sample). The training indices repeat: that is the bootstrap,
    and an estimator fitted on them sees the duplicated rows. When ``y`` is a
    joint 2-column target and ``stratify`` is True, the draw is made within
    each galaxy type, so every resample keeps the sample's type fractions.
    A 1-D ``y`` (or None) is resampled without stratification.

    Works as ``cv=`` in ``cross_validate`` and ``GridSearchCV``. The test
    sets overlap from split to split, so ``sklearn.model_selection.
    cross_val_predict`` refuses it ("only works for partitions"); use
    :func:`cross_val_predict_joint`, which averages each row's out-of-bag
    predictions.

    Parameters
    ----------
    n_splits : int, default=100
    random_state : int, RandomState instance or None, default=None
        An int gives the same resamples on every call of ``split``.
    stratify : bool, default=True
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or astropy Table.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.model_selection import BootstrapSplit
    >>> y = np.array([["ET", 0.1]] * 5 + [["LT", 0.5]] * 15, dtype=object)
    >>> train, test = next(BootstrapSplit(3, random_state=0).split(y, y))
    >>> len(train), int((y[train, 0] == "ET").sum()), bool(np.isin(test, train).any())
    (20, 5, False)
    """

    def __init__(
        self,
        n_splits=100,
        *,
        random_state=None,
        stratify=True,
        type_column="type",
        redshift_column="redshift",
    ):
        if not isinstance(n_splits, numbers.Integral) or n_splits < 1:
            raise ValueError(f"n_splits must be a positive integer; got {n_splits!r}.")
        self.n_splits = n_splits
        self.random_state = random_state
        self.stratify = stratify
        self.type_column = type_column
        self.redshift_column = redshift_column

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of bootstrap resamples."""
        return self.n_splits

    def _iter_indices(self, X, y=None, groups=None):
        n = len(X) if y is None else len(y)
        if self.stratify and y is not None and np.ndim(y) == 2:
            types, _ = split_targets(y, self.type_column, self.redshift_column)
            strata = [np.flatnonzero(types == t) for t in np.unique(types)]
        else:
            strata = [np.arange(n)]
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            train = np.sort(np.concatenate([rng.choice(s, size=len(s)) for s in strata]))
            in_bag = np.zeros(n, dtype=bool)
            in_bag[train] = True
            yield train, np.flatnonzero(~in_bag)
