"""Every module's docstring examples run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import skphotoz

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(skphotoz.__path__, prefix="skphotoz.")
)


# The weight-analysis example's five runs are too few for scipy's bootstrap to be well-behaved.
@pytest.mark.filterwarnings("ignore::scipy.stats.DegenerateDataWarning")
@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_every_public_estimator_has_an_example():
    from sklearn.base import BaseEstimator

    missing = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            is_estimator = isinstance(obj, type) and issubclass(obj, BaseEstimator)
            if is_estimator and obj.__module__ == name and not attr.startswith("_"):
                if ">>>" not in (obj.__doc__ or ""):
                    missing.append(f"{name}.{attr}")
    assert missing == []
