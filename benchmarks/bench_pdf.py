"""Redshift PDFs: the network's p(z) against FlexZBoost, templates and the ensemble's Gaussian.

Issue 15. Every contender sees the same type-stratified 5 folds; each
galaxy's p(z) comes from the model that did not see it, on one grid per
sample (200 points, :func:`skphotoz.pdf.default_z_grid` of the sample's
range). Figures are computed over all galaxies pooled
(:func:`skphotoz.metrics.pdf_metrics`): PIT KS and CvM, the PIT outlier
fraction, CRPS, CDE loss, the coverage of the central 68% and 95%
intervals, sigma_NMAD and outliers of the PDF's median, and the LSST DESC
outlier fraction. ``cde_se`` is the standard error of the CDE loss over
folds.

Contenders:

* ``network, mixture`` / ``network, bins``: ``JointMorphZ(redshift_pdf=...)``,
  otherwise the defaults;
* ``ensemble K=5, mixture``: ``ReplicaEnsemble(5, redshift_pdf="mixture")``
  (the replicas' PDFs mixed);
* ``ensemble K=5, Gaussian``: ``ReplicaEnsemble(5)``'s z_phot with its
  calibrated z_phot_err as a Gaussian;
* ``FlexZBoost``: ``skphotoz.baselines.FlexZBoost`` (flexcode + xgboost,
  RAIL's defaults) on magnitudes + adjacent colours, NaN left in;
* ``templates``: ``SEDTemplateFitter``'s p(z) (BPZ templates and prior),
  where the sample's filters are known.

Samples: CNOC2 UBVRI (its missing U kept), VIPERS ugriz (u missing for 55%),
the demo sample (2,000 galaxies) and 5,000 galaxies of the SDSS+2MASS
training set (ugriz). The prediction throughput of ``predict_pdf`` on a
200-point grid is timed once, on 100,000 galaxies, at the end.

    python benchmarks/bench_pdf.py [--samples cnoc2,vipers,demo,sdss] [--contenders "A|B"]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
from scipy.stats import norm

from skphotoz import JointMorphZ, ReplicaEnsemble, SEDTemplateFitter
from skphotoz.baselines import FlexZBoost
from skphotoz.datasets import (
    SDSS_2MASS_FILTERS,
    VIPERS_FILTERS,
    load_cnoc2,
    load_demo,
    load_sdss_2mass,
    load_vipers,
)
from skphotoz.metrics import cde_loss, pdf_metrics
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.pdf import default_z_grid, normalise_pdf
from skphotoz.preprocessing import AdjacentColours

BESSELL = ["bessell_U", "bessell_B", "bessell_V", "bessell_R", "bessell_I"]


def load_sample(name):
    """(X, y, filters, offsets): magnitudes, joint target, sedpy filters (or None)."""
    if name == "cnoc2":
        from sedpy import observate

        X, y = load_cnoc2(complete=False, return_X_y=True)
        offsets = np.array([-f.ab_to_vega for f in observate.load_filters(BESSELL)])
        return X, y, BESSELL, offsets
    if name == "vipers":
        X, y = load_vipers(with_u=True, complete=False, return_X_y=True)
        return X, y, list(VIPERS_FILTERS), None
    if name == "demo":
        X, y = load_demo(n_samples=2000, random_state=0, return_X_y=True)
        return X, y, list(SDSS_2MASS_FILTERS), None
    X, y = load_sdss_2mass(label="template", random_state=0, return_X_y=True)
    rows = np.random.default_rng(0).permutation(len(X))[:5000]
    return (
        X.iloc[rows].reset_index(drop=True),
        y.iloc[rows].reset_index(drop=True),
        (list(SDSS_2MASS_FILTERS[:5])),
        None,
    )


CONTENDERS = {
    "network, mixture": lambda: JointMorphZ(redshift_pdf="mixture", random_state=0),
    "network, bins": lambda: JointMorphZ(redshift_pdf="bins", random_state=0),
    "ensemble K=5, mixture": lambda: ReplicaEnsemble(
        n_replicas=5, redshift_pdf="mixture", random_state=0
    ),
    "ensemble K=5, Gaussian": lambda: ReplicaEnsemble(n_replicas=5, random_state=0),
    "FlexZBoost": lambda: FlexZBoost(random_state=0),
    "templates": None,  # built per sample: it needs the filters
}


def fold_pdf(name, X_train, y_train, X_test, grid, filters, offsets):
    """The test galaxies' p(z) on ``grid`` from contender ``name`` fitted on the training fold."""
    if name == "templates":
        if filters is None:
            return None
        shift = 0.0 if offsets is None else offsets
        fitter = SEDTemplateFitter(filters).fit(np.asarray(X_train) + shift, y_train)
        return fitter.predict_pdf(np.asarray(X_test) + shift, grid)
    model = CONTENDERS[name]()
    if name == "FlexZBoost":
        # Magnitudes + adjacent colours, as RAIL feeds it (a Pipeline has no predict_pdf).
        colours = AdjacentColours().fit(X_train)
        model.fit(colours.transform(X_train), np.asarray(y_train["redshift"], dtype=float))
        return model.predict_pdf(colours.transform(X_test), grid)
    model.fit(X_train, y_train)
    if name == "ensemble K=5, Gaussian":
        table = model.predict_uncertainty(X_test)
        mean = table["z_phot"].to_numpy()[:, None]
        sigma = np.maximum(table["z_phot_err"].to_numpy()[:, None], 1e-4)
        return normalise_pdf(grid, norm.pdf(grid[None, :], mean, sigma))
    return model.predict_pdf(X_test, grid)


def run_sample(sample, contenders, folds):
    X, y, filters, offsets = load_sample(sample)
    z = np.asarray(y["redshift"], dtype=float)
    grid = default_z_grid((z.min(), z.max()))
    cv = StratifiedTypeKFold(folds, shuffle=True, random_state=0)
    splits = list(cv.split(X, y))
    print(f"{sample}: {len(X)} galaxies, {np.isnan(np.asarray(X, float)).mean():.1%} missing")
    rows = []
    for name in contenders:
        start = time.perf_counter()
        pdf = np.full((len(X), len(grid)), np.nan)
        fold_cde = []
        try:
            for train, test in splits:
                out = fold_pdf(
                    name, X.iloc[train], y.iloc[train], X.iloc[test], grid, filters, offsets
                )
                if out is None:
                    raise ValueError("no filters for this sample")
                pdf[test] = out
                ok = np.isfinite(out).all(axis=1)
                fold_cde.append(cde_loss(z[test][ok], grid, out[ok]))
        except Exception as exc:  # noqa: BLE001 - a contender that cannot run is reported
            print(f"  {name:28s} skipped: {exc}")
            continue
        seconds = time.perf_counter() - start
        ok = np.isfinite(pdf).all(axis=1)
        figures = pdf_metrics(z[ok], grid, pdf[ok])
        row = {"sample": sample, "contender": name, "n_scored": int(ok.sum()), **figures}
        row["cde_se"] = float(np.std(fold_cde, ddof=1) / np.sqrt(len(fold_cde)))
        row["seconds"] = seconds
        rows.append(row)
        print(f"  {name:28s} {seconds:6.1f} s", flush=True)
    return rows


def throughput():
    """predict_pdf galaxies per second on a 200-point grid (a network fitted on the demo)."""
    X, y = load_demo(n_samples=2000, random_state=0, return_X_y=True)
    out = {}
    for family in ("mixture", "bins"):
        model = JointMorphZ(redshift_pdf=family, epochs=20, random_state=0).fit(X, y)
        big = np.tile(np.asarray(X, dtype=float), (50, 1))
        model.predict_pdf(big[:1000])  # warm-up: the first call traces the predict function
        start = time.perf_counter()
        model.predict_pdf(big)
        out[family] = len(big) / (time.perf_counter() - start)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", default="cnoc2,vipers,demo,sdss")
    parser.add_argument("--contenders", default="|".join(CONTENDERS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results_pdf.csv")
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()
    contenders = args.contenders.split("|")
    rows = []
    for sample in args.samples.split(","):
        rows += run_sample(sample, contenders, args.folds)
        pd.DataFrame(rows).to_csv(args.out, index=False)
    frame = pd.DataFrame(rows)
    columns = [
        "pit_ks",
        "pit_cvm",
        "pit_outlier_fraction",
        "crps",
        "cde_loss",
        "coverage_68",
        "coverage_95",
        "sigma_nmad",
        "outlier_fraction",
        "desc_outlier_fraction",
    ]
    columns = [c for c in columns if c in frame.columns]
    for sample, group in frame.groupby("sample", sort=False):
        print(f"\n**{sample}**\n")
        print("| contender | " + " | ".join(columns) + " | s |")
        print("|---" * (len(columns) + 2) + "|")
        for _, r in group.iterrows():
            cells = [f"{r[c]:.4f}" for c in columns]
            cells[columns.index("cde_loss")] += f" ±{r['cde_se']:.3f}"
            print(f"| {r['contender']} | " + " | ".join(cells) + f" | {r['seconds']:.0f} |")
    if not args.no_throughput:
        for family, rate in throughput().items():
            print(f"predict_pdf, {family}, 200-point grid: {rate:,.0f} galaxies/s")


if __name__ == "__main__":
    main()
