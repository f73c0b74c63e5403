import numpy as np
import pytest
from sedpy import observate
from sklearn.model_selection import cross_validate

from skphotoz.metrics import SCORERS
from skphotoz.model_selection import StratifiedTypeKFold
from skphotoz.sed import (
    SEDTemplateFitter,
    calzetti_k,
    label_by_template,
    load_templates,
    madau_igm_transmission,
    template_magnitudes,
)

OPTICAL = ["sdss_u0", "sdss_g0", "sdss_r0", "sdss_i0", "sdss_z0"]
BANDS = OPTICAL + ["twomass_J", "twomass_H", "twomass_Ks"]
GRID = np.round(np.arange(0.0, 1.501, 0.01), 2)


@pytest.fixture(scope="module")
def templates():
    return load_templates()


@pytest.fixture(scope="module")
def fitted():
    return SEDTemplateFitter(BANDS, redshift_grid=GRID).fit(np.full((2, 8), 20.0))


def _galaxies(templates, indices, redshifts, offset=19.0):
    _, waves, fluxes, _ = templates
    table = template_magnitudes(waves, fluxes, BANDS, redshifts)
    mags = np.stack([table[t, k] for k, t in enumerate(indices)])
    return mags - mags[:, 2:3] + offset  # r = offset, colours from the template


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


def test_calzetti_reference_values():
    k = calzetti_k([1500.0, 5500.0, 22000.0])
    np.testing.assert_allclose(k, [10.33, 4.05, 0.37], atol=0.01)


@pytest.mark.parametrize("template", [0, 1, 3, 5])
def test_noise_free_galaxy_is_recovered(templates, fitted, template):
    z_true = np.array([0.05, 0.35, 0.8, 1.2])
    mags = _galaxies(templates, [template] * 4, z_true)
    pred = fitted.predict(mags)
    np.testing.assert_allclose(pred[:, 1].astype(float), z_true, atol=1e-9)
    np.testing.assert_array_equal(fitted.predict_template(mags), template)
    assert set(pred[:, 0]) == {"ET" if template == 0 else "LT"}


def test_noisy_galaxies_are_mostly_recovered(templates, fitted):
    rng = np.random.default_rng(0)
    n = 200
    idx = rng.integers(0, 6, n)
    z_true = np.round(rng.uniform(0.1, 1.4, n), 2)
    mags = _galaxies(templates, idx, z_true) + rng.normal(0, 0.03, (n, 8))
    z_phot = fitted.predict_redshift(mags)
    assert np.median(np.abs(z_phot - z_true) / (1 + z_true)) < 0.03
    assert np.mean(np.abs(z_phot - z_true) / (1 + z_true) > 0.15) < 0.1
    types = fitted.predict(mags)[:, 0]
    assert np.mean(types == np.where(idx == 0, "ET", "LT")) > 0.85


def test_missing_bands_are_left_out(templates, fitted):
    mags = _galaxies(templates, [1, 1], [0.5, 0.5])
    gappy = mags.copy()
    gappy[0, [0, 6]] = np.nan
    gappy[1, [1, 7]] = -99.0
    np.testing.assert_allclose(fitted.predict_redshift(gappy), 0.5)
    with pytest.raises(ValueError, match="no valid magnitude"):
        fitted.predict(np.full((1, 8), np.nan))


def test_probabilities_and_pdf(templates, fitted):
    mags = _galaxies(templates, [0, 4], [0.3, 0.9])
    proba = fitted.predict_proba(mags)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert proba[0, 0] > 0.5 and proba[1, 1] > 0.5
    pdf = fitted.predict_pdf(mags)
    assert pdf.shape == (2, len(GRID))
    np.testing.assert_allclose(pdf.sum(axis=1), 1)
    assert GRID[np.argmax(pdf, axis=1)].tolist() == [0.3, 0.9]


def test_error_columns_and_zero_point_adaptation(templates):
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 6, 80)
    z_true = np.round(rng.uniform(0.1, 1.0, 80), 2)
    offsets = np.array([0.1, 0.0, 0.0, -0.05, 0.0, 0.0, 0.08, 0.0])
    mags = _galaxies(templates, idx, z_true) + offsets
    y = np.column_stack([np.where(idx == 0, "ET", "LT"), z_true]).astype(object)
    adapted = SEDTemplateFitter(BANDS, redshift_grid=GRID, adapt_zero_points=True).fit(mags, y)
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


def test_unknown_band_is_named():
    with pytest.raises(ValueError, match="not_a_filter"):
        SEDTemplateFitter(["sdss_r0", "not_a_filter"]).fit(np.full((2, 2), 20.0))


def test_dust_and_template_interpolation_extend_the_models(templates):
    fitter = SEDTemplateFitter(
        BANDS, redshift_grid=GRID, ebv_grid=(0.0, 0.2), interpolate_templates=2
    ).fit(np.full((1, 8), 20.0))
    assert fitter.model_magnitudes_.shape == (2 * 16, len(GRID), 8)  # 6 + 5*2 mixtures, 2 E(B-V)
    assert fitter.early_type_.sum() == 2  # only the pure elliptical, once per E(B-V)
    mags = _galaxies(templates, [2], [0.6])
    assert fitter.predict_redshift(mags)[0] == pytest.approx(0.6)


def test_cross_validate_like_for_like(templates):
    rng = np.random.default_rng(2)
    idx = np.r_[np.zeros(10, int), rng.integers(1, 6, 30)]
    z_true = np.round(rng.uniform(0.1, 1.2, 40), 2)
    mags = _galaxies(templates, idx, z_true) + rng.normal(0, 0.02, (40, 8))
    y = np.column_stack([np.where(idx == 0, "ET", "LT"), z_true]).astype(object)
    result = cross_validate(
        SEDTemplateFitter(BANDS, redshift_grid=GRID),
        mags,
        y,
        cv=StratifiedTypeKFold(4),
        scoring=SCORERS,
    )
    assert np.all(result["test_accuracy"] > 0.7)
    assert np.all(-result["test_neg_outlier_fraction"] <= 0.2)


def test_label_by_template_and_lephare_folder(data_home):
    names, waves, fluxes, early = load_templates(data_home / "templates" / "CWW_KINNEY")
    assert len(names) == 10 and names[int(np.flatnonzero(early)[0])] == "CWW_E_ext"
    table = template_magnitudes(waves, fluxes, OPTICAL, [0.3])[:, 0, :]
    labels, best = label_by_template(
        table, np.full(10, 0.3), OPTICAL, templates=data_home / "templates" / "CWW_KINNEY"
    )
    np.testing.assert_array_equal(best, np.arange(10))
    np.testing.assert_array_equal(labels == "ET", early)


def test_label_by_template_builtin(templates):
    mags = _galaxies(templates, [0, 1, 0, 5], [0.1, 0.2, 0.45, 0.05])
    labels, best = label_by_template(mags, [0.1, 0.2, 0.45, 0.05], BANDS)
    assert labels.tolist() == ["ET", "LT", "ET", "LT"] and best.tolist() == [0, 1, 0, 5]
