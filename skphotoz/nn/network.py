"""The non-sequential network of de Diego et al. (2021), built from parameters.

Architecture 1 of the paper (its Fig. 2), in the paper's notation:

* Base module ``D512_0.5``: Dense(512, relu) + Dropout(0.5);
* Classification module ``D32_0.1 : D32_0.1 : D1``: two Dense(32, relu) +
  Dropout(0.1), then Dense(1, sigmoid) giving p = P(late type);
* Redshift module ``C^b_c : D1``: concatenate(base output, p), then
  Dense(1, linear).

The other architectures of the paper's Table 2 are parameter changes:
Architecture 2 is ``base_units=(64,)``; Architecture 3 is
``class_units=(32,), class_dropout=(0.1,)``; Architecture 4 is
``redshift_units=(16,)`` (a Dense(16) on the base output before the
concatenation, ``D16 : C^c_+ : D1``).
"""

from __future__ import annotations

import math

import keras
from keras import layers
from tqdm.auto import tqdm

#: Output names: the Keras losses and metrics are keyed on them
#: ("val_p_late_loss", "val_redshift_loss").
CLASS_OUTPUT, REDSHIFT_OUTPUT = "p_late", "redshift"

#: Name of the layer whose kernel holds the concatenate-layer weights
#: analysed in the paper's Sect. 3.3 (Fig. 8).
REDSHIFT_LAYER = "redshift"

#: Published architectures of Table 2, as keyword arguments for
#: :func:`build_joint_network` and :class:`skphotoz.JointMorphZ`.
ARCHITECTURES = {
    1: {},
    2: {"base_units": (64,), "base_dropout": (0.5,)},
    3: {"class_units": (32,), "class_dropout": (0.1,)},
    4: {"redshift_units": (16,)},
}


def _dense_dropout_stack(x, units, dropouts, prefix, seed):
    for i, (n_units, rate) in enumerate(zip(units, dropouts, strict=True)):
        x = layers.Dense(n_units, activation="relu", name=f"{prefix}_dense_{i}")(x)
        if rate > 0:
            x = layers.Dropout(
                rate, seed=None if seed is None else seed + i, name=f"{prefix}_dropout_{i}"
            )(x)
    return x


def build_joint_network(
    n_features,
    *,
    base_units=(512,),
    base_dropout=(0.5,),
    class_units=(32, 32),
    class_dropout=(0.1, 0.1),
    redshift_units=(),
    feed_class_probability=True,
    seed=None,
):
    """Build the joint classification + redshift network (uncompiled).

    Parameters
    ----------
    n_features : int
        Number of input magnitudes (bands).
    base_units, base_dropout : tuple
        Widths and dropout rates of the base module's Dense layers.
    class_units, class_dropout : tuple
        Widths and dropout rates of the classification branch before its
        sigmoid output.
    redshift_units : tuple
        Dense(relu) layers on the base output before the concatenation
        (empty for Architecture 1).
    feed_class_probability : bool
        Concatenate p = P(late type) into the redshift branch (the paper's
        design). ``False`` gives two heads that share only the base module.
    seed : int or None
        Seed for the dropout layers.

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (n, 1), "redshift": (n, 1)}``.

    Examples
    --------
    >>> from skphotoz.nn.network import build_joint_network
    >>> model = build_joint_network(8)
    >>> tuple(model.get_layer("redshift").kernel.shape)  # 512 base outputs + p
    (513, 1)
    """
    inputs = keras.Input(shape=(n_features,), name="magnitudes")
    base = _dense_dropout_stack(inputs, base_units, base_dropout, "base", seed)
    cls = _dense_dropout_stack(
        base, class_units, class_dropout, "class", None if seed is None else seed + 100
    )
    p_late = layers.Dense(1, activation="sigmoid", name=CLASS_OUTPUT)(cls)
    z_in = base
    for i, n_units in enumerate(redshift_units):
        z_in = layers.Dense(n_units, activation="relu", name=f"redshift_dense_{i}")(z_in)
    if feed_class_probability:
        z_in = layers.Concatenate(name="concatenate")([z_in, p_late])
    redshift = layers.Dense(1, activation="linear", name=REDSHIFT_LAYER)(z_in)
    return keras.Model(
        inputs, {CLASS_OUTPUT: p_late, REDSHIFT_OUTPUT: redshift}, name="joint_morph_z"
    )


def compile_joint_network(
    model, learning_rate=1e-3, class_loss_weight=1.0, redshift_loss_weight=1.0
):
    """Compile with the paper's losses (BCE + MSE) and RMSprop."""
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss={CLASS_OUTPUT: "binary_crossentropy", REDSHIFT_OUTPUT: "mse"},
        loss_weights={CLASS_OUTPUT: class_loss_weight, REDSHIFT_OUTPUT: redshift_loss_weight},
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
        self.bar = tqdm(total=self.epochs, desc="JointMorphZ", unit="epoch")

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k.endswith("loss")})

    def on_train_end(self, logs=None):
        self.bar.close()
