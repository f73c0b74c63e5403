"""``JointMorphZ``: galaxy type and photometric redshift from one network.

Why not scikeras: scikeras 0.13 is unmaintained and, on scikit-learn >= 1.6,
reports wrong tags (``is_classifier`` is False, so an integer ``cv`` becomes a
plain KFold and ``roc_auc`` scores come back NaN). It also assumes one target
encoder per output, while our target is one joint ``[type, redshift]`` column
pair. Driving Keras directly from a ``BaseEstimator`` costs a hundred lines
and gets the tags, cloning and pickling right.
"""

from __future__ import annotations

import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from skphotoz.validation import (
    check_joint_fit_input,
    check_magnitude_input,
    joint_target_tags,
    split_targets,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Training protocols. ``"paper"`` is de Diego et al. (2021) taken literally;
#: ``"fixed"`` is its final-run mode; ``"total_loss"`` early-stops on the sum
#: of both validation losses and restores the best weights.
PROTOCOLS = ("paper", "fixed", "total_loss")

#: The redshift MSE weight that ``redshift_loss_weight="auto"`` uses outside
#: ``protocol="paper"``. The MSE of z (~0.006 on real samples) is some 30 times
#: smaller than the class BCE (~0.2), so with equal weights the shared base
#: module learns almost only the type; 10 measured best on CNOC2, VIPERS and
#: the demo sample (docs/benchmarks.md, benchmarks/bench_protocols.py).
AUTO_REDSHIFT_LOSS_WEIGHT = 10.0


def effective_redshift_loss_weight(redshift_loss_weight, protocol):
    """The MSE weight actually used: "auto" is 1 (the paper's) for ``protocol="paper"``.

    Examples
    --------
    >>> from skphotoz.nn.estimator import effective_redshift_loss_weight
    >>> [effective_redshift_loss_weight("auto", protocol) for protocol in ("paper", "fixed")]
    [1.0, 10.0]
    """
    if isinstance(redshift_loss_weight, str):
        return 1.0 if protocol == "paper" else AUTO_REDSHIFT_LOSS_WEIGHT
    return float(redshift_loss_weight)


# Predictions are made in large slices: a direct call avoids the per-batch
# overhead of ``Model.predict`` and its console progress bar.
_PREDICT_CHUNK = 65536


def _check_layer_spec(name, units, dropouts=None):
    units = tuple(units)
    if not all(isinstance(u, numbers.Integral) and u > 0 for u in units):
        raise ValueError(f"{name} must be a tuple of positive integers; got {units!r}.")
    if dropouts is None:
        return units, None
    dropouts = tuple(dropouts)
    if len(dropouts) != len(units):
        raise ValueError(
            f"{name} has {len(units)} layer(s) but its dropout tuple has {len(dropouts)} entries."
        )
    if not all(0.0 <= d < 1.0 for d in dropouts):
        raise ValueError(f"Dropout rates for {name} must lie in [0, 1); got {dropouts!r}.")
    return units, dropouts


class JointMorphZ(ClassifierMixin, BaseEstimator):
    """Joint early/late type classifier and photometric-redshift regressor.

    The non-sequential network of de Diego et al. (2021, A&A 655, A56): a
    shared base module feeds a classification branch giving p = P(late
    type) and a redshift branch that also sees p, so one model gives a type
    and a redshift that are consistent with each other.

    Parameters
    ----------
    base_units, base_dropout : tuple, default=(512,), (0.5,)
        Base module Dense(relu) widths and dropout rates.
    class_units, class_dropout : tuple, default=(32, 32), (0.1, 0.1)
        Classification branch widths and dropout rates.
    redshift_units : tuple, default=()
        Dense(relu) layers on the base output before the concatenation with
        p (``(16,)`` is the paper's Architecture 4).
    feed_class_probability : bool, default=True
        Feed p into the redshift branch (the paper's design).
    protocol : {"fixed", "paper", "total_loss"}, default="fixed"
        ``"paper"``: hold out ``validation_fraction`` (stratified by type),
        EarlyStopping on the validation class loss (patience
        ``early_stopping_patience``) and ReduceLROnPlateau on the validation
        redshift loss (``lr_reduce_factor``, ``lr_reduce_patience``), at most
        ``epochs`` epochs. ``"fixed"``: all data, exactly ``epochs`` epochs,
        sigmoid learning-rate decay (the paper's final-run mode).
        ``"total_loss"``: like ``"paper"`` but both callbacks watch the
        total validation loss and the best weights are restored.
        See docs/benchmarks.md for the measurements behind the default.
    epochs : int, default=300
        Number of epochs (``"fixed"``) or the upper bound (other protocols).
    batch_size : int, default=64
    learning_rate : float, default=1e-3
        Initial RMSprop learning rate.
    validation_fraction : float, default=1/3
        Held-out fraction for the early-stopping protocols (the paper uses
        64 of 192).
    early_stopping_patience : int, default=10
    lr_reduce_factor : float, default=0.9
    lr_reduce_patience : int, default=5
    lr_decay_floor : float, default=0.1
        Final learning rate of the sigmoid schedule, as a fraction of
        ``learning_rate`` (``"fixed"`` only).
    redshift_loss_weight : float or "auto", default="auto"
        Weight of the MSE term in the total loss (BCE has weight 1). "auto"
        is 1 under ``protocol="paper"`` (the paper's equal weights) and
        :data:`AUTO_REDSHIFT_LOSS_WEIGHT` (10) otherwise, the value that
        measured best on real samples (docs/benchmarks.md).
    threshold : float, default=0.5
        A galaxy is late type when p >= threshold. Use
        :class:`skphotoz.thresholding.YoudenThresholdCV` to learn the Youden
        threshold.
    standardize : bool, default=True
        Z-score the magnitudes with the training mean and standard deviation.
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or an astropy Table.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split.
    verbose : int, default=0
        0 silent, 1 a progress bar over epochs, 2 one Keras line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Sorted type labels; ``classes_[1]`` is the late type.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Band names, when ``X`` is a DataFrame.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Input standardisation.
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Keras training history, with the learning rate per epoch.
    n_epochs_ : int
        Epochs actually run.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz import JointMorphZ
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> model = JointMorphZ(base_units=(16,), base_dropout=(0.1,), epochs=2, random_state=0)
    >>> model.fit(X, y).predict(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "base_units": ["array-like"],
        "base_dropout": ["array-like"],
        "class_units": ["array-like"],
        "class_dropout": ["array-like"],
        "redshift_units": ["array-like"],
        "feed_class_probability": ["boolean"],
        "protocol": [StrOptions(set(PROTOCOLS))],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping_patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr_reduce_factor": [Interval(numbers.Real, 0, 1, closed="neither")],
        "lr_reduce_patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr_decay_floor": [Interval(numbers.Real, 0, 1, closed="right")],
        "redshift_loss_weight": [
            Interval(numbers.Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "threshold": [Interval(numbers.Real, 0, 1, closed="both")],
        "standardize": ["boolean"],
        "type_column": [str],
        "redshift_column": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        base_units=(512,),
        base_dropout=(0.5,),
        class_units=(32, 32),
        class_dropout=(0.1, 0.1),
        redshift_units=(),
        feed_class_probability=True,
        protocol="fixed",
        epochs=300,
        batch_size=64,
        learning_rate=1e-3,
        validation_fraction=1 / 3,
        early_stopping_patience=10,
        lr_reduce_factor=0.9,
        lr_reduce_patience=5,
        lr_decay_floor=0.1,
        redshift_loss_weight="auto",
        threshold=0.5,
        standardize=True,
        type_column="type",
        redshift_column="redshift",
        random_state=None,
        verbose=0,
    ):
        self.base_units = base_units
        self.base_dropout = base_dropout
        self.class_units = class_units
        self.class_dropout = class_dropout
        self.redshift_units = redshift_units
        self.feed_class_probability = feed_class_probability
        self.protocol = protocol
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.early_stopping_patience = early_stopping_patience
        self.lr_reduce_factor = lr_reduce_factor
        self.lr_reduce_patience = lr_reduce_patience
        self.lr_decay_floor = lr_decay_floor
        self.redshift_loss_weight = redshift_loss_weight
        self.threshold = threshold
        self.standardize = standardize
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = joint_target_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------ validation
    def _check_X(self, X, reset):
        return check_magnitude_input(self, X, reset=reset)

    def _network_kwargs(self):
        base_units, base_dropout = _check_layer_spec(
            "base_units", self.base_units, self.base_dropout
        )
        class_units, class_dropout = _check_layer_spec(
            "class_units", self.class_units, self.class_dropout
        )
        if not base_units:
            raise ValueError("base_units needs at least one layer (the shared base module).")
        redshift_units, _ = _check_layer_spec("redshift_units", self.redshift_units)
        return {
            "base_units": base_units,
            "base_dropout": base_dropout,
            "class_units": class_units,
            "class_dropout": class_dropout,
            "redshift_units": redshift_units,
            "feed_class_probability": bool(self.feed_class_probability),
        }

    def _build_network(self, seed=None):
        from skphotoz.nn.network import build_joint_network

        return build_joint_network(self.n_features_in_, seed=seed, **self._network_kwargs())

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on magnitudes and a joint ``[type, redshift]`` target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)
            AB magnitudes.
        y : array-like of shape (n_samples, 2), DataFrame or astropy Table
            Type label (``"ET"``/``"LT"`` or 0/1) and spectroscopic redshift.
        sample_weight : array-like of shape (n_samples,), optional
            Per-galaxy weights (e.g. bootstrap counts).

        Returns
        -------
        self : JointMorphZ
        """
        import keras

        from skphotoz.nn.network import compile_joint_network

        X, types, redshift, self.classes_ = check_joint_fit_input(self, X, y)
        self._network_kwargs()  # validate the layout before any work
        p_target = (types == self.classes_[1]).astype(np.float32)
        weights = None
        if sample_weight is not None:
            # sklearn's check covers lists, Series, shape, negative and all-zero weights.
            weights = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )

        if self.standardize:
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        Xs = ((X - self.mean_) / self.scale_).astype(np.float32)

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        keras.utils.set_random_seed(seed)
        self.model_ = compile_joint_network(
            self._build_network(seed),
            learning_rate=self.learning_rate,
            redshift_loss_weight=effective_redshift_loss_weight(
                self.redshift_loss_weight, self.protocol
            ),
        )
        targets = {"p_late": p_target, "redshift": redshift.astype(np.float32)}
        fit_kwargs = {"epochs": self.epochs, "batch_size": self.batch_size}
        fit_kwargs["callbacks"], validation = self._callbacks_and_split(Xs, targets, weights, seed)
        Xt, yt, wt = validation.pop("train")
        if validation:
            fit_kwargs["validation_data"] = validation["data"]
        fit_kwargs["callbacks"].extend(self._progress_callbacks())
        history = self.model_.fit(
            Xt, yt, sample_weight=wt, verbose=2 if self.verbose >= 2 else 0, **fit_kwargs
        )
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.n_epochs_ = len(next(iter(self.history_.values())))
        return self

    def _callbacks_and_split(self, Xs, targets, weights, seed):
        """Return (callbacks, {"train": (X, y, w), ["data": validation tuple]})."""
        import keras

        from skphotoz.nn.network import LearningRateLogger, sigmoid_learning_rate

        if self.protocol == "fixed":
            schedule = keras.callbacks.LearningRateScheduler(
                lambda epoch: sigmoid_learning_rate(
                    epoch, self.epochs, self.learning_rate, floor_fraction=self.lr_decay_floor
                )
            )
            return [schedule, LearningRateLogger()], {"train": (Xs, targets, weights)}

        indices = np.arange(len(Xs))
        train_idx, val_idx = train_test_split(
            indices,
            test_size=self.validation_fraction,
            stratify=targets["p_late"],
            random_state=seed,
        )

        def take(idx):
            w = None if weights is None else weights[idx]
            return Xs[idx], {k: v[idx] for k, v in targets.items()}, w

        Xv, yv, wv = take(val_idx)
        validation = (Xv, yv) if wv is None else (Xv, yv, wv)
        if self.protocol == "paper":
            stop_on, reduce_on, restore = "val_p_late_loss", "val_redshift_loss", False
        else:
            stop_on, reduce_on, restore = "val_loss", "val_loss", True
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor=stop_on,
                mode="min",
                patience=self.early_stopping_patience,
                restore_best_weights=restore,
            ),
            keras.callbacks.ReduceLROnPlateau(
                monitor=reduce_on,
                mode="min",
                factor=self.lr_reduce_factor,
                patience=self.lr_reduce_patience,
            ),
            LearningRateLogger(),
        ]
        return callbacks, {"train": take(train_idx), "data": validation}

    def _progress_callbacks(self):
        from skphotoz.nn.network import TqdmEpochs

        return [TqdmEpochs(self.epochs)] if self.verbose == 1 else []

    # --------------------------------------------------------------- predict
    def _forward(self, X):
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        Xs = ((X - self.mean_) / self.scale_).astype(np.float32)
        p_late = np.empty(len(Xs), dtype=np.float64)
        redshift = np.empty(len(Xs), dtype=np.float64)
        for start in range(0, len(Xs), _PREDICT_CHUNK):
            # predict_on_batch runs the compiled inference function: 1.6x the
            # eager call (benchmarks/results_replica.md), with no progress bar.
            chunk = Xs[start : start + _PREDICT_CHUNK]
            out = self.model_.predict_on_batch(chunk)
            p_late[start : start + len(chunk)] = np.asarray(out["p_late"])[:, 0]
            redshift[start : start + len(chunk)] = np.asarray(out["redshift"])[:, 0]
        return p_late, redshift

    def predict_proba(self, X):
        """Type probabilities, columns ordered as ``classes_`` ([P(ET), P(LT)]).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        p_late, _ = self._forward(X)
        return np.column_stack([1.0 - p_late, p_late])

    def predict_redshift(self, X):
        """Photometric redshifts, shape (n_samples,)."""
        return self._forward(X)[1]

    def predict(self, X):
        """Joint prediction ``[type label, photometric redshift]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column 0 is the type label (late type when p >= ``threshold``),
            column 1 the redshift. The array is ``object`` when the labels
            are strings and float otherwise, so it has the layout of ``y``.
        """
        p_late, redshift = self._forward(X)
        labels = np.where(p_late >= self.threshold, self.classes_[1], self.classes_[0])
        dtype = object if self.classes_.dtype.kind in "USO" else np.float64
        out = np.empty((len(labels), 2), dtype=dtype)
        out[:, 0], out[:, 1] = labels, redshift
        return out

    def score(self, X, y, sample_weight=None):
        """Joint score: minus the paper's total loss, BCE + MSE (higher is better).

        See :func:`skphotoz.metrics.joint_score`.
        """
        from skphotoz.metrics import joint_score

        types, redshift = split_targets(y, self.type_column, self.redshift_column)
        p_late, z_phot = self._forward(X)
        return joint_score(
            types == self.classes_[1], p_late, redshift, z_phot, sample_weight=sample_weight
        )

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        # A Keras model is rebuilt from the estimator's parameters and its
        # weights; pickling the graph itself would tie files to one Keras
        # build and drag the optimizer state along.
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_network_weights"] = model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("_network_weights", None)
        self.__dict__.update(state)
        if weights is not None:
            self.model_ = self._build_network()
            self.model_.set_weights(weights)
