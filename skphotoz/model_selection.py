"""Cross-validation splitters for joint (type, redshift) targets.

scikit-learn's ``check_cv`` turns an integer ``cv`` into a plain ``KFold``
when ``y`` has two columns, so it never stratifies on the galaxy type; with
8% early types (the paper's sample) a fold can then miss them entirely.
These splitters read the type column of the joint target and delegate the
splitting itself to scikit-learn.
"""

from __future__ import annotations

from sklearn.model_selection import StratifiedKFold

from ._validation import split_targets


class StratifiedTypeKFold(StratifiedKFold):
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

    def split(self, X, y, groups=None):
        """Yield train and test indices, stratified on the galaxy type."""
        types, _ = split_targets(y, self.type_column, self.redshift_column)
        return super().split(X, types, groups)
