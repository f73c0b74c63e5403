import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from skphotoz import JointMorphZ
from skphotoz.preprocessing import AdjacentColours, SentinelToNaN

from .conftest import TINY


def test_sentinels_become_nan_and_are_counted():
    X = np.array([[20.0, -99.0, 21.0], [99.0, 22.0, 0.0], [21.0, 22.5, 23.0]])
    t = SentinelToNaN(bright_limit=5.0).fit(X)
    out = t.transform(X)
    assert np.isnan(out[0, 1]) and np.isnan(out[1, 0]) and np.isnan(out[1, 2])
    assert np.isfinite(out).sum() == 6
    assert t.n_missing_.tolist() == [1, 1, 1]
    assert X[0, 1] == -99.0  # input untouched


def test_sentinel_to_nan_applies_the_placeholder_limit():
    X = np.array([[20.0, 99.99, -999.0], [21.0, 22.0, 89.0], [22.0, np.inf, 1e30]])
    out = SentinelToNaN().fit_transform(X)
    assert np.isnan(out).tolist() == [
        [False, True, True],
        [False, False, False],
        [False, True, True],
    ]
    assert SentinelToNaN().limit == 90.0
    # limit=None keeps only the exact sentinels and non-finite values
    kept = SentinelToNaN(limit=None).fit_transform(X)
    assert np.isnan(kept).sum() == 1 and kept[0, 1] == 99.99
    with pytest.raises(ValueError, match="limit"):
        SentinelToNaN(limit=-1.0).fit(X)


def test_missing_band_pipeline_trains_and_predicts(joint_sample):
    X, y, _, _ = joint_sample
    X = X.copy()
    X[::7, 1] = -99.0
    X[::11, 3] = 99.0
    with pytest.raises(ValueError, match="sentinel"):
        JointMorphZ(**TINY).fit(X, y)
    pipe = make_pipeline(SentinelToNaN(), SimpleImputer(add_indicator=True), JointMorphZ(**TINY))
    pipe.fit(X, y)
    assert pipe[-1].n_features_in_ == 5 + 2  # two indicator columns for the two gappy bands
    pred = pipe.predict(X)
    assert pred.shape == (len(X), 2)
    assert np.isfinite(pred[:, 1].astype(float)).all()


def test_adjacent_colours_values_in_band_order():
    X = np.array([[22.0, 21.0, 20.5, 20.0], [23.0, 22.5, 21.0, 20.8]])
    out = AdjacentColours().fit_transform(X)
    np.testing.assert_allclose(out[:, :4], X)
    np.testing.assert_allclose(out[:, 4:], [[1.0, 0.5, 0.5], [0.5, 1.5, 0.2]])
    colours_only = AdjacentColours(keep_magnitudes=False).fit_transform(X)
    np.testing.assert_allclose(colours_only, out[:, 4:])


def test_a_missing_band_makes_both_its_colours_nan():
    X = np.array(
        [
            [22.0, np.nan, 20.5, 20.0],
            [np.inf, 22.5, 21.0, 20.8],
            [23.0, 22.0, -np.inf, np.inf],
            [23.0, 22.0, 21.0, 20.0],
        ]
    )
    colours = AdjacentColours(keep_magnitudes=False).fit_transform(X)
    # u-g g-r r-i per row: NaN wherever either band is NaN or +-inf, never inf.
    expected_nan = [
        [True, True, False],
        [True, False, False],
        [False, True, True],
        [False, False, False],
    ]
    np.testing.assert_array_equal(np.isnan(colours), expected_nan)
    assert not np.isinf(colours).any()
    np.testing.assert_allclose(colours[3], [1.0, 1.0, 1.0])
    assert np.isnan(X[0, 1])  # the input is not modified
    assert AdjacentColours().__sklearn_tags__().input_tags.allow_nan


def test_colour_names_from_bands():
    X = pd.DataFrame({"u": [22.0, 23.0], "g": [21.0, 22.0], "r": [20.5, 21.0]})
    t = AdjacentColours().fit(X)
    assert t.get_feature_names_out().tolist() == ["u", "g", "r", "u-g", "g-r"]
    assert AdjacentColours(keep_magnitudes=False).fit(X).get_feature_names_out().tolist() == [
        "u-g",
        "g-r",
    ]
    unnamed = AdjacentColours(keep_magnitudes=False).fit(X.to_numpy())
    assert unnamed.get_feature_names_out().tolist() == ["x0-x1", "x1-x2"]
    assert unnamed.get_feature_names_out(["g", "r", "i"]).tolist() == ["g-r", "r-i"]
    framed = AdjacentColours().set_output(transform="pandas").fit_transform(X)
    assert list(framed.columns) == ["u", "g", "r", "u-g", "g-r"]
    np.testing.assert_allclose(framed["u-g"], [1.0, 1.0])
    with pytest.raises(ValueError, match="feature names"):
        t.transform(X[["g", "u", "r"]])
    with pytest.raises(ValueError, match="1 feature"):
        AdjacentColours().fit(X[["u"]])


def test_colours_in_a_pipeline_with_missing_bands(joint_sample):
    X, _, _, redshift = joint_sample
    X = X.copy()
    X[::4, 1] = -99.0
    X[::9, 3] = np.nan
    pipe = make_pipeline(
        SentinelToNaN(),
        AdjacentColours(),
        HistGradientBoostingRegressor(max_iter=20, random_state=0),
    )
    pipe.fit(X, redshift)
    assert pipe[-1].n_features_in_ == 5 + 4
    assert pipe[:-1].get_feature_names_out().tolist()[5:] == ["x0-x1", "x1-x2", "x2-x3", "x3-x4"]
    assert np.isfinite(pipe.predict(X)).all()


# to_numeric_frame (skphotoz.validation) reports non-numeric magnitudes as a
# ValueError that names the problem; sklearn expects the TypeError of np.asarray.
COLOUR_EXPECTED_FAILED_CHECKS = {
    "check_dtype_object": "skphotoz.validation.to_numeric_frame raises ValueError, not "
    "TypeError, for an object that is not a number"
}


@pytest.mark.parametrize("keep_magnitudes", [True, False])
def test_adjacent_colours_passes_sklearn_checks(keep_magnitudes):
    results = check_estimator(
        AdjacentColours(keep_magnitudes=keep_magnitudes),
        expected_failed_checks=COLOUR_EXPECTED_FAILED_CHECKS,
        on_fail=None,
    )
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert failed == []
    assert {
        "check_transformer_general",
        "check_fit2d_1feature",
        "check_n_features_in_after_fitting",
        "check_estimators_pickle",
    } <= passed
