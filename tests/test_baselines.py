"""IndependentPair: two separate models behind the joint [type, redshift] API."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_validate

from skphotoz.baselines.pairs import IndependentPair
from skphotoz.metrics import SCORERS
from skphotoz.model_selection import StratifiedTypeKFold

from .conftest import make_joint_sample


def test_pair_equals_its_two_models_fitted_separately():
    X, y, types, redshift = make_joint_sample(n=80)
    pair = IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y)
    classifier = LogisticRegression().fit(X, types)
    regressor = LinearRegression().fit(X, redshift)
    np.testing.assert_allclose(pair.predict_proba(X), classifier.predict_proba(X))
    np.testing.assert_allclose(pair.predict_redshift(X), regressor.predict(X))
    joint = pair.predict(X)
    assert joint.shape == (80, 2)
    np.testing.assert_array_equal(joint[:, 0], classifier.predict(X))
    assert pair.classes_.tolist() == ["ET", "LT"] and is_classifier(pair)
    # The prototypes are cloned, never fitted in place.
    unfitted = LogisticRegression()
    IndependentPair(unfitted, LinearRegression()).fit(X, y)
    assert not hasattr(unfitted, "coef_")


def test_default_forests_are_seeded_and_cross_validate():
    X, y, _, _ = make_joint_sample(n=90)
    pair = IndependentPair(random_state=3)
    assert clone(pair).get_params()["random_state"] == 3
    fitted = pair.fit(pd.DataFrame(X, columns=list("ugriz")), y)
    assert isinstance(fitted.classifier_, RandomForestClassifier)
    assert isinstance(fitted.regressor_, RandomForestRegressor)
    assert fitted.classifier_.random_state == 3
    scores = cross_validate(
        IndependentPair(random_state=0), X, y, cv=StratifiedTypeKFold(3), scoring=SCORERS
    )
    assert np.all(np.isfinite(scores["test_joint"]))
    assert np.all(scores["test_roc_auc"] > 0.5)


def test_bad_input_is_refused():
    X, y, _, _ = make_joint_sample(n=40)
    bad = X.copy()
    bad[5, 2] = 99.0
    with pytest.raises(ValueError, match="sentinel"):
        IndependentPair(LogisticRegression(), LinearRegression()).fit(bad, y)
    with pytest.raises(ValueError, match="rows"):
        IndependentPair(LogisticRegression(), LinearRegression()).fit(X, y[:-1])
    with pytest.raises(ValueError, match="classifier"):
        IndependentPair(classifier=LinearRegression()).fit(X, y)
