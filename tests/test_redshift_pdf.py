"""The redshift-PDF head of the joint network (issue 15): predict_pdf and its loss."""

import pickle

import numpy as np
import pytest

from skphotoz import JointMorphZ, ReplicaEnsemble
from skphotoz.nn.density import RedshiftDensity, replica_pdf_range
from skphotoz.pdf import gaussian_mixture_pdf

SMALL = {
    "base_units": (16,),
    "base_dropout": (0.0,),
    "class_units": (8,),
    "class_dropout": (0.0,),
    "batch_size": 32,
}


def _sample(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(20.0, 1.0, size=(n, 4))
    redshift = np.clip(0.4 + 0.15 * (X[:, 0] - X[:, 1]) + 0.03 * rng.normal(size=n), 0.01, None)
    late = (X[:, 2] - X[:, 3] + 0.3 * rng.normal(size=n)) > -0.3
    y = np.column_stack([np.where(late, "LT", "ET"), redshift]).astype(object)
    y[:, 1] = redshift
    return X, y, redshift


@pytest.fixture(scope="module")
def fitted():
    X, y, _ = _sample()
    return {
        family: JointMorphZ(redshift_pdf=family, epochs=8, random_state=0, **SMALL).fit(X, y)
        for family in ("mixture", "bins")
    }


@pytest.mark.parametrize("family", ["mixture", "bins"])
def test_predict_pdf_is_normalised_and_survives_pickling(fitted, family):
    model = fitted[family]
    X, _, _ = _sample(30, seed=1)
    pdf = model.predict_pdf(X)
    assert pdf.shape == (30, len(model.z_grid_))
    assert np.all(pdf >= 0)
    # normalise_pdf makes the trapezoid integral 1 up to float64 round-off.
    np.testing.assert_allclose(np.trapezoid(pdf, model.z_grid_, axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_pdf(X), pdf)
    summary = model.predict_pdf_summary(X)
    assert list(summary.columns) == [
        "mode",
        "median",
        "mean",
        "lower_68",
        "upper_68",
        "lower_95",
        "upper_95",
    ]
    assert np.all(summary["lower_95"] <= summary["lower_68"])
    assert np.all(summary["lower_68"] <= summary["median"])
    assert np.all(summary["median"] <= summary["upper_68"])


def test_predict_pdf_on_a_user_grid(fitted):
    model = fitted["mixture"]
    X, _, redshift = _sample(10, seed=2)
    grid = np.linspace(0.0, 2.0, 401)
    pdf = model.predict_pdf(X, z_grid=grid)
    assert pdf.shape == (10, 401)
    np.testing.assert_allclose(np.trapezoid(pdf, grid, axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize(
    "grid, message",
    [
        (np.linspace(1.0, 0.0, 50), "increasing"),
        (np.linspace(-0.5, 2.0, 50), "negative|>= 0|non-negative"),
        (np.linspace(0.3, 0.5, 50), "cover"),
    ],
)
def test_bad_z_grid_is_refused(fitted, grid, message):
    X, _, _ = _sample(5, seed=3)
    with pytest.raises(ValueError, match=message):
        fitted["bins"].predict_pdf(X, z_grid=grid)


def test_no_pdf_head_names_the_option():
    X, y, _ = _sample(60)
    model = JointMorphZ(epochs=1, random_state=0, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="redshift_pdf"):
        model.predict_pdf(X)


def test_unknown_family_is_refused():
    X, y, _ = _sample(60)
    with pytest.raises(ValueError, match="redshift_pdf"):
        JointMorphZ(redshift_pdf="histogram", epochs=1, **SMALL).fit(X, y)


def test_too_few_bands_get_no_pdf(fitted):
    X, _, _ = _sample(4, seed=4)
    X[0, 1:] = np.nan  # one band left: below min_observed_bands=2
    pdf = fitted["mixture"].predict_pdf(X)
    assert np.isnan(pdf[0]).all() and np.isfinite(pdf[1:]).all()


def test_keras_trainer_and_ensemble_give_pdfs():
    X, y, _ = _sample(120)
    keras_model = JointMorphZ(
        redshift_pdf="bins", protocol="total_loss", epochs=2, random_state=0, **SMALL
    ).fit(X, y)
    assert "redshift_pdf_loss" in keras_model.history_
    ensemble = ReplicaEnsemble(
        n_replicas=3, redshift_pdf="mixture", epochs=2, random_state=0, **SMALL
    ).fit(X, y)
    for model in (keras_model, ensemble):
        pdf = model.predict_pdf(X[:7])
        np.testing.assert_allclose(np.trapezoid(pdf, model.z_grid_, axis=1), 1.0, atol=1e-9)
    # The ensemble's p(z) is the equal-weight mixture of its replicas' PDFs.
    raw = ensemble._pdf_outputs(X[:7])
    assert raw.shape[1] == 3
    density = RedshiftDensity("mixture", 5, *ensemble.pdf_range_)
    mixed = density.density(raw, ensemble.z_grid_).mean(axis=1)
    mixed /= np.trapezoid(mixed, ensemble.z_grid_, axis=1)[:, None]
    # The densities are float32 (relative error ~1e-7), normalised in float64.
    np.testing.assert_allclose(ensemble.predict_pdf(X[:7]), mixed, rtol=1e-6)


def test_training_lowers_the_negative_log_likelihood():
    X, y, _ = _sample(240)
    model = JointMorphZ(redshift_pdf="mixture", epochs=30, random_state=0, **SMALL).fit(X, y)
    nll = model.history_["redshift_pdf_loss"]
    # It starts with components ~0.7 of the range wide; a drop of 0.5 in -log p
    # means p(z_spec) grew by e^0.5 on average: the head learnt, not drifted.
    assert nll[-1] < nll[0] - 0.5


@pytest.mark.parametrize("family", ["mixture", "bins"])
def test_training_loss_is_minus_log_density(family):
    # The Keras-ops likelihood of training and the NumPy grid density of
    # prediction are two codes for one p(z): they must agree at z_spec.
    rng = np.random.default_rng(0)
    n_components = 3 if family == "mixture" else 16
    density = RedshiftDensity(family, n_components, [0.0, 0.2], [1.0, 1.4])
    raw = 0.3 * rng.normal(size=(6, 2, density.n_outputs))
    z = rng.uniform(0.25, 0.95, size=6)
    nll = np.asarray(density.negative_log_likelihood(raw.transpose(1, 0, 2).astype("f4"), z))
    at_z = np.array(
        [[density.density(raw[i : i + 1], [z[i]])[0, k, 0] for i in range(6)] for k in range(2)]
    )
    if family == "mixture":
        # float32 arithmetic of the loss (eps 1.2e-7 on O(1) terms) against float64: 1e-5.
        np.testing.assert_allclose(nll, -np.log(at_z), atol=1e-5)
    else:
        # Training uses the step histogram, prediction its mass-keeping linear
        # interpolation: they agree exactly at bin centres only, so compare
        # there (z moved to its bin's centre).
        width = (density.z_hi - density.z_lo) / n_components
        centres = (
            density.z_lo[:, None]
            + (np.floor((z - density.z_lo[:, None]) / width[:, None]) + 0.5) * width[:, None]
        )
        at_centre = np.array(
            [
                [density.density(raw[i : i + 1], [centres[k, i]])[0, k, 0] for i in range(6)]
                for k in range(2)
            ]
        )
        np.testing.assert_allclose(nll, -np.log(at_centre), atol=1e-5)


def test_mixture_density_matches_an_independent_gaussian_mixture():
    density = RedshiftDensity("mixture", 2, 0.0, 1.0)
    raw = np.array([[[0.0, np.log(3.0), -0.2, 0.1, 0.0, -1.0]]])
    grid = np.linspace(0.0, 1.0, 101)
    span, softplus = 1.0, np.logaddexp(0.0, np.array([0.0, -1.0]))
    means = np.array([[0.25 - 0.2, 0.75 + 0.1]]) * span
    sigmas = (softplus + 1e-3)[None] * span
    expected = gaussian_mixture_pdf(grid, np.array([[0.25, 0.75]]), means, sigmas)
    # float32 arithmetic (eps 1.2e-7) through a few operations: 1e-6 relative.
    np.testing.assert_allclose(density.density(raw, grid)[:, 0], expected, rtol=1e-6)


def test_replica_pdf_range_uses_each_replicas_own_rows():
    z_lo, z_hi = replica_pdf_range(np.array([0.1, 0.5, 2.0]), np.array([[1, 1], [1, 1], [0, 1]]))
    np.testing.assert_allclose(z_lo, [0.06, 0.0])
    np.testing.assert_allclose(z_hi, [0.54, 2.19])


def test_a_one_bin_head_keeps_its_parameter_axis():
    # One raw output per galaxy must not be squeezed like the point outputs.
    X, y, _ = _sample(60)
    model = ReplicaEnsemble(
        n_replicas=2, redshift_pdf="bins", pdf_components=1, epochs=1, **SMALL
    ).fit(X, y)
    assert model._pdf_outputs(X[:4]).shape == (4, 2, 1)
    np.testing.assert_allclose(np.trapezoid(model.predict_pdf(X[:4]), model.z_grid_), 1.0)


def test_a_refit_without_a_head_drops_the_pdf_state():
    X, y, _ = _sample(60)
    model = JointMorphZ(redshift_pdf="mixture", epochs=1, **SMALL).fit(X, y)
    model.set_params(redshift_pdf=None).fit(X, y)
    assert not hasattr(model, "z_grid_") and not hasattr(model, "pdf_range_")
    with pytest.raises(ValueError, match="redshift_pdf"):
        model.predict_pdf(X)


# ------------------------------------------------- point_estimate="pdf_median"
@pytest.mark.parametrize("family", ["mixture", "bins"])
def test_point_redshift_is_the_median_of_the_pdf(fitted, family):
    model = fitted[family]
    X, _, _ = _sample(40, seed=5)
    X[0, 1:] = np.nan  # too few bands: no number either way
    z_phot = model.predict_redshift(X)
    median = model.predict_pdf_summary(X)["median"].to_numpy()
    # The same float32 densities and the same CDF inversion: equal up to
    # float64 round-off; the estimator then clips to the training bounds.
    np.testing.assert_allclose(
        z_phot, np.clip(median, *model.coverage_.redshift_bounds()), atol=1e-12
    )
    assert np.isnan(z_phot[0])
    # A prediction-time choice: the regression neuron's value, another number.
    neuron = clone_with(model, point_estimate="regression").predict_redshift(X)
    assert np.isnan(neuron[0]) and np.max(np.abs(neuron[1:] - z_phot[1:])) > 1e-4
    np.testing.assert_array_equal(model.predict_joint(X)["z_phot"], z_phot)


def clone_with(model, **params):
    """The fitted model with other prediction-time parameters (a pickled copy)."""
    copy = pickle.loads(pickle.dumps(model))
    return copy.set_params(**params)


def test_pdf_median_needs_a_pdf_head():
    X, y, _ = _sample(60)
    with pytest.raises(ValueError, match="redshift_pdf='mixture'"):
        JointMorphZ(point_estimate="pdf_median", epochs=1, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="redshift_pdf='mixture'"):
        ReplicaEnsemble(point_estimate="pdf_median", n_replicas=2, epochs=1, **SMALL).fit(X, y)
    # "auto" without a head is the regression neuron, as before the option existed.
    assert not JointMorphZ(epochs=1, **SMALL).fit(X, y).uses_pdf_median()


def test_ensemble_averages_its_replicas_medians():
    X, y, _ = _sample(120)
    ensemble = ReplicaEnsemble(
        n_replicas=3, redshift_pdf="mixture", epochs=3, random_state=0, **SMALL
    ).fit(X, y)
    raw = ensemble._pdf_outputs(X[:9])
    medians = ensemble._pdf_density().medians(raw, ensemble.z_grid_)
    out = ensemble.predict_joint(X[:9])
    bounds = ensemble.coverage_.redshift_bounds()
    np.testing.assert_allclose(out["z_phot"], np.clip(medians.mean(axis=1), *bounds), atol=1e-12)
    # Its spread is the medians' spread (times the calibration factor).
    np.testing.assert_allclose(
        out["z_phot_err"], ensemble.error_scale_ * medians.std(axis=1, ddof=1), rtol=1e-9
    )
    # One replica: its z_phot is the median of its own p(z), as for one network.
    single = ReplicaEnsemble(
        n_replicas=1, redshift_pdf="bins", epochs=3, random_state=0, **SMALL
    ).fit(X, y)
    np.testing.assert_allclose(
        single.predict_redshift(X[:9]),
        np.clip(single.predict_pdf_summary(X[:9])["median"], *single.coverage_.redshift_bounds()),
        atol=1e-12,
    )


def test_out_of_fold_replicas_give_a_clones_pdf_median():
    from skphotoz.model_selection import cross_val_predict_joint, cross_val_predict_pdf
    from skphotoz.pdf import default_z_grid, pdf_summary

    X, y, redshift = _sample(150)
    # One split whose training rows hold both redshift extremes, so that the
    # replica's grid (its training range, padded) can be asked of the PDF engine.
    order = np.argsort(redshift)
    test = np.sort(order[1:-1:3])
    train = np.setdiff1d(np.arange(len(X)), test)
    model = JointMorphZ(redshift_pdf="mixture", epochs=4, random_state=0, **SMALL)
    oof = cross_val_predict_joint(model, X, y, cv=[(train, test)], random_state=0)
    grid = default_z_grid((redshift[train].min(), redshift[train].max()))
    grid, pdf = cross_val_predict_pdf(model, X, y, cv=[(train, test)], z_grid=grid, random_state=0)
    # The same replica trained twice from the same seed: the same network,
    # so the same float32 densities and medians to round-off.
    median = np.clip(pdf_summary(grid, pdf)["median"][test], *_bounds(redshift[train]))
    np.testing.assert_allclose(oof["z_phot"].to_numpy()[test], median, atol=1e-9)
    regression = cross_val_predict_joint(
        model.set_params(point_estimate="regression"), X, y, cv=[(train, test)], random_state=0
    )
    assert np.max(np.abs(regression["z_phot"].to_numpy()[test] - median)) > 1e-4


def _bounds(redshift):
    from skphotoz.nn.coverage import redshift_bounds

    return redshift_bounds(float(redshift.min()), float(redshift.max()))


def test_a_pdf_beyond_the_grid_gets_its_mean_not_nan():
    # Two narrow components 4+ units below a [0, 1] grid: no mass on the grid
    # in float32, so no median there; the mean (-4.5) is returned, which the
    # estimator clips and flags z_out_of_range, instead of an unflagged NaN.
    density = RedshiftDensity("mixture", 2, 0.0, 1.0)
    raw = np.array([[[0.0, 0.0, -5.0, -5.0, -10.0, -10.0]]])
    grid = np.linspace(0.0, 1.0, 50)
    assert not density.density(raw, grid).any()
    np.testing.assert_allclose(density.medians(raw, grid), [[-4.5]], rtol=1e-12)
    inside = np.array([[[0.0, 0.0, 0.0, 0.0, -3.0, -3.0]]])  # components at 0.25, 0.75
    assert 0.25 < density.medians(inside, grid)[0, 0] < 0.75
    bins = RedshiftDensity("bins", 4, 0.0, 1.0)
    np.testing.assert_allclose(bins.means(np.zeros((1, 1, 4))), [[0.5]])
