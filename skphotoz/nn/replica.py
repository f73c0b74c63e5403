"""Replica training: K copies of the joint network trained as one computation.

LOOCV and bootstrap train the same network many times on the same galaxies
with different sample weights (a LOO mask, bootstrap counts) and seeds.
Instead of K separate ``fit`` calls, every Dense layer here carries a leading
replica axis (kernel shape (K, n_in, n_out)) and is applied as one batched
matmul ``(K, batch, n_in) @ (K, n_in, n_out)``, so one optimizer step updates
all K networks. Each replica has its own parameters, its own RMSprop
accumulators, its own dropout masks and (optionally) its own input
standardisation, and its loss term depends only on its own parameters, so the
replicas do not interact: replica k's gradient is exactly that of a single
network trained with sample weights ``weights[:, k]``.

Training semantics follow ``JointMorphZ(protocol="fixed")``: Glorot-uniform
kernels, zero biases, RMSprop, BCE + ``redshift_loss_weight`` * MSE, Keras'
"sum over batch size" weighting (a batch's loss is sum(w * loss) divided by
the number of rows in the batch, not by the sum of the weights), the sigmoid
learning-rate schedule per epoch and a reshuffle every epoch. What differs
from K independent fits (statistically equivalent):

* the batch order: all replicas see the same shuffled batches each epoch;
* a galaxy with weight 0 (the LOO galaxy, a bootstrap row not drawn) still
  occupies a batch slot, so replica k's batches are not those of a fit on its
  own rows (a LOO fit on n - 1 rows has one row fewer per epoch);
* a bootstrap row drawn c times is one row with weight c (in a fit on the
  resample it would be c rows, possibly in different batches);
* the last batch is padded to ``batch_size`` rows that count for nothing
  (zero weight, excluded from the batch-size divisor), so the compiled step
  sees one shape and is traced once;
* dropout masks come from a different random stream (see
  :class:`ReplicaDropout`), with the same keep probability.

Only the fixed-epoch schedule is replicated: early stopping would need a
different stopping epoch per replica.

The training loop is written by hand because ``Model.fit`` cannot divide each
batch's loss by its own number of real rows once the last batch is padded, and
because a hand loop keeps the data on the device and calls one compiled
function per epoch. Computing gradients is the one thing Keras 3 has no
backend-neutral API for; that part is isolated in :func:`_tensorflow_epoch`,
and the two fast dropout masks (speed measures) in
:func:`_counter_hash_dropout` and :func:`_tensorflow_byte_dropout`. By
default each epoch is one XLA program, on a CPU as on a GPU. Measurements
behind these choices: benchmarks/results_replica.md.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from skphotoz.nn.base import network_features, replica_standardisation
from skphotoz.nn.density import RedshiftDensity, replica_pdf_range
from skphotoz.nn.layers import BandDropout, MagnitudeEncoding, counter_hash_keep
from skphotoz.nn.loss import JointLoss, class_weight_factors
from skphotoz.nn.network import seeds_keras, sigmoid_learning_rate
from skphotoz.nn.spec import PDF_OUTPUT, REDSHIFT_LAYER, NetworkSpec

# Replica activations are (K, rows, width); predictions are cut into slices
# of at most this many activation floats (256 MB) whatever K is.
_PREDICT_FLOATS = 2**26


class ReplicaDense(layers.Layer):
    """Dense layer with a replica axis: (batch, n_in) or (K, batch, n_in) -> (K, batch, n_out)."""

    def __init__(self, n_replicas, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.n_replicas = n_replicas
        self.units = units
        self.activation = keras.activations.get(activation)

    def _build_weights(self, n_in):
        # Glorot uniform with the fans of ONE replica's (n_in, units) kernel,
        # as keras.layers.Dense does; Keras' own initializer would count the
        # replica axis as a receptive field and shrink the limit.
        limit = math.sqrt(6.0 / (n_in + self.units))
        # (K, n_out, n_in): with this layout the kernel gradient is the
        # ``d^T @ h`` batched dot, which XLA:CPU runs 2x faster than the
        # ``h^T @ d`` of a (K, n_in, n_out) kernel (benchmarks/results_replica.md).
        self.kernel = self.add_weight(
            shape=(self.n_replicas, self.units, n_in),
            initializer=keras.initializers.RandomUniform(-limit, limit),
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.n_replicas, 1, self.units), initializer="zeros", name="bias"
        )

    def build(self, input_shape):
        if isinstance(input_shape, list):  # [features, p]: the concatenation, folded in
            input_shape = (*input_shape[0][:-1], input_shape[0][-1] + input_shape[1][-1])
        self._build_weights(input_shape[-1])

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            # matmul(concat([x, p]), kernel) without writing the (K, batch, n_in + 1)
            # concatenation: on the 512-wide base output that copy costs as much
            # memory traffic as the matmul itself.
            x, p = inputs
            n_x = x.shape[-1]
            out = ops.einsum("kbi,koi->kbo", x, self.kernel[:, :, :n_x]) + ops.einsum(
                "kbi,koi->kbo", p, self.kernel[:, :, n_x:]
            )
            return self.activation(out + self.bias)
        if len(inputs.shape) == 2:  # raw input shared by every replica
            return self.activation(ops.einsum("bi,koi->kbo", inputs, self.kernel) + self.bias)
        return self.activation(ops.einsum("kbi,koi->kbo", inputs, self.kernel) + self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(n_replicas=self.n_replicas, units=self.units)
        return config


class ReplicaDropout(layers.Layer):
    """Dropout with masks cheap enough for K replicas' activations.

    With ``counter_hash=True`` (used when the whole training epoch is compiled
    with XLA) each element's keep decision is a counter-based hash of its
    position and the step's seed (:func:`_counter_hash_dropout`), which XLA
    fuses into the surrounding elementwise work: on the (370, 64, 512) base
    output it costs as much as a ReLU, where XLA:CPU's Philox takes 15x longer.
    Otherwise (eager or plain graph mode) the masks come from Philox, as
    described next.

    The masks of the replicas' 512-wide base layers are the largest random
    draw of a training step (K * batch * 512 values), and TensorFlow's
    ``stateless_dropout`` spends a 32-bit Philox output and a float
    conversion on each. When ``rate * 256`` is an integer (0.5, 0.25, ...)
    a byte decides each element with exactly the same keep probability, so
    one Philox output serves four elements. Other rates, other backends and
    widths not divisible by 4 use ``keras.random.dropout``. Either way each
    element is kept independently with probability ``1 - rate`` and scaled
    by ``1 / (1 - rate)``, as in ``keras.layers.Dropout``.
    """

    def __init__(self, rate, seed=None, counter_hash=False, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.counter_hash = bool(counter_hash)
        self.seed_generator = keras.random.SeedGenerator(seed)
        byte_threshold = self.rate * 256
        self._byte_threshold = int(byte_threshold) if byte_threshold.is_integer() else None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.counter_hash and keras.backend.backend() == "tensorflow":
            return _counter_hash_dropout(inputs, self.rate, self.seed_generator)
        if (
            self._byte_threshold is None
            or inputs.shape[-1] % 4
            or keras.backend.backend() != "tensorflow"
        ):
            return keras.random.dropout(inputs, self.rate, seed=self.seed_generator)
        return _tensorflow_byte_dropout(
            inputs, self._byte_threshold, self.rate, self.seed_generator
        )

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed, counter_hash=self.counter_hash)
        return config


def _counter_hash_dropout(inputs, rate, seed_generator):
    """Dropout whose keep bits are :func:`skphotoz.nn.layers.counter_hash_keep`."""
    import tensorflow as tf

    keep = counter_hash_keep(inputs, rate, seed_generator)
    return inputs * tf.cast(keep, inputs.dtype) * (1.0 / (1.0 - rate))


def _tensorflow_byte_dropout(inputs, byte_threshold, rate, seed_generator):
    import tensorflow as tf

    seed = tf.cast(tf.math.floormod(seed_generator.next(), tf.int32.max - 1), tf.int32)
    shape = tf.shape(inputs)
    bits_shape = tf.concat([shape[:-1], [inputs.shape[-1] // 4]], 0)
    bits = tf.random.stateless_uniform(bits_shape, seed, minval=None, maxval=None, dtype=tf.int32)
    random_bytes = tf.reshape(tf.bitcast(bits, tf.uint8), shape)
    keep = tf.cast(random_bytes >= byte_threshold, inputs.dtype) * (1.0 / (1.0 - rate))
    return inputs * keep


class _ToBatchMajor(layers.Layer):
    """(K, batch, 1) -> (batch, K): one column per replica, as users expect.

    With ``keep_width`` (the PDF head's parameters, however many) the last
    axis stays: (K, batch, width) -> (batch, K, width).
    """

    def __init__(self, keep_width=False, **kwargs):
        super().__init__(**kwargs)
        self.keep_width = keep_width

    def call(self, inputs):
        if self.keep_width:
            return ops.transpose(inputs, (1, 0, 2))
        return ops.transpose(ops.squeeze(inputs, -1))

    def get_config(self):
        return {**super().get_config(), "keep_width": self.keep_width}


def _build(
    n_features,
    n_replicas,
    spec,
    *,
    seed=None,
    input_mean=None,
    input_scale=None,
    counter_hash_dropout=False,
    per_replica_input=False,
):
    """The user model (batch-major outputs) and the training model (logits, K-major)."""
    if per_replica_input:
        # One input array per replica (K, rows, f): a fold's own preprocessing.
        inputs = keras.Input(shape=(None, n_features), batch_size=n_replicas, name="magnitudes")
    else:
        inputs = keras.Input(shape=(n_features,), name="magnitudes")
    x = inputs
    if input_mean is not None:
        if spec.missing_bands and spec.band_dropout > 0:
            band_seed = None if seed is None else seed + 200
            x = BandDropout(
                spec.band_dropout,
                n_replicas=n_replicas,
                seed=band_seed,
                counter_hash=counter_hash_dropout,
            )(x)
        x = MagnitudeEncoding(
            input_mean,
            input_scale,
            indicators=spec.missing_bands,
            colours=spec.colours,
            name="standardize",
        )(x)
    elif spec.encodes_inside:
        raise ValueError("This layout encodes raw magnitudes: give input_mean and input_scale.")

    def stack(x, units, dropouts, prefix, offset):
        for i, (n_units, rate) in enumerate(zip(units, dropouts, strict=True)):
            x = ReplicaDense(n_replicas, n_units, "relu", name=f"{prefix}_dense_{i}")(x)
            if rate > 0:
                x = ReplicaDropout(
                    rate,
                    seed=None if seed is None else seed + offset + i,
                    counter_hash=counter_hash_dropout,
                )(x)
        return x

    base = stack(x, spec.base_units, spec.base_dropout, "base", 0)
    class_base = base
    if not spec.shared_base:
        class_base = stack(x, spec.base_units, spec.base_dropout, "class_base", 300)
    cls = stack(class_base, spec.class_units, spec.class_dropout, "class", 100)
    logit = ReplicaDense(n_replicas, 1, None, name="p_late")(cls)
    p_late = layers.Activation("sigmoid")(logit)
    z_in = base
    for i, n_units in enumerate(spec.redshift_units):
        z_in = ReplicaDense(n_replicas, n_units, "relu", name=f"redshift_dense_{i}")(z_in)
    if spec.feed_class_probability:
        z_in = [z_in, p_late]
    redshift = ReplicaDense(n_replicas, 1, None, name=REDSHIFT_LAYER)(z_in)
    outputs = {"p_late": _ToBatchMajor()(p_late), "redshift": _ToBatchMajor()(redshift)}
    trained = [logit, redshift]
    if spec.pdf_outputs:
        pdf_raw = ReplicaDense(n_replicas, spec.pdf_outputs, None, name=PDF_OUTPUT)(z_in)
        outputs[PDF_OUTPUT] = _ToBatchMajor(keep_width=True)(pdf_raw)
        trained.append(pdf_raw)
    model = keras.Model(inputs, outputs, name="replica_joint_morph_z")
    trainer = keras.Model(inputs, trained, name="replica_trainer")
    return model, trainer


def build_replica_network(
    n_features,
    n_replicas,
    spec=None,
    *,
    seed=None,
    input_mean=None,
    input_scale=None,
    per_replica_input=False,
    **architecture,
):
    """The joint network of :func:`skphotoz.nn.network.build_joint_network`, K times.

    Parameters
    ----------
    n_features, n_replicas : int
    spec : NetworkSpec, optional
        The layout; by default built from ``**architecture``.
    seed : int or None
        Seed of the dropout layers; masks are drawn per element, so
        independently for every replica.
    input_mean, input_scale : array-like of shape (K, n_features), optional
        Per-replica standardisation (and missing-band encoding) of raw
        magnitudes inside the model.
    per_replica_input : bool, default=False
        The input is one array per replica, shape (K, rows, n_features).
    **architecture
        Fields of :class:`~skphotoz.nn.spec.NetworkSpec`.

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (batch, K), "redshift": (batch, K)}``.

    Examples
    --------
    >>> from skphotoz.nn.replica import build_replica_network
    >>> model = build_replica_network(5, 3, base_units=(8,), class_units=(4,), class_dropout=(0.1,))
    >>> tuple(model.get_layer("redshift").kernel.shape)  # per replica: 1 output, 8 base + p inputs
    (3, 1, 9)
    """
    spec = NetworkSpec.from_params(**architecture) if spec is None else spec
    return _build(
        n_features,
        n_replicas,
        spec,
        seed=seed,
        input_mean=input_mean,
        input_scale=input_scale,
        per_replica_input=per_replica_input,
    )[0]


def _set_initial_weights(model, initial_weights, n_replicas):
    """Start every replica from single-network weights (``build_joint_network`` order)."""
    if isinstance(initial_weights[0], np.ndarray):
        initial_weights = [initial_weights] * n_replicas
    if len(initial_weights) != n_replicas:
        raise ValueError(f"initial_weights has {len(initial_weights)} entries for {n_replicas}.")
    # Both models list their layers in the same topological order, and the
    # replica model's non-trainable standardisation is not among these.
    variables = model.trainable_variables
    if len(initial_weights[0]) != len(variables):
        raise ValueError(
            f"initial_weights holds {len(initial_weights[0])} arrays per replica; the replica "
            f"network has {len(variables)} (is the architecture the same?)."
        )
    for i, variable in enumerate(variables):
        stacked = np.stack([np.asarray(replica[i], np.float32) for replica in initial_weights])
        if stacked.ndim == 3:  # Dense kernels (n_in, n_out) -> the replica layout (n_out, n_in)
            stacked = stacked.transpose(0, 2, 1)
        variable.assign(stacked.reshape(variable.shape))


def _replica_class_weights(late, weights, class_weight):
    """``weights`` (n, K) times each replica's class weights ("balanced" on its own counts)."""
    if class_weight is None:
        return weights
    if class_weight == "balanced":
        late = np.asarray(late, dtype=bool)[:, None]
        total = weights.sum(axis=0)
        n_late = (weights * late).sum(axis=0)
        n_early = total - n_late
        with np.errstate(divide="ignore", invalid="ignore"):
            w_late = np.where(n_late > 0, total / (2 * n_late), 1.0)
            w_early = np.where(n_early > 0, total / (2 * n_early), 1.0)
        return weights * np.where(late, w_late, w_early)
    return weights * class_weight_factors(late, class_weight)[:, None]


@seeds_keras
def train_replicas(
    X,
    late,
    redshift,
    weights,
    *,
    spec=None,
    epochs=300,
    batch_size=64,
    learning_rate=1e-3,
    lr_decay_floor=0.1,
    redshift_loss_weight=1.0,
    class_weight=None,
    standardize=None,
    seed=0,
    jit_compile="auto",
    verbose=0,
    input_mean=None,
    input_scale=None,
    initial_weights=None,
    return_history=False,
    progress_label=None,
    pdf_loss_weight=1.0,
    pdf_range=None,
    **architecture,
):
    """Train K replicas of the joint network, replica k with sample weights ``weights[:, k]``.

    Parameters
    ----------
    X : ndarray of shape (n, n_features) or (K, n, n_features)
        Magnitudes, shared by every replica or one array per replica (each
        fold's own preprocessing). Raw when the model standardises
        (``standardize`` or ``input_mean``), otherwise already standardised.
        With ``spec.missing_bands``, NaN marks a band not observed and +inf a
        non-detection.
    late : ndarray of shape (n,)
        1 for late type, 0 for early type.
    redshift : ndarray of shape (n,)
    weights : ndarray of shape (n, K)
        Per-galaxy, per-replica weights: 0/1 for LOO masks, counts for
        bootstrap resamples.
    spec : NetworkSpec, optional
        The layout; by default built from ``**architecture``.
    epochs, batch_size, learning_rate, lr_decay_floor, redshift_loss_weight
        As in :class:`skphotoz.JointMorphZ` with ``protocol="fixed"``
        (``redshift_loss_weight="auto"`` resolves as it does there).
    class_weight : None, "balanced" or dict
        Type weights; "balanced" is computed on each replica's own counts.
    standardize : bool or None
        True: replica k z-scores with the weighted statistics of its own
        training rows (:func:`replica_standardisation`), exactly as the
        estimator fitted on them would. False: an identity standardisation
        layer. None: use ``input_mean`` if given.
    seed : int
        Seeds initialisation, dropout and the batch order.
    jit_compile : bool or "auto"
        True or "auto" compiles each whole epoch with XLA, with counter-hash
        dropout masks (:class:`ReplicaDropout`); False runs TensorFlow's
        graph kernels with Philox masks (no compilation: quicker for tiny
        networks and few epochs).
    verbose : int
        1 shows a progress bar over epochs.
    input_mean, input_scale : ndarray of shape (K, n_inputs), optional
        Per-replica z-scoring applied inside the model (``n_inputs`` counts
        the colours too, :func:`skphotoz.nn.base.network_features`); ``X`` is
        then raw magnitudes, in training and in :func:`predict_replicas`.
    initial_weights : list of ndarray, or list of such lists, optional
        Start from the weights of a ``build_joint_network`` model
        (``model.get_weights()``), one list for all replicas or one per
        replica; used to check replicas against single fits.
    return_history : bool, default=False
        Also return a history with Keras' keys (``loss``, ``p_late_loss``,
        ``redshift_loss``, ``learning_rate``) per epoch: each loss is the
        mean over the epoch's batches, summed over replicas.
    progress_label : str, optional
        Label of the progress bar (``verbose``); default "K replicas".
    pdf_loss_weight : float, default=1.0
        Weight of the PDF head's negative log-likelihood (with
        ``spec.redshift_pdf``).
    pdf_range : (z_lo, z_hi), each of shape (K,), optional
        The redshift range of each replica's PDF head; by default
        :func:`skphotoz.nn.density.replica_pdf_range` of its training rows.
    **architecture
        Fields of :class:`~skphotoz.nn.spec.NetworkSpec` (``base_units`` ...).

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (n, K), "redshift": (n, K)}``; with
        ``return_history``, ``(model, history)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.replica import predict_replicas, train_replicas
    >>> rng = np.random.default_rng(0)
    >>> X, late, z = rng.normal(size=(40, 3)), rng.random(40) < 0.5, rng.random(40)
    >>> model = train_replicas(X, late, z, np.ones((40, 2)), epochs=2, batch_size=16,
    ...                        base_units=(8,), base_dropout=(0.0,), class_units=(4,),
    ...                        class_dropout=(0.0,))
    >>> [a.shape for a in predict_replicas(model, X)]
    [(40, 2), (40, 2)]
    """
    from skphotoz.nn.spec import effective_redshift_loss_weight

    spec = NetworkSpec.from_params(**architecture) if spec is None else spec
    X = np.asarray(X, dtype=np.float32)
    weights = np.asarray(weights, dtype=np.float64)
    per_replica_input = X.ndim == 3
    n_rows, n_features = X.shape[-2], X.shape[-1]
    if weights.ndim != 2 or weights.shape[0] != n_rows:
        raise ValueError(f"weights must have shape ({n_rows}, K); got {weights.shape}.")
    n, n_replicas = weights.shape
    if per_replica_input and X.shape[0] != n_replicas:
        raise ValueError(f"X has {X.shape[0]} per-replica arrays for {n_replicas} replicas.")
    n_inputs = spec.n_features(n_features)
    if standardize:
        if input_mean is not None:
            raise ValueError("Give standardize=True or input_mean/input_scale, not both.")
        input_mean, input_scale = replica_standardisation(
            network_features(X, spec.colours), weights
        )
    elif input_mean is None and (standardize is False or spec.encodes_inside):
        # An identity standardisation layer: gaps and colours are encoded
        # there, and an estimator's replica network always has one (pickles
        # rebuild that layout).
        input_mean = np.zeros((n_replicas, n_inputs))
        input_scale = np.ones_like(input_mean)
    if (input_mean is None) != (input_scale is None):
        raise ValueError("Give both input_mean and input_scale, or neither.")
    if input_mean is not None:
        for name, arr in (("input_mean", input_mean), ("input_scale", input_scale)):
            if np.shape(arr) != (n_replicas, n_inputs):
                raise ValueError(
                    f"{name} must have shape ({n_replicas}, {n_inputs}); got {np.shape(arr)}."
                )
    weights = _replica_class_weights(late, weights, class_weight).astype(np.float32)
    compile_epoch = jit_compile in (True, "auto")
    model, trainer = _build(
        n_features,
        n_replicas,
        spec,
        seed=seed,
        input_mean=input_mean,
        input_scale=input_scale,
        counter_hash_dropout=compile_epoch,
        per_replica_input=per_replica_input,
    )
    if initial_weights is not None:
        _set_initial_weights(model, initial_weights, n_replicas)

    # Fixed batch shapes: rows n..n+pad are padding, weight 0 and not counted
    # in any batch's divisor. Each epoch is a permutation of the real rows
    # followed by the padding, so the last batch holds the n % batch_size
    # leftover rows, as in Keras.
    n_batches = -(-n // batch_size)
    pad = n_batches * batch_size - n
    real = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)])
    pad_shape = (*X.shape[:-2], pad, n_features)
    data = {
        "X": np.concatenate([X, np.zeros(pad_shape, np.float32)], axis=-2),
        "late": np.concatenate([np.asarray(late, np.float32), np.zeros(pad, np.float32)]),
        "redshift": np.concatenate([np.asarray(redshift, np.float32), np.zeros(pad, np.float32)]),
        "weights": np.concatenate([weights, np.zeros((pad, n_replicas), np.float32)]),
        "real": real,
    }
    rng = np.random.default_rng(seed)
    tail = np.arange(n, n + pad)
    orders = np.stack([np.concatenate([rng.permutation(n), tail]) for _ in range(epochs)]).reshape(
        epochs, n_batches, batch_size
    )
    rates = [
        sigmoid_learning_rate(epoch, epochs, learning_rate, lr_decay_floor)
        for epoch in range(epochs)
    ]
    optimizer = keras.optimizers.RMSprop(learning_rate=learning_rate)
    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            "Replica training needs the TensorFlow backend (the project's backend); got "
            f"{keras.backend.backend()!r}."
        )
    density = None
    if spec.redshift_pdf is not None:
        z_lo, z_hi = replica_pdf_range(redshift, weights) if pdf_range is None else pdf_range
        density = RedshiftDensity(spec.redshift_pdf, spec.pdf_components, z_lo, z_hi)
    loss = JointLoss(
        effective_redshift_loss_weight(redshift_loss_weight, "fixed"),
        density=density,
        pdf_loss_weight=pdf_loss_weight,
    )
    run_epoch = _tensorflow_epoch(trainer, optimizer, data, loss, compile_epoch)
    epoch_range = range(epochs)
    if verbose:
        from tqdm.auto import tqdm

        label = progress_label or f"{n_replicas} replicas"
        # disable=None: no bar unless stderr is a terminal (a log would get a line per update).
        epoch_range = tqdm(epoch_range, desc=label, unit="epoch", disable=None)
    losses = []
    for epoch in epoch_range:
        losses.append(run_epoch(orders[epoch], np.float32(rates[epoch])))
    if not return_history:
        return model
    # One transfer at the end: reading each epoch's loss as it ends would
    # make the host wait for the device every epoch.
    terms = np.asarray([np.asarray(s, dtype=np.float64) for s in losses]) / n_batches
    history = {  # Keras' names, so both trainers' histories read alike
        "loss": loss.combine(*terms.T).tolist(),
        "p_late_loss": terms[:, 0].tolist(),
        "redshift_loss": terms[:, 1].tolist(),
        "learning_rate": [float(rate) for rate in rates],
    }
    if density is not None:
        history[f"{PDF_OUTPUT}_loss"] = terms[:, 2].tolist()
    return model, history


def _tensorflow_epoch(trainer, optimizer, data, loss, compile_epoch):
    """One compiled function running a whole epoch of batches (TensorFlow only).

    Keras 3 has no backend-neutral gradient API (its own ``Model.fit`` has a
    trainer per backend), so this is the one TensorFlow-specific piece: a
    ``tf.GradientTape`` step inside a ``tf.function`` loop over the epoch's
    batches. The data live on the device as constants and only the batch
    order and the learning rate cross the Python boundary, once per epoch.
    """
    import tensorflow as tf

    tensors = {k: tf.constant(v) for k, v in data.items()}
    variables = trainer.trainable_variables
    optimizer.build(variables)
    # Per-replica inputs (K, rows, f) are gathered along their row axis.
    row_axis = {k: (1 if k == "X" and v.ndim == 3 else 0) for k, v in data.items()}

    # One XLA program per epoch: the activations of K replicas are tens of
    # MB, so the step is bound by memory traffic, and XLA fuses the bias,
    # ReLU, dropout and their gradients into single passes where TensorFlow's
    # graph kernels make one pass each (benchmarks/results_replica.md).
    @tf.function(jit_compile=compile_epoch)
    def run_epoch(order, rate):
        optimizer.learning_rate.assign(rate)
        sums = tf.zeros(3)  # the epoch's summed class, redshift and PDF terms
        for j in tf.range(tf.shape(order)[0]):
            idx = order[j]
            batch = {k: tf.gather(v, idx, axis=row_axis[k]) for k, v in tensors.items()}
            n_real = tf.reduce_sum(batch["real"])
            with tf.GradientTape() as tape:
                logit, z_pred, *pdf_raw = trainer(batch["X"], training=True)
                terms = loss.replica_terms(
                    logit,
                    z_pred,
                    batch["late"],
                    batch["redshift"],
                    batch["weights"],
                    n_real,
                    *pdf_raw,
                )
                total = loss.combine(*terms)
            optimizer.apply(tape.gradient(total, variables), variables)
            sums += tf.stack(terms)
        return sums

    return run_epoch


def predict_replicas(model, X, chunk=None, pdf=False):
    """P(late type) and redshift of every replica (and the PDF head's outputs).

    Parameters
    ----------
    model : keras.Model
        From :func:`train_replicas`.
    X : array-like of shape (n, n_features) or (K, n, n_features)
        As in training (raw magnitudes when the model standardises; one
        array per replica when it was trained so).
    chunk : int, optional
        Rows per forward call; by default sized to the number of replicas.
    pdf : bool, default=False
        Also return the PDF head's raw outputs (a model with a PDF head).

    Returns
    -------
    p_late, redshift : ndarray of shape (n, K)
    pdf_raw : ndarray of shape (n, K, outputs)
        Only with ``pdf``; :class:`skphotoz.nn.density.RedshiftDensity`
        turns them into densities.
    """
    X = np.asarray(X, dtype=np.float32)
    n_replicas = model.get_layer(REDSHIFT_LAYER).kernel.shape[0]
    widest = max(max(int(d) for d in w.shape[1:]) for w in model.trainable_weights)
    if chunk is None:
        chunk = max(64, _PREDICT_FLOATS // (n_replicas * widest))
    if pdf and PDF_OUTPUT not in model.output:
        raise ValueError("This replica network has no PDF head (train it with redshift_pdf).")
    keys = ["p_late", "redshift", PDF_OUTPUT] if pdf else ["p_late", "redshift"]
    parts = {key: [] for key in keys}
    for start in range(0, X.shape[-2], chunk):
        # predict_on_batch runs Keras' compiled predict function: about 1.6x
        # the throughput of an eager model call (benchmarks/results_replica.md).
        out = model.predict_on_batch(X[..., start : start + chunk, :])
        for key in keys:
            parts[key].append(np.asarray(out[key]))
    if not parts["p_late"]:
        widths = {PDF_OUTPUT: (model.output[PDF_OUTPUT].shape[-1],)} if pdf else {}
        return tuple(np.empty((0, n_replicas, *widths.get(k, ())), np.float32) for k in keys)
    return tuple(np.concatenate(parts[key]) for key in keys)


def redshift_layer_weights(model):
    """Kernel of each replica's final redshift neuron, shape (K, n_inputs).

    For Architecture 1 the last input is p (the class probability): these
    are the concatenate-layer weights analysed in the paper's Sect. 3.3.
    """
    return ops.convert_to_numpy(model.get_layer(REDSHIFT_LAYER).kernel)[:, 0, :]
