"""LOOCV on 370 galaxies: naive per-fold Keras fits vs replica training, in one run.

* naive: ``JointMorphZ(protocol="fixed")`` fitted on each LOO training set;
  ``--naive-folds`` folds are timed and the mean is extrapolated to all 370;
* replica: all 370 LOO fits as replicas of one network
  (:func:`skphotoz.nn.replica.train_replicas`, per-replica standardisation).

Both paths then run the same stratified 5-fold CV (5 naive fits, 5 replicas),
so their out-of-fold metrics can be compared on all 370 galaxies; the
replica LOO out-of-fold metrics are printed too.

    python benchmarks/bench_replica_loo.py [--epochs 300] [--naive-folds 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneOut

from skphotoz import JointMorphZ
from skphotoz.datasets import load_cnoc2, load_demo, shared_data_home
from skphotoz.metrics import classification_metrics, photoz_metrics
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.nn.base import replica_standardisation
from skphotoz.nn.replica import predict_replicas, train_replicas

N_GALAXIES = 370
#: Both paths use the same MSE weight: 1, the value of the recorded run
#: (benchmarks/results_replica.md), made before JointMorphZ's default became "auto".
REDSHIFT_LOSS_WEIGHT = 1.0


def load_sample(seed=0):
    """370 CNOC2 galaxies when the shared data are present, else the demo sample."""
    if shared_data_home() is not None:
        X, y = load_cnoc2(return_X_y=True)
        source = "CNOC2 (load_cnoc2)"
    else:
        X, y = load_demo(n_samples=N_GALAXIES, return_X_y=True)
        source = "load_demo"
    rows = np.random.default_rng(seed).choice(len(X), N_GALAXIES, replace=False)
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True), source


def metrics(late, p_late, z_spec, z_phot):
    cls, pz = classification_metrics(late, p_late), photoz_metrics(z_spec, z_phot)
    return {
        "sigma_nmad": pz["sigma_nmad"],
        "outlier_fraction": pz["outlier_fraction"],
        "roc_auc": cls["roc_auc"],
    }


def naive_fold(X, y, train, test, epochs, seed):
    start = time.perf_counter()
    model = JointMorphZ(
        protocol="fixed",
        epochs=epochs,
        redshift_loss_weight=REDSHIFT_LOSS_WEIGHT,
        random_state=seed,
    )
    model.fit(X.iloc[train], y.iloc[train])
    p_late = model.predict_proba(X.iloc[test])[:, 1]
    return p_late, model.predict_redshift(X.iloc[test]), time.perf_counter() - start


def replica_oof(X, late, z, splits, epochs, seed):
    """Train one replica per split; return out-of-fold p, z and the wall time."""
    weights = np.zeros((len(X), len(splits)))
    for k, (train, test) in enumerate(splits):
        weights[train, k] = 1.0
        assert not np.isin(test, train).any()
    start = time.perf_counter()
    mean, scale = replica_standardisation(X, weights)
    model = train_replicas(
        X,
        late,
        z,
        weights,
        epochs=epochs,
        redshift_loss_weight=REDSHIFT_LOSS_WEIGHT,
        seed=seed,
        input_mean=mean,
        input_scale=scale,
    )
    p_all, z_all = predict_replicas(model, X)
    seconds = time.perf_counter() - start
    p_oof, z_oof = np.empty(len(X)), np.empty(len(X))
    for k, (_, test) in enumerate(splits):
        p_oof[test], z_oof[test] = p_all[test, k], z_all[test, k]
    return p_oof, z_oof, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--naive-folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X, y, source = load_sample(args.seed)
    Xa = X.to_numpy(np.float64)
    late = (y["type"] == "LT").to_numpy()
    z = y["redshift"].to_numpy(np.float64)
    print(f"data: {source}, {len(X)} galaxies, {X.shape[1]} bands, {args.epochs} epochs")

    loo = list(LeaveOneOut().split(Xa))
    picks = np.random.default_rng(args.seed).choice(len(loo), args.naive_folds, replace=False)
    naive_times = []
    for i, fold in enumerate(picks):
        train, test = loo[fold]
        _, _, seconds = naive_fold(X, y, train, test, args.epochs, args.seed + i)
        naive_times.append(seconds)
        print(f"naive LOO fold {fold}: {seconds:.1f} s")
    naive_total = float(np.mean(naive_times)) * len(loo)
    print(f"naive LOO, extrapolated to {len(loo)} folds: {naive_total:.0f} s")

    p_loo, z_loo, replica_seconds = replica_oof(Xa, late, z, loo, args.epochs, args.seed)
    print(f"replica LOO, {len(loo)} replicas: {replica_seconds:.1f} s wall")
    print(f"speed-up (naive / replica): {naive_total / replica_seconds:.1f}x")

    cv = list(StratifiedTypeKFold(5, shuffle=True, random_state=args.seed).split(X, y))
    p_naive, z_naive = np.empty(len(X)), np.empty(len(X))
    start = time.perf_counter()
    for i, (train, test) in enumerate(cv):
        p_naive[test], z_naive[test], _ = naive_fold(X, y, train, test, args.epochs, i)
    naive_cv_seconds = time.perf_counter() - start
    p_rep, z_rep, rep_cv_seconds = replica_oof(Xa, late, z, cv, args.epochs, args.seed)
    rows = {
        "naive 5-fold": metrics(late, p_naive, z, z_naive),
        "replica 5-fold": metrics(late, p_rep, z, z_rep),
        "replica LOO": metrics(late, p_loo, z, z_loo),
    }
    print(f"5-fold CV wall: naive {naive_cv_seconds:.1f} s, replica {rep_cv_seconds:.1f} s")
    print("out-of-fold metrics on all galaxies:")
    print(pd.DataFrame(rows).T.round(4).to_string())


if __name__ == "__main__":
    main()
