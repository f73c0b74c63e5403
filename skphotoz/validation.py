"""Input checks shared by every skphotoz estimator.

scikit-learn's own ``validate_data`` says "Input X contains NaN" without saying
where; a survey catalog has tens of columns and its placeholders (-99, 99,
99.99, ...) are finite, so sklearn would accept them silently. These helpers
add what sklearn lacks: they name the band and count the rows, and they treat
catalog placeholders as bad input rather than as magnitudes.

What counts as a placeholder is the one policy of
:mod:`skphotoz.catalogs.photometry` (a numpy/pandas-only module, so importing
it keeps this one light): an estimator refuses every finite value that
``placeholder_mask(X, ESTIMATOR_SENTINELS)`` flags, i.e. -99, 99 and
``|x| >= SENTINEL_LIMIT``. The catalog sentinel 0 is not refused here: an
estimator's input may be a 0/1 missing indicator, a colour or a standardised
magnitude (see :data:`~skphotoz.catalogs.photometry.ESTIMATOR_SENTINELS`);
catalog readers and :class:`~skphotoz.preprocessing.SentinelToNaN` turn a
catalog's 0 into NaN first.

Which type label is the early type is never read from the labels' sort
order: :func:`type_classes` knows a few vocabularies (ET/LT, red/blue, 0/1,
...) and otherwise needs the estimator parameter ``early_label``. Every joint
estimator's ``classes_`` is ``[early, late]``, and :func:`late_type_flags`
refuses a label a fitted model does not know.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from skphotoz.catalogs.photometry import (
    ESTIMATOR_SENTINELS,
    describe_placeholders,
    placeholder_mask,
)

#: Type vocabularies whose early type is known, as ``(early, late)``.
#: A label matches by ``str(label).casefold()``, so "Early"/"LATE", numpy
#: scalars and the integers 0/1 all match. Booleans follow 0/1: ``True`` is
#: the late type, as the late-type booleans (``late_true``) of
#: :mod:`skphotoz.metrics` and :mod:`skphotoz.thresholding` are. Labels in
#: none of these need the estimator parameter ``early_label``.
TYPE_VOCABULARIES = (
    ("ET", "LT"),
    ("early", "late"),
    ("E", "L"),
    ("red", "blue"),
    ("elliptical", "spiral"),
    ("0", "1"),
    ("False", "True"),
)

#: The ``_parameter_constraints`` entry of ``early_label``, shared by every
#: estimator that learns type labels.
EARLY_LABEL_CONSTRAINT = [None, str, numbers.Integral, "boolean"]


def _column_names(n_columns, feature_names=None):
    if feature_names is not None and len(feature_names) == n_columns:
        return [str(name) for name in feature_names]
    return [f"column {j}" for j in range(n_columns)]


def check_magnitudes(X, feature_names=None, *, allow_missing=False):
    """Raise a ValueError naming each band that holds NaN, inf or a placeholder.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_bands)
        Numeric magnitudes (already converted by ``validate_data``).
    feature_names : sequence of str, optional
        Band names used in the message.
    allow_missing : bool, default=False
        NaN (a band not observed) and +inf (a non-detection) are accepted:
        the estimator encodes them. Placeholders (-99, 99, ``|x| >= 90``;
        :data:`~skphotoz.catalogs.photometry.ESTIMATOR_SENTINELS`) are refused
        either way, since they would pass for magnitudes.

    Returns
    -------
    X : ndarray
        The input, unchanged, when it is clean.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.validation import check_magnitudes
    >>> check_magnitudes(np.array([[21.0, np.nan]]), ["g", "r"], allow_missing=True)
    array([[21., nan]])
    >>> try:
    ...     check_magnitudes(np.array([[21.0, 99.99]]), ["g", "r"])
    ... except ValueError as err:
    ...     print(str(err).split("Problems: ")[1].split(". ")[0])
    r: 1 row(s) with sentinel (-99, 99 or |value| >= 90)
    """
    X = np.asarray(X)
    names = _column_names(X.shape[1], feature_names)
    placeholder = np.isfinite(X) & placeholder_mask(X, ESTIMATOR_SENTINELS)
    checks = [(f"sentinel ({describe_placeholders(ESTIMATOR_SENTINELS)})", placeholder)]
    if allow_missing:
        checks.append(("-inf", np.isneginf(X)))
    else:
        checks = [("NaN", np.isnan(X)), ("inf", np.isinf(X)), *checks]
    problems = []
    for label, bad in checks:
        counts = bad.sum(axis=0)
        for j in np.flatnonzero(counts):
            problems.append(f"{names[j]}: {counts[j]} row(s) with {label}")
    if problems:
        if allow_missing:
            hint = (
                "Mark a band that was not observed with NaN and a non-detection with +inf, "
                "e.g. with skphotoz.preprocessing.SentinelToNaN."
            )
        else:
            hint = (
                "Set missing_bands='native' (or 'auto') on a skphotoz network to train and "
                "predict with missing bands, or use skphotoz.preprocessing.SentinelToNaN with "
                "sklearn.impute.SimpleImputer(add_indicator=True)."
            )
        raise ValueError(
            "Input X contains NaN, inf or catalog sentinel magnitudes, which would be "
            "used as real photometry; nothing is dropped silently. Problems: "
            + "; ".join(problems)
            + ". "
            + hint
        )
    return X


def to_numeric_frame(X):
    """Reject string magnitudes with a message naming the offending columns."""
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(
            "Sparse input is not supported: magnitudes must be a dense array or DataFrame."
        )
    if isinstance(X, pd.DataFrame):
        bad = [str(c) for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise ValueError(f"Magnitude columns must be numeric; non-numeric column(s): {bad}.")
        return X
    arr = np.asarray(X)
    if arr.dtype.kind in "OUS":
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Magnitudes must be numeric; could not convert the input to float ({exc})."
            ) from exc
    return X


def check_magnitude_input(estimator, X, *, reset, allow_missing=False):
    """``validate_data`` for magnitudes, then the band-naming checks of :func:`check_magnitudes`.

    Strings are refused by name (:func:`to_numeric_frame`); NaN, inf and
    placeholders are left to :func:`check_magnitudes`, which names the band.
    """
    X = validate_data(
        estimator, to_numeric_frame(X), reset=reset, ensure_all_finite=False, dtype=np.float64
    )
    return check_magnitudes(
        X, getattr(estimator, "feature_names_in_", None), allow_missing=allow_missing
    )


def check_joint_fit_input(estimator, X, y, *, allow_missing=False):
    """Validate training magnitudes and the joint target of a skphotoz estimator.

    The estimator's ``type_column``, ``redshift_column`` and ``early_label``
    say how to read ``y``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_bands)
    types, redshift : ndarray of shape (n_samples,)
    classes : ndarray of shape (2,)
        ``[early, late]`` (:func:`type_classes`): the estimator's ``classes_``.
    """
    X = check_magnitude_input(estimator, X, reset=True, allow_missing=allow_missing)
    types, redshift = split_targets(y, estimator.type_column, estimator.redshift_column)
    if len(types) != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {len(types)}; they must match row by row."
        )
    return X, types, redshift, check_joint_target(types, redshift, estimator.early_label)


def split_targets(y, type_column="type", redshift_column="redshift"):
    """Split a joint target into type labels and spectroscopic redshifts.

    Parameters
    ----------
    y : array-like of shape (n_samples, 2), DataFrame or astropy Table
        Column 0 (or ``type_column``) holds the type label, column 1 (or
        ``redshift_column``) the spectroscopic redshift. A DataFrame or Table
        without those names is read by position.
    type_column, redshift_column : str
        Column names for tabular targets.

    Returns
    -------
    types : ndarray of shape (n_samples,)
        Labels, as given (strings or integers).
    redshift : ndarray of shape (n_samples,), float64

    Examples
    --------
    >>> from skphotoz.validation import split_targets
    >>> types, z = split_targets([["ET", 0.5], ["LT", 1.0]])
    >>> types.tolist(), z.tolist()
    (['ET', 'LT'], [0.5, 1.0])
    """
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None; y is the joint "
            "target [type, redshift]."
        )
    try:  # astropy Table / Row-like with named columns
        from astropy.table import Table

        if isinstance(y, Table):
            y = y.to_pandas()
    except ImportError:  # pragma: no cover - astropy is a hard dependency
        pass
    if isinstance(y, pd.DataFrame):
        if type_column in y.columns and redshift_column in y.columns:
            types, redshift = y[type_column].to_numpy(), y[redshift_column].to_numpy()
        elif y.shape[1] == 2:
            types, redshift = y.iloc[:, 0].to_numpy(), y.iloc[:, 1].to_numpy()
        else:
            raise ValueError(
                f"y must have the columns {type_column!r} and {redshift_column!r} "
                f"or exactly two columns; got columns {list(y.columns)}."
            )
    else:
        arr = np.asarray(y, dtype=object) if not isinstance(y, np.ndarray) else y
        if arr.dtype.names is not None:  # structured array
            types, redshift = arr[arr.dtype.names[0]], arr[arr.dtype.names[1]]
        elif arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                "y must be a joint target of shape (n_samples, 2): [type, redshift]; "
                f"got shape {arr.shape}."
            )
        else:
            types, redshift = arr[:, 0], arr[:, 1]
    types = np.asarray(types)
    if types.dtype.kind == "O":
        # Mixed object columns (from an (n, 2) object array) keep numbers as
        # Python objects; normalise to one dtype so labels compare and sort.
        if all(isinstance(t, str) for t in types):
            types = types.astype(str)
        else:
            try:
                as_float = types.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"Type labels must be all strings or numbers ({exc}).") from exc
            types = (
                as_float.astype(np.int64) if np.all(as_float == np.round(as_float)) else as_float
            )
    elif (
        types.dtype.kind == "f" and np.all(np.isfinite(types)) and np.all(types == np.round(types))
    ):
        types = types.astype(np.int64)
    try:
        redshift = np.asarray(redshift, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The redshift column must be numeric ({exc}).") from exc
    return types, redshift


def check_joint_target(types, redshift, early_label=None):
    """Check labels and redshifts of a training target; return ``[early, late]``.

    Raises ValueError for non-finite or negative redshifts, float labels, and
    labels :func:`type_classes` cannot order.
    """
    n = len(redshift)
    bad_z = ~np.isfinite(redshift)
    if bad_z.any():
        raise ValueError(
            f"The redshift column contains {bad_z.sum()} non-finite value(s) out of {n} rows."
        )
    negative = redshift < 0
    if negative.any():
        raise ValueError(
            f"The redshift column contains {negative.sum()} negative value(s) out of {n} rows "
            f"(minimum {redshift.min():g}); spectroscopic redshifts must be >= 0."
        )
    if types.dtype.kind == "f":
        raise ValueError(
            "Type labels must be strings (e.g. 'ET'/'LT') or integers 0/1; got non-integer floats."
        )
    return type_classes(types, early_label)


def type_classes(labels, early_label=None):
    """The two type labels as ``[early, late]``: the ``classes_`` of a joint estimator.

    Which label is the early type is never read from the sort order of the
    labels. With ``early_label`` it is that label. Without it, the two labels
    must be one of the :data:`TYPE_VOCABULARIES` (case-insensitive: ET/LT,
    early/late, E/L, red/blue, elliptical/spiral, 0/1, False/True); any other
    pair, e.g. 1/2 or "A"/"B", is a ValueError that asks for ``early_label``.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Training type labels (strings, integers or booleans).
    early_label : str, int, bool or None, default=None
        The label of the early type; must be one of the two labels.

    Returns
    -------
    classes : ndarray of shape (2,)
        ``classes[0]`` is the early type, ``classes[1]`` the late type, so
        ``predict_proba`` columns are [P(early), P(late)]. Not necessarily
        sorted (red/blue gives ``["red", "blue"]``).

    Examples
    --------
    >>> from skphotoz.validation import type_classes
    >>> type_classes(["blue", "red", "blue"]).tolist()
    ['red', 'blue']
    >>> type_classes([2, 1, 1], early_label=2).tolist()
    [2, 1]
    >>> try:
    ...     type_classes([2, 1, 1])
    ... except ValueError as err:
    ...     print(str(err).split(":")[0])
    Cannot tell which of the type labels [1, 2] is the early type
    """
    distinct = np.unique(np.asarray(labels))
    if len(distinct) != 2:
        raise ValueError(
            f"The type column must hold exactly two classes (early and late type); got "
            f"{len(distinct)} class(es): {distinct.tolist()}."
        )
    if early_label is not None:
        # Exact equality: "et" is not "ET", and "2" is not 2.
        matches = [k for k, label in enumerate(distinct) if _same_label(label, early_label)]
        if len(matches) != 1:
            raise ValueError(
                f"early_label={early_label!r} is not one of the two type labels "
                f"{distinct.tolist()}; pass the label of the early type as it appears in y."
            )
        early = matches[0]
    else:
        keys = [str(label).casefold() for label in distinct]
        vocabularies = [tuple(word.casefold() for word in pair) for pair in TYPE_VOCABULARIES]
        pair = next((pair for pair in vocabularies if set(pair) == set(keys)), None)
        if pair is None:
            known = ", ".join("/".join(pair) for pair in TYPE_VOCABULARIES)
            raise ValueError(
                f"Cannot tell which of the type labels {distinct.tolist()} is the early type: "
                f"they are none of the known pairs ({known}; case-insensitive). Pass "
                f"early_label=... to the estimator, e.g. early_label={distinct[0].item()!r}."
            )
        early = keys.index(pair[0])
    return distinct[[early, 1 - early]]


def _same_label(label, early_label):
    # A str never equals a number here, although numpy would compare 1 == True.
    if isinstance(early_label, str) != isinstance(label.item(), str):
        return False
    return bool(label == early_label)


def late_type_flags(types, classes, name="y"):
    """Late-type booleans of ``types`` for a model whose ``classes_`` are ``classes``.

    Every label must be one of ``classes``: a label the model was not trained
    on is neither type, and counting it as early type would bias every
    figure computed from it.

    Parameters
    ----------
    types : array-like of shape (n_samples,)
    classes : array-like of shape (2,)
        ``[early, late]``, the model's ``classes_``.
    name : str, default="y"
        What ``types`` are, for the message.

    Returns
    -------
    ndarray of bool, shape (n_samples,)

    Examples
    --------
    >>> from skphotoz.validation import late_type_flags
    >>> late_type_flags(["red", "blue"], ["red", "blue"]).tolist()
    [False, True]
    """
    types = np.asarray(types)
    classes = np.asarray(classes)
    early, late = (types == classes[0]), (types == classes[1])
    unknown = ~(early | late)
    if unknown.any():
        shown = sorted({str(t) for t in types[unknown]})[:5]
        raise ValueError(
            f"{name} holds {int(unknown.sum())} type label(s) the model was not trained on "
            f"({shown}); its classes_ are {classes.tolist()} (early, late). Map them to "
            "those labels, or drop those rows, before scoring."
        )
    return late


def joint_target_tags(tags, *, required=True):
    """Set the tags of an estimator whose ``y`` is the joint ``[type, redshift]``.

    One model, two targets: a type (binary classification) and a redshift
    (regression), always given together as a 2-column ``y``. Every skphotoz
    estimator declares this one contract here.

    Parameters
    ----------
    tags : sklearn.utils.Tags
        From ``super().__sklearn_tags__()``.
    required : bool, default=True
        Whether ``fit`` needs ``y`` (template fitting does not).

    Returns
    -------
    tags : sklearn.utils.Tags

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, ClassifierMixin
    >>> from skphotoz.validation import joint_target_tags
    >>> class Joint(ClassifierMixin, BaseEstimator):
    ...     pass
    >>> tags = joint_target_tags(Joint().__sklearn_tags__())
    >>> tags.target_tags.multi_output, tags.regressor_tags is not None
    (True, True)
    """
    from sklearn.utils import RegressorTags

    tags.target_tags.required = required
    tags.target_tags.one_d_labels = False
    tags.target_tags.two_d_labels = True
    tags.target_tags.multi_output = True
    tags.target_tags.single_output = False
    tags.classifier_tags.multi_class = False
    tags.regressor_tags = RegressorTags()
    return tags


def late_type_scores(scores):
    """P(LT) as a finite 1-D float array, from (n,), (n, 1) or (n, 2) input.

    Examples
    --------
    >>> from skphotoz.validation import late_type_scores
    >>> late_type_scores([[0.2, 0.8], [0.9, 0.1]]).tolist()
    [0.8, 0.1]
    """
    arr = np.asarray(scores)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"scores must be numeric P(LT) values ({exc}).") from exc
    if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] not in (1, 2)):
        raise ValueError(
            "scores must be P(LT) of shape (n,), (n, 1) or predict_proba's (n, 2) "
            f"[P(ET), P(LT)]; got shape {arr.shape}."
        )
    n_nan, n_inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
    if n_nan or n_inf:
        raise ValueError(
            f"scores contain {n_nan} NaN and {n_inf} infinite value(s); P(LT) must be finite "
            "for every galaxy (nothing is dropped silently)."
        )
    if arr.ndim == 2 and arr.shape[1] == 2:
        # A joint predict() output [type, z] with integer labels is also
        # numeric (n, 2): refuse it rather than threshold redshifts.
        if not np.allclose(arr.sum(axis=1), 1.0, atol=1e-4):
            raise ValueError(
                "scores of shape (n, 2) are read as predict_proba output [P(ET), P(LT)], but "
                "their rows do not sum to 1. Pass P(LT) as a 1-D array (a joint predict() "
                "output [type, z] is not a score)."
            )
        return arr[:, 1]
    return arr.reshape(-1)


def late_type_mask(
    y_true, type_column="type", redshift_column="redshift", *, classes=None, early_label=None
):
    """(late-type booleans, ``[early, late]`` classes, labels, redshift or None) from y_true.

    ``y_true`` is type labels (strings, 0/1 or booleans) or a joint
    ``[type, z]`` target (2-D array, DataFrame or astropy Table).

    With ``classes`` (a fitted model's ``classes_``), every label must be one
    of them (:func:`late_type_flags`) and one type alone is fine. Without,
    both types must be present and :func:`type_classes` orders them (with
    ``early_label`` when the labels are not a known vocabulary).

    Examples
    --------
    >>> from skphotoz.validation import late_type_mask
    >>> late, classes, _, _ = late_type_mask(["red", "blue", "blue"])
    >>> late.tolist(), classes.tolist()
    ([False, True, True], ['red', 'blue'])
    """
    if y_true is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None; y is the true "
            "types (or the joint target [type, redshift])."
        )
    redshift = None
    if isinstance(y_true, pd.DataFrame) or np.ndim(y_true) == 2 or hasattr(y_true, "colnames"):
        types, redshift = split_targets(y_true, type_column, redshift_column)
    else:
        types = np.asarray(y_true)
        if types.ndim != 1:
            raise ValueError(f"Type labels must be 1-D; got shape {types.shape}.")
        if types.dtype.kind in "Of":
            # The labels of a joint target are normalised there (0.0/1.0 -> 0/1).
            types, _ = split_targets(np.column_stack([types, np.zeros(len(types))]))
    if types.dtype.kind == "f":
        raise ValueError(
            "Type labels must be strings ('ET'/'LT'), integers 0/1 or booleans; got floats"
            + (" with NaN." if np.isnan(types).any() else ".")
        )
    if classes is not None:
        classes = np.asarray(classes)
        return late_type_flags(types, classes), classes, types, redshift
    if len(np.unique(types)) != 2:
        raise ValueError(
            "The Youden threshold and the report need both early- and late-type galaxies; "
            f"got {len(np.unique(types))} class(es): {np.unique(types).tolist()}."
        )
    classes = type_classes(types, early_label)
    return types == classes[1], classes, types, redshift


def final_estimator(estimator):
    """The last step of a Pipeline, or the estimator itself.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.validation import final_estimator
    >>> type(final_estimator(make_pipeline(StandardScaler(), JointMorphZ()))).__name__
    'JointMorphZ'
    """
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def final_step(estimator, X):
    """The last step of a Pipeline and ``X`` as the steps before it transform it.

    For a plain estimator: the estimator and ``X`` itself. This is how a
    method the Pipeline does not delegate (``predict_pdf``) is reached.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skphotoz import JointMorphZ
    >>> from skphotoz.validation import final_step
    >>> scaler = StandardScaler().fit([[1.0], [3.0]])
    >>> model, Xt = final_step(make_pipeline(scaler, JointMorphZ()), [[3.0]])
    >>> type(model).__name__, Xt.tolist()
    ('JointMorphZ', [[1.0]])
    """
    if not hasattr(estimator, "steps"):
        return estimator, X
    # A one-step Pipeline sliced to [:-1] has no steps and cannot transform.
    return estimator[-1], (estimator[:-1].transform(X) if len(estimator.steps) > 1 else X)
