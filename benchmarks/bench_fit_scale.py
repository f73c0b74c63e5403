"""Training at survey scale: fit time, peak memory and quality against n.

Issue 13. SDSS+2MASS training set (ugriz, types from template fits at the
spectroscopic redshift, as the demo sample's), n = 1k, 3k, 10k, 30k training
galaxies and a fixed held-out set of 2,000 (30k: a bootstrap resample of the
28,291 others). Contenders:

* ``keras``: ``JointMorphZ(trainer="keras")``, Keras' own loop (the path
  before issue 13);
* ``compiled``: ``JointMorphZ()``, the default: the replica trainer with one
  replica, each epoch one XLA program;
* schedule variants of the compiled path (``--variants``): fewer epochs, a
  larger batch with the learning rate scaled by sqrt(batch / 64);
* ``hgb``: the HistGradientBoosting pair on magnitudes + colours.

Every fit runs in its own process, so that its peak resident memory
(``ru_maxrss``) is its own. Keras' loop is timed at the smaller n only (it
takes ~20 minutes at 30k); its throughput in galaxy-epochs per second does
not depend on n, which is what the ratio uses.

    python benchmarks/bench_fit_scale.py [--sizes 1000,3000,10000,30000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

VARIANTS = {
    "keras": {"trainer": "keras"},
    "compiled": {},
    "compiled, 100 epochs": {"epochs": 100},
    "compiled, batch 256": {"batch_size": 256, "learning_rate": 2e-3},
}


def _sample(n_train, seed=0, n_test=2000, load_seed=None):
    """The first ``n_train`` of a fixed random order of the 30,291 galaxies with
    ugriz, and a fixed held-out set of ``n_test``; beyond the 28,291 left for
    training, the training set is a bootstrap resample of them. ``load_seed``
    (default ``seed``) is the catalog loader's ``random_state``."""
    from skphotoz.datasets import load_sdss_2mass

    load_seed = seed if load_seed is None else load_seed
    X, y = load_sdss_2mass(label="template", random_state=load_seed, return_X_y=True)
    X, y = np.asarray(X, dtype=float), np.asarray(y[["type", "redshift"]], dtype=object)
    order = np.random.default_rng(seed).permutation(len(X))
    test, pool = order[:n_test], order[n_test:]
    if n_train <= len(pool):
        train = pool[:n_train]
    else:
        train = np.random.default_rng(seed + 1).choice(pool, size=n_train, replace=True)
    return X[train], y[train], X[test], y[test]


def one_run(n_train, contender):
    """Fit one contender in this process; print a JSON line with time, memory and quality."""
    from sklearn.metrics import roc_auc_score

    import skphotoz.nn.replica  # noqa: F401  (TensorFlow's import is not part of a fit)
    from skphotoz import JointMorphZ
    from skphotoz.baselines import GradientBoostingPair
    from skphotoz.metrics import outlier_fraction, sigma_nmad

    X, y, X_test, y_test = _sample(n_train)
    if contender == "hgb":
        model = GradientBoostingPair(random_state=0)
        epochs = 0
    else:
        params = {"random_state": 0, **VARIANTS[contender]}
        model = JointMorphZ(**params)
        epochs = model.epochs
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    p_late = model.predict_proba(X_test)[:, 1]
    z_phot = model.predict_redshift(X_test)
    z_spec = y_test[:, 1].astype(float)
    late = y_test[:, 0] == "LT"
    print(
        json.dumps(
            {
                "n": n_train,
                "contender": contender,
                "seconds": seconds,
                "galaxy_epochs_per_s": n_train * epochs / seconds if epochs else None,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "sigma_nmad": sigma_nmad(z_spec, z_phot),
                "outliers": outlier_fraction(z_spec, z_phot),
                "auc": roc_auc_score(late, p_late),
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000,30000")
    parser.add_argument("--variants", default="compiled, 100 epochs|compiled, batch 256")
    parser.add_argument("--keras-max-n", type=int, default=3000)
    parser.add_argument("--one", nargs=2, metavar=("N", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(int(args.one[0]), args.one[1])
        return
    rows = []
    for n in map(int, args.sizes.split(",")):
        contenders = ["compiled", "hgb"] + [v for v in args.variants.split("|") if v and n >= 10000]
        if n <= args.keras_max_n:
            contenders.insert(0, "keras")
        for contender in contenders:
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), contender],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(row, flush=True)
    keras_rate = np.mean([r["galaxy_epochs_per_s"] for r in rows if r["contender"] == "keras"])
    print(
        "\n| n | contender | fit s | galaxy-epochs/s | x keras | peak RSS MB | sigma_NMAD "
        "| outliers | AUC |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rate = r["galaxy_epochs_per_s"]
        ratio = f"{rate / keras_rate:.1f}" if rate else "-"
        print(
            f"| {r['n']} | {r['contender']} | {r['seconds']:.1f} | "
            f"{rate or 0:,.0f} | {ratio} | {r['peak_rss_mb']:.0f} | {r['sigma_nmad']:.4f} | "
            f"{r['outliers']:.4f} | {r['auc']:.4f} |"
        )


if __name__ == "__main__":
    main()
