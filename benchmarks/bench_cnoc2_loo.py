"""LOOCV on CNOC2: the joint network against separate networks, two simple pairs and templates.

The paper's comparison (its Table 7) on a real sample of the paper's size: a
type-stratified draw of 370 CNOC2 galaxies (UBVRI, spectral-class types), each
predicted by a model that never saw it.

* JointMorphZ (defaults): 370 leave-one-out fits, trained as one replica run.
* separate networks: ``JointMorphZ(shared_base=False,
  feed_class_probability=False)``, two sequential networks of the paper's
  size side by side, one for the type and one for z (de Diego et al. 2020):
  the model of ``skphotoz.baselines.SequentialPair``, with the same layout
  and fixed-epoch protocol, but trained by the compiled replica loop (370
  folds in one replica run, as fast as the joint network) instead of
  scikeras' Keras loop, which would take ~2.7 h for the 370 LOO folds. Its
  input is that of the JointMorphZ row (magnitudes and adjacent colours,
  where SequentialPair is fed magnitudes alone), so the two network rows
  differ only in what joint training shares: the base module and p.
* RF pair: a RandomForestClassifier for the type and a RandomForestRegressor
  for z, fitted independently in each of the 370 folds (the "sequential" pair
  the paper argues against).
* HGB pair: ``GradientBoostingPair`` (histogram gradient boosting on
  magnitudes and colours), the strongest simple peer, also refitted in each
  of the 370 folds through joblib (``--n-jobs``); each fit runs one OpenMP
  thread (~1.3 s for 369 galaxies on a loaded core, where two threads on two
  busy cores measured 20x slower), so the 370 fits take a few minutes.
* SED templates: SEDTemplateFitter (defaults; Bessell UBVRI with sedpy's
  Vega-to-AB offsets). It learns nothing from the training galaxies, so its
  leave-one-out predictions are its plain predictions.

Every metric gets a bootstrap error (``skphotoz.model_selection.evaluation.evaluate_predictions``);
the last row is each contender's wall-clock seconds.

    python benchmarks/bench_cnoc2_loo.py [--n-galaxies 370] [--epochs 300] [--n-jobs 2]
        [--contenders "JointMorphZ,HGB pair,..."]
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skphotoz import JointMorphZ, SEDTemplateFitter
from skphotoz.baselines.pairs import GradientBoostingPair, IndependentPair
from skphotoz.datasets import load_cnoc2
from skphotoz.model_selection.evaluation import evaluate_predictions, loo_evaluation

# Vega-to-AB offsets of the Bessell curves from sedpy's Vega spectrum, as
# benchmarks/bench_sed.py computes them.
BESSELL = ["bessell_U", "bessell_B", "bessell_V", "bessell_R", "bessell_I"]
FIGURES = ["accuracy", "true_early_type_rate", "true_late_type_rate", "roc_auc"]
FIGURES += ["accuracy_youden", "sigma_nmad", "std_delta_z", "outlier_fraction", "mse"]

#: The contenders, in the table's order (``--contenders`` picks a subset).
CONTENDERS = ("JointMorphZ", "separate networks", "RF pair", "HGB pair", "SED templates")


def learning_contenders(epochs):
    """The contenders that learn from the training galaxies: name -> estimator."""
    return {
        "JointMorphZ": JointMorphZ(epochs=epochs, random_state=0),
        "separate networks": JointMorphZ(
            shared_base=False, feed_class_probability=False, epochs=epochs, random_state=0
        ),
        "RF pair": IndependentPair(random_state=0),
        "HGB pair": GradientBoostingPair(random_state=0),
    }


def sed_predictions(X, y):
    """SEDTemplateFitter's predictions of every galaxy: it learns nothing from the others."""
    from sedpy import observate

    offsets = np.array([-f.ab_to_vega for f in observate.load_filters(BESSELL)])
    fitter = SEDTemplateFitter(BESSELL).fit(X.to_numpy() + offsets, y)
    best = fitter.predict_all(X.to_numpy() + offsets)
    return pd.DataFrame(
        {
            "type": y["type"],
            "z_spec": y["redshift"],
            "p_late": best.proba[:, 1],
            "z_phot": best.redshift,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-galaxies", type=int, default=370)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of: {', '.join(CONTENDERS)} (default: all)",
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.contenders.split(",")]
    unknown = sorted(set(chosen) - set(CONTENDERS))
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; choose from {list(CONTENDERS)}")

    X, y = load_cnoc2(return_X_y=True)
    if args.n_galaxies < len(X):
        X, _, y, _ = train_test_split(
            X, y, train_size=args.n_galaxies, stratify=y["type"], random_state=0
        )
    X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    print(f"CNOC2: {len(X)} galaxies, {(y['type'] == 'ET').sum()} ET")

    estimators = learning_contenders(args.epochs)
    results, seconds = {}, {}
    for name in [c for c in CONTENDERS if c in chosen]:
        start = time.perf_counter()
        if name == "SED templates":
            results[name] = evaluate_predictions(sed_predictions(X, y), random_state=0).metrics
        else:
            # One OpenMP thread per HGB fit: 369 galaxies gain nothing from
            # more, and on a shared machine they oversubscribe the cores (the
            # loky workers of --n-jobs > 1 get one thread each anyway; this
            # covers --n-jobs 1, which fits in this process).
            single = name == "HGB pair"
            with threadpool_limits(1, user_api="openmp") if single else nullcontext():
                evaluation = loo_evaluation(
                    estimators[name], X, y, n_jobs=args.n_jobs, random_state=0
                )
            results[name] = evaluation.metrics
        seconds[name] = time.perf_counter() - start
        print(f"{name}: {seconds[name]:.0f} s", flush=True)

    table = pd.DataFrame(
        {
            name: [f"{m.loc[f, 'value']:.4f} ± {m.loc[f, 'error']:.4f}" for f in FIGURES]
            for name, m in results.items()
        },
        index=FIGURES,
    )
    table.loc["seconds"] = [f"{seconds[name]:.0f}" for name in results]
    print("| metric | " + " | ".join(table.columns) + " |")
    print("|---" * (len(table.columns) + 1) + "|")
    for metric, row in table.iterrows():
        print(f"| {metric} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
