"""LOOCV on CNOC2: the joint network against template fitting and two independent models.

The paper's comparison on a real sample of the paper's size: a type-stratified
draw of 370 CNOC2 galaxies (UBVRI, spectral-class types), each predicted by a
model that never saw it.

* JointMorphZ (defaults): 370 leave-one-out fits, trained as one replica run.
* RF pair: a RandomForestClassifier for the type and a RandomForestRegressor
  for z, fitted independently in each of the 370 folds (the "sequential" pair
  the paper argues against).
* SED templates: SEDTemplateFitter (defaults; Bessell UBVRI with sedpy's
  Vega-to-AB offsets). It learns nothing from the training galaxies, so its
  leave-one-out predictions are its plain predictions.

Every metric gets a bootstrap error (``skphotoz.model_selection.evaluation.evaluate_predictions``).

    python benchmarks/bench_cnoc2_loo.py [--n-galaxies 370] [--epochs 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skphotoz import JointMorphZ, SEDTemplateFitter
from skphotoz.baselines.pairs import IndependentPair
from skphotoz.datasets import load_cnoc2
from skphotoz.model_selection.evaluation import evaluate_predictions, loo_evaluation

# Vega-to-AB offsets of the Bessell curves from sedpy's Vega spectrum, as
# benchmarks/bench_sed.py computes them.
BESSELL = ["bessell_U", "bessell_B", "bessell_V", "bessell_R", "bessell_I"]
FIGURES = ["accuracy", "true_early_type_rate", "true_late_type_rate", "roc_auc"]
FIGURES += ["accuracy_youden", "sigma_nmad", "std_delta_z", "outlier_fraction", "mse"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-galaxies", type=int, default=370)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    X, y = load_cnoc2(return_X_y=True)
    if args.n_galaxies < len(X):
        X, _, y, _ = train_test_split(
            X, y, train_size=args.n_galaxies, stratify=y["type"], random_state=0
        )
    X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    print(f"CNOC2: {len(X)} galaxies, {(y['type'] == 'ET').sum()} ET")

    results, seconds = {}, {}
    for name, estimator in [
        ("JointMorphZ", JointMorphZ(epochs=args.epochs, random_state=0)),
        ("RF pair", IndependentPair(random_state=0)),
    ]:
        start = time.perf_counter()
        evaluation = loo_evaluation(estimator, X, y, n_jobs=args.n_jobs, random_state=0)
        seconds[name] = time.perf_counter() - start
        results[name] = evaluation.metrics

    from sedpy import observate

    offsets = np.array([-f.ab_to_vega for f in observate.load_filters(BESSELL)])
    start = time.perf_counter()
    fitter = SEDTemplateFitter(BESSELL).fit(X.to_numpy() + offsets, y)
    best = fitter.predict_all(X.to_numpy() + offsets)
    predictions = pd.DataFrame(
        {
            "type": y["type"],
            "z_spec": y["redshift"],
            "p_late": best.proba[:, 1],
            "z_phot": best.redshift,
        }
    )
    results["SED templates"] = evaluate_predictions(predictions, random_state=0).metrics
    seconds["SED templates"] = time.perf_counter() - start

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
