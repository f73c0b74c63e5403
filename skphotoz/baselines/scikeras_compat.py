"""scikeras' Keras wrappers, corrected for the scikit-learn installed here.

scikeras 0.13 (its last release; the project is unmaintained) predates
scikit-learn's tag API of 1.6. :class:`CompatKerasClassifier` and
:class:`CompatKerasRegressor` are its ``KerasClassifier`` and
``KerasRegressor`` with these defects fixed (``pyproject.toml`` pins
``scikeras>=0.13,<0.14``, the release they were checked against):

* **Estimator type.** scikeras puts ``BaseEstimator`` before
  ``ClassifierMixin``/``RegressorMixin`` in the MRO, and
  ``BaseEstimator.__sklearn_tags__`` does not call the mixins, so the
  estimator type is None: ``is_classifier`` is False, an integer ``cv`` is a
  plain (unstratified) ``KFold`` and the ``roc_auc`` scorer hands the
  (n, 2) ``predict_proba`` to ``roc_auc_score``, which fails (NaN scores).
  Fixed: ``__sklearn_tags__`` declares the type, its tags and that ``y`` is
  required.
* **A RandomState as random_state.** scikeras turns it into a seed with
  ``randint(low=1)``, which is always 0, so every RandomState gives the same
  network. Fixed: an integer seed is drawn from it (advancing it, as
  scikit-learn estimators do).
* **Feature names and messages.** scikeras records no ``feature_names_in_``,
  does not warn when the columns change, and its messages for 1-D or
  wrongly sized ``X`` are not scikit-learn's. Fixed: ``X`` goes through
  ``sklearn.utils.validation.validate_data`` first. Sparse ``X`` is refused
  with scikit-learn's message: scikeras passed it on to Keras although no tag
  said so.
* **y=None.** The regressor failed with an AttributeError. Fixed: a
  ValueError says ``y`` is required.
* **sample_weight with class_weight.** ``KerasClassifier.fit`` and
  ``partial_fit`` multiplied the caller's ``sample_weight`` array by the
  class weights in place. Fixed: scikeras is handed a copy.

Not fixable in a subclass, and asserted by ``tests/test_scikeras_compat.py``
(strict expected failures of ``check_estimator``):

* ``check_mixin_order``: the mixin comes after ``BaseEstimator`` in
  scikeras' classes; putting it first here gives no consistent MRO.
* ``check_estimator_tags_renamed``: scikeras' ``BaseWrapper`` defines the
  old ``_more_tags`` (which scikit-learn no longer reads) without
  ``__sklearn_tags__``; the check looks at every class of the MRO.
* Importing scikeras replaces ``keras.Model.__reduce__`` and
  ``__deepcopy__`` for the whole process (pickling a model saves it to bytes
  with ``keras.saving``). The skphotoz networks pickle their weights
  themselves and are not affected; :class:`~skphotoz.baselines.SequentialPair`
  imports this module only when it is fitted, so ``import skphotoz`` does not
  patch Keras.

Seeds: with an integer ``random_state``, scikeras seeds Python, NumPy and
TensorFlow and enables TensorFlow's deterministic ops while it builds and
fits the model, so a fit on CPU is reproducible whatever random numbers were
drawn before it.
"""

from __future__ import annotations

import numpy as np
from scikeras.wrappers import KerasClassifier, KerasRegressor
from sklearn.utils import ClassifierTags, RegressorTags, check_random_state
from sklearn.utils.validation import validate_data


def _weights_copy(sample_weight):
    # scikeras' classifier multiplies sample_weight by the class weights in
    # place: it must never hold the caller's array.
    return None if sample_weight is None else np.array(sample_weight, dtype=np.float64)


class _ScikitLearnCompatibility:
    """The fixes shared by the classifier and the regressor (see the module docstring)."""

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new network and train it on ``(X, y)``, as scikeras' ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Never modified (scikeras' classifier multiplied it in place).
        **kwargs
            Passed to scikeras' ``fit`` (and on to ``keras.Model.fit``).

        Returns
        -------
        self
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        return super().fit(X, y, sample_weight=_weights_copy(sample_weight), **kwargs)

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if X is not None:
            # scikit-learn's validation first: it records feature_names_in_,
            # warns on renamed columns and words errors as the checks expect;
            # scikeras then sets its own metadata on the validated array.
            X = validate_data(self, X, reset=reset, allow_nd=True, dtype=None)
        return super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)

    def _build_keras_model(self):
        # scikeras' randint(low=1) maps every RandomState to seed 0; it has
        # just set _random_state and seeds the build and the fit with it.
        if isinstance(self.random_state, np.random.RandomState):
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            self._random_state = int(seed)
        return super()._build_keras_model()

    def _supervised_tags(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class CompatKerasClassifier(_ScikitLearnCompatibility, KerasClassifier):
    """scikeras' ``KerasClassifier`` that scikit-learn recognises as a classifier.

    Parameters are scikeras' (``model``, ``loss``, ``optimizer``, ``epochs``,
    ``batch_size``, ``callbacks``, ``random_state``, routed ``model__*``,
    ``optimizer__*``, ``fit__*`` ...); see the module docstring for what
    differs.

    Examples
    --------
    >>> import keras
    >>> import numpy as np
    >>> from sklearn.base import is_classifier
    >>> from skphotoz.baselines.scikeras_compat import CompatKerasClassifier
    >>> def logistic(meta):
    ...     inputs = keras.Input((meta["n_features_in_"],))
    ...     return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> clf = CompatKerasClassifier(logistic, loss="binary_crossentropy", epochs=1, verbose=0,
    ...                             random_state=0)
    >>> is_classifier(clf), clf.fit(X, X[:, 0] > 0).predict_proba(X[:2]).shape
    (True, (2, 2))
    """

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one more epoch, as scikeras' ``partial_fit``; ``sample_weight`` is not modified.

        Returns
        -------
        self
        """
        return super().partial_fit(
            X, y, classes=classes, sample_weight=_weights_copy(sample_weight), **kwargs
        )

    def __sklearn_tags__(self):
        tags = self._supervised_tags()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        return tags


class CompatKerasRegressor(_ScikitLearnCompatibility, KerasRegressor):
    """scikeras' ``KerasRegressor`` that scikit-learn recognises as a regressor.

    Parameters are scikeras' (see :class:`CompatKerasClassifier`).

    Examples
    --------
    >>> from sklearn.base import is_regressor
    >>> from skphotoz.baselines.scikeras_compat import CompatKerasRegressor
    >>> is_regressor(CompatKerasRegressor(loss="mse", epochs=300, batch_size=64))
    True
    """

    def __sklearn_tags__(self):
        tags = self._supervised_tags()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        return tags
