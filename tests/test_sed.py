import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sedpy import observate
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

from skphotoz.baselines.sed import (
    CWW_KINNEY_ORDER,
    SEDTemplateFitter,
    _free_normalisation_chi2,
    calzetti_k,
    hdfn_prior,
    label_by_template,
    load_templates,
    madau_igm_transmission,
    template_magnitudes,
)
from skphotoz.metrics import SCORERS, outlier_fraction, sigma_nmad
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.preprocessing import SentinelToNaN

OPTICAL = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
BANDS = OPTICAL + ["twomass_J", "twomass_H", "twomass_Ks"]
GRID = np.round(np.arange(0.0, 1.501, 0.01), 2)
ML = {"prior": None, "interpolate_templates": 0}  # LePhare-like maximum likelihood


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def fitted():
    return SEDTemplateFitter(BANDS, redshift_grid=GRID, **ML).fit(np.full((2, 8), 20.0))


@pytest.fixture(scope="module")
def fitted_default():
    return SEDTemplateFitter(BANDS, redshift_grid=GRID).fit(np.full((2, 8), 20.0))


def _galaxies(templates, indices, redshifts, offset=21.0):
    _, waves, fluxes, _ = templates
    table = template_magnitudes(waves, fluxes, BANDS, redshifts)
    mags = np.stack([table[t, k] for k, t in enumerate(indices)])
    return mags - mags[:, 3:4] + offset  # i = offset, colours from the template


def _noisy_sample(templates, n, seed, sigma=0.03):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(templates[0]), n)
    z_true = np.round(rng.uniform(0.1, 1.4, n), 2)
    mags = _galaxies(templates, idx, z_true) + rng.normal(0, sigma, (n, 8))
    return mags, idx, z_true


def test_synthetic_photometry_matches_sedpy(templates):
    _, waves, fluxes, _ = templates
    filters = observate.load_filters(BANDS)
    for z in (0.1, 0.7):
        ours = template_magnitudes(waves[2:3], fluxes[2:3], BANDS, [z], igm=False)[0, 0]
        ref = observate.getSED(waves[2] * (1 + z), fluxes[2] / (1 + z), filterlist=filters)
        np.testing.assert_allclose(ours[:5], ref[:5], atol=2e-3)
        np.testing.assert_allclose(ours[5:], ref[5:], atol=0.06)  # coarse NIR template sampling


def test_igm_matches_bpz_reference():
    from desc_bpz.bpz_tools_py3 import etau_madau

    wl = np.linspace(600, 12000, 800)
    for z in (0.5, 2.0, 3.5, 5.0):
        np.testing.assert_allclose(madau_igm_transmission(wl, z), etau_madau(wl, z), atol=1e-12)


def test_hdfn_prior_matches_bpz_reference():
    from desc_bpz.prior_hdfn_gen import function

    z = np.arange(0.01, 3.001, 0.01)
    for m, n_templates in ((19.0, 6), (22.3, 8), (25.0, 10)):
        ours = hdfn_prior(z, [m], n_templates)[0]
        np.testing.assert_allclose(ours, function(z, m, n_templates), rtol=1e-12, atol=1e-15)
        assert ours.sum() == pytest.approx(1.0)


def test_calzetti_reference_values():
    k = calzetti_k([1500.0, 5500.0, 22000.0])
    np.testing.assert_allclose(k, [10.33, 4.05, 0.37], atol=0.01)


@pytest.mark.parametrize("template", [0, 1, 3, 5])
def test_noise_free_galaxy_is_recovered(templates, fitted, fitted_default, template):
    z_true = np.array([0.05, 0.35, 0.8, 1.2])
    mags = _galaxies(templates, [template] * 4, z_true)
    pred = fitted.predict(mags)  # maximum likelihood: exact
    np.testing.assert_allclose(pred[:, 1].astype(float), z_true, atol=1e-9)
    np.testing.assert_array_equal(fitted.predict_template(mags), template)
    assert set(pred[:, 0]) == {"ET" if template == 0 else "LT"}
    res = fitted_default.predict_all(mags)  # prior + mixtures: the prior may shift the mode
    assert np.all(np.abs(res.redshift - z_true) / (1 + z_true) < 0.03)
    assert np.all(np.abs(res.template - template) <= 1)
    assert set(res.type) == {"ET" if template == 0 else "LT"}


def test_noisy_galaxies_are_mostly_recovered(templates, fitted, fitted_default):
    mags, idx, z_true = _noisy_sample(templates, 200, seed=0)
    for fitter in (fitted, fitted_default):
        res = fitter.predict_all(mags)
        assert sigma_nmad(z_true, res.redshift) < 0.03
        assert outlier_fraction(z_true, res.redshift) < 0.05
        assert np.mean(res.type == np.where(idx == 0, "ET", "LT")) > 0.85


def test_float32_chunks_match_float64_reference(templates, fitted):
    mags, _, _ = _noisy_sample(templates, 60, seed=3)
    errors = np.full_like(mags, 0.05)
    models = np.broadcast_to(
        fitted.model_magnitudes_.reshape(1, -1, 8), (60, fitted.model_magnitudes_[..., 0].size, 8)
    )
    reference = np.argmin(_free_normalisation_chi2(mags, errors, models), axis=1)
    res = fitted.predict_all(mags)
    ours = res.model * len(GRID) + np.searchsorted(GRID, res.redshift)
    assert np.mean(ours == reference) >= 0.95
    np.testing.assert_allclose(GRID[ours % len(GRID)], GRID[reference % len(GRID)], atol=0.011)


def test_chunking_and_threads_give_identical_results(templates, fitted_default):
    mags, _, _ = _noisy_sample(templates, 50, seed=4)
    mags[::7, 0] = np.nan
    whole = fitted_default.set_params(chunk_size=1000, n_jobs=1).predict_all(mags, pdf=True)
    parts = fitted_default.set_params(chunk_size=7, n_jobs=2).predict_all(mags, pdf=True)
    fitted_default.set_params(chunk_size=None, n_jobs=None)
    np.testing.assert_array_equal(parts.model, whole.model)
    np.testing.assert_array_equal(parts.redshift, whole.redshift)
    # How much the chunk size may change the numbers: BLAS may sum each row's
    # products in another order, which moves -chi2/2 by about
    # n_bands * eps * its largest term, 0.5 * n_bands / (0.4 ln10 * 0.05 mag)^2
    # ~ 2e3 here: delta ~ 8 * 2.2e-16 * 2e3 ~ 4e-12. Each likelihood exp(-chi2/2)
    # then moves by a factor 1 + delta, so P(ET) and p(z), ratios of sums of
    # them, move by ~2 delta relatively: rtol=1e-9 holds with a margin of 100.
    # P(LT) is 1 - P(ET): it moves by ~2 delta absolutely, which is more than
    # itself for a P(LT) below 1e-11, hence atol=1e-10 on the probabilities.
    # p(z) goes down to subnormal floats (~1e-323), which carry fewer digits
    # than any rtol: atol=1e-300 covers that tail only.
    np.testing.assert_allclose(parts.proba, whole.proba, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(parts.pdf, whole.pdf, rtol=1e-9, atol=1e-300)


def test_missing_bands_are_left_out(templates, fitted):
    mags = _galaxies(templates, [1, 1], [0.5, 0.5])
    gappy = mags.copy()
    gappy[0, [0, 6]] = np.nan
    gappy[1, [1, 7]] = -99.0
    np.testing.assert_allclose(fitted.predict_redshift(gappy), 0.5)
    # the rest of the catalogs' placeholder policy: 0 and |m| >= 90 are not magnitudes
    gappy[0, [0, 6]] = 0.0, 99.99
    gappy[1, [1, 7]] = -999.0, np.inf
    np.testing.assert_allclose(fitted.predict_redshift(gappy), 0.5)
    with pytest.raises(ValueError, match="no valid magnitude"):
        fitted.predict(np.full((1, 8), np.nan))


def test_prior_band_and_flat_prior_when_missing(templates, fitted_default):
    assert fitted_default.prior_band_ == 3  # sdss_i0 is nearest I(814)
    mags = _galaxies(templates, [2, 2], [0.6, 0.6])
    mags[1, 3] = np.nan  # no prior band: flat prior, still a fit
    assert np.all(np.abs(fitted_default.predict_redshift(mags) - 0.6) < 0.05)
    named = SEDTemplateFitter(BANDS, redshift_grid=GRID, prior_band="twomass_H")
    assert named.fit(mags).prior_band_ == 6
    with pytest.raises(ValueError, match="prior_band"):
        SEDTemplateFitter(BANDS, prior_band="sdss_y").fit(mags)


def test_probabilities_and_pdf(templates, fitted, fitted_default):
    mags = _galaxies(templates, [0, 4], [0.3, 0.9])
    proba = fitted.predict_proba(mags)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert proba[0, 0] > 0.5 and proba[1, 1] > 0.5
    pdf = fitted.predict_pdf(mags)
    assert pdf.shape == (2, len(GRID))
    # densities, as every skphotoz PDF: unit trapezoid integral, not unit sum
    np.testing.assert_allclose(np.trapezoid(pdf, GRID, axis=1), 1, rtol=1e-12)
    assert GRID[np.argmax(pdf, axis=1)].tolist() == [0.3, 0.9]
    # With the prior the point estimate is the mode of p(z), as BPZ's zb.
    res = fitted_default.predict_all(mags, pdf=True)
    np.testing.assert_array_equal(GRID[np.argmax(res.pdf, axis=1)], res.redshift)
    np.testing.assert_array_equal(res.pdf, fitted_default.predict_pdf(mags))


def test_pdf_on_another_grid(templates, fitted_default):
    from skphotoz.metrics import PDFScorer, crps
    from skphotoz.pdf import pdf_quantiles

    mags = _galaxies(templates, [0, 4, 2], [0.3, 0.9, 1.2])
    native = fitted_default.predict_pdf(mags)
    assert fitted_default.z_grid_ is fitted_default.redshift_grid_
    with pytest.raises(AttributeError):
        fitted_default.z_grid_ = GRID  # read-only: redshift_grid_ is the one grid
    assert not hasattr(SEDTemplateFitter(BANDS), "z_grid_")  # unfitted: no grid yet

    # The native grid given explicitly gives the native densities back.
    np.testing.assert_allclose(fitted_default.predict_pdf(mags, z_grid=GRID), native, rtol=1e-12)
    # A grid interleaving the native one: still densities, and the same distribution.
    fine = np.linspace(0.0, 1.5, 451)
    on_fine = fitted_default.predict_pdf(mags, z_grid=fine)
    np.testing.assert_allclose(np.trapezoid(on_fine, fine, axis=1), 1, rtol=1e-12)
    levels = [0.16, 0.5, 0.84]
    np.testing.assert_allclose(
        pdf_quantiles(fine, on_fine, levels), pdf_quantiles(GRID, native, levels), atol=0.01
    )
    # Beyond redshift_grid_ there is no likelihood: density 0 there, not extrapolated.
    wide = np.linspace(0.0, 2.0, 201)
    on_wide = fitted_default.predict_pdf(mags, z_grid=wide)
    assert (on_wide[:, wide > GRID[-1]] == 0).all()
    np.testing.assert_allclose(np.trapezoid(on_wide, wide, axis=1), 1, rtol=1e-12)
    # A narrower grid gives the PDF truncated to it, normalised again.
    narrow = np.linspace(0.0, 0.6, 61)
    truncated = fitted_default.predict_pdf(mags[:1], z_grid=narrow)
    np.testing.assert_allclose(truncated, native[:1, :61] / np.trapezoid(native[0, :61], narrow))
    with pytest.raises(ValueError, match="lies outside redshift_grid_"):
        fitted_default.predict_pdf(mags, z_grid=[2.0, 2.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        fitted_default.predict_pdf(mags, z_grid=[0.5, 0.2, 0.9])

    # Grid-agnostic tools take the fitter as they take the network's PDF head.
    y = np.array([0.3, 0.9, 1.2])
    score = PDFScorer("crps")(fitted_default, mags, y)
    assert score == pytest.approx(-crps(y, GRID, native))


def test_error_columns_and_zero_point_adaptation(templates):
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 6, 80)
    z_true = np.round(rng.uniform(0.1, 1.0, 80), 2)
    offsets = np.array([0.1, 0.0, 0.0, -0.05, 0.0, 0.0, 0.08, 0.0])
    mags = _galaxies(templates, idx, z_true) + offsets
    y = np.column_stack([np.where(idx == 0, "ET", "LT"), z_true]).astype(object)
    adapted = SEDTemplateFitter(BANDS, redshift_grid=GRID, adapt_zero_points=True, **ML)
    adapted.fit(mags, y)
    np.testing.assert_allclose(
        adapted.zero_point_offsets_ - adapted.zero_point_offsets_[2], offsets, atol=0.02
    )
    errs = np.full_like(mags, 0.02)
    with_errors = SEDTemplateFitter(BANDS, redshift_grid=GRID, magnitude_errors="columns")
    assert with_errors.fit(np.hstack([mags, errs])).predict(np.hstack([mags, errs])).shape == (
        80,
        2,
    )
    with pytest.raises(ValueError, match="16"):
        with_errors.predict(mags)
    errs[3, 2] = -1.0
    with pytest.raises(ValueError, match="missing or negative error"):
        with_errors.predict(np.hstack([mags, errs]))
    with pytest.raises(ValueError, match="zero error"):
        SEDTemplateFitter(BANDS, error_floor=0.0).fit(mags)


def test_unknown_band_and_template_names():
    with pytest.raises(ValueError, match="not_a_filter"):
        SEDTemplateFitter(["sdss_r0", "not_a_filter"]).fit(np.full((2, 2), 20.0))
    with pytest.raises(ValueError, match="S0_typo"):
        load_templates(early_type_templates=["El_B2004a", "S0_typo"])


def test_template_list_file_keeps_its_order(tmp_path):
    listing = tmp_path / "mine.list"
    listing.write_text("Sbc_B2004a.sed\nEl_B2004a.sed\nssp_5Myr_z008.sed\n")
    names, _, _, early = load_templates(listing)
    assert names == ["Sbc_B2004a", "El_B2004a", "ssp_5Myr_z008"]
    assert early.tolist() == [False, True, False]


def test_dust_and_template_interpolation_extend_the_models(templates):
    fitter = SEDTemplateFitter(
        BANDS, redshift_grid=GRID, ebv_grid=(0.0, 0.2), interpolate_templates=2
    ).fit(np.full((1, 8), 20.0))
    assert fitter.model_magnitudes_.shape == (2 * 16, len(GRID), 8)  # 6 + 5*2 mixtures, 2 E(B-V)
    # The elliptical and the mixture nearer to it, once per E(B-V).
    assert fitter.early_type_.sum() == 4
    np.testing.assert_allclose(fitter.model_template_[:4], [0, 1 / 3, 2 / 3, 1])
    mags = _galaxies(templates, [2], [0.6])
    assert fitter.predict_redshift(mags)[0] == pytest.approx(0.6, abs=0.02)
    assert fitter.predict_template(mags)[0] == 2


def test_cross_validate_like_for_like(templates):
    rng = np.random.default_rng(2)
    idx = np.r_[np.zeros(10, int), rng.integers(1, 6, 30)]
    z_true = np.round(rng.uniform(0.1, 1.2, 40), 2)
    mags = _galaxies(templates, idx, z_true) + rng.normal(0, 0.02, (40, 8))
    y = np.column_stack([np.where(idx == 0, "ET", "LT"), z_true]).astype(object)
    mags[::9, 1] = -99.0  # a sentinel, turned into NaN by the pipeline's first step
    result = cross_validate(
        make_pipeline(
            SentinelToNaN(), SEDTemplateFitter(BANDS, redshift_grid=GRID, adapt_zero_points=True)
        ),
        mags,
        y,
        cv=StratifiedTypeKFold(4),
        scoring=SCORERS,
    )
    assert np.all(result["test_accuracy"] > 0.7)
    assert np.all(-result["test_neg_outlier_fraction"] <= 0.2)


def test_lephare_folder_fits_and_labels(data_home):
    folder = data_home / "templates" / "CWW_KINNEY"
    names, waves, fluxes, early = load_templates(folder)
    assert tuple(names) == CWW_KINNEY_ORDER and early.tolist() == [True] + [False] * 9
    table = template_magnitudes(waves, fluxes, OPTICAL, [0.3])[:, 0, :]
    labels, best = label_by_template(table, np.full(10, 0.3), OPTICAL, templates=folder)
    np.testing.assert_array_equal(best, np.arange(10))
    np.testing.assert_array_equal(labels == "ET", early)
    z_true = np.array([0.2, 0.7, 1.1])
    mags = template_magnitudes(waves, fluxes, BANDS, z_true)
    mags = np.stack([mags[t, k] for k, t in enumerate((0, 2, 6))]) + 21.0
    res = SEDTemplateFitter(BANDS, templates=folder, redshift_grid=GRID).fit(mags).predict_all(mags)
    assert np.all(np.abs(res.redshift - z_true) / (1 + z_true) < 0.03)
    assert res.type.tolist() == ["ET", "LT", "LT"]


def test_label_by_template_builtin(templates):
    mags = _galaxies(templates, [0, 1, 0, 5], [0.1, 0.2, 0.45, 0.05])
    labels, best = label_by_template(mags, [0.1, 0.2, 0.45, 0.05], BANDS)
    assert labels.tolist() == ["ET", "LT", "ET", "LT"] and best.tolist() == [0, 1, 0, 5]


# ---------------------------------------------------------------- real data (slow)
def _bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sed.py"
    spec = importlib.util.spec_from_file_location("bench_sed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_vipers_agrees_with_bpz_and_matches_its_accuracy(data_home):
    bench = _bench()
    X, z_spec, bpz = bench.load_vipers_sample(data_home)
    fitter = SEDTemplateFitter(bench.MEGACAM, magnitude_errors="columns", interpolate_templates=0)
    res = fitter.fit(X).predict_all(X)
    agree = bench.agreement(bpz, res.redshift, res.template)
    assert agree["dz<0.05 vs zb"] > 0.8 and agree["ET/LT as tb"] > 0.9
    ours = outlier_fraction(
        z_spec, SEDTemplateFitter(bench.MEGACAM).fit(X[:, :5]).predict_all(X[:, :5]).redshift
    )
    assert ours <= outlier_fraction(z_spec, bpz["zb"].to_numpy()) + 0.02


@pytest.mark.slow
def test_cnoc2_and_sdss_against_spec_z(data_home):
    bench = _bench()
    X, z_spec, types = bench.load_cnoc2_sample(data_home)
    res = SEDTemplateFitter(bench.BESSELL).fit(X).predict_all(X)
    assert sigma_nmad(z_spec, res.redshift) < 0.1 and outlier_fraction(z_spec, res.redshift) < 0.15
    assert np.mean(res.type == types.to_numpy()) > 0.8
    X, z_spec = bench.load_sdss_2mass_sample(data_home)
    X, z_spec = X[:5000], z_spec[:5000]
    res = SEDTemplateFitter(bench.SDSS_2MASS, magnitude_errors="columns").fit(X).predict_all(X)
    assert sigma_nmad(z_spec, res.redshift) < 0.05 and outlier_fraction(z_spec, res.redshift) < 0.05


def test_labels_come_from_y_and_early_label(templates):
    mags = _galaxies(templates, [0, 2], [0.4, 0.4])
    fitter = SEDTemplateFitter(BANDS, redshift_grid=GRID)
    # y names the classes: the elliptical gets the early label, whatever its sort order.
    assert fitter.fit(mags, [["red", 0.4], ["blue", 0.4]]).classes_.tolist() == ["red", "blue"]
    assert fitter.predict(mags)[:, 0].tolist() == ["red", "blue"]
    assert fitter.set_params(early_label="ET").fit(mags).classes_.tolist() == ["ET", "LT"]
    with pytest.raises(ValueError, match="early_label='E' is not one of"):
        fitter.set_params(early_label="E").fit(mags)
    with pytest.raises(ValueError, match="exactly two classes"):
        fitter.set_params(early_label=None).fit(mags, [["LT", 0.4], ["LT", 0.4]])
    with pytest.raises(ValueError, match="rows"):
        fitter.fit(mags, [["ET", 0.4], ["LT", 0.4], ["LT", 0.5]])
    with pytest.raises(ValueError, match="negative"):
        fitter.fit(mags, [["ET", 0.4], ["LT", -0.4]])
