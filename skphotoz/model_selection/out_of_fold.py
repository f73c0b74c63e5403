"""The out-of-fold engine: predictions of every galaxy by models that never saw it.

One engine serves ``cross_val_predict_joint``, the paper's evaluation
protocols, the Youden threshold learnt by internal CV and the weight
analysis. It chooses between two ways of training the folds:

* **Replicas.** When the final estimator declares the capability
  ``replica_settings()`` (the joint networks of :mod:`skphotoz.nn` with a
  fixed-epoch schedule), all folds train as replicas of one vectorised network
  (:func:`skphotoz.nn.replica.train_replicas`): fold k is replica k, with
  sample weights equal to its training counts. A Pipeline ending in such an
  estimator gets this path too: its preprocessing steps are fitted on each
  fold's own training rows, and each replica takes its fold's transformed
  magnitudes.
* **Per fold.** Any other estimator is cloned and fitted once per fold
  through ``joblib.Parallel``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import LeaveOneOut, check_cv
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils.validation import check_array
from tqdm.auto import tqdm

from skphotoz.catalogs.predict import joint_outputs
from skphotoz.model_selection.split import StratifiedTypeKFold
from skphotoz.validation import (
    check_joint_target,
    check_magnitudes,
    final_estimator,
    split_targets,
    to_numeric_frame,
)

#: Upper bound on the replicas trained in one Keras call. Memory grows
#: linearly in K: with the paper's 512-unit base, K = 400 needs ~50 MB per
#: (batch 64, K, 512) activation and ~150 MB of parameters, gradients and
#: RMSprop state, which keeps a call well under 1 GB; larger K is chunked.
MAX_REPLICAS_PER_CALL = 400


def resolve_cv(cv):
    """A splitter from None (5 type-stratified folds), an int, "loo", a splitter or splits.

    Examples
    --------
    >>> from skphotoz.model_selection.out_of_fold import resolve_cv
    >>> type(resolve_cv("loo")).__name__, resolve_cv(3).n_splits
    ('LeaveOneOut', 3)
    """
    if cv is None:
        return StratifiedTypeKFold(5)
    if isinstance(cv, str):
        if cv.lower() == "loo":
            return LeaveOneOut()
        raise ValueError(f"cv={cv!r} is not understood; use 'loo', an int or a splitter.")
    if isinstance(cv, numbers.Integral):
        return StratifiedTypeKFold(int(cv))
    if hasattr(cv, "split"):
        return cv
    if hasattr(cv, "__iter__"):  # (train, test) pairs, as scikit-learn accepts them
        return check_cv(list(cv))
    raise ValueError(
        f"cv must be None, 'loo', an int, a CV splitter or (train, test) pairs; got {cv!r}."
    )


def replica_settings(estimator, replicas="auto"):
    """The replica-training settings of ``estimator``, or None for per-fold fits.

    Parameters
    ----------
    estimator : estimator or Pipeline
    replicas : {"auto", True, False}
        "auto" uses replicas when the final estimator declares
        ``replica_settings()`` and it succeeds; True requires them.

    Returns
    -------
    dict or None
    """
    if replicas not in ("auto", True, False):
        raise ValueError(f"replicas must be 'auto', True or False; got {replicas!r}.")
    if replicas is False:
        return None
    final = final_estimator(estimator)
    declare = getattr(final, "replica_settings", None)
    try:
        if declare is None:
            raise ValueError(f"{type(final).__name__} does not declare replica_settings()")
        return declare()
    except ValueError as exc:
        if replicas is True:
            raise ValueError(
                f"replicas=True needs an estimator that trains as replicas, but {exc}. Use "
                "replicas='auto' or False to fit per fold."
            ) from exc
        return None


def replica_weights(splits, n_samples):
    """Per-replica sample weights of a list of (train, test) splits, shape (n, K).

    Column k counts how often each row is in split k's training set (0/1
    for K-fold and LOO, bootstrap counts for bootstrap splits). Replica k
    must never see its own test rows (in LOO: galaxy k); this is checked
    here, and an ``AssertionError`` means a broken splitter.

    Examples
    --------
    >>> from sklearn.model_selection import LeaveOneOut, check_cv
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


def replica_chunks(n_replicas):
    """Index arrays of at most :data:`MAX_REPLICAS_PER_CALL` replicas each."""
    n_chunks = -(-n_replicas // MAX_REPLICAS_PER_CALL)
    return np.array_split(np.arange(n_replicas), n_chunks)


def joint_training_data(estimator, X, y):
    """Validated magnitudes, late-type floats and redshifts for the replica path.

    NaN and +inf pass when the model declares (tag ``allow_nan``) that it
    takes missing bands; sentinels never do. The late type is read as the
    model's own ``fit`` reads it (its ``early_label``), so a replica learns
    the P(LT) that a fitted clone would.
    """
    allow_missing = get_tags(final_estimator(estimator)).input_tags.allow_nan
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        allow_missing = True  # the preprocessing steps see the raw magnitudes
    Xv = check_array(to_numeric_frame(X), ensure_all_finite=False, dtype=np.float64)
    check_magnitudes(Xv, getattr(X, "columns", None), allow_missing=allow_missing)
    final = final_estimator(estimator)
    types, redshift = split_targets(y, final.type_column, final.redshift_column)
    if len(types) != len(Xv):
        raise ValueError(f"X has {len(Xv)} rows but y has {len(types)}; they must match.")
    classes = check_joint_target(types, redshift, final.early_label)
    return Xv, (types == classes[1]).astype(np.float32), redshift.astype(np.float32)


def replica_inputs(estimator, X, y, splits):
    """What each replica of ``splits`` takes as input.

    A plain estimator: the validated magnitudes, shared by every replica
    (n, f). A Pipeline: its preprocessing steps fitted on each split's own
    training rows, then applied to every row, one array per replica
    (K, n, f'), so that no replica's preprocessing saw its test rows.
    """
    if not hasattr(estimator, "steps") or len(estimator.steps) == 1:
        return X
    frame = X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
    arrays = []
    for train, _ in splits:
        steps = clone(estimator[:-1])
        steps.fit(_safe_indexing(frame, train), _safe_indexing(y, train))
        arrays.append(np.asarray(steps.transform(frame), dtype=np.float64))
    return np.stack(arrays)


def train_fold_replicas(estimator, settings, X, y, splits, *, seed, verbose=0):
    """Train the replicas of ``splits`` as one network; return (model, inputs).

    ``inputs`` is what :func:`skphotoz.nn.replica.predict_replicas` needs to
    predict every row with every replica.
    """
    from skphotoz.nn.replica import train_replicas

    Xv, late, redshift = joint_training_data(estimator, X, y)
    frame = X if isinstance(X, pd.DataFrame) else Xv
    inputs = replica_inputs(estimator, frame, y, splits)
    inputs = Xv if inputs is frame else inputs
    weights = replica_weights(splits, len(Xv))
    spec = final_estimator(estimator).network_spec(inputs)
    model = train_replicas(
        inputs, late, redshift, weights, spec=spec, seed=seed, verbose=verbose, **settings
    )
    return model, inputs


def _replica_chunk(estimator, settings, X, y, splits, seed, verbose):
    from skphotoz.nn.replica import predict_replicas

    model, inputs = train_fold_replicas(
        estimator, settings, X, y, splits, seed=seed, verbose=verbose
    )
    return predict_replicas(model, inputs)


def _fit_predict_fold(estimator, X, y, train, test, seed):
    model = clone(estimator)
    if seed is not None:
        keys = [
            k for k in model.get_params() if k == "random_state" or k.endswith("__random_state")
        ]
        model.set_params(**dict.fromkeys(keys, seed))
    model.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    # One pass for both outputs where the model declares predict_joint; a
    # galaxy the model gives no number (too few bands) stays NaN.
    outputs = joint_outputs(model, _safe_indexing(X, test))
    return outputs["p_late"].astype(float), outputs["z_phot"].astype(float)


def fold_predictions(estimator, X, y, splits, *, n_jobs, replicas, random_state, verbose):
    """Out-of-fold (p_late, z_phot) of every split, as a list aligned with ``splits``.

    See the module docstring for the two paths and ``replicas``.
    """
    rng = check_random_state(random_state)
    settings = replica_settings(estimator, replicas)
    if settings is not None:
        if random_state is None:  # then the estimator's own seed, as a single fit would use
            rng = check_random_state(final_estimator(estimator).random_state)
        chunks = replica_chunks(len(splits))
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(chunks))
        jobs = (
            delayed(_replica_chunk)(
                estimator, settings, X, y, [splits[k] for k in c], int(s), int(verbose > 1)
            )
            for c, s in zip(chunks, seeds, strict=True)
        )
        outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        out = [None] * len(splits)
        for c, (p, z) in tqdm(
            zip(chunks, outputs, strict=True),
            total=len(chunks),
            disable=None if verbose else True,
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
    return list(tqdm(outputs, total=len(splits), disable=None if verbose else True, desc="folds"))


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
        so when the final estimator declares ``replica_settings()`` (a joint
        network with ``protocol="fixed"``, alone or at the end of a Pipeline).
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
    splits = list(resolve_cv(cv).split(X, y))
    outputs = fold_predictions(
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
