"""The redshift-PDF metrics of skphotoz.metrics against independent computations.

Galaxies get Gaussian PDFs N(mu_i, sigma_i) on a fine grid; "calibrated"
spectroscopic redshifts are drawn from those same Gaussians with a fixed
numpy Generator. The trapezoid CDF on a grid of step h is within
2 h^2/12 * 4 phi(1) / sigma^2 of the normal CDF (see tests/test_pdf.py), and
linear interpolation between grid points adds at most h^2/8 * phi(1)/sigma^2;
``DF_MAX`` is that bound for the narrowest PDF.
"""

import numpy as np
import pytest
from scipy.stats import kstest, norm
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skphotoz.metrics import (
    PDFScorer,
    cde_loss,
    crps,
    desc_outlier_fraction,
    interval_coverage,
    make_pdf_scorers,
    outlier_fraction,
    pdf_metrics,
    pit,
    pit_cvm,
    pit_histogram,
    pit_ks,
    pit_outlier_fraction,
    sigma_iqr,
    sigma_nmad,
)
from skphotoz.pdf import pdf_quantiles, to_qp_ensemble

Z_GRID = np.linspace(0.0, 3.0, 1501)  # h = 0.002
H = Z_GRID[1] - Z_GRID[0]
N = 2000
RNG = np.random.default_rng(20240611)
MU = RNG.uniform(0.8, 2.2, N)  # >= 5.3 sigma from the grid's ends: mass off it < 1e-7
SIGMA = RNG.uniform(0.05, 0.15, N)
Z_TRUE = RNG.normal(MU, SIGMA)  # drawn from each galaxy's own PDF: calibrated
DF_MAX = (2 * H**2 / 12 * 4 + H**2 / 8) * norm.pdf(1.0) / SIGMA.min() ** 2 + 1e-7


def gaussian_pdfs(mu=MU, sigma=SIGMA, z_grid=Z_GRID):
    return norm.pdf(z_grid, mu[:, None], sigma[:, None])


PDF = gaussian_pdfs()


# ----------------------------------------------------------------------- PIT
def test_pit_is_the_normal_cdf_at_z_spec():
    values = pit(Z_TRUE, Z_GRID, PDF)
    assert values.shape == (N,)
    np.testing.assert_allclose(values, norm.cdf(Z_TRUE, MU, SIGMA), atol=DF_MAX)


def test_pit_of_calibrated_pdfs_is_uniform():
    values = pit(Z_TRUE, Z_GRID, PDF)
    # Under calibration the KS p-value is uniform on [0, 1]: a fixed seed
    # passes "p > 0.001" with probability 0.999. The grid moves each PIT by at
    # most DF_MAX (~1e-4), far below the KS statistic's scale 1/sqrt(N) = 0.022.
    assert kstest(values, "uniform").pvalue > 1e-3
    assert pit_ks(values) < 1.63 / np.sqrt(N)  # the 1% critical value of KS
    assert pit_cvm(values) < 0.743  # the 1% critical value of Cramér-von Mises
    # 68% and 95% central intervals: binomial, 4 standard deviations.
    for level in (0.68, 0.95):
        coverage = interval_coverage(Z_TRUE, Z_GRID, PDF, level=level)
        assert abs(coverage - level) < 4 * np.sqrt(level * (1 - level) / N)
    # No z_spec is beyond the 1e-4 tails but by chance: N * 2e-4 = 0.4 expected.
    assert pit_outlier_fraction(values) <= 3 / N


def test_too_narrow_pdfs_give_a_u_shaped_pit_and_low_coverage():
    narrow = gaussian_pdfs(sigma=SIGMA / 3)
    values = pit(Z_TRUE, Z_GRID, narrow)
    density, edges = pit_histogram(values, bins=10)
    np.testing.assert_allclose(edges, np.linspace(0, 1, 11))
    # A PDF 3x too narrow gives PIT = Phi(3 Z), Z ~ N(0, 1): P(PIT < 0.1) =
    # Phi(-1.28 / 3) = 0.335 (density 3.35, sd 0.1 at N = 2000) in each end bin,
    # against P(0.4 < PIT < 0.5) = 0.034 (density 0.34, sd 0.04).
    assert density[0] > 2.5 and density[-1] > 2.5 and density[4] < 0.5
    # Expected coverage of the 68% interval: P(|Z| < 0.994 / 3) = 0.26.
    assert interval_coverage(Z_TRUE, Z_GRID, narrow, level=0.68) < 0.35
    assert pit_ks(values) > 0.2  # about 0.25; its sd is ~0.01
    # Too wide (PIT = Phi(Z / 2)): end bins 0.05, [0.4, 0.5] 1.94; coverage 0.95.
    wide = gaussian_pdfs(sigma=SIGMA * 2)
    density, _ = pit_histogram(pit(Z_TRUE, Z_GRID, wide), bins=10)
    assert density[0] < 0.5 and density[4] > 1.5
    assert interval_coverage(Z_TRUE, Z_GRID, wide, level=0.68) > 0.9


def test_pit_clips_z_spec_off_the_grid():
    pdf = gaussian_pdfs(mu=np.array([1.0, 1.0]), sigma=np.array([0.1, 0.1]))
    np.testing.assert_array_equal(pit([-0.5, 3.5], Z_GRID, pdf), [0.0, 1.0])


def test_pit_inverts_the_quantiles():
    # PIT and quantiles read the CDF the same way (linear between grid points).
    levels = np.array([0.05, 0.3, 0.5, 0.9])
    quantiles = pdf_quantiles(Z_GRID, PDF[:50], levels)
    for k, level in enumerate(levels):
        np.testing.assert_allclose(pit(quantiles[:, k], Z_GRID, PDF[:50]), level, atol=1e-12)


def test_pit_statistics_by_hand():
    values = np.array([0.125, 0.375, 0.625, 0.875])
    assert pit_ks(values) == pytest.approx(0.125)  # the ECDF's largest step away from u
    assert pit_cvm(values) == pytest.approx(1 / 48)  # 1/(12 n) + sum of 0s
    assert pit_outlier_fraction([0.0, 5e-5, 0.5, 0.99995, 1.0]) == pytest.approx(0.8)
    assert pit_outlier_fraction([0.0, 0.5], low=0.0) == 0.0  # strict inequalities
    density, _ = pit_histogram(values, bins=4)
    np.testing.assert_allclose(density, 1.0)


def test_pit_statistics_match_qp():
    qp = pytest.importorskip("qp")
    subset = slice(0, 500)
    ensemble = to_qp_ensemble(Z_GRID, PDF[subset])
    reference = qp.metrics.PIT(ensemble, Z_TRUE[subset])
    values = pit(Z_TRUE[subset], Z_GRID, PDF[subset])
    # qp's CDF is the same running trapezoid, linear in between; it adds
    # p(z_0) h / 2 at the first point, and p(z_0) < 1e-6 here.
    np.testing.assert_allclose(values, reference.pit_samps, atol=1e-9)
    assert pit_ks(values) == pytest.approx(reference.evaluate_PIT_KS().statistic, abs=1e-9)
    assert pit_cvm(values) == pytest.approx(reference.evaluate_PIT_CvM().statistic, abs=1e-8)


@pytest.mark.parametrize("values", [[0.5, 1.5], [-0.1], []])
def test_pit_statistics_refuse_values_outside_0_1(values):
    with pytest.raises(ValueError):
        pit_ks(values)


def test_pit_statistics_are_nan_when_a_pdf_has_no_mass():
    pdf = np.vstack([PDF[:3], np.zeros(Z_GRID.size)])
    values = pit(Z_TRUE[:4], Z_GRID, pdf)
    assert np.isnan(values[3]) and np.isfinite(values[:3]).all()
    assert np.isnan(pit_ks(values)) and np.isnan(pit_cvm(values))
    assert np.isnan(pit_outlier_fraction(values))
    assert np.isnan(pit_histogram(values, bins=5)[0]).all()
    assert np.isnan(crps(Z_TRUE[:4], Z_GRID, pdf)) and np.isnan(cde_loss(Z_TRUE[:4], Z_GRID, pdf))
    assert np.isnan(interval_coverage(Z_TRUE[:4], Z_GRID, pdf))


# ---------------------------------------------------------------------- CRPS
def gaussian_crps(z, mu, sigma):
    w = (z - mu) / sigma
    return sigma * (w * (2 * norm.cdf(w) - 1) + 2 * norm.pdf(w) - 1 / np.sqrt(np.pi))


def test_crps_matches_the_gaussian_closed_form():
    # (F - H)^2 - (Phi - H)^2 = (F - Phi)(F + Phi - 2H) with |F + Phi - 2H| <= 2,
    # so a galaxy's error is at most 2 integral |F - Phi| dz. To leading order
    # in h (Euler-Maclaurin for the running trapezoid, plus linear interpolation)
    # |F - Phi| <= (h^2/12 + h^2/8) |f'|, and integral |f'| = 2 max f = 2 phi(0) / sigma.
    tolerance = 2 * (H**2 / 12 + H**2 / 8) * 2 * norm.pdf(0.0) / SIGMA.min()
    expected = np.mean(gaussian_crps(Z_TRUE, MU, SIGMA))
    assert crps(Z_TRUE, Z_GRID, PDF) == pytest.approx(expected, abs=tolerance)
    # A biased z_spec (2 sigma off for every galaxy) raises the CRPS.
    shifted = MU + 2 * SIGMA
    assert crps(shifted, Z_GRID, PDF) == pytest.approx(
        np.mean(gaussian_crps(shifted, MU, SIGMA)), abs=tolerance
    )
    assert crps(shifted, Z_GRID, PDF) > crps(Z_TRUE, Z_GRID, PDF)


def test_crps_on_a_coarse_grid_is_exact_for_a_uniform_pdf():
    # Uniform on [0, 2] has a linear CDF, which the CRPS integrates exactly:
    # at z_spec = 0.5, integral_0^0.5 (z/2)^2 + integral_0.5^2 (1 - z/2)^2 = 1/96 + 27/96.
    assert crps([0.5], [0.0, 1.0, 2.0], [[1.0, 1.0, 1.0]]) == pytest.approx(28 / 96)


def test_crps_adds_the_distance_off_the_grid():
    pdf = gaussian_pdfs(mu=np.array([1.5]), sigma=np.array([0.1]))
    at_end = crps([3.0], Z_GRID, pdf)
    assert crps([3.4], Z_GRID, pdf) == pytest.approx(at_end + 0.4)
    assert crps([-0.2], Z_GRID, pdf) == pytest.approx(crps([0.0], Z_GRID, pdf) + 0.2)


# ------------------------------------------------------------------ CDE loss
def test_cde_loss_matches_flexcode_on_grid_points():
    loss_functions = pytest.importorskip("flexcode.loss_functions")
    # On grid points FlexCode's nearest-point value and the interpolation agree.
    z_on_grid = Z_GRID[np.searchsorted(Z_GRID, Z_TRUE)]
    density = PDF / np.trapezoid(PDF, Z_GRID, axis=1)[:, None]
    expected = loss_functions.cde_loss(density, Z_GRID, z_on_grid)
    assert cde_loss(z_on_grid, Z_GRID, PDF) == pytest.approx(expected, rel=1e-12)


def test_cde_loss_off_grid_points_and_closed_form():
    loss_functions = pytest.importorskip("flexcode.loss_functions")
    density = PDF / np.trapezoid(PDF, Z_GRID, axis=1)[:, None]
    # Interpolated and nearest-point densities of galaxy i differ by at most
    # h/2 times the largest |f_i'| within h of z_i, itself at most
    # |f_i'(z_i)| + h max|f_i''| (max|f''| = phi(0) / sigma^3); the loss counts
    # the second term twice.
    slope = np.abs(norm.pdf(Z_TRUE, MU, SIGMA) * (Z_TRUE - MU) / SIGMA**2)
    tolerance = 2 * np.mean(H / 2 * (slope + H * norm.pdf(0.0) / SIGMA**3))
    ours = cde_loss(Z_TRUE, Z_GRID, PDF)
    assert ours == pytest.approx(loss_functions.cde_loss(density, Z_GRID, Z_TRUE), abs=tolerance)
    # Closed form: integral N^2 = 1 / (2 sigma sqrt(pi)), minus 2 N(z_spec).
    # Interpolating f errs by at most (h^2/8) max|f''| = (h^2/8) phi(0) / sigma^3,
    # counted twice; the trapezoid of f^2 and the normalisation err by
    # (h^2/12) [(f^2)']_ends + O(h^4), about 0 with the tails inside the grid:
    # one more such term covers them.
    expected = np.mean(1 / (2 * SIGMA * np.sqrt(np.pi))) - 2 * np.mean(norm.pdf(Z_TRUE, MU, SIGMA))
    tolerance = 3 * H**2 / 8 * norm.pdf(0.0) / SIGMA.min() ** 3
    assert ours == pytest.approx(expected, abs=tolerance)


def test_cde_loss_is_lower_for_the_true_pdf():
    wrong = gaussian_pdfs(mu=MU + SIGMA)
    assert cde_loss(Z_TRUE, Z_GRID, PDF) < cde_loss(Z_TRUE, Z_GRID, wrong)


# ------------------------------------------------------------- point metrics
def test_sigma_iqr_and_desc_outliers_match_qp():
    metrics = pytest.importorskip("qp.metrics.point_estimate_metric_classes")
    z_phot = Z_TRUE + RNG.normal(0, 0.03, N) * (1 + Z_TRUE)
    z_phot[:100] += 0.5  # 5% catastrophic
    assert sigma_iqr(Z_TRUE, z_phot) == pytest.approx(
        metrics.PointSigmaIQR().evaluate(z_phot, Z_TRUE), rel=1e-12
    )
    assert desc_outlier_fraction(Z_TRUE, z_phot) == pytest.approx(
        metrics.PointOutlierRate().evaluate(z_phot, Z_TRUE), rel=1e-12
    )
    # sigma_IQR ~ 0.03 here, so the DESC limit is 0.09 < 0.15: more outliers.
    assert desc_outlier_fraction(Z_TRUE, z_phot) > outlier_fraction(Z_TRUE, z_phot)


def test_desc_outlier_limit_is_at_least_0_06():
    z_spec = np.zeros(10)
    z_phot = np.array([0.0] * 8 + [0.05, 0.07])  # sigma_IQR = 0
    assert sigma_iqr(z_spec, z_phot) == 0.0
    assert desc_outlier_fraction(z_spec, z_phot) == pytest.approx(0.1)


# ---------------------------------------------------------------- pdf_metrics
def test_pdf_metrics_collects_every_figure():
    result = pdf_metrics(Z_TRUE, Z_GRID, PDF)
    values = pit(Z_TRUE, Z_GRID, PDF)
    median = pdf_quantiles(Z_GRID, PDF, [0.5])[:, 0]
    expected = {
        "pit_ks": pit_ks(values),
        "pit_cvm": pit_cvm(values),
        "pit_outlier_fraction": pit_outlier_fraction(values),
        "crps": crps(Z_TRUE, Z_GRID, PDF),
        "cde_loss": cde_loss(Z_TRUE, Z_GRID, PDF),
        "coverage_68": interval_coverage(Z_TRUE, Z_GRID, PDF, 0.68),
        "coverage_95": interval_coverage(Z_TRUE, Z_GRID, PDF, 0.95),
        "sigma_nmad": sigma_nmad(Z_TRUE, median),
        "outlier_fraction": outlier_fraction(Z_TRUE, median),
        "sigma_iqr": sigma_iqr(Z_TRUE, median),
        "desc_outlier_fraction": desc_outlier_fraction(Z_TRUE, median),
    }
    assert result.keys() == expected.keys()
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
    assert all(isinstance(value, float) for value in result.values())


@pytest.mark.parametrize(
    "z_spec, pdf, match",
    [
        (Z_TRUE[:3], PDF[:4], r"z_spec must have shape \(4,\)"),
        (Z_TRUE[:4].reshape(2, 2), PDF[:4], r"z_spec must have shape \(4,\)"),
        ([1.0, np.nan], PDF[:2], "non-finite"),
        (Z_TRUE[:2], PDF[:2, :-1], r"shape \(n_galaxies, 1501\)"),
    ],
)
def test_pdf_metrics_refuse_mismatched_input(z_spec, pdf, match):
    for metric in (pit, crps, cde_loss, interval_coverage, pdf_metrics):
        with pytest.raises(ValueError, match=match):
            metric(z_spec, Z_GRID, pdf)


@pytest.mark.parametrize("level", [0.0, 1.0, 1.2])
def test_interval_coverage_refuses_bad_levels(level):
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        interval_coverage(Z_TRUE[:5], Z_GRID, PDF[:5], level=level)


# ------------------------------------------------------------------- scorers
class GaussianPDFModel(RegressorMixin, BaseEstimator):
    """z = first column; p(z) = N(first column, width). For the scorer tests only."""

    def __init__(self, width=0.1):
        self.width = width

    def fit(self, X, y):
        self.z_grid_ = Z_GRID
        return self

    def predict(self, X):
        return np.asarray(X)[:, 0]

    def predict_pdf(self, X, z_grid=None):
        z_grid = self.z_grid_ if z_grid is None else z_grid
        centre = np.asarray(X)[:, :1]
        return norm.pdf(z_grid, centre, np.full_like(centre, self.width))


def scorer_data(n=300):
    rng = np.random.default_rng(1)
    z_spec = rng.uniform(0.8, 2.2, n)
    X = np.column_stack([z_spec + rng.normal(0, 0.1, n), rng.normal(size=n)])
    y = np.column_stack([np.where(rng.random(n) < 0.5, "ET", "LT"), z_spec]).astype(object)
    y[:, 1] = z_spec
    return X, y, z_spec


def test_pdf_scorers_in_cross_validate():
    X, y, z_spec = scorer_data()
    scores = cross_validate(GaussianPDFModel(), X, y, cv=3, scoring=make_pdf_scorers())
    assert {f"test_{name}" for name in make_pdf_scorers()} <= set(scores)
    # Calibrated by construction (noise 0.1, width 0.1): coverage near 0.68
    # (binomial sd per fold of 100 = 0.047; 4 sd).
    assert np.all(np.abs(scores["test_coverage_68"] - 0.68) < 0.19)
    assert np.all(scores["test_neg_crps"] < 0)
    model = GaussianPDFModel().fit(X, y)
    assert make_pdf_scorers()["neg_crps"](model, X, y) == pytest.approx(
        -crps(z_spec, Z_GRID, model.predict_pdf(X))
    )


def test_pdf_scorer_reads_a_joint_or_a_1d_target_and_a_given_grid():
    X, y, z_spec = scorer_data()
    model = GaussianPDFModel().fit(X, y)
    grid = np.linspace(0.0, 3.0, 301)
    expected = cde_loss(z_spec, grid, model.predict_pdf(X, grid))
    assert PDFScorer("cde_loss", z_grid=grid)(model, X, y) == pytest.approx(-expected)
    assert PDFScorer("cde_loss", sign=1, z_grid=grid)(model, X, z_spec) == pytest.approx(expected)


def test_pdf_scorer_transforms_x_through_a_pipeline():
    X, y, z_spec = scorer_data()
    pipe = make_pipeline(FunctionTransformer(lambda X: X + 0.5), GaussianPDFModel()).fit(X, y)
    expected = pit_ks(pit(z_spec, Z_GRID, GaussianPDFModel().fit(X, y).predict_pdf(X + 0.5)))
    assert PDFScorer("pit_ks")(pipe, X, y) == pytest.approx(-expected)


def test_pdf_scorer_refuses_an_estimator_without_predict_pdf():
    X, y, z_spec = scorer_data()
    pipe = make_pipeline(FunctionTransformer(), LinearRegression()).fit(X, z_spec)
    with pytest.raises(TypeError, match="LinearRegression has no predict_pdf"):
        PDFScorer("crps")(pipe, X, y)


def test_pdf_scorer_needs_a_grid():
    X, y, _ = scorer_data()
    model = GaussianPDFModel().fit(X, y)
    del model.z_grid_
    with pytest.raises(TypeError, match="no z_grid_"):
        PDFScorer("crps")(model, X, y)


def test_pdf_scorer_refuses_unknown_names_bad_grids_and_weights():
    with pytest.raises(ValueError, match="Unknown PDF metric 'sigma_nmad'"):
        PDFScorer("sigma_nmad")
    with pytest.raises(ValueError, match="strictly increasing"):
        PDFScorer("crps", z_grid=[0.0, 2.0, 1.0])
    X, y, _ = scorer_data()
    with pytest.raises(ValueError, match="no sample_weight"):
        PDFScorer("crps")(GaussianPDFModel().fit(X, y), X, y, sample_weight=np.ones(len(X)))
