"""Input layers shared by the Keras network and the replica network.

:class:`MagnitudeEncoding` turns raw magnitudes into the network's input, so
the standardisation and the missing-band encoding live inside the model and
travel with its weights. :class:`BandDropout` hides observed bands at random
during training, so a network trained on gappy photometry learns to predict
from any subset of its bands.

With ``colours`` the encoding first appends colours to the magnitudes
(adjacent bands, ``m_j - m_(j+1)``, or every pair:
:func:`skphotoz.nn.spec.colour_pairs`), so a colour is absent when either
band is; a colour whose bluer band was not detected (+inf) counts as
not detected (a red limit), any other non-finite colour as absent.

Missing-band encoding (``indicators=True``), three columns per feature:

* the z-scored magnitude, ``(m - mean) / scale``, or 0 (the training mean)
  where the band has no magnitude;
* ``observed``: 1 where the band has a finite magnitude;
* ``not_detected``: 1 where the magnitude is ``+inf``, which skphotoz uses for
  a non-detection (the source was looked for and is fainter than the limit;
  :class:`skphotoz.preprocessing.SentinelToNaN` maps catalog codes to it),
  as opposed to NaN, a band that was not observed at all. Approximation: the
  limit itself is not an input; the network learns what "not detected in
  this band" means from the training galaxies.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from skphotoz.nn.spec import check_colours, colour_pairs


class MagnitudeEncoding(layers.Layer):
    """Standardise raw magnitudes, per replica or for one network, and encode gaps.

    Parameters
    ----------
    mean, scale : array-like of shape (n_bands,) or (K, n_bands)
        Training statistics of the observed magnitudes. 2-D statistics give a
        replica axis: the output is (K, batch, width).
    indicators : bool, default=False
        Append the ``observed`` and ``not_detected`` columns (see the module
        docstring); without them a non-finite magnitude is an error upstream.
    colours : False, True, "adjacent" or "all", default=False
        Append colours (:func:`skphotoz.nn.spec.colour_pairs`) to the magnitudes first; ``mean`` and
        ``scale`` then cover magnitudes and colours
        (:func:`skphotoz.nn.base.network_features` gives the same features in
        NumPy, for the statistics).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.layers import MagnitudeEncoding
    >>> layer = MagnitudeEncoding([20.0, 21.0], [1.0, 2.0], indicators=True)
    >>> np.asarray(layer(np.array([[21.0, np.nan], [np.inf, 25.0]], "float32"))).tolist()
    [[1.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 1.0, 1.0, 0.0]]
    """

    def __init__(self, mean, scale, indicators=False, colours=False, **kwargs):
        super().__init__(**kwargs)
        mean = np.asarray(mean, np.float32)
        self.indicators = bool(indicators)
        self.colours = check_colours(colours)
        self.mean = self.add_weight(
            shape=mean.shape, initializer="zeros", trainable=False, name="mean"
        )
        self.scale = self.add_weight(
            shape=mean.shape, initializer="ones", trainable=False, name="scale"
        )
        self.mean.assign(mean)
        self.scale.assign(np.asarray(scale, np.float32))

    def call(self, inputs):
        blue, red = colour_pairs(inputs.shape[-1], self.colours)
        if len(blue):
            colours = ops.take(inputs, blue, axis=-1) - ops.take(inputs, red, axis=-1)
            inputs = ops.concatenate([inputs, colours], axis=-1)
        mean, scale = self.mean, self.scale
        if len(mean.shape) == 2:  # a replica axis: (K, f) -> (K, 1, f)
            mean, scale = ops.expand_dims(mean, 1), ops.expand_dims(scale, 1)
            if len(inputs.shape) == 2:  # one input shared by every replica
                inputs = ops.expand_dims(inputs, 0)
        observed = ops.isfinite(inputs)
        # Substitute before dividing: a NaN that entered the arithmetic would
        # survive the where() in the gradient of anything upstream. Without
        # indicators a gap (which training never had) reads as the mean.
        safe = ops.where(observed, inputs, mean)
        values = (safe - mean) / scale
        if not self.indicators:
            return values
        not_detected = ops.cast(ops.logical_and(ops.isinf(inputs), inputs > 0), values.dtype)
        observed = ops.cast(observed, values.dtype)
        shape = ops.shape(values)
        # Broadcasting replicas against a shared input: give every part one shape.
        observed = ops.broadcast_to(observed, shape)
        not_detected = ops.broadcast_to(not_detected, shape)
        return ops.concatenate([values, observed, not_detected], axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            mean=ops.convert_to_numpy(self.mean).tolist(),
            scale=ops.convert_to_numpy(self.scale).tolist(),
            indicators=self.indicators,
            colours=self.colours,
        )
        return config


def _fmix32(h):
    """MurmurHash3's 32-bit finaliser: a bijection of uint32 with full avalanche."""
    import tensorflow as tf

    shift = tf.bitwise.right_shift
    h = h ^ shift(h, tf.constant(16, tf.uint32))
    h = h * tf.constant(0x85EBCA6B, tf.uint32)
    h = h ^ shift(h, tf.constant(13, tf.uint32))
    h = h * tf.constant(0xC2B2AE35, tf.uint32)
    return h ^ shift(h, tf.constant(16, tf.uint32))


def counter_hash_keep(inputs, rate, seed_generator):
    """Keep bits of a dropout mask shaped like ``inputs``: a keyed hash of each flat index.

    Written by hand because XLA:CPU expands the stateless Philox and
    ThreeFry generators into code 15x and 2x slower than a ReLU pass on
    the same tensor (benchmarks/results_replica.md), whereas this is a few
    integer operations that XLA fuses into the neighbouring elementwise work.
    For a given step seed the hash is a bijection of the flat index (two
    keyed rounds of :func:`_fmix32`), so no two elements of a mask share a
    hash input; every step draws a new seed. An element is kept when its 32
    hash bits are at least ``rate * 2**32``, so the keep probability is
    ``1 - rate`` to within 2**-32. It is a statistical hash, not a
    cryptographic generator, which dropout does not need. TensorFlow
    backend only (the replica trainer's compiled epoch).
    """
    import tensorflow as tf

    key = tf.bitcast(tf.cast(seed_generator.next(), tf.int32), tf.uint32)
    width = inputs.shape[-1]
    rows = tf.size(inputs) // width
    # The flat index is built as (row * width + key) + column, so that it
    # depends on the step's key before it is broadcast to the full shape:
    # a key-free index is loop-invariant, and XLA would hoist it out of the
    # epoch loop into a 4-byte-per-element tensor read back at every step.
    row_start = tf.bitcast(tf.range(rows) * width, tf.uint32) + _fmix32(key[0])
    index = tf.reshape(row_start, [-1, 1]) + tf.bitcast(tf.range(width), tf.uint32)
    bits = _fmix32(_fmix32(tf.reshape(index, tf.shape(inputs))) ^ _fmix32(key[1]))
    return bits >= tf.constant(min(int(rate * 2**32), 2**32 - 1), tf.uint32)


class BandDropout(layers.Layer):
    """Hide each band of each galaxy with probability ``rate`` during training.

    Works on raw magnitudes, before :class:`MagnitudeEncoding`: a hidden band
    becomes NaN, exactly as if it had not been observed, so its colours
    vanish with it. Masks are drawn per galaxy, per band and per step; with
    ``n_replicas`` a shared input gets an independent mask per replica and
    comes out as (K, batch, n_bands). At inference the layer is the identity.
    With ``counter_hash`` (the replica trainer's compiled epoch) the masks
    come from :func:`counter_hash_keep` instead of Keras' generator, which
    made band dropout cost 1.7 times the training time of a fit without it.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.nn.layers import BandDropout
    >>> x = np.full((1000, 2), 20.0, "float32")
    >>> out = np.asarray(BandDropout(0.25, seed=0)(x, training=True))
    >>> round(float(np.isnan(out).mean()), 1), bool(np.all(out[np.isfinite(out)] == 20))
    (0.2, True)
    """

    def __init__(self, rate, n_replicas=None, seed=None, counter_hash=False, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.n_replicas = n_replicas
        self.seed = seed
        self.counter_hash = bool(counter_hash)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.n_replicas and len(inputs.shape) == 2:
            inputs = ops.broadcast_to(
                ops.expand_dims(inputs, 0), (self.n_replicas, *ops.shape(inputs))
            )
        if self.counter_hash and keras.backend.backend() == "tensorflow":
            keep = counter_hash_keep(inputs, self.rate, self.seed_generator)
        else:
            keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs, ops.full_like(inputs, np.nan))

    def get_config(self):
        config = super().get_config()
        config.update(
            rate=self.rate,
            n_replicas=self.n_replicas,
            seed=self.seed,
            counter_hash=self.counter_hash,
        )
        return config
