"""FlexZBoost, the redshift-PDF peer: PDFs, inputs, sklearn citizenship, accuracy.

Every model here is tiny (a few basis functions, a few shallow trees) so that
the file runs in well under half a minute; accuracy is only asked of a
simple, low-noise z(colour) relation.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_validate
from sklearn.utils.estimator_checks import check_estimator, check_param_validation

pytest.importorskip("flexcode", reason="FlexZBoost needs flexcode (pip install 'skphotoz[pdf]')")
pytest.importorskip("xgboost", reason="FlexZBoost needs xgboost (pip install 'skphotoz[pdf]')")

from skphotoz.baselines import FlexZBoost  # noqa: E402

from .conftest import make_joint_sample  # noqa: E402

#: Small enough that a fit takes a fraction of a second.
SMALL = {"max_basis": 8, "n_estimators": 10, "max_depth": 3, "n_grid": 100, "random_state": 0}
#: Smaller still, where only the plumbing is tested.
TINY = {**SMALL, "max_basis": 4, "n_estimators": 4, "n_grid": 50}


def colour_sample(n, seed=0, noise=0.02):
    """A magnitude and a colour that is a linear function of z, plus noise."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.1, 1.5, n)
    colour = 0.2 + 0.8 * z + rng.normal(0, noise, n)
    magnitude = 20.0 + 1.5 * z + rng.normal(0, 0.3, n)
    return np.column_stack([magnitude, colour]), z


@pytest.fixture(scope="module")
def fitted():
    X, z = colour_sample(300)
    return FlexZBoost(**SMALL).fit(X, z), X, z


def test_pdfs_are_normalised_on_the_default_and_a_custom_grid(fitted):
    model, X, z = fitted
    assert model.z_range_ == (z.min(), z.max())
    np.testing.assert_allclose(model.z_grid_, np.linspace(z.min(), z.max(), SMALL["n_grid"]))
    assert 1 <= model.n_basis_ <= SMALL["max_basis"]
    pdf = model.predict_pdf(X[:20])
    assert pdf.shape == (20, SMALL["n_grid"]) and pdf.dtype == np.float64
    assert np.all(pdf >= 0)
    np.testing.assert_allclose(np.trapezoid(pdf, model.z_grid_), 1.0, atol=1e-12)
    # A grid wider and finer than the training range: zero outside it, still normalised.
    grid = np.linspace(0.0, 2.0, 401)
    wide = model.predict_pdf(X[:20], z_grid=grid)
    assert wide.shape == (20, 401)
    np.testing.assert_allclose(np.trapezoid(wide, grid), 1.0, atol=1e-12)
    outside = (grid < z.min()) | (grid > z.max())
    assert np.all(wide[:, outside] == 0)


def test_point_estimate_is_the_mode_and_predict_redshift_is_predict(fitted):
    model, X, _ = fitted
    z_phot = model.predict(X[:20])
    assert z_phot.shape == (20,)
    np.testing.assert_array_equal(z_phot, model.z_grid_[model.predict_pdf(X[:20]).argmax(1)])
    np.testing.assert_array_equal(model.predict_redshift(X[:20]), z_phot)


@pytest.mark.parametrize(
    "z_grid, message",
    [
        ([0.0, 1.0, 0.5, 2.0], "strictly increasing"),
        ([-0.1, 0.5, 2.0], ">= 0"),
        ([1.0], "at least 2 points"),
        ([0.5, 1.0, 2.0], "does not cover the training redshift range"),
        ([[0.0, 2.0]], "1-D"),
    ],
)
def test_a_bad_grid_is_refused(fitted, z_grid, message):
    model, X, _ = fitted
    with pytest.raises(ValueError, match=message):
        model.predict_pdf(X[:2], z_grid=z_grid)


def test_point_estimate_recovers_a_colour_redshift_relation(fitted):
    """colour = 0.2 + 0.8 z + N(0, 0.02): z is known to ~0.025 from the colour alone.

    On held-out galaxies the median |dz|/(1+z) must be below 0.03 and under
    5% may be outliers (|dz|/(1+z) > 0.15); a model that ignored the colour
    would give ~0.2 and ~50%.
    """
    model, _, _ = fitted
    X_test, z_test = colour_sample(200, seed=1)
    dz = np.abs(model.predict(X_test) - z_test) / (1 + z_test)
    assert np.median(dz) < 0.03
    assert np.mean(dz > 0.15) < 0.05
    # The PDF puts its mass near the truth: most true redshifts lie in the central 90%.
    pdf = model.predict_pdf(X_test)
    grid = model.z_grid_
    steps = (pdf[:, 1:] + pdf[:, :-1]) / 2 * np.diff(grid)  # the trapezoid CDF
    cdf = np.column_stack([np.zeros(len(pdf)), np.cumsum(steps, axis=1)])
    pit = np.array([np.interp(zt, grid, row) for zt, row in zip(z_test, cdf, strict=True)])
    assert np.mean((pit > 0.05) & (pit < 0.95)) > 0.7


def test_missing_bands_as_nan_are_accepted():
    X, z = colour_sample(200, seed=2)
    X_nan = X.copy()
    X_nan[::4, 1] = np.nan  # the colour missing for a quarter of the galaxies
    model = FlexZBoost(**TINY).fit(X_nan, z)
    assert model.__sklearn_tags__().input_tags.allow_nan
    pdf = model.predict_pdf(np.array([[20.5, np.nan], [np.nan, 0.6]]))
    assert np.all(np.isfinite(pdf))
    np.testing.assert_allclose(np.trapezoid(pdf, model.z_grid_), 1.0)


@pytest.mark.parametrize("value, message", [(99.0, "sentinel"), (-99.0, "sentinel")])
def test_placeholder_magnitudes_are_refused(fitted, value, message):
    model, X, z = fitted
    bad = X[:50].copy()
    bad[3, 0] = value
    with pytest.raises(ValueError, match=message):
        FlexZBoost(**TINY).fit(bad, z[:50])
    with pytest.raises(ValueError, match=message):
        model.predict(bad)


def test_a_non_detection_is_fainter_than_any_magnitude(fitted):
    # +inf (not detected) is the largest float32 to xgboost: the same PDF as
    # any magnitude fainter than every training galaxy.
    model, X, z = fitted
    faint = X[:5].copy()
    faint[:, 0] = np.inf
    fainter = X[:5].copy()
    fainter[:, 0] = 60.0
    np.testing.assert_array_equal(model.predict_pdf(faint), model.predict_pdf(fainter))


def test_the_joint_target_gives_the_same_model_as_the_redshifts():
    X, y, types, z = make_joint_sample(n=120)
    reference = FlexZBoost(**TINY).fit(X, z).predict_pdf(X[:10])
    frame = pd.DataFrame({"redshift": z, "type": types})  # read by name, not position
    for target in (y, frame):
        model = FlexZBoost(**TINY).fit(X, target)
        np.testing.assert_array_equal(model.predict_pdf(X[:10]), reference)
    assert model.score(X, y) == pytest.approx(model.score(X, z))


@pytest.mark.parametrize(
    "z, message",
    [
        (np.r_[-0.1, np.linspace(0.1, 1, 19)], "negative"),
        (np.r_[np.nan, np.linspace(0.1, 1, 19)], "non-finite"),
        (np.r_[np.inf, np.linspace(0.1, 1, 19)], "non-finite"),
        (np.full(20, 0.5), "range of redshifts"),
        (None, "requires y to be passed"),
    ],
)
def test_bad_redshifts_are_refused(z, message):
    X, _ = colour_sample(20)
    with pytest.raises(ValueError, match=message):
        FlexZBoost(**TINY).fit(X, z)


def test_tuning_options():
    X, z = colour_sample(150, seed=3)
    fixed = FlexZBoost(**{**SMALL, "bump_threshold": 0.1, "sharpen_alpha": 1.5}).fit(X, z)
    assert (fixed.bump_threshold_, fixed.sharpen_alpha_) == (0.1, 1.5)
    untuned = FlexZBoost(
        **{**SMALL, "validation_fraction": 0.0, "bump_threshold": None, "sharpen_alpha": None}
    ).fit(X, z)
    assert untuned.n_basis_ == SMALL["max_basis"]
    assert untuned.bump_threshold_ is None and untuned.sharpen_alpha_ is None
    with pytest.raises(ValueError, match="validation_fraction=0"):
        FlexZBoost(**{**SMALL, "validation_fraction": 0.0}).fit(X, z)
    with pytest.raises(ValueError, match="at least 2 samples"):
        FlexZBoost(**SMALL).fit(X[:1], z[:1])


def test_sample_weights_reach_the_regressions():
    X, z = colour_sample(150, seed=4)
    plain = FlexZBoost(**TINY).fit(X, z).predict_pdf(X[:5])
    ones = FlexZBoost(**TINY).fit(X, z, sample_weight=np.ones(150)).predict_pdf(X[:5])
    np.testing.assert_allclose(ones, plain)
    weights = np.where(z > 0.8, 10.0, 0.1)
    weighted = FlexZBoost(**TINY).fit(X, z, sample_weight=weights).predict_pdf(X[:5])
    assert not np.allclose(weighted, plain)
    with pytest.raises(ValueError, match="(?i)negative"):
        FlexZBoost(**TINY).fit(X, z, sample_weight=-np.ones(150))


def test_clone_and_get_params_round_trip(fitted):
    model, _, _ = fitted
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "model_")
    copy.set_params(basis_system="Fourier", bump_threshold=None)
    assert FlexZBoost(**copy.get_params()).get_params() == copy.get_params()


def test_pickle_round_trip_gives_identical_pdfs(fitted):
    model, X, _ = fitted
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_pdf(X[:20]), model.predict_pdf(X[:20]))
    np.testing.assert_array_equal(loaded.predict(X[:20]), model.predict(X[:20]))


def test_same_random_state_same_model():
    X, z = colour_sample(150, seed=5)
    first = FlexZBoost(**TINY).fit(X, z).predict_pdf(X[:10])
    np.testing.assert_array_equal(FlexZBoost(**TINY).fit(X, z).predict_pdf(X[:10]), first)
    # A RandomState instance seeds the held-out split and xgboost alike.
    seeded = [
        FlexZBoost(**{**TINY, "random_state": np.random.RandomState(7)}).fit(X, z).predict_pdf(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(*seeded)


def test_cross_validate_with_redshifts_and_with_the_joint_target():
    X, y, _, z = make_joint_sample(n=120)
    model = FlexZBoost(**TINY)
    cv = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(model, X, z, cv=cv, scoring="neg_median_absolute_error")
    assert np.all(np.isfinite(result["test_score"])) and np.all(result["test_score"] <= 0)
    # The joint estimators' y, scored by FlexZBoost.score (R^2 on the redshift column).
    joint = cross_validate(model, X, y, cv=cv)
    assert np.all(np.isfinite(joint["test_score"]))


def test_unfitted_model_and_missing_flexcode(monkeypatch):
    X, z = colour_sample(20)
    with pytest.raises(NotFittedError):
        FlexZBoost().predict_pdf(X)
    monkeypatch.setitem(__import__("sys").modules, "flexcode", None)
    with pytest.raises(ImportError, match=r"skphotoz\[pdf\]"):
        FlexZBoost(**TINY).fit(X, z)


# ------------------------------------------------------------ check_estimator
PLACEHOLDER_X = (
    "feeds X ~ N(100, 1); a magnitude with |x| >= 90 is a catalog placeholder, refused "
    "(naming the band) before y is read"
)
#: Checks that fail, with the reason; the test asserts exactly these fail.
EXPECTED_FAILED_CHECKS = {
    "check_fit_idempotent": PLACEHOLDER_X,
    "check_fit_check_is_fitted": PLACEHOLDER_X,
    "check_n_features_in": PLACEHOLDER_X,
    "check_requires_y_none": PLACEHOLDER_X,
    "check_dtype_object": "expects a TypeError for a dict in an object X; "
    "skphotoz.validation.to_numeric_frame refuses it with a ValueError saying magnitudes "
    "must be numeric",
}
#: Checks whose outcome depends on the data they draw, not on a contract.
MAY_FAIL_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": "weight 2 and a repeated row are the same "
    "to xgboost, but the random held-out split of the tuning sees other galaxies, so the "
    "tuned model differs unless the tiny test model happens to give the same modes",
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_check_estimator_fails_exactly_the_listed_checks():
    # A very small model: each check fits it afresh, several times.
    model = FlexZBoost(
        max_basis=3, n_estimators=5, max_depth=2, learning_rate=0.5, n_grid=20, random_state=0
    )
    results = check_estimator(model, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed - set(EXPECTED_FAILED_CHECKS) - set(MAY_FAIL_CHECKS) == set()
    assert set(EXPECTED_FAILED_CHECKS) - failed == set(), "listed checks that pass"
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_estimators_unfitted", "check_regressors_train", "check_estimators_pickle"} <= (
        passed
    )
    check_param_validation("FlexZBoost", model)
