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
* :func:`cross_val_predict_joint`: out-of-fold P(LT) and redshift for every
  galaxy, for any of these splitters.

Fixed-epoch fits of a plain :class:`~skphotoz.JointMorphZ` run as replicas
(:mod:`skphotoz.nn.replica`): all folds train as one vectorised Keras model,
fold k being replica k with sample weights = its training counts. Any other
estimator (a Pipeline, an early-stopping protocol, the SED fitter) is
cloned and fitted once per fold through ``joblib.Parallel``.

The evaluation protocols built on these predictions (:func:`loo_evaluation`,
:func:`bootstrap_evaluation`, :func:`compare_architectures`, ...) live in
:mod:`skphotoz.model_selection.evaluation` and are re-exported here.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import LeaveOneOut, StratifiedKFold, StratifiedShuffleSplit
from sklearn.model_selection._split import BaseShuffleSplit
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import check_array
from tqdm.auto import tqdm

from skphotoz.validation import (
    check_joint_target,
    check_magnitudes,
    split_targets,
    to_numeric_frame,
)

#: Upper bound on the replicas trained in one Keras call. Memory grows
#: linearly in K: with the paper's 512-unit base, K = 400 needs ~50 MB per
#: (batch 64, K, 512) activation and ~150 MB of parameters, gradients and
#: RMSprop state, which keeps a call well under 1 GB; larger K is chunked.
MAX_REPLICAS_PER_CALL = 400


# ================================================================ splitters
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


class StratifiedTypeShuffleSplit(StratifiedShuffleSplit):
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

    def split(self, X, y, groups=None):
        """Yield train and test indices, stratified on the galaxy type."""
        types, _ = split_targets(y, self.type_column, self.redshift_column)
        return super().split(X, types, groups)


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


# ======================================================= fold predictions
def _resolve_cv(cv):
    if cv is None:
        return StratifiedTypeKFold(5)
    if isinstance(cv, str):
        if cv.lower() == "loo":
            return LeaveOneOut()
        raise ValueError(f"cv={cv!r} is not understood; use 'loo', an int or a splitter.")
    if isinstance(cv, numbers.Integral):
        return StratifiedTypeKFold(int(cv))
    if not hasattr(cv, "split"):
        raise ValueError(f"cv must be None, 'loo', an int or a CV splitter; got {cv!r}.")
    return cv


def _final_estimator(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def _use_replicas(estimator, replicas):
    from skphotoz.nn.estimator import JointMorphZ

    plain = type(estimator) is JointMorphZ
    fixed = plain and estimator.protocol == "fixed"
    if replicas == "auto":
        return fixed
    if replicas is True and not fixed:
        why = (
            f"protocol={estimator.protocol!r} stops each fold at its own epoch"
            if plain
            else f"{type(estimator).__name__} is not a plain JointMorphZ"
        )
        raise ValueError(
            f"replicas=True needs a JointMorphZ with protocol='fixed' (one fixed-epoch schedule "
            f"shared by every replica), but {why}. Use replicas='auto' or False to fit per fold."
        )
    if replicas not in (True, False):
        raise ValueError(f"replicas must be 'auto', True or False; got {replicas!r}.")
    return bool(replicas)


def replica_weights(splits, n_samples):
    """Per-replica sample weights of a list of (train, test) splits, shape (n, K).

    Column k counts how often each row is in split k's training set (0/1
    for K-fold and LOO, bootstrap counts for :class:`BootstrapSplit`).
    Replica k must never see its own test rows (in LOO: galaxy k); this is
    checked here, and an ``AssertionError`` means a broken splitter.

    Examples
    --------
    >>> from sklearn.model_selection import LeaveOneOut
    >>> from skphotoz.model_selection import replica_weights
    >>> w = replica_weights(list(LeaveOneOut().split(range(3))), 3)
    >>> w.tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    weights = np.zeros((n_samples, len(splits)), dtype=np.float32)
    for k, (train, test) in enumerate(splits):
        weights[:, k] = np.bincount(train, minlength=n_samples)
        if weights[test, k].any():
            raise AssertionError(
                f"Replica {k} would train on {int((weights[test, k] > 0).sum())} of its own "
                "test rows: its split is not disjoint."
            )
    return weights


def _replica_chunk(estimator, X, late, redshift, weights, seed, verbose, output="predict"):
    """Train one chunk of replicas; return (p_late, z_phot) on all rows or layer weights."""
    from skphotoz.nn.replica import (
        predict_replicas,
        redshift_layer_weights,
        train_estimator_replicas,
    )

    X = np.asarray(X, dtype=np.float32)
    model = train_estimator_replicas(
        estimator, X, late, redshift, weights, seed=seed, verbose=verbose
    )
    if output == "weights":
        return redshift_layer_weights(model)
    return predict_replicas(model, X)


def _chunks(n_replicas):
    n_chunks = -(-n_replicas // MAX_REPLICAS_PER_CALL)
    return np.array_split(np.arange(n_replicas), n_chunks)


def _checked_joint_data(estimator, X, y):
    """Validated float magnitudes, late-type booleans and redshifts for the replica path."""
    Xv = check_array(to_numeric_frame(X), ensure_all_finite=False, dtype=np.float64)
    check_magnitudes(Xv, getattr(X, "columns", None))
    types, redshift = split_targets(y, estimator.type_column, estimator.redshift_column)
    if len(types) != len(Xv):
        raise ValueError(f"X has {len(Xv)} rows but y has {len(types)}; they must match.")
    classes = check_joint_target(types, redshift)
    return Xv, (types == classes[1]).astype(np.float32), redshift.astype(np.float32)


def _fit_predict_fold(estimator, X, y, train, test, seed):
    model = clone(estimator)
    if seed is not None:
        keys = [
            k for k in model.get_params() if k == "random_state" or k.endswith("__random_state")
        ]
        model.set_params(**dict.fromkeys(keys, seed))
    model.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    X_test = _safe_indexing(X, test)
    _, z_phot = split_targets(model.predict(X_test))
    return model.predict_proba(X_test)[:, 1], z_phot


def _fold_predictions(estimator, X, y, splits, *, n_jobs, replicas, random_state, verbose):
    """Out-of-fold (p_late, z_phot) of every split, as a list aligned with ``splits``."""
    rng = check_random_state(random_state)
    if _use_replicas(estimator, replicas):
        if random_state is None:  # then the estimator's own seed, as a single fit would use
            rng = check_random_state(estimator.random_state)
        Xv, late, redshift = _checked_joint_data(estimator, X, y)
        weights = replica_weights(splits, len(Xv))
        chunks = _chunks(len(splits))
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(chunks))
        jobs = (
            delayed(_replica_chunk)(
                estimator, Xv, late, redshift, weights[:, c], int(s), int(verbose > 1)
            )
            for c, s in zip(chunks, seeds, strict=True)
        )
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        out = [None] * len(splits)
        for c, (p, z) in tqdm(
            zip(chunks, outputs, strict=True),
            total=len(chunks),
            disable=not verbose,
            desc="replica chunks",
        ):
            for j, k in enumerate(c):
                test = splits[k][1]
                out[k] = (p[test, j].astype(float), z[test, j].astype(float))
        return out
    seeds = [None] * len(splits)
    if random_state is not None:
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=len(splits))]
    jobs = (
        delayed(_fit_predict_fold)(estimator, X, y, train, test, seed)
        for (train, test), seed in zip(splits, seeds, strict=True)
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    return list(tqdm(outputs, total=len(splits), disable=not verbose, desc="folds"))


def cross_val_predict_joint(
    estimator, X, y, *, cv=None, n_jobs=None, replicas="auto", random_state=None, verbose=0
):
    """Out-of-fold P(LT) and photometric redshift for every galaxy.

    Like ``sklearn.model_selection.cross_val_predict``, but for joint
    estimators and for any splitter: when test sets overlap (bootstrap), a
    row's prediction is the mean over the splits in which it was out of bag.

    Parameters
    ----------
    estimator : estimator
        A joint model with ``predict_proba`` (column 1 = late type) and
        ``predict`` giving ``[type, z]``: a JointMorphZ, a Pipeline ending
        in one, the SED fitter, ...
    X : array-like of shape (n_samples, n_bands)
    y : joint target of shape (n_samples, 2)
    cv : None, int, "loo" or splitter, default=None
        None is 5 folds stratified by type; an int that many folds;
        ``"loo"`` or ``LeaveOneOut()`` leave-one-out; any splitter, e.g.
        :class:`BootstrapSplit`.
    n_jobs : int or None
        Parallel fits (per-fold path) or replica chunks, via joblib: a
        ``joblib.parallel_backend("dask")`` context sends them to a cluster.
    replicas : {"auto", True, False}, default="auto"
        Train all folds as replicas of one vectorised network. "auto" does
        so for a plain ``JointMorphZ`` with ``protocol="fixed"``.
    random_state : int, RandomState instance or None
        Seeds of the replicas, or of each per-fold clone (when not None).
    verbose : int, default=0
        Progress bar over folds or replica chunks (2: also over epochs).

    Returns
    -------
    DataFrame with columns ``p_late``, ``z_phot`` and ``n_predictions``
    (NaN and 0 for a row that was never out of fold), indexed as ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.model_selection import cross_val_predict_joint
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(30, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(base_units=(8,), base_dropout=(0.0,), class_units=(4,),
    ...                     class_dropout=(0.0,), epochs=2, batch_size=16)
    >>> oof = cross_val_predict_joint(model, X, y, cv="loo", random_state=0)
    >>> oof.shape, int(oof["n_predictions"].sum())
    ((30, 3), 30)
    """
    n = len(X)
    splits = list(_resolve_cv(cv).split(X, y))
    outputs = _fold_predictions(
        estimator,
        X,
        y,
        splits,
        n_jobs=n_jobs,
        replicas=replicas,
        random_state=random_state,
        verbose=verbose,
    )
    p_sum, z_sum, count = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64)
    for (_, test), (p, z) in zip(splits, outputs, strict=True):
        np.add.at(p_sum, test, p)
        np.add.at(z_sum, test, z)
        np.add.at(count, test, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame({"p_late": p_sum / count, "z_phot": z_sum / count})
    frame["n_predictions"] = count
    frame.index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
    return frame
