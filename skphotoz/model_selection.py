"""Splitters and evaluation protocols for joint (type, redshift) targets.

scikit-learn's ``check_cv`` turns an integer ``cv`` into a plain ``KFold``
when ``y`` has two columns, so it never stratifies on the galaxy type; with
8% early types (the paper's sample) a fold can then miss them entirely.
The splitters here read the type column of the joint target and delegate the
splitting itself to scikit-learn wherever it has the splitter.

The protocols of de Diego et al. (2021) are one call each:

* :func:`paper_split`: 100 trials of 192 train / 178 test, stratified by type
  (``StratifiedShuffleSplit``). The paper's further 128 pure-train / 64
  validation split of the 192 happens inside ``fit``:
  ``JointMorphZ(protocol="paper", validation_fraction=1/3)`` holds out a
  type-stratified third (64 of 192) for its early-stopping callbacks.
* :func:`loo_evaluation`: leave-one-out predictions for every galaxy and
  every metric of :mod:`skphotoz.metrics` with a bootstrap error (the
  paper's +/- values).
* :func:`bootstrap_evaluation` and :func:`compare_architectures` (Table 2).

Fixed-epoch fits of a plain :class:`~skphotoz.JointMorphZ` run as replicas
(:mod:`skphotoz.replica`): all folds train as one vectorised Keras model,
fold k being replica k with sample weights = its training counts. Any other
estimator (a Pipeline, an early-stopping protocol, the SED fitter) is
cloned and fitted once per fold through ``joblib.Parallel``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn import config_context
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import LeaveOneOut, StratifiedKFold, StratifiedShuffleSplit
from sklearn.model_selection._split import BaseShuffleSplit
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils.validation import check_array
from tqdm.auto import tqdm

from ._validation import check_joint_target, check_magnitudes, split_targets, to_numeric_frame
from .metrics import classification_metrics, photoz_metrics

#: Upper bound on the replicas trained in one Keras call. Memory grows
#: linearly in K: with the paper's 512-unit base, K = 400 needs ~50 MB per
#: (batch 64, K, 512) activation and ~150 MB of parameters, gradients and
#: RMSprop state, which keeps a call well under 1 GB; larger K is chunked.
MAX_REPLICAS_PER_CALL = 400

#: Paper Table 2 rows: metric key -> row label.
TABLE2_METRICS = {
    "mse": "Mean square error",
    "mae": "Mean absolute error",
    "binary_cross_entropy": "Binary cross-entropy",
    "roc_auc": "Area under the curve",
    "total_loss": "Total loss",
}


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
    from .estimator import JointMorphZ

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
    from .estimator import effective_redshift_loss_weight
    from .replica import (
        predict_replicas,
        redshift_layer_weights,
        replica_standardisation,
        train_replicas,
    )

    X = np.asarray(X, dtype=np.float32)
    scaling = {}
    if estimator.standardize:
        # Replica k z-scores with the weighted statistics of its own training
        # rows, exactly as a JointMorphZ fitted on them would.
        mean, scale = replica_standardisation(X, weights)
        scaling = {"input_mean": mean, "input_scale": scale}
    model = train_replicas(
        X,
        late,
        redshift,
        weights,
        epochs=estimator.epochs,
        batch_size=estimator.batch_size,
        learning_rate=estimator.learning_rate,
        lr_decay_floor=estimator.lr_decay_floor,
        redshift_loss_weight=effective_redshift_loss_weight(
            estimator.redshift_loss_weight, estimator.protocol
        ),
        seed=seed,
        verbose=verbose,
        **scaling,
        **estimator._network_kwargs(),
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


# ================================================================ metrics
def _all_metrics(late_true, z_spec, p_late, z_phot, threshold, with_youden):
    from .thresholding import youden_threshold

    row = classification_metrics(late_true, p_late, threshold)
    row.update(photoz_metrics(z_spec, z_phot))
    # The paper's total loss, -joint_score, from the two terms already computed.
    row["total_loss"] = row["binary_cross_entropy"] + row["mse"]
    if with_youden:
        try:
            at_j = youden_threshold(late_true, p_late)
        except ValueError:  # one type only, or all scores tied: J is undefined
            at_j = {"threshold": np.nan}
        p_j = float(at_j["threshold"])
        accuracy = accuracy_score(late_true, p_late >= p_j) if np.isfinite(p_j) else np.nan
        row["accuracy_youden"] = float(accuracy)
        for key in ("true_early_type_rate", "true_late_type_rate", "youden_j"):
            row[f"{key}_youden"] = float(at_j.get(key, np.nan))
        row["youden_threshold"] = p_j
    return row


def evaluate_predictions(predictions, *, threshold=0.5, n_bootstrap=1000, random_state=None):
    """Every metric of :mod:`skphotoz.metrics` with a bootstrap error.

    Parameters
    ----------
    predictions : DataFrame
        Columns ``type`` (labels; the sorted second is the late type),
        ``z_spec``, ``p_late`` and ``z_phot``, one row per galaxy.
    threshold : float, default=0.5
        Classification threshold on P(LT). The same figures are also given
        at the Youden threshold (suffix ``_youden``).
    n_bootstrap : int, default=1000
        Resamples of the galaxies (with replacement, not stratified, so the
        type mix varies as in a new sample). The Youden threshold is found
        again in each resample, so its error includes the choice of p_J.
    random_state : int, RandomState instance or None

    Returns
    -------
    Bunch with ``metrics`` (DataFrame, index metric names, columns ``value``
    and ``error`` = std over resamples) and ``youden_threshold``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skphotoz.model_selection import evaluate_predictions
    >>> frame = pd.DataFrame({"type": ["ET", "LT", "LT", "ET", "LT", "LT"],
    ...                       "z_spec": [0.1, 0.5, 0.9, 0.3, 0.7, 0.2],
    ...                       "p_late": [0.2, 0.9, 0.6, 0.4, 0.8, 0.7],
    ...                       "z_phot": [0.15, 0.45, 0.8, 0.35, 0.72, 0.3]})
    >>> result = evaluate_predictions(frame, n_bootstrap=20, random_state=0)
    >>> float(result.metrics.loc["accuracy", "value"])
    1.0
    """
    types = predictions["type"].to_numpy()
    late_true = types == np.unique(types)[-1]
    cols = [predictions[c].to_numpy(float) for c in ("z_spec", "p_late", "z_phot")]
    value = _all_metrics(late_true, *cols, threshold, True)
    rng = check_random_state(random_state)
    n = len(types)
    draws = []
    # The inputs were checked by the full-sample call above; sklearn's
    # per-call validation would otherwise dominate the resampling time.
    with config_context(skip_parameter_validation=True, assume_finite=True):
        for _ in range(n_bootstrap):
            idx = rng.randint(n, size=n)
            draws.append(_all_metrics(late_true[idx], *(c[idx] for c in cols), threshold, True))
    draws = pd.DataFrame(draws)
    metrics = pd.DataFrame({"value": pd.Series(value), "error": draws.std(ddof=1)})
    metrics = metrics.drop(index="threshold")
    return Bunch(metrics=metrics, youden_threshold=value["youden_threshold"])


def loo_evaluation(
    estimator,
    X,
    y,
    *,
    n_bootstrap=1000,
    threshold=0.5,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """Leave-one-out predictions for every galaxy and every metric with its error.

    The paper's Sect. 2.2.2 / 3 protocol: each galaxy is predicted by a model
    trained on all the others; the metrics of :mod:`skphotoz.metrics` are
    computed on these out-of-fold predictions and given a bootstrap error
    (:func:`evaluate_predictions`), as the paper's +/- values.

    Parameters
    ----------
    estimator, X, y, n_jobs, replicas, random_state, verbose
        As in :func:`cross_val_predict_joint` (``cv="loo"``).
    n_bootstrap : int, default=1000
    threshold : float, default=0.5

    Returns
    -------
    Bunch with ``predictions`` (DataFrame: ``type``, ``z_spec``, ``p_late``,
    ``z_phot``), ``metrics`` (``value``, ``error``) and ``youden_threshold``.
    """
    final = _final_estimator(estimator)
    types, z_spec = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    oof = cross_val_predict_joint(
        estimator,
        X,
        y,
        cv=LeaveOneOut(),
        n_jobs=n_jobs,
        replicas=replicas,
        random_state=random_state,
        verbose=verbose,
    )
    predictions = pd.DataFrame(
        {
            "type": types,
            "z_spec": z_spec,
            "p_late": oof["p_late"].to_numpy(),
            "z_phot": oof["z_phot"].to_numpy(),
        },
        index=oof.index,
    )
    rng = check_random_state(random_state)
    result = evaluate_predictions(
        predictions,
        threshold=threshold,
        n_bootstrap=n_bootstrap,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    return Bunch(predictions=predictions, **result)


def _summary(per_split):
    numeric = per_split.drop(columns=["split"])
    low, high = numeric.quantile(0.16), numeric.quantile(0.84)
    return pd.DataFrame(
        {
            "median": numeric.median(),
            "spread": (high - low) / 2,
            "mean": numeric.mean(),
            "std": numeric.std(ddof=1),
        }
    )


def bootstrap_evaluation(
    estimator,
    X,
    y,
    *,
    n_splits=100,
    cv=None,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """Metrics on each test set of repeated splits, and their medians (paper Table 2 style).

    Parameters
    ----------
    estimator, X, y, n_jobs, replicas, random_state, verbose
        As in :func:`cross_val_predict_joint`.
    n_splits : int, default=100
        Bootstrap resamples when ``cv`` is None (:class:`BootstrapSplit`,
        testing on the out-of-bag galaxies).
    cv : splitter, optional
        E.g. :func:`paper_split`.

    Returns
    -------
    Bunch with ``per_split`` (one row per split: every metric at the
    estimator's threshold (0.5 if it has none), ``total_loss`` = BCE + MSE,
    ``n_train`` and ``n_test``) and ``summary`` (index metric names; columns
    ``median``, ``spread`` = half the 16-84 percentile range, the robust
    1-sigma of the trials, ``mean`` and ``std``).
    """
    rng = check_random_state(random_state)
    if cv is None:
        cv = BootstrapSplit(n_splits, random_state=rng.randint(np.iinfo(np.int32).max))
    splits = list(_resolve_cv(cv).split(X, y))
    final = _final_estimator(estimator)
    types, z_spec = split_targets(
        y, getattr(final, "type_column", "type"), getattr(final, "redshift_column", "redshift")
    )
    late_true = types == np.unique(types)[-1]
    outputs = _fold_predictions(
        estimator,
        X,
        y,
        splits,
        n_jobs=n_jobs,
        replicas=replicas,
        random_state=rng,
        verbose=verbose,
    )
    threshold = getattr(final, "threshold", 0.5)
    rows = []
    for k, ((train, test), (p, z)) in enumerate(zip(splits, outputs, strict=True)):
        row = {"split": k, "n_train": len(train), "n_test": len(test)}
        row.update(_all_metrics(late_true[test], z_spec[test], p, z, threshold, False))
        rows.append(row)
    per_split = pd.DataFrame(rows)
    return Bunch(per_split=per_split, summary=_summary(per_split))


def compare_architectures(
    X,
    y,
    *,
    architectures=None,
    n_trials=100,
    cv=None,
    estimator_params=None,
    n_jobs=None,
    replicas="auto",
    random_state=None,
    verbose=0,
):
    """The paper's Table 2: median (and spread) of test metrics over trials, per architecture.

    Parameters
    ----------
    X, y : magnitudes and joint target
    architectures : dict or iterable, optional
        Keys of :data:`skphotoz.network.ARCHITECTURES` (default: 1-4) or a
        mapping name -> JointMorphZ keyword arguments.
    n_trials : int, default=100
        Trials of :func:`paper_split` (192 train / 178 test) when ``cv`` is None.
    cv : splitter, optional
        The same splits are used for every architecture.
    estimator_params : dict, optional
        Further JointMorphZ parameters (e.g. ``protocol="paper"`` for the
        paper's early-stopping fits, which run per fold; the default fixed
        schedule runs as replicas). Approximation of the replica path for
        192/370 splits: every replica steps through all 370 rows each epoch
        (6 batches of 64 holding ~33 of its own galaxies) where a single
        fit takes 3 full batches of its 192; see :mod:`skphotoz.replica`.
    n_jobs, replicas, random_state, verbose
        As in :func:`bootstrap_evaluation`.

    Returns
    -------
    DataFrame with index (metric, statistic) for the metrics MSE, MAE, BCE,
    AUC and total loss and the statistics ``median`` and ``spread``, and one
    column per architecture (``"Arch. 1"`` ...). The per-trial frames are in
    ``.attrs["per_split"]``.
    """
    from .estimator import JointMorphZ
    from .network import ARCHITECTURES

    if architectures is None:
        architectures = list(ARCHITECTURES)
    if not isinstance(architectures, dict):
        unknown = [a for a in architectures if a not in ARCHITECTURES]
        if unknown:
            raise ValueError(f"Unknown architecture(s) {unknown}; known: {list(ARCHITECTURES)}.")
        architectures = {f"Arch. {a}": ARCHITECTURES[a] for a in architectures}
    rng = check_random_state(random_state)
    if cv is None:
        cv = paper_split(n_trials, random_state=rng.randint(np.iinfo(np.int32).max))
    fixed_splits = list(cv.split(X, y))
    columns, per_split = {}, {}
    for name, arch in architectures.items():
        estimator = JointMorphZ(**{**(estimator_params or {}), **arch})
        result = bootstrap_evaluation(
            estimator,
            X,
            y,
            cv=_FixedSplits(fixed_splits),
            n_jobs=n_jobs,
            replicas=replicas,
            random_state=rng.randint(np.iinfo(np.int32).max),
            verbose=verbose,
        )
        summary = result.summary.loc[list(TABLE2_METRICS), ["median", "spread"]]
        columns[name] = summary.stack()
        per_split[name] = result.per_split
    table = pd.DataFrame(columns)
    table.index.names = ["metric", "statistic"]
    table.attrs["per_split"] = per_split
    return table


class _FixedSplits:
    """A list of precomputed splits, so every architecture sees the same trials."""

    def __init__(self, splits):
        self.splits = splits

    def split(self, X=None, y=None, groups=None):
        yield from self.splits

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)
