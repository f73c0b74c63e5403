"""The paper's sequential networks: the ablation that shows what joint training buys.

Before the joint network, de Diego et al. (2020) used two separate sequential
networks: a classifier for the type and a regressor for the redshift, of the
same size as the joint network's modules and trained independently.
:class:`SequentialPair` rebuilds them from the joint layout
(:func:`skphotoz.nn.network.build_joint_network`, one output each) and trains
them through scikeras (:mod:`skphotoz.baselines.scikeras_compat`) under the
protocol of :class:`skphotoz.JointMorphZ`'s defaults, so that a comparison
with the joint network isolates one thing: whether the type and the redshift
share a base module and whether p = P(LT) feeds the redshift.

Keras and scikeras are imported on the first fit, not with this module:
``import skphotoz`` stays quick and leaves Keras unpatched.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skphotoz.baselines.pairs import IndependentPair
from skphotoz.nn import JointMorphZ
from skphotoz.nn.spec import (
    CLASS_OUTPUT,
    REDSHIFT_LAYER,
    NetworkSpec,
    resolve_base_dropout,
    resolve_epochs,
    resolve_redshift_units,
)

#: The paper's layout (Architecture 1): the default of both networks.
_PAPER_LAYOUT = NetworkSpec()

#: JointMorphZ's defaults: the protocol both networks are trained under.
_JOINT_DEFAULTS = {
    name: parameter.default for name, parameter in inspect.signature(JointMorphZ).parameters.items()
}

#: The layout and protocol parameters, validated by JointMorphZ's rules (and
#: taken from a JointMorphZ when the report builds the pair beside it).
NETWORK_PARAMETERS = (
    "base_units",
    "base_dropout",
    "class_units",
    "class_dropout",
    "redshift_units",
    "epochs",
    "batch_size",
    "learning_rate",
    "lr_decay_floor",
    "verbose",
)


def _single_output_network(meta, spec, output):
    """The joint layout cut down to one output: a sequential network (uncompiled).

    A Keras model from the input to one layer keeps only the layers that
    output needs: for ``p_late`` the base and classification modules, for
    ``redshift`` (with ``spec.feed_class_probability`` False) the base module
    and Dense(1). Built by scikeras, under its seeds, when it fits.
    """
    import keras

    from skphotoz.nn.network import build_joint_network

    joint = build_joint_network(meta["n_features_in_"], spec)
    return keras.Model(joint.inputs, joint.get_layer(output).output, name=f"sequential_{output}")


@dataclass(frozen=True)
class _SigmoidDecay:
    """The fixed protocol's learning-rate schedule, in a form that pickles (no lambda)."""

    epochs: int
    learning_rate: float
    floor_fraction: float

    def __call__(self, epoch, current_rate=None):
        from skphotoz.nn.network import sigmoid_learning_rate

        return sigmoid_learning_rate(
            epoch, self.epochs, self.learning_rate, floor_fraction=self.floor_fraction
        )


class SequentialPair(IndependentPair):
    """Two sequential networks of the paper's size: one for the type, one for z.

    The approach of de Diego et al. (2020) that the joint network replaces:

    * type: base module Dense(512, relu) + Dropout(0.5), then its own
      classification module Dense(32, relu) + Dropout(0.1), twice, and
      Dense(1, sigmoid), trained on the binary cross-entropy;
    * redshift: its own base module of the same layout, then the joint
      network's redshift branch (by default two Dense(64, relu), where the
      paper had none) and Dense(1, linear), trained on the mean squared
      error; it never sees P(LT).

    Both are trained as ``JointMorphZ()`` is by default: magnitudes z-scored
    with the training mean and standard deviation, a fixed number of
    epochs, batches of 64, RMSprop with the sigmoid learning-rate decay of
    :func:`skphotoz.nn.network.sigmoid_learning_rate`. Each network is a
    :class:`~skphotoz.baselines.scikeras_compat.CompatKerasClassifier` or
    :class:`~skphotoz.baselines.scikeras_compat.CompatKerasRegressor` after a
    ``StandardScaler``. Missing bands are refused (NaN or inf), as by
    ``JointMorphZ(missing_bands="error")``.

    Parameters
    ----------
    base_units : tuple, default=(512,)
        Base module of each network: Dense(relu) widths.
    base_dropout : tuple or "auto", default="auto"
        Its dropout rates; "auto" resolves as JointMorphZ's, by the training
        size (:func:`skphotoz.nn.spec.resolve_base_dropout`).
    class_units, class_dropout : tuple, default=(32, 32), (0.1, 0.1)
        Classification module of the type network, before its sigmoid.
    redshift_units : tuple or "auto", default="auto"
        Dense(relu) layers of the redshift network between its base module
        and Dense(1) (``(16,)`` as in the paper's Architecture 4); "auto"
        resolves as JointMorphZ's (:func:`skphotoz.nn.spec.resolve_redshift_units`),
        so that the two designs differ only in what they share.
    epochs : int or "auto", default="auto"
        Training epochs of each network (all of them: no early stopping);
        "auto" resolves as JointMorphZ's (:func:`skphotoz.nn.spec.resolve_epochs`).
    batch_size : int, default=64
    learning_rate : float, default=1e-3
        Initial RMSprop learning rate.
    lr_decay_floor : float, default=0.1
        Final learning rate of the sigmoid schedule, as a fraction of
        ``learning_rate``.
    verbose : int, default=0
        Keras' ``fit`` verbosity for both networks.
    type_column, redshift_column : str, default="type", "redshift"
        Column names when ``y`` is a DataFrame or an astropy Table.
    early_label : str, int, bool or None, default=None
        The label of the early type; None recognises the usual pairs
        (:func:`skphotoz.validation.type_classes`).
    random_state : int, RandomState instance or None, default=None
        Seeds both networks (weights, dropout, shuffling); an integer makes
        the fit reproducible on CPU.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[early, late]`` type labels; ``classes_[1]`` is the late type.
    classifier_, regressor_ : Pipeline
        Fitted ``Pipeline([("scale", StandardScaler()), ("network", ...)])``;
        the scikeras wrapper is the ``"network"`` step, its Keras model
        ``model_`` and its per-epoch losses ``history_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Band names, when ``X`` was a DataFrame.

    See Also
    --------
    skphotoz.JointMorphZ : the joint network; ``feed_class_probability=False``
        keeps the shared base module but not the link through p.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.baselines import SequentialPair
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(60, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> pair = SequentialPair(base_units=(8,), class_units=(4,), class_dropout=(0.0,),
    ...                       epochs=2, random_state=0).fit(X, y)
    >>> pair.predict_joint(X[:2]).columns.tolist()
    ['p_late', 'type', 'z_phot', 'flags']
    """

    _parameter_constraints = {
        **{
            name: rule
            for name, rule in IndependentPair._parameter_constraints.items()
            if name not in ("classifier", "regressor")  # the two networks are built here
        },
        **{name: JointMorphZ._parameter_constraints[name] for name in NETWORK_PARAMETERS},
    }

    def __init__(
        self,
        *,
        base_units=_PAPER_LAYOUT.base_units,
        base_dropout="auto",
        class_units=_PAPER_LAYOUT.class_units,
        class_dropout=_PAPER_LAYOUT.class_dropout,
        redshift_units="auto",
        epochs=_JOINT_DEFAULTS["epochs"],
        batch_size=_JOINT_DEFAULTS["batch_size"],
        learning_rate=_JOINT_DEFAULTS["learning_rate"],
        lr_decay_floor=_JOINT_DEFAULTS["lr_decay_floor"],
        verbose=0,
        type_column="type",
        redshift_column="redshift",
        early_label=None,
        random_state=None,
    ):
        # IndependentPair.__init__ would set its classifier and regressor,
        # which are not parameters here.
        self.base_units = base_units
        self.base_dropout = base_dropout
        self.class_units = class_units
        self.class_dropout = class_dropout
        self.redshift_units = redshift_units
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_decay_floor = lr_decay_floor
        self.verbose = verbose
        self.type_column = type_column
        self.redshift_column = redshift_column
        self.early_label = early_label
        self.random_state = random_state

    def network_spec(self, n_rows=None):
        """The validated :class:`~skphotoz.nn.spec.NetworkSpec` both networks are cut from.

        p never feeds the redshift: the networks are separate. ``n_rows``
        (training galaxies) resolves ``base_dropout="auto"`` as JointMorphZ
        does; without it, the paper's rate.
        """
        return NetworkSpec.from_params(
            base_units=self.base_units,
            base_dropout=resolve_base_dropout(self.base_dropout, self.base_units, n_rows),
            class_units=self.class_units,
            class_dropout=self.class_dropout,
            redshift_units=resolve_redshift_units(self.redshift_units),
            feed_class_probability=False,
        )

    def _prototypes(self, types):
        spec = self.network_spec(len(types))  # a bad layout fails before Keras is imported
        epochs = resolve_epochs(self.epochs, len(types), self.batch_size)
        import keras

        from skphotoz.baselines.scikeras_compat import CompatKerasClassifier, CompatKerasRegressor

        seeds = [None, None]
        if self.random_state is not None:
            seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=2)
        protocol = {
            "model": _single_output_network,
            "model__spec": spec,
            "optimizer": "rmsprop",
            "optimizer__learning_rate": self.learning_rate,
            "epochs": epochs,
            "batch_size": self.batch_size,
            # A class and its argument, not an instance: scikeras builds a
            # fresh callback for each fit, so a fitted network's parameters
            # hold no reference to its Keras model.
            "callbacks": [keras.callbacks.LearningRateScheduler],
            "callbacks__schedule": _SigmoidDecay(epochs, self.learning_rate, self.lr_decay_floor),
            "verbose": self.verbose,
            "predict__verbose": 0,
        }
        classifier = CompatKerasClassifier(
            loss="binary_crossentropy",
            model__output=CLASS_OUTPUT,
            random_state=None if seeds[0] is None else int(seeds[0]),
            **protocol,
        )
        regressor = CompatKerasRegressor(
            loss="mse",
            model__output=REDSHIFT_LAYER,
            random_state=None if seeds[1] is None else int(seeds[1]),
            **protocol,
        )
        return (
            Pipeline([("scale", StandardScaler()), ("network", classifier)]),
            Pipeline([("scale", StandardScaler()), ("network", regressor)]),
        )
