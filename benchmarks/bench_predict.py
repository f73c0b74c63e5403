"""Prediction throughput of a fitted JointMorphZ on 10^6 galaxies (target >= 5e5 /s).

Measures, in one run and on the same rows:

* ``predict``: the public path (validation, standardisation, forward pass in
  65536-row chunks, labels), and its parts: input validation alone and the
  bare network calls at several chunk sizes;
* ``predict_partitions``: :func:`skphotoz.catalogs.predict.predict_partitions` on a parquet
  file (10 partitions), computed with dask's default threaded scheduler.

The network is the default Architecture 1 (fitted for one epoch: throughput
does not depend on how well it is trained).

    python benchmarks/bench_predict.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

from skphotoz import JointMorphZ
from skphotoz.catalogs.predict import predict_partitions
from skphotoz.datasets import load_cnoc2, load_demo, shared_data_home


def timed(fn, repeats=3):
    """Best of ``repeats`` wall times (the machine is shared) and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    if shared_data_home() is not None:
        X, y = load_cnoc2(return_X_y=True)
    else:
        X, y = load_demo(n_samples=2000, return_X_y=True)
    model = JointMorphZ(epochs=1, random_state=0).fit(X, y)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(X), args.rows)
    big = pd.DataFrame(
        X.to_numpy()[rows] + rng.normal(0, 0.05, (args.rows, X.shape[1])), columns=X.columns
    )
    n = len(big)
    print(f"{n} rows, {X.shape[1]} bands, default network; best of 3 runs each")

    seconds, _ = timed(lambda: model.predict(big))
    print(f"predict (public path):        {seconds:6.2f} s  {n / seconds:12,.0f} galaxies/s")
    seconds, _ = timed(lambda: model.predict_joint(big))
    print(f"predict_joint (p, z, flags):  {seconds:6.2f} s  {n / seconds:12,.0f} galaxies/s")
    seconds, _ = timed(lambda: model._check_X(big, reset=False))
    print(f"  of which input validation:  {seconds:6.2f} s")

    import keras

    Xs = ((big.to_numpy() - model.mean_) / model.scale_).astype(np.float32)
    for chunk in (8192, 65536, 262144, n):

        def bare(chunk=chunk):
            for start in range(0, n, chunk):
                out = model.model_(Xs[start : start + chunk], training=False)
                keras.ops.convert_to_numpy(out["redshift"])

        seconds, _ = timed(bare)
        rate = n / seconds
        print(f"  bare network, chunk {chunk:>7}: {seconds:6.2f} s  {rate:12,.0f} galaxies/s")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "catalog.parquet")
        import dask.dataframe as dd

        dd.from_pandas(big, npartitions=10).to_parquet(path)
        seconds, out = timed(lambda: predict_partitions(model, path).compute(), repeats=2)
        assert len(out) == n
        print(
            f"predict_partitions (parquet, 10 partitions, threads): {seconds:6.2f} s  "
            f"{n / seconds:12,.0f} galaxies/s"
        )


if __name__ == "__main__":
    main()
