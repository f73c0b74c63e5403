"""skphotoz.pdf against independent computations on Gaussian densities.

Tolerances come from the error of the trapezoid rule. With grid step h, the
running trapezoid integral of f misses the true one by at most
h^2/12 * integral |f''| dz; for a Gaussian of width sigma that integral is
the total variation of f', 4 phi(1) / sigma^2. Normalising by the (equally
wrong) total can double it, hence ``cdf_tolerance``.
"""

import numpy as np
import pytest
from scipy.stats import norm

from skphotoz.pdf import (
    check_z_grid,
    default_z_grid,
    gaussian_mixture_pdf,
    mix_pdfs,
    normalise_pdf,
    pdf_cdf,
    pdf_quantiles,
    pdf_summary,
    to_qp_ensemble,
)

Z_GRID = np.linspace(0.0, 3.0, 3001)  # h = 0.001
H = Z_GRID[1] - Z_GRID[0]
MEANS = np.array([0.6, 1.0, 1.7])
SIGMAS = np.array([0.05, 0.1, 0.2])  # >= 6 sigma inside the grid: mass off it < 1e-9


def gaussian_pdfs(z_grid=Z_GRID, means=MEANS, sigmas=SIGMAS):
    return norm.pdf(z_grid, means[:, None], sigmas[:, None])


def cdf_tolerance(sigma, h=H):
    # 2 x h^2/12 x integral |f''| (see the module docstring), plus 1e-9 for
    # the mass outside the grid.
    return 2 * h**2 / 12 * 4 * norm.pdf(1.0) / sigma**2 + 1e-9


# ------------------------------------------------------------ check_z_grid
def test_check_z_grid_returns_float64_copy_of_a_good_grid():
    grid = check_z_grid([0, 1, 2])
    assert grid.dtype == np.float64
    np.testing.assert_array_equal(grid, [0.0, 1.0, 2.0])
    # Covering the training range exactly, or with room, is fine.
    check_z_grid([0.0, 0.5, 1.0], training_range=(0.0, 1.0))
    check_z_grid([0.0, 0.5, 1.5], training_range=(0.2, 1.0))


@pytest.mark.parametrize(
    "grid, match",
    [
        ([[0.0, 1.0], [2.0, 3.0]], "1-D"),
        (0.5, "1-D"),
        ([0.5], "at least 2 points"),
        ([], "at least 2 points"),
        ([0.0, np.nan, 1.0], "finite"),
        ([0.0, 1.0, np.inf], "finite"),
        ([0.0, 1.0, 0.5], r"strictly increasing; z_grid\[1\] = 1 is followed by z_grid\[2\] = 0.5"),
        ([0.0, 1.0, 1.0], "strictly increasing"),
        ([-0.1, 0.5, 1.0], ">= 0"),
        (["a", "b"], "numeric"),
    ],
)
def test_check_z_grid_refuses_bad_grids(grid, match):
    with pytest.raises(ValueError, match=match):
        check_z_grid(grid)


@pytest.mark.parametrize("grid", [[0.2, 0.5, 1.5], [0.0, 0.5, 0.9]])
def test_check_z_grid_names_the_uncovered_training_range(grid):
    with pytest.raises(ValueError) as err:
        check_z_grid(grid, training_range=(0.1, 1.2))
    message = str(err.value)
    assert "[0.1, 1.2]" in message  # the training range
    assert f"[{grid[0]:g}, {grid[-1]:g}]" in message  # the grid's ends


# ---------------------------------------------------------- default_z_grid
def test_default_z_grid_adds_ten_percent_each_side():
    grid = default_z_grid((0.5, 1.5), n_points=11)
    np.testing.assert_allclose(grid, np.linspace(0.4, 1.6, 11))
    assert check_z_grid(grid, training_range=(0.5, 1.5)) is not None


def test_default_z_grid_stops_at_zero():
    grid = default_z_grid((0.05, 1.05))
    assert grid.size == 200 and grid[0] == 0.0 and grid[-1] == pytest.approx(1.15)


@pytest.mark.parametrize(
    "training_range, n_points",
    [((1.0, 1.0), 200), ((1.0, 0.5), 200), ((-0.1, 1.0), 200), ((0.0, 1.0), 1), ((0, 1), 2.5)],
)
def test_default_z_grid_refuses_bad_arguments(training_range, n_points):
    with pytest.raises(ValueError):
        default_z_grid(training_range, n_points)


# ------------------------------------------------------------ normalise_pdf
def test_normalise_pdf_integrates_to_one_and_keeps_shape():
    raw = 7.0 * gaussian_pdfs()  # any positive scale
    pdf = normalise_pdf(Z_GRID, raw)
    assert pdf.dtype == np.float64 and pdf.shape == raw.shape
    np.testing.assert_allclose(np.trapezoid(pdf, Z_GRID, axis=1), 1.0, rtol=1e-12)
    # Proportional to the input: every row is one scale factor of it.
    positive = raw > 0  # far tails underflow to 0
    ratio = pdf[positive] / raw[positive]
    scale = np.broadcast_to(pdf[:, [Z_GRID.size // 3]] / raw[:, [Z_GRID.size // 3]], raw.shape)
    np.testing.assert_allclose(ratio, scale[positive], rtol=1e-12)


def test_normalise_pdf_on_an_uneven_grid_uses_the_trapezoid_rule():
    grid = np.array([0.0, 0.1, 0.5, 2.0])
    pdf = normalise_pdf(grid, [1.0, 2.0, 2.0, 0.0])
    # By hand: 0.1 * 1.5 + 0.4 * 2 + 1.5 * 1 = 2.45.
    np.testing.assert_allclose(pdf, [[1 / 2.45, 2 / 2.45, 2 / 2.45, 0.0]])


def test_normalise_pdf_clips_negatives_and_gives_nan_for_no_mass():
    pdf = normalise_pdf([0.0, 1.0, 2.0], [[-1e-9, 1.0, -0.5], [0.0, 0.0, 0.0], [-1, -2, -3]])
    np.testing.assert_allclose(pdf[0], [0.0, 1.0, 0.0])
    assert np.isnan(pdf[1]).all() and np.isnan(pdf[2]).all()


def test_normalise_pdf_takes_one_galaxy_as_1d():
    assert normalise_pdf([0.0, 1.0], [1.0, 1.0]).shape == (1, 2)


@pytest.mark.parametrize(
    "pdf, match",
    [
        (np.ones((2, 4)), r"shape \(n_galaxies, 3\)"),
        (np.ones((2, 3, 1)), r"shape \(n_galaxies, 3\)"),
        ([[1.0, np.inf, 1.0]], "inf"),
    ],
)
def test_normalise_pdf_refuses_mismatched_or_infinite_pdfs(pdf, match):
    with pytest.raises(ValueError, match=match):
        normalise_pdf([0.0, 1.0, 2.0], pdf)


# -------------------------------------------------------- CDF and quantiles
def test_pdf_cdf_matches_the_normal_cdf():
    cdf = pdf_cdf(Z_GRID, gaussian_pdfs())
    expected = norm.cdf(Z_GRID, MEANS[:, None], SIGMAS[:, None])
    for row, sigma in enumerate(SIGMAS):
        assert np.max(np.abs(cdf[row] - expected[row])) < cdf_tolerance(sigma)
    assert np.all(cdf[:, 0] == 0.0) and np.all(cdf[:, -1] == 1.0)
    assert np.all(np.diff(cdf, axis=1) >= 0)


def test_pdf_cdf_is_nan_for_a_pdf_without_mass():
    cdf = pdf_cdf([0.0, 1.0, 2.0], [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert np.isnan(cdf[0]).all()
    np.testing.assert_array_equal(cdf[1], [0.0, 0.5, 1.0])


def test_pdf_quantiles_match_the_normal_ppf():
    q = np.array([0.001, 0.025, 0.16, 0.5, 0.84, 0.975, 0.999])
    quantiles = pdf_quantiles(Z_GRID, gaussian_pdfs(), q)
    assert quantiles.shape == (3, q.size)
    for row, (mean, sigma) in enumerate(zip(MEANS, SIGMAS, strict=True)):
        # A CDF error dF moves a quantile by dF / f(z_q); linear interpolation
        # between grid points adds at most h^2/8 * max|f'| = h^2/8 phi(1)/sigma^2.
        dF = cdf_tolerance(sigma) + H**2 / 8 * norm.pdf(1.0) / sigma**2
        tolerance = dF / (norm.pdf(norm.ppf(q)) / sigma)
        expected = norm.ppf(q, mean, sigma)
        assert np.all(np.abs(quantiles[row] - expected) < tolerance)


def test_pdf_quantiles_of_a_flat_stretch_and_the_ends():
    # No mass on [2, 3]: by hand the trapezoid cells hold 1, 0.5, 0, 0.5, 1 (of 3),
    # so F = 0, 1/3, 1/2, 1/2, 2/3, 1 at z = 0..5. The median is the smallest z
    # with F(z) >= 1/2, i.e. 2, not anywhere on the flat stretch [2, 3].
    grid = np.arange(6.0)
    pdf = [[1.0, 1.0, 0.0, 0.0, 1.0, 1.0]]
    np.testing.assert_allclose(
        pdf_quantiles(grid, pdf, [0.0, 1 / 6, 0.5, 0.75, 1.0]), [[0.0, 0.5, 2.0, 4.25, 5.0]]
    )
    # Mass ending at z = 2 (the density falls linearly to 0 there): q = 1 gives 2.
    np.testing.assert_allclose(pdf_quantiles(grid[:4], [[1.0, 1.0, 0.0, 0.0]], [1.0]), [[2.0]])


@pytest.mark.parametrize("q", [[-0.1], [1.5], [[0.5]], [np.nan]])
def test_pdf_quantiles_refuses_levels_outside_0_1(q):
    with pytest.raises(ValueError, match=r"levels in \[0, 1\]"):
        pdf_quantiles([0.0, 1.0], [[1.0, 1.0]], q)


def test_pdf_quantiles_are_nan_without_mass():
    assert np.isnan(pdf_quantiles([0.0, 1.0], [[0.0, 0.0]], [0.1, 0.5])).all()


# --------------------------------------------------------------- pdf_summary
def test_pdf_summary_of_gaussians():
    summary = pdf_summary(Z_GRID, gaussian_pdfs())
    assert set(summary) == {
        "mode",
        "median",
        "mean",
        "lower_68",
        "upper_68",
        "lower_95",
        "upper_95",
    }
    assert all(value.shape == (3,) for value in summary.values())
    # The means sit on grid points, so the mode is exact.
    np.testing.assert_allclose(summary.mode, MEANS, atol=1e-12)
    # Mean: trapezoid error of z f(z), h^2/12 * integral |(z f)''| <~ 1e-6 here.
    np.testing.assert_allclose(summary.mean, MEANS, atol=1e-6)
    for key, level in [
        ("median", 0.5),
        ("lower_68", 0.16),
        ("upper_68", 0.84),
        ("lower_95", 0.025),
        ("upper_95", 0.975),
    ]:
        # 2e-5 bounds the quantile error of test_pdf_quantiles_match_the_normal_ppf here.
        np.testing.assert_allclose(summary[key], norm.ppf(level, MEANS, SIGMAS), atol=2e-5)


def test_pdf_summary_mode_of_a_skewed_pdf_and_nan_rows():
    grid = np.array([0.0, 1.0, 2.0, 3.0])
    summary = pdf_summary(grid, [[0.0, 3.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    assert summary.mode[0] == 1.0
    # By hand: trapezoid mass 1.5 + 2 + 1 = 4.5; of z p(z) = [0, 3, 2, 3]: 1.5 + 2.5 + 2.5.
    assert summary.mean[0] == pytest.approx(6.5 / 4.5)
    assert all(np.isnan(value[1]) for value in summary.values())


# ---------------------------------------------------------------- mixtures
def test_gaussian_mixture_pdf_matches_scipy():
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(3), size=5)
    means = rng.uniform(0.5, 2.5, size=(5, 3))
    sigmas = rng.uniform(0.02, 0.3, size=(5, 3))
    pdf = gaussian_mixture_pdf(Z_GRID, weights, means, sigmas)
    expected = np.einsum(
        "nm,nmg->ng", weights, norm.pdf(Z_GRID, means[..., None], sigmas[..., None])
    )
    assert pdf.dtype == np.float64
    np.testing.assert_allclose(pdf, expected, rtol=1e-12, atol=1e-300)


def test_gaussian_mixture_pdf_is_not_renormalised_to_the_grid():
    # Half of N(0, 0.1) lies below z = 0, off the grid: the row integrates to 1/2.
    pdf = gaussian_mixture_pdf(Z_GRID, [[1.0]], [[0.0]], [[0.1]])
    # Trapezoid error on the half Gaussian: the kink at z = 0 costs h^2/12 f'(0)=0;
    # h^2/12 * integral |f''| <= 1e-6 / 12 * 4 phi(1) / 0.01 < 4e-6.
    assert np.trapezoid(pdf[0], Z_GRID) == pytest.approx(0.5, abs=4e-6)


@pytest.mark.parametrize(
    "weights, means, sigmas, match",
    [
        ([[0.5, 0.5]], [[1.0]], [[0.1]], "share one shape"),
        ([[0.5, 0.4]], [[1.0, 2.0]], [[0.1, 0.1]], "sum to 1"),
        ([[1.5, -0.5]], [[1.0, 2.0]], [[0.1, 0.1]], ">= 0"),
        ([[0.5, 0.5]], [[1.0, 2.0]], [[0.1, 0.0]], "> 0"),
        ([[0.5, 0.5]], [[1.0, np.nan]], [[0.1, 0.1]], "finite"),
    ],
)
def test_gaussian_mixture_pdf_refuses_bad_components(weights, means, sigmas, match):
    with pytest.raises(ValueError, match=match):
        gaussian_mixture_pdf(Z_GRID, weights, means, sigmas)


def test_mix_pdfs_equals_the_gaussian_mixture():
    first = gaussian_pdfs(means=np.array([0.8, 1.0]), sigmas=np.array([0.1, 0.1]))
    second = gaussian_pdfs(means=np.array([1.5, 1.2]), sigmas=np.array([0.2, 0.05]))
    mixed = mix_pdfs([first, second], weights=[1, 3])
    expected = gaussian_mixture_pdf(
        Z_GRID, [[0.25, 0.75]] * 2, [[0.8, 1.5], [1.0, 1.2]], [[0.1, 0.2], [0.1, 0.05]]
    )
    np.testing.assert_allclose(mixed, expected, rtol=1e-12, atol=1e-300)
    # Equal weights by default; an array (K, n, G) works as a sequence does.
    np.testing.assert_allclose(mix_pdfs(np.stack([first, second])), (first + second) / 2)


def test_mix_pdfs_keeps_a_missing_answer_missing():
    nan_row = np.full((1, 3), np.nan)
    assert np.isnan(mix_pdfs([nan_row, np.ones((1, 3))])).all()


@pytest.mark.parametrize(
    "pdfs, weights, match",
    [
        ([np.ones((2, 3)), np.ones((2, 4))], None, r"K >= 1 arrays of one shape"),
        (np.ones((2, 3)), None, r"K >= 1 arrays"),
        ([np.ones((2, 3))] * 2, [1.0], r"shape \(2,\)"),
        ([np.ones((2, 3))] * 2, [1.0, -1.0], ">= 0"),
        ([np.ones((2, 3))] * 2, [0.0, 0.0], "not all 0"),
    ],
)
def test_mix_pdfs_refuses_mismatched_input(pdfs, weights, match):
    with pytest.raises(ValueError, match=match):
        mix_pdfs(pdfs, weights)


# ---------------------------------------------------------------------- qp
def test_to_qp_ensemble_round_trip():
    pytest.importorskip("qp")
    pdf = 3.0 * gaussian_pdfs()
    ens = to_qp_ensemble(Z_GRID, pdf)
    assert ens.npdf == 3
    # qp normalises with the same trapezoid sum, so only round-off differs.
    np.testing.assert_allclose(ens.pdf(Z_GRID), normalise_pdf(Z_GRID, pdf), rtol=1e-10)
    # Between grid points qp interpolates linearly, as the CDF here assumes.
    midpoints = 0.5 * (Z_GRID[1:] + Z_GRID[:-1])
    np.testing.assert_allclose(
        ens.cdf(midpoints),
        0.5 * (pdf_cdf(Z_GRID, pdf)[:, 1:] + pdf_cdf(Z_GRID, pdf)[:, :-1]),
        atol=1e-12,
    )


def test_to_qp_ensemble_names_the_extra_when_qp_is_missing(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "qp", None)  # makes `import qp` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "skphotoz\[pdf\]"'):
        to_qp_ensemble([0.0, 1.0], [[1.0, 1.0]])
