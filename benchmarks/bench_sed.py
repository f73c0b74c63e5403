"""SEDTemplateFitter: speed, and accuracy on real samples against spec-z and against BPZ.

    python benchmarks/bench_sed.py [--data-home PATH] [--sections speed vipers cnoc2 sdss demo]
                                   [--out FILE.md] [--figures FOLDER]

Sections:

* speed: galaxies per second, 8 bands x 10 templates (CWW_KINNEY, or the 6 BPZ
  ones plus 5 mixtures when the shared data are absent) x 301 redshifts, with
  1 and 2 threads, maximum likelihood and with the prior, against desc-bpz's
  per-galaxy likelihood (``p_c_z_t``) on the same model grid; peak memory of
  ``predict`` at two sample sizes.
* vipers: CFHTLS ugriz + errors, 6 (or the 8 ``cwwsb4.list``) BPZ templates;
  sigma_NMAD and outliers against spec-z for ours and the shipped BPZ run,
  and agreement with BPZ's ``zb``/``tb`` (Bayesian) and ``zml``/``tml``
  (maximum likelihood).
* cnoc2: UBVRI (Vega-like, converted to AB with sedpy's Vega offsets), floor errors.
* sdss: SDSS ugriz + 2MASS JHK maggies with inverse variances.
* demo: the pip-shipped demo sample (SDSS + 2MASS) that ``skphotoz compare`` uses.

Zero-point adaptation is always cross-fitted (2 folds: offsets learned on one
half with its spec-z, applied to the other), so every row is scored on every
galaxy without using that galaxy's redshift.
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from skphotoz.baselines.sed import SEDTemplateFitter
from skphotoz.datasets import load_cnoc2, shared_data_home
from skphotoz.metrics import outlier_fraction, sigma_nmad

MEGACAM = [f"cfht_megacam_{b}" for b in ("us_9301", "gs_9401", "rs_9601", "is_9701", "zs_9801")]
#: (magnitude, error) columns (0-based) of u, g, r, i2, z in bpz_catalog_i2.cat.
VIPERS_COLUMNS = [(3, 4), (11, 12), (17, 18), (23, 24), (31, 32)]
BESSELL = ["bessell_U", "bessell_B", "bessell_V", "bessell_R", "bessell_I"]
SDSS_2MASS = [f"sdss_{b}0" for b in "ugriz"] + ["twomass_J", "twomass_H", "twomass_Ks"]
MAG_PER_LN = 2.5 / np.log(10)


# ------------------------------------------------------------------ samples
def load_vipers_sample(data_home):
    """VIPERS ugriz magnitudes + errors (NaN = not observed), spec-z, shipped BPZ output."""
    folder = Path(data_home) / "vipers_i2"
    cat = np.loadtxt(folder / "bpz_catalog_i2.cat")
    bpz = pd.DataFrame(
        np.loadtxt(folder / "cwwsb4_i2_photoz.bpz")[:, [1, 4, 6, 7, 9]],
        columns=["zb", "tb", "zml", "tml", "zspec"],
    )
    mags = np.column_stack([cat[:, m] for m, _ in VIPERS_COLUMNS])
    errs = np.column_stack([cat[:, e] for _, e in VIPERS_COLUMNS])
    mags[mags == -99] = np.nan
    errs[np.isnan(mags)] = np.nan
    return np.hstack([mags, errs]), cat[:, 39], bpz


def vega_to_ab_offsets(bands):
    """m_AB - m_Vega per band from sedpy's Vega spectrum (sedpy's ``ab_to_vega``)."""
    from sedpy import observate

    return np.array([-f.ab_to_vega for f in observate.load_filters(bands)])


def load_cnoc2_sample(data_home):
    """CNOC2 UBVRI converted to AB, spec-z and ET/LT types (complete UBVRI only)."""
    X, y = load_cnoc2(data_home=data_home, return_X_y=True)
    return X.to_numpy() + vega_to_ab_offsets(BESSELL), y["redshift"].to_numpy(), y["type"]


def load_sdss_2mass_sample(data_home):
    """SDSS ugriz + 2MASS JHK AB magnitudes + errors (NaN where missing) and spec-z.

    The MAGGIES column holds nanomaggies in practice (median r = 18.6 as
    22.5 - 2.5 log10; -2.5 log10 alone gives r = -3.9), so they are read as
    such; only the prior cares about the zero point.
    """
    from astropy.table import Table

    table = Table.read(Path(data_home) / "sdss_2mass" / "sdss_training_set.test.fits")
    flux = np.asarray(table["MAGGIES"], dtype=float)
    ivar = np.asarray(table["MAGGIES_IVAR"], dtype=float)
    ok = (flux > 0) & (ivar > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mags = np.where(ok, 22.5 - 2.5 * np.log10(flux), np.nan)
        errs = np.where(ok, MAG_PER_LN / (flux * np.sqrt(ivar)), np.nan)
    return np.hstack([mags, errs]), np.asarray(table["REDSHIFT"], dtype=float)


# ------------------------------------------------------------------ scoring
def cross_fitted(fitter, X, z_spec, types=None, n_splits=2, random_state=0):
    """predict_all on every galaxy; with zero-point adaptation, offsets from the other fold."""
    if not fitter.adapt_zero_points:
        res = fitter.fit(X).predict_all(X)
        return res.redshift, res.template, res.type, np.zeros((1, fitter.n_features_in_))
    z_phot = np.empty(len(X))
    template = np.empty(len(X), dtype=int)
    kind = np.empty(len(X), dtype=object)
    offsets = []
    labels = np.full(len(X), "LT") if types is None else np.asarray(types)
    y = np.column_stack([labels, z_spec]).astype(object)
    folds = KFold(n_splits, shuffle=True, random_state=random_state).split(X)
    for train, test in folds:
        res = fitter.fit(X[train], y[train]).predict_all(X[test])
        z_phot[test], template[test], kind[test] = res.redshift, res.template, res.type
        offsets.append(fitter.zero_point_offsets_)
    return z_phot, template, kind, np.array(offsets)


def score_row(name, z_spec, z_phot, seconds, **extra):
    return {
        "setting": name,
        "sigma_nmad": sigma_nmad(z_spec, z_phot),
        "outlier_fraction": outlier_fraction(z_spec, z_phot),
        **extra,
        "seconds": seconds,
    }


def run_configs(bands, X, z_spec, configs, types=None, reference=None, errors=True):
    """One row per setting; ``reference`` (BPZ output) adds agreement columns."""
    rows, predictions = [], {}
    for name, params in configs.items():
        fitter = SEDTemplateFitter(
            bands, magnitude_errors="columns" if errors else "floor", n_jobs=2, **params
        )
        start = time.perf_counter()
        z_phot, template, kind, offsets = cross_fitted(fitter, X, z_spec, types)
        extra = {}
        if types is not None:
            extra["type_accuracy"] = float(np.mean(kind == np.asarray(types)))
        if reference is not None:
            extra.update(agreement(reference, z_phot, template))
        if params.get("adapt_zero_points"):
            extra["zero_points"] = " ".join(f"{v:+.2f}" for v in offsets.mean(axis=0))
        rows.append(score_row(name, z_spec, z_phot, time.perf_counter() - start, **extra))
        predictions[name] = z_phot
    return pd.DataFrame(rows).set_index("setting"), predictions


def agreement(bpz, z_phot, template):
    """Agreement with BPZ's Bayesian (zb, tb) and maximum-likelihood (zml, tml) outputs."""
    out = {}
    for z_col, t_col, tag in (("zb", "tb", "b"), ("zml", "tml", "ml")):
        z_ref, t_ref = bpz[z_col].to_numpy(), bpz[t_col].to_numpy().astype(int) - 1
        out[f"dz<0.05 vs z{tag}"] = float(np.mean(np.abs(z_phot - z_ref) / (1 + z_ref) < 0.05))
        out[f"ET/LT as t{tag}"] = float(np.mean((template == 0) == (t_ref == 0)))
        out[f"template as t{tag}"] = float(np.mean(template == t_ref))
    return out


# ------------------------------------------------------------------ sections
ML = {"prior": None}  # LePhare-like maximum likelihood
PRIOR = {"prior": "hdfn"}  # the default
ZP = {"adapt_zero_points": True}
MIX = {"interpolate_templates": 2}


def common_configs(data_home, floors=True):
    """The settings every sample is scored with (names say what differs from the defaults)."""
    kinney = {"templates": Path(data_home) / "templates" / "CWW_KINNEY"}
    configs = {
        "ML (prior=None), 6 BPZ templates": ML,
        "ML + zero points": {**ML, **ZP},
        "ML + 2 mixtures": {**ML, **MIX},
        "HDFN prior (defaults)": PRIOR,
        "prior + zero points": {**PRIOR, **ZP},
        "prior + 2 mixtures": {**PRIOR, **MIX},
        "prior + 2 mixtures + zero points": {**PRIOR, **MIX, **ZP},
        "prior, CWW_KINNEY (10)": {**PRIOR, **kinney},
        "prior, CWW_KINNEY + zero points": {**PRIOR, **kinney, **ZP},
    }
    if floors:
        configs["prior, floor 0.02"] = {**PRIOR, "error_floor": 0.02}
        configs["prior, floor 0.1"] = {**PRIOR, "error_floor": 0.1}
    return configs


def bench_vipers(data_home, figures=None):
    X, z_spec, bpz = load_vipers_sample(data_home)
    cwwsb4 = {"templates": Path(data_home) / "vipers_i2" / "cwwsb4.list"}
    configs = {
        **common_configs(data_home),
        "ML, cwwsb4.list (8 templates)": {**ML, **cwwsb4},
        "prior, cwwsb4.list (as the VIPERS BPZ run)": {**PRIOR, **cwwsb4},
        "prior, floor 0": {**PRIOR, "error_floor": 0.0},
        "prior + E(B-V) 0-0.3": {**PRIOR, "ebv_grid": (0.0, 0.1, 0.2, 0.3)},
    }
    table, predictions = run_configs(MEGACAM, X, z_spec, configs, reference=bpz)
    shipped = pd.DataFrame(
        [
            score_row("shipped BPZ zb (Bayesian, HDFN prior)", z_spec, bpz["zb"].to_numpy(), 0),
            score_row("shipped BPZ zml (maximum likelihood)", z_spec, bpz["zml"].to_numpy(), 0),
        ]
    ).set_index("setting")
    if figures is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from skphotoz.reporting.plots import plot_zphot_vs_zspec

        panels = {
            "shipped BPZ zb": bpz["zb"].to_numpy(),
            "ours, ML (prior=None)": predictions["ML (prior=None), 6 BPZ templates"],
            "ours, HDFN prior (defaults)": predictions["HDFN prior (defaults)"],
            "ours, prior + 2 mixtures + zero points": predictions[
                "prior + 2 mixtures + zero points"
            ],
        }
        fig, axes = plt.subplots(1, 4, figsize=(17, 4.4))
        for ax, (name, z_phot) in zip(axes, panels.items(), strict=True):
            plot_zphot_vs_zspec(z_spec, z_phot, label=name, ax=ax)
            ax.set_title(
                f"{name}\nsigma_NMAD {sigma_nmad(z_spec, z_phot):.3f}, "
                f"outliers {outlier_fraction(z_spec, z_phot):.1%}",
                fontsize=9,
            )
        fig.savefig(Path(figures) / "sed_vipers_zphot_vs_zspec.png", dpi=110, bbox_inches="tight")
    return pd.concat([shipped, table])


def bench_cnoc2(data_home):
    X, z_spec, types = load_cnoc2_sample(data_home)
    configs = common_configs(data_home, floors=False)
    configs["prior, floor 0.1"] = {**PRIOR, "error_floor": 0.1}
    table, _ = run_configs(BESSELL, X, z_spec, configs, types=types, errors=False)
    return table


def bench_sdss(data_home):
    X, z_spec = load_sdss_2mass_sample(data_home)
    table, _ = run_configs(SDSS_2MASS, X, z_spec, common_configs(data_home))
    nir = np.isfinite(X[:, 5:8]).all(axis=1)
    subset = {
        "with JHK: ML": ML,
        "with JHK: ML + zero points": {**ML, **ZP},
        "with JHK: prior (defaults)": PRIOR,
        "with JHK: prior + zero points": {**PRIOR, **ZP},
        "with JHK: prior + 2 mixtures": {**PRIOR, **MIX},
    }
    sub, _ = run_configs(SDSS_2MASS, X[nir], z_spec[nir], subset)
    optical = np.hstack([X[nir][:, :5], X[nir][:, 8:13]])
    opt, _ = run_configs(
        SDSS_2MASS[:5],
        optical,
        z_spec[nir],
        {"same galaxies, ugriz only: ML": ML, "same galaxies, ugriz only: prior": PRIOR},
    )
    return pd.concat([table, sub, opt])


def bench_demo(data_home):
    """The demo sample (kcorrect's SDSS + 2MASS, pip data) that ``skphotoz compare`` uses."""
    from skphotoz.datasets import DEMO_BANDS, load_demo

    X, y = load_demo(return_X_y=True)
    configs = common_configs(data_home, floors=False) if data_home else {"defaults": PRIOR}
    table, _ = run_configs(
        list(DEMO_BANDS),
        X.to_numpy(),
        y["redshift"].to_numpy(),
        configs,
        types=y["type"].to_numpy(),
        errors=False,
    )
    return table


def _desc_bpz_rate(model_flux, flux, errors, n=200):
    """Galaxies/s of desc-bpz's per-galaxy free-normalisation likelihood (the loop we replace)."""
    from desc_bpz.bpz_tools_py3 import p_c_z_t

    ft_z = np.ascontiguousarray(model_flux.transpose(1, 0, 2))  # (z, templates, bands)
    start = time.perf_counter()
    for k in range(n):
        p_c_z_t(flux[k], errors[k], ft_z)
    return n / (time.perf_counter() - start)


def bench_speed(data_home, n=50_000):
    """Throughput of predict / predict_proba / predict_pdf, ML and with the prior."""
    if data_home is not None:
        templates, extra = Path(data_home) / "templates" / "CWW_KINNEY", 0
    else:
        templates, extra = "bpz", 1  # 6 + 5 mixtures = 11 models
    fitter = SEDTemplateFitter(
        SDSS_2MASS, templates=templates, interpolate_templates=extra, prior=None
    ).fit(np.full((2, 8), 20.0))
    rng = np.random.default_rng(0)
    table = fitter.model_magnitudes_
    idx = rng.integers(0, len(table), n)
    zi = np.searchsorted(fitter.redshift_grid_, rng.uniform(0.05, 1.5, n))
    X = table[idx, zi] + rng.normal(0, 0.05, (n, 8))
    X = X - X[:, 3:4] + rng.uniform(18.0, 24.0, (n, 1))
    rows = []
    fitter.predict_all(X[:2000])  # warm-up
    for prior in (None, "hdfn"):
        fitter.set_params(prior=prior).fit(X[:2])
        for n_jobs in (1, 2):
            fitter.set_params(n_jobs=n_jobs)
            for method in ("predict", "predict_proba", "predict_pdf"):
                seconds = []
                for _ in range(3):  # the median of 3 damps the other helpers' load
                    start = time.perf_counter()
                    getattr(fitter, method)(X)
                    seconds.append(time.perf_counter() - start)
                rate = n / np.median(seconds)
                rows.append(
                    {
                        "prior": str(prior),
                        "threads": n_jobs,
                        "method": method,
                        "galaxies_per_s": rate,
                    }
                )
    naive = _desc_bpz_rate(
        10 ** (-0.4 * np.where(np.isfinite(table), table, 99.0)),
        10 ** (-0.4 * X),
        0.05 * 10 ** (-0.4 * X) / MAG_PER_LN,
    )
    rows.append(
        {"prior": "None", "threads": 1, "method": "desc-bpz p_c_z_t loop", "galaxies_per_s": naive}
    )
    memory = []
    fitter.set_params(n_jobs=1)
    for size in (n // 10, n):
        tracemalloc.start()
        fitter.predict(X[:size])
        memory.append((size, tracemalloc.get_traced_memory()[1] / 2**20))
        tracemalloc.stop()
    shape = "x".join(str(s) for s in fitter.model_magnitudes_.shape)
    return pd.DataFrame(rows), memory, shape, fitter._chunk_rows(np.prod(table.shape[:2]))


# ------------------------------------------------------------------ report
def markdown(frame, floatfmt=".4f", index=True):
    """A Markdown table (pandas' to_markdown needs tabulate, not a dependency here)."""
    frame = frame.reset_index() if index else frame
    cells = [
        [f"{v:{floatfmt}}" if isinstance(v, float) else str(v) for v in row]
        for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument(
        "--sections", nargs="+", default=["speed", "vipers", "cnoc2", "sdss", "demo"], type=str
    )
    parser.add_argument("--out", default=None, help="Markdown file for the tables")
    parser.add_argument("--figures", default=None, help="Folder for figures")
    args = parser.parse_args(argv)
    data_home = shared_data_home(args.data_home)
    parts = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()} "
        f"({platform.processor() or platform.machine()}), 2 cores shared with other work."
    ]
    if "speed" in args.sections:
        rates, memory, shape, chunk = bench_speed(data_home)
        ml = rates[(rates["prior"] == "None") & (rates["threads"] == 1)]
        ours = ml[ml["method"] == "predict"]["galaxies_per_s"].iloc[0]
        naive = ml[ml["method"].str.startswith("desc-bpz")]["galaxies_per_s"].iloc[0]
        parts += [
            f"## Speed (models x z x bands = {shape}, chunk {chunk} galaxies)",
            markdown(rates, ".0f", index=False),
            f"predict (ML, 1 thread) / desc-bpz loop = {ours / naive:.0f}x. "
            "Peak traced memory of predict: "
            + ", ".join(f"{s} galaxies: {m:.1f} MB" for s, m in memory),
        ]
    if data_home is None:
        parts.append("Real-data sections skipped: shared data folder absent.")
    else:
        if "vipers" in args.sections:
            parts += [
                "## VIPERS (CFHTLS ugriz)",
                markdown(bench_vipers(data_home, args.figures)),
            ]
        if "cnoc2" in args.sections:
            parts += ["## CNOC2 (UBVRI, Vega to AB)", markdown(bench_cnoc2(data_home))]
        if "sdss" in args.sections:
            parts += ["## SDSS + 2MASS", markdown(bench_sdss(data_home))]
    if "demo" in args.sections:
        parts += ["## Demo sample (what skphotoz compare uses)", markdown(bench_demo(data_home))]
    text = "\n\n".join(parts) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
