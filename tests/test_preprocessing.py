import numpy as np
import pytest
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from skphotoz import JointMorphZ
from skphotoz.preprocessing import SentinelToNaN

from .conftest import TINY


def test_sentinels_become_nan_and_are_counted():
    X = np.array([[20.0, -99.0, 21.0], [99.0, 22.0, 0.0], [21.0, 22.5, 23.0]])
    t = SentinelToNaN(bright_limit=5.0).fit(X)
    out = t.transform(X)
    assert np.isnan(out[0, 1]) and np.isnan(out[1, 0]) and np.isnan(out[1, 2])
    assert np.isfinite(out).sum() == 6
    assert t.n_missing_.tolist() == [1, 1, 1]
    assert X[0, 1] == -99.0  # input untouched


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
