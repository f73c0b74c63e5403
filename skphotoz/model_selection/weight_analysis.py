"""Bootstrap analysis of the concatenate-layer weights (de Diego et al. 2021, Sect. 3.3, Fig. 8).

Does the redshift neuron use the class probability p? The paper trains the
final network on all galaxies 1000 times with bootstrap resamples and looks
at the weights of the final redshift neuron (the layer fed by the
concatenation of the base module's outputs and p). Each run's weights are
standardised by that run's layer mean and standard deviation; a weight
that is no different from the others is then ~N(0, 1) over runs, while the
weight attached to p came out shifted (median 0.66 +/- 0.05) and
platykurtic (Pearson kurtosis 1.81 +/- 0.04), with 41% / 13% of runs above
1 / 2 sigma, against 0.11, 3.1 and 15% / 1% for a random neuron.

The runs are replicas (:mod:`skphotoz.nn.replica`) whose sample weights are
the bootstrap counts, so 1000 runs train as a few vectorised Keras calls.

The analysis reads whatever feeds the redshift neuron: with the paper's
branch (``redshift_units=()``, as the paper's Fig. 8) the base module's
units and p; with hidden redshift layers (JointMorphZ's default outside
``protocol="paper"``) the last hidden layer's units and p.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.utils import Bunch, check_random_state
from tqdm.auto import tqdm

from skphotoz.model_selection.out_of_fold import (
    joint_training_data,
    replica_chunks,
    replica_settings,
    replica_weights,
    train_fold_replicas,
)
from skphotoz.model_selection.split import BootstrapSplit

#: Rows of the statistics table.
WEIGHT_GROUPS = ("class_probability", "random_neuron", "layer")


def _median(x, axis=-1):
    return np.median(x, axis=axis)


def _pearson_kurtosis(x, axis=-1):
    return stats.kurtosis(x, axis=axis, fisher=False)


def _redshift_weights(estimator, settings, X, y, splits, seed, verbose):
    from skphotoz.nn.replica import redshift_layer_weights

    model, _ = train_fold_replicas(estimator, settings, X, y, splits, seed=seed, verbose=verbose)
    return redshift_layer_weights(model)


def weight_statistics(values, *, n_resamples=1000, random_state=None):
    """Median, Pearson kurtosis (normal = 3) and tail fractions of standardised weights.

    Parameters
    ----------
    values : array-like of shape (n,)
        Standardised weights.
    n_resamples : int, default=1000
        Bootstrap resamples for the errors of the median and the kurtosis
        (``scipy.stats.bootstrap`` standard errors).
    random_state : int, RandomState instance or None

    Returns
    -------
    dict with ``median``, ``median_error``, ``kurtosis``, ``kurtosis_error``,
    ``fraction_above_1_sigma`` and ``fraction_above_2_sigma`` (one-sided,
    weight > 1 and > 2, as the paper counts them: 15.9% and 2.3% for a
    normal distribution) and ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.model_selection.weight_analysis import weight_statistics
    >>> row = weight_statistics(np.random.default_rng(0).normal(size=4000), random_state=0)
    >>> bool(abs(row["kurtosis"] - 3) < 0.2), round(row["fraction_above_1_sigma"], 2)
    (True, 0.16)
    """
    values = np.asarray(values, dtype=float)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    generator = np.random.default_rng(seed)
    row = {"n": len(values)}
    for name, func in (("median", _median), ("kurtosis", _pearson_kurtosis)):
        row[name] = float(func(values))
        boot = stats.bootstrap(
            (values,),
            func,
            n_resamples=n_resamples,
            vectorized=True,
            method="percentile",
            rng=generator,
        )
        row[f"{name}_error"] = float(boot.standard_error)
    row["fraction_above_1_sigma"] = float(np.mean(values > 1))
    row["fraction_above_2_sigma"] = float(np.mean(values > 2))
    return row


def bootstrap_weight_analysis(
    X, y, *, n_runs=1000, estimator_params=None, n_jobs=None, random_state=None, verbose=0
):
    """Train on all galaxies ``n_runs`` times (bootstrap counts) and analyse the redshift neuron.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_bands)
    y : joint target ``[type, redshift]``
    n_runs : int, default=1000
        Bootstrap training runs (the paper's 1000), stratified by type.
    estimator_params : dict, optional
        :class:`skphotoz.JointMorphZ` parameters (architecture, epochs, ...).
        The schedule must be ``protocol="fixed"`` (the paper's final-run mode
        without a validation set) and ``feed_class_probability`` True.
    n_jobs : int or None
        Replica chunks in parallel through joblib.
    random_state : int, RandomState instance or None
        Seeds the resamples, the replicas and the choice of the random neuron.
    verbose : int, default=0
        Progress bar over replica chunks (2: also over epochs).

    Returns
    -------
    Bunch with

    * ``statistics``: DataFrame, index ``class_probability``,
      ``random_neuron``, ``layer``; columns of :func:`weight_statistics`;
    * ``class_weights`` (n_runs,): the standardised weight of the p input;
    * ``random_neuron_weights`` (n_runs,): that of one other input of the
      neuron, drawn at random (``random_neuron`` is its index): a base-module
      unit in the paper's layout, a unit of the last hidden redshift layer
      otherwise;
    * ``layer_weights`` (n_inputs,): the whole standardised layer of run 0
      (the paper plots a single run: the shape does not change from run to
      run);
    * ``raw_weights`` (n_runs, n_inputs): the unstandardised kernels (the
      last input is p), ``bootstrap_counts`` (n_samples, n_runs).

    Examples
    --------
    >>> import numpy as np
    >>> from skphotoz.model_selection.weight_analysis import bootstrap_weight_analysis
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(22, 1, size=(40, 4))
    >>> y = np.column_stack([np.where(X[:, 0] > 22, "LT", "ET"), np.abs(X[:, 1] - 21) / 4])
    >>> params = {"base_units": (8,), "base_dropout": (0.0,), "class_units": (4,),
    ...           "class_dropout": (0.0,), "redshift_units": (), "epochs": 2, "batch_size": 16}
    >>> result = bootstrap_weight_analysis(X, y, n_runs=5, estimator_params=params,
    ...                                    random_state=0)
    >>> result.statistics.index.tolist(), result.raw_weights.shape
    (['class_probability', 'random_neuron', 'layer'], (5, 9))
    """
    from skphotoz.nn.estimator import JointMorphZ

    estimator = JointMorphZ(**(estimator_params or {}))
    if estimator.protocol != "fixed":
        raise ValueError(
            f"The weight analysis trains on all galaxies with no validation set, so it needs "
            f"protocol='fixed'; got protocol={estimator.protocol!r}."
        )
    if not estimator.feed_class_probability:
        raise ValueError(
            "feed_class_probability=False: the redshift neuron has no class-probability input "
            "to analyse."
        )
    if n_runs < 2:
        raise ValueError(f"n_runs must be at least 2 for a distribution; got {n_runs}.")
    Xv, _, _ = joint_training_data(estimator, X, y)
    rng = check_random_state(random_state)
    splitter = BootstrapSplit(n_runs, random_state=rng.randint(np.iinfo(np.int32).max))
    splits = list(splitter.split(Xv, y))
    settings = replica_settings(estimator, replicas=True)
    chunks = replica_chunks(n_runs)
    seeds = rng.randint(np.iinfo(np.int32).max, size=len(chunks))
    jobs = (
        delayed(_redshift_weights)(
            estimator, settings, X, y, [splits[k] for k in c], int(s), int(verbose > 1)
        )
        for c, s in zip(chunks, seeds, strict=True)
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    raw = np.concatenate(
        list(
            tqdm(
                outputs, total=len(chunks), disable=None if verbose else True, desc="replica chunks"
            )
        )
    ).astype(np.float64)

    # Each run standardised by its own layer statistics (paper Sect. 3.3).
    standardised = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)
    random_neuron = int(rng.randint(raw.shape[1] - 1))
    groups = {
        "class_probability": standardised[:, -1],
        "random_neuron": standardised[:, random_neuron],
        "layer": standardised[0],
    }
    statistics = pd.DataFrame(
        {name: weight_statistics(values, random_state=rng) for name, values in groups.items()}
    ).T
    statistics["n"] = statistics["n"].astype(int)
    return Bunch(
        statistics=statistics,
        class_weights=groups["class_probability"],
        random_neuron_weights=groups["random_neuron"],
        layer_weights=groups["layer"],
        random_neuron=random_neuron,
        raw_weights=raw,
        bootstrap_counts=replica_weights(splits, len(Xv)),
    )
