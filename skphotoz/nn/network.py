"""The joint network as a Keras model, and the callbacks of its training protocols.

The layout comes from :class:`skphotoz.nn.spec.NetworkSpec` (the paper's
Architecture 1 by default), the loss from :class:`skphotoz.nn.loss.JointLoss`.
The replica network of :mod:`skphotoz.nn.replica` builds the same layout with
a replica axis.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import random

import keras
import numpy as np
from keras import layers
from tqdm.auto import tqdm

from skphotoz.nn.layers import BandDropout, MagnitudeEncoding
from skphotoz.nn.loss import JointLoss
from skphotoz.nn.spec import (
    CLASS_OUTPUT,
    PDF_OUTPUT,
    REDSHIFT_LAYER,
    REDSHIFT_OUTPUT,
    NetworkSpec,
)


class _OneTracePerModel(logging.Filter):
    """Drop TensorFlow's "N out of the last N calls ... triggered tf.function retracing".

    Every fitted model (each fold of a cross-validation, each replica chunk)
    has its own Keras predict function and epoch function, each traced once;
    TensorFlow counts those traces by the Python code they come from, so from
    the fifth model on it warns about retracing that is one trace per model
    by design, not the repeated tracing of one function that the warning is
    for. Other TensorFlow messages pass.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_OneTracePerModel())


@contextlib.contextmanager
def keras_seed(seed):
    """Seed Keras and TensorFlow for one fit, leaving NumPy's and Python's global state alone.

    ``keras.utils.set_random_seed`` seeds Python's ``random`` and NumPy's
    global generator too; a library must not change those behind its user's
    back, so they are saved and restored around the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.network import keras_seed
    >>> np.random.seed(1); before = np.random.get_state()[1][:3]
    >>> with keras_seed(0):
    ...     pass
    >>> bool((np.random.get_state()[1][:3] == before).all())
    True
    """
    # The legacy global generator is exactly the state being protected here.
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)


def seeds_keras(function):
    """Run ``function`` under :func:`keras_seed` of its ``seed`` keyword (default 0)."""

    @functools.wraps(function)
    def seeded(*args, **kwargs):
        with keras_seed(kwargs.get("seed", 0)):
            return function(*args, **kwargs)

    return seeded


def _dense_dropout_stack(x, units, dropouts, prefix, seed):
    for i, (n_units, rate) in enumerate(zip(units, dropouts, strict=True)):
        x = layers.Dense(n_units, activation="relu", name=f"{prefix}_dense_{i}")(x)
        if rate > 0:
            x = layers.Dropout(
                rate, seed=None if seed is None else seed + i, name=f"{prefix}_dropout_{i}"
            )(x)
    return x


def build_joint_network(
    n_features, spec=None, *, seed=None, input_mean=None, input_scale=None, **architecture
):
    """Build the joint classification + redshift network (uncompiled).

    Parameters
    ----------
    n_features : int
        Number of input magnitudes (bands).
    spec : NetworkSpec, optional
        The layout; by default built from ``**architecture``.
    seed : int or None
        Seed for the dropout layers.
    input_mean, input_scale : array-like of shape (n_inputs,), optional
        Needed when ``spec.encodes_inside`` (missing bands or colours): the
        model then takes raw magnitudes (NaN = not observed, +inf = not
        detected) and encodes them with
        :class:`~skphotoz.nn.layers.MagnitudeEncoding`; the statistics cover
        :func:`skphotoz.nn.base.network_features`. Otherwise the input is
        already standardised.
    **architecture
        Fields of :class:`~skphotoz.nn.spec.NetworkSpec` (``base_units`` ...).

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (n, 1), "redshift": (n, 1)}``, and with a PDF
        head ``"redshift_pdf"``: (n, outputs), its raw parameters.

    Examples
    --------
    >>> from skphotoz.nn.network import build_joint_network
    >>> model = build_joint_network(8)
    >>> tuple(model.get_layer("redshift").kernel.shape)  # 512 base outputs + p
    (513, 1)
    """
    spec = NetworkSpec.from_params(**architecture) if spec is None else spec
    inputs = keras.Input(shape=(n_features,), name="magnitudes")
    x = inputs
    if spec.encodes_inside:
        if input_mean is None or input_scale is None:
            raise ValueError("This layout encodes raw magnitudes: give input_mean and input_scale.")
        if spec.missing_bands and spec.band_dropout > 0:
            band_seed = None if seed is None else seed + 200
            x = BandDropout(spec.band_dropout, seed=band_seed, name="band_dropout")(x)
        x = MagnitudeEncoding(
            input_mean,
            input_scale,
            indicators=spec.missing_bands,
            colours=spec.colours,
            name="encoding",
        )(x)

    def offset(k):
        return None if seed is None else seed + k

    base = _dense_dropout_stack(x, spec.base_units, spec.base_dropout, "base", seed)
    class_base = base
    if not spec.shared_base:
        class_base = _dense_dropout_stack(
            x, spec.base_units, spec.base_dropout, "class_base", offset(300)
        )
    cls = _dense_dropout_stack(
        class_base, spec.class_units, spec.class_dropout, "class", offset(100)
    )
    p_late = layers.Dense(1, activation="sigmoid", name=CLASS_OUTPUT)(cls)
    z_in = base
    for i, n_units in enumerate(spec.redshift_units):
        z_in = layers.Dense(n_units, activation="relu", name=f"redshift_dense_{i}")(z_in)
    if spec.feed_class_probability:
        z_in = layers.Concatenate(name="concatenate")([z_in, p_late])
    redshift = layers.Dense(1, activation="linear", name=REDSHIFT_LAYER)(z_in)
    outputs = {CLASS_OUTPUT: p_late, REDSHIFT_OUTPUT: redshift}
    if spec.pdf_outputs:
        outputs[PDF_OUTPUT] = layers.Dense(spec.pdf_outputs, name=PDF_OUTPUT)(z_in)
    return keras.Model(inputs, outputs, name="joint_morph_z")


def compile_joint_network(model, learning_rate=1e-3, loss=None):
    """Compile with the joint loss (:class:`~skphotoz.nn.loss.JointLoss`) and RMSprop."""
    loss = JointLoss() if loss is None else loss
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), **loss.compile_arguments()
    )
    return model


def sigmoid_learning_rate(epoch, n_epochs, initial, floor_fraction=0.1, midpoint=0.5, width=0.1):
    """Sigmoid decay of the learning rate over a fixed number of epochs.

    The paper fits a sigmoid to the learning-rate history that
    ReduceLROnPlateau produced and replays it with LearningRateScheduler
    for the final runs; this is that curve, parametrised directly:
    ``initial`` at the start, ``floor_fraction * initial`` at the end, with
    the drop centred at ``midpoint * n_epochs`` and spread over about
    ``width * n_epochs`` epochs.

    Examples
    --------
    >>> from skphotoz.nn.network import sigmoid_learning_rate
    >>> [round(sigmoid_learning_rate(epoch, 100, 1e-3), 6) for epoch in (0, 99)]
    [0.000994, 0.000107]
    """
    x = (epoch - midpoint * n_epochs) / max(width * n_epochs, 1e-9)
    x = min(max(x, -60.0), 60.0)
    return initial * (floor_fraction + (1.0 - floor_fraction) / (1.0 + math.exp(x)))


def protocol_callbacks(
    protocol,
    *,
    epochs,
    learning_rate,
    lr_decay_floor=0.1,
    early_stopping_patience=10,
    lr_reduce_factor=0.9,
    lr_reduce_patience=5,
):
    """The Keras callbacks of a training protocol (see :data:`skphotoz.nn.spec.PROTOCOLS`).

    ``"fixed"``: the sigmoid learning-rate decay over ``epochs``.
    ``"paper"``: EarlyStopping on the validation class loss and
    ReduceLROnPlateau on the validation redshift loss. ``"total_loss"``: both
    on the total validation loss, restoring the best weights. Every protocol
    logs the learning rate.

    Examples
    --------
    >>> from skphotoz.nn.network import protocol_callbacks
    >>> [type(c).__name__ for c in protocol_callbacks("paper", epochs=10, learning_rate=1e-3)]
    ['EarlyStopping', 'ReduceLROnPlateau', 'LearningRateLogger']
    """
    if protocol == "fixed":
        schedule = keras.callbacks.LearningRateScheduler(
            lambda epoch: sigmoid_learning_rate(
                epoch, epochs, learning_rate, floor_fraction=lr_decay_floor
            )
        )
        return [schedule, LearningRateLogger()]
    if protocol == "paper":
        stop_on, reduce_on, restore = "val_p_late_loss", "val_redshift_loss", False
    else:
        stop_on, reduce_on, restore = "val_loss", "val_loss", True
    return [
        keras.callbacks.EarlyStopping(
            monitor=stop_on,
            mode="min",
            patience=early_stopping_patience,
            restore_best_weights=restore,
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor=reduce_on, mode="min", factor=lr_reduce_factor, patience=lr_reduce_patience
        ),
        LearningRateLogger(),
    ]


class LearningRateLogger(keras.callbacks.Callback):
    """Record the optimizer's learning rate in the epoch logs (and so in ``history_``)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


class TqdmEpochs(keras.callbacks.Callback):
    """One progress bar over epochs, showing the current losses.

    ``tqdm.keras.TqdmCallback`` also draws a bar per epoch over batches; for
    hundreds of short epochs one bar is what a user can read.
    """

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        # disable=None: no bar unless stderr is a terminal (a log would get a line per epoch).
        self.bar = tqdm(total=self.epochs, desc="JointMorphZ", unit="epoch", disable=None)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k.endswith("loss")})

    def on_train_end(self, logs=None):
        self.bar.close()
