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
and the byte-mask dropout (a speed measure) in
:func:`_tensorflow_byte_dropout`. Measurements behind these choices:
benchmarks/results_replica.md.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from .estimator import effective_redshift_loss_weight
from .network import REDSHIFT_LAYER, sigmoid_learning_rate

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
        self.kernel = self.add_weight(
            shape=(self.n_replicas, n_in, self.units),
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
            out = ops.matmul(x, self.kernel[:, :n_x]) + ops.matmul(p, self.kernel[:, n_x:])
            return self.activation(out + self.bias)
        if len(inputs.shape) == 2:  # raw input shared by every replica
            inputs = ops.expand_dims(inputs, 0)
        return self.activation(ops.matmul(inputs, self.kernel) + self.bias)

    def get_config(self):
        config = super().get_config()
        config.update(n_replicas=self.n_replicas, units=self.units)
        return config


class ReplicaStandardize(layers.Layer):
    """Z-score raw magnitudes per replica: (batch, f) -> (K, batch, f)."""

    def __init__(self, mean, scale, **kwargs):
        super().__init__(**kwargs)
        self.mean = self.add_weight(
            shape=np.shape(mean), initializer="zeros", trainable=False, name="mean"
        )
        self.scale = self.add_weight(
            shape=np.shape(scale), initializer="ones", trainable=False, name="scale"
        )
        self.mean.assign(np.asarray(mean, np.float32))
        self.scale.assign(np.asarray(scale, np.float32))

    def call(self, inputs):
        x = ops.expand_dims(inputs, 0)
        return (x - ops.expand_dims(self.mean, 1)) / ops.expand_dims(self.scale, 1)


class ReplicaDropout(layers.Layer):
    """Dropout that draws one random byte per element when the rate allows it.

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

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        byte_threshold = self.rate * 256
        self._byte_threshold = int(byte_threshold) if byte_threshold.is_integer() else None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
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
        config.update(rate=self.rate, seed=self.seed)
        return config


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
    """(K, batch, 1) -> (batch, K): one column per replica, as users expect."""

    def call(self, inputs):
        return ops.transpose(ops.squeeze(inputs, -1))


def replica_standardisation(X, weights):
    """Weighted mean and standard deviation of every band, per replica.

    Replica k standardises as ``JointMorphZ(standardize=True)`` fitted on its
    own training rows would: the rows repeated ``weights[:, k]`` times
    (bootstrap counts; 0/1 for LOO masks), population standard deviation,
    a zero scale replaced by 1.

    Parameters
    ----------
    X : array-like of shape (n, n_features)
        Raw magnitudes.
    weights : array-like of shape (n, K)
        Non-negative counts; every column needs a positive sum.

    Returns
    -------
    mean, scale : ndarray of shape (K, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.replica import replica_standardisation
    >>> X = np.array([[1.0], [2.0], [4.0]])
    >>> mean, scale = replica_standardisation(X, np.array([[1, 0], [1, 1], [0, 1]]))
    >>> mean.ravel().tolist(), scale.ravel().tolist()
    ([1.5, 3.0], [0.5, 1.0])
    """
    X = np.asarray(X, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.shape[0] != X.shape[0]:
        raise ValueError(f"weights must have shape ({X.shape[0]}, K); got {weights.shape}.")
    total = weights.sum(axis=0)
    if np.any(total <= 0) or np.any(weights < 0):
        raise ValueError("weights must be non-negative with a positive sum in every replica.")
    mean = (weights.T @ X) / total[:, None]
    var = (weights.T @ X**2) / total[:, None] - mean**2
    scale = np.sqrt(np.clip(var, 0.0, None))
    # The one-pass variance leaves round-off where the true spread is zero.
    scale[scale <= 1e-12 * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean, scale


def _build(n_features, n_replicas, *, seed=None, input_mean=None, input_scale=None, **arch):
    """The user model (batch-major outputs) and the training model (logits, K-major)."""
    base_units = arch.get("base_units", (512,))
    base_dropout = arch.get("base_dropout", (0.5,))
    class_units = arch.get("class_units", (32, 32))
    class_dropout = arch.get("class_dropout", (0.1, 0.1))
    redshift_units = arch.get("redshift_units", ())
    unknown = set(arch) - {
        "base_units",
        "base_dropout",
        "class_units",
        "class_dropout",
        "redshift_units",
        "feed_class_probability",
    }
    if unknown:
        raise TypeError(f"Unknown architecture argument(s): {sorted(unknown)}.")

    inputs = keras.Input(shape=(n_features,), name="magnitudes")
    x = inputs
    if input_mean is not None:
        x = ReplicaStandardize(input_mean, input_scale, name="standardize")(x)

    def stack(x, units, dropouts, prefix, offset):
        for i, (n_units, rate) in enumerate(zip(units, dropouts, strict=True)):
            x = ReplicaDense(n_replicas, n_units, "relu", name=f"{prefix}_dense_{i}")(x)
            if rate > 0:
                x = ReplicaDropout(rate, seed=None if seed is None else seed + offset + i)(x)
        return x

    base = stack(x, base_units, base_dropout, "base", 0)
    cls = stack(base, class_units, class_dropout, "class", 100)
    logit = ReplicaDense(n_replicas, 1, None, name="p_late")(cls)
    p_late = layers.Activation("sigmoid")(logit)
    z_in = base
    for i, n_units in enumerate(redshift_units):
        z_in = ReplicaDense(n_replicas, n_units, "relu", name=f"redshift_dense_{i}")(z_in)
    if arch.get("feed_class_probability", True):
        z_in = [z_in, p_late]
    redshift = ReplicaDense(n_replicas, 1, None, name=REDSHIFT_LAYER)(z_in)
    model = keras.Model(
        inputs,
        {"p_late": _ToBatchMajor()(p_late), "redshift": _ToBatchMajor()(redshift)},
        name="replica_joint_morph_z",
    )
    trainer = keras.Model(inputs, [logit, redshift], name="replica_trainer")
    return model, trainer


def build_replica_network(n_features, n_replicas, *, seed=None, **architecture):
    """The joint network of :func:`skphotoz.network.build_joint_network`, K times.

    Parameters
    ----------
    n_features, n_replicas : int
    seed : int or None
        Seed of the dropout layers; masks are drawn per element, so
        independently for every replica.
    **architecture
        ``base_units`` etc. as in :func:`~skphotoz.network.build_joint_network`,
        plus ``input_mean``/``input_scale`` (K, n_features) for per-replica
        standardisation of raw magnitudes.

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (batch, K), "redshift": (batch, K)}``.

    Examples
    --------
    >>> from skphotoz.replica import build_replica_network
    >>> model = build_replica_network(5, 3, base_units=(8,), class_units=(4,), class_dropout=(0.1,))
    >>> tuple(model.get_layer("redshift").kernel.shape)  # 8 base outputs + p, per replica
    (3, 9, 1)
    """
    return _build(n_features, n_replicas, seed=seed, **architecture)[0]


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
        variable.assign(stacked.reshape(variable.shape))


def train_replicas(
    X,
    late,
    redshift,
    weights,
    *,
    epochs=300,
    batch_size=64,
    learning_rate=1e-3,
    lr_decay_floor=0.1,
    redshift_loss_weight=1.0,
    seed=0,
    jit_compile="auto",
    verbose=0,
    input_mean=None,
    input_scale=None,
    initial_weights=None,
    **architecture,
):
    """Train K replicas of the joint network, replica k with sample weights ``weights[:, k]``.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        Magnitudes: raw when ``input_mean`` is given, otherwise already
        standardised (one standardisation shared by every replica).
    late : ndarray of shape (n,)
        1 for late type, 0 for early type.
    redshift : ndarray of shape (n,)
    weights : ndarray of shape (n, K)
        Per-galaxy, per-replica weights: 0/1 for LOO masks, counts for
        bootstrap resamples.
    epochs, batch_size, learning_rate, lr_decay_floor, redshift_loss_weight
        As in :class:`skphotoz.JointMorphZ` with ``protocol="fixed"``
        (``redshift_loss_weight="auto"`` resolves as it does there).
    seed : int
        Seeds initialisation, dropout and the batch order.
    jit_compile : bool or "auto"
        XLA compilation: True compiles each whole epoch, False nothing;
        "auto" compiles the whole epoch on a GPU and only the fused optimizer
        update on a CPU (where XLA's batched matmuls are slower).
    verbose : int
        1 shows a progress bar over epochs.
    input_mean, input_scale : ndarray of shape (K, n_features), optional
        Per-replica z-scoring applied inside the model (see
        :func:`replica_standardisation`); ``X`` is then raw magnitudes, in
        training and in :func:`predict_replicas`.
    initial_weights : list of ndarray, or list of such lists, optional
        Start from the weights of a ``build_joint_network`` model
        (``model.get_weights()``), one list for all replicas or one per
        replica; used to check replicas against single fits.
    **architecture
        ``base_units`` etc., as in :func:`skphotoz.network.build_joint_network`.

    Returns
    -------
    keras.Model
        Outputs ``{"p_late": (n, K), "redshift": (n, K)}``.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.replica import predict_replicas, train_replicas
    >>> rng = np.random.default_rng(0)
    >>> X, late, z = rng.normal(size=(40, 3)), rng.random(40) < 0.5, rng.random(40)
    >>> model = train_replicas(X, late, z, np.ones((40, 2)), epochs=2, batch_size=16,
    ...                        base_units=(8,), base_dropout=(0.0,), class_units=(4,),
    ...                        class_dropout=(0.0,))
    >>> [a.shape for a in predict_replicas(model, X)]
    [(40, 2), (40, 2)]
    """
    X = np.asarray(X, dtype=np.float32)
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 2 or weights.shape[0] != X.shape[0]:
        raise ValueError(f"weights must have shape ({X.shape[0]}, K); got {weights.shape}.")
    if (input_mean is None) != (input_scale is None):
        raise ValueError("Give both input_mean and input_scale, or neither.")
    n, n_replicas = weights.shape
    if input_mean is not None:
        for name, arr in (("input_mean", input_mean), ("input_scale", input_scale)):
            if np.shape(arr) != (n_replicas, X.shape[1]):
                raise ValueError(
                    f"{name} must have shape ({n_replicas}, {X.shape[1]}); got {np.shape(arr)}."
                )
    keras.utils.set_random_seed(seed)
    model, trainer = _build(
        X.shape[1],
        n_replicas,
        seed=seed,
        input_mean=input_mean,
        input_scale=input_scale,
        **architecture,
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
    data = {
        "X": np.concatenate([X, np.zeros((pad, X.shape[1]), np.float32)]),
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
    redshift_loss_weight = effective_redshift_loss_weight(redshift_loss_weight, "fixed")
    run_epoch = _tensorflow_epoch(trainer, optimizer, data, redshift_loss_weight, jit_compile)
    epoch_range = range(epochs)
    if verbose:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc=f"{n_replicas} replicas", unit="epoch")
    for epoch in epoch_range:
        run_epoch(orders[epoch], np.float32(rates[epoch]))
    return model


def _replica_loss(logit, z_pred, late, redshift, weights, n_real, redshift_loss_weight):
    """Sum over replicas of each replica's Keras-weighted BCE + MSE for one batch.

    ``logit``/``z_pred`` are (K, batch, 1); targets (batch,); ``weights``
    (batch, K). The BCE is computed from the logit, as Keras does for a
    sigmoid output.
    """
    logit = ops.transpose(ops.squeeze(logit, -1))
    z_pred = ops.transpose(ops.squeeze(z_pred, -1))
    t = ops.expand_dims(late, 1)
    bce = ops.relu(logit) - logit * t + ops.log1p(ops.exp(-ops.abs(logit)))
    mse = ops.square(z_pred - ops.expand_dims(redshift, 1))
    return ops.sum(weights * (bce + redshift_loss_weight * mse)) / n_real


def _tensorflow_epoch(trainer, optimizer, data, redshift_loss_weight, jit_compile):
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
    rlw = float(redshift_loss_weight)
    if jit_compile == "auto":
        # XLA:CPU runs these batched matmuls about 2x slower than TensorFlow's
        # oneDNN kernels (measured in benchmarks/results_replica.md), so on a
        # CPU only the optimizer update, pure elementwise work over every
        # parameter, is fused by XLA; on a GPU the whole epoch is compiled.
        whole = bool(tf.config.list_physical_devices("GPU"))
        fuse_update = True
    else:
        whole = fuse_update = bool(jit_compile)

    @tf.function(jit_compile=fuse_update and not whole)
    def update(grads):
        optimizer.apply(grads, variables)

    @tf.function(jit_compile=whole)
    def run_epoch(order, rate):
        optimizer.learning_rate.assign(rate)
        for j in tf.range(tf.shape(order)[0]):
            idx = order[j]
            batch = {k: tf.gather(v, idx) for k, v in tensors.items()}
            n_real = tf.reduce_sum(batch["real"])
            with tf.GradientTape() as tape:
                logit, z_pred = trainer(batch["X"], training=True)
                loss = _replica_loss(
                    logit, z_pred, batch["late"], batch["redshift"], batch["weights"], n_real, rlw
                )
            update(tape.gradient(loss, variables))

    return run_epoch


def train_estimator_replicas(estimator, X, late, redshift, weights, *, seed, verbose=0):
    """:func:`train_replicas` with the settings of a fixed-protocol estimator.

    ``estimator`` is a :class:`skphotoz.JointMorphZ` or
    :class:`skphotoz.ReplicaEnsemble`: its epochs, batch size, learning-rate
    schedule, loss weights and layout are those of every replica. With
    ``estimator.standardize``, replica k z-scores with the weighted statistics
    of its own training rows, exactly as the estimator fitted on them would;
    otherwise the scaling is the identity.
    """
    if estimator.standardize:
        mean, scale = replica_standardisation(X, weights)
    else:
        mean = np.zeros((weights.shape[1], np.shape(X)[1]))
        scale = np.ones_like(mean)
    return train_replicas(
        X,
        late,
        redshift,
        weights,
        epochs=estimator.epochs,
        batch_size=estimator.batch_size,
        learning_rate=estimator.learning_rate,
        lr_decay_floor=estimator.lr_decay_floor,
        # Replicas train only the fixed protocol (callers refuse the others).
        redshift_loss_weight=effective_redshift_loss_weight(
            estimator.redshift_loss_weight, "fixed"
        ),
        seed=seed,
        verbose=verbose,
        input_mean=mean,
        input_scale=scale,
        **estimator._network_kwargs(),
    )


def predict_replicas(model, X, chunk=None):
    """P(late type) and redshift of every replica.

    Parameters
    ----------
    model : keras.Model
        From :func:`train_replicas`.
    X : array-like of shape (n, n_features)
        As in training (raw magnitudes when the model standardises).
    chunk : int, optional
        Rows per forward call; by default sized to the number of replicas.

    Returns
    -------
    p_late, redshift : ndarray of shape (n, K)
    """
    X = np.asarray(X, dtype=np.float32)
    n_replicas = model.get_layer(REDSHIFT_LAYER).kernel.shape[0]
    widest = max(int(w.shape[-1]) for w in model.trainable_weights)
    if chunk is None:
        chunk = max(64, _PREDICT_FLOATS // (n_replicas * widest))
    p_out, z_out = [], []
    for start in range(0, len(X), chunk):
        # predict_on_batch runs Keras' compiled predict function: about 1.6x
        # the throughput of an eager model call (benchmarks/results_replica.md).
        out = model.predict_on_batch(X[start : start + chunk])
        p_out.append(np.asarray(out["p_late"]))
        z_out.append(np.asarray(out["redshift"]))
    if not p_out:
        return np.empty((0, n_replicas), np.float32), np.empty((0, n_replicas), np.float32)
    return np.concatenate(p_out), np.concatenate(z_out)


def redshift_layer_weights(model):
    """Kernel of each replica's final redshift neuron, shape (K, n_inputs).

    For Architecture 1 the last input is p (the class probability): these
    are the concatenate-layer weights analysed in the paper's Sect. 3.3.
    """
    return ops.convert_to_numpy(model.get_layer(REDSHIFT_LAYER).kernel)[:, :, 0]
