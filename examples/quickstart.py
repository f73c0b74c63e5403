"""Quickstart: train JointMorphZ, cross-validate it, and compare with two random forests.

Runs on the demo sample that ships with the pip dependencies:

    python examples/quickstart.py
"""

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split

from skphotoz import JointMorphZ
from skphotoz.datasets import load_demo
from skphotoz.metrics import classification_metrics, photoz_metrics


def main(n_galaxies=1500, epochs=100):
    X, y = load_demo(n_samples=n_galaxies, return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y["type"], random_state=0
    )
    model = JointMorphZ(epochs=epochs, random_state=0).fit(X_train, y_train)
    late_true = (y_test["type"] == "LT").to_numpy()
    z_spec = y_test["redshift"].to_numpy()

    # The same task with two independent models, as most pipelines do it.
    forest_type = RandomForestClassifier(300, random_state=0).fit(X_train, y_train["type"])
    forest_z = RandomForestRegressor(300, random_state=0).fit(X_train, y_train["redshift"])
    p_forest = forest_type.predict_proba(X_test)[:, list(forest_type.classes_).index("LT")]

    for name, p_late, z_phot in [
        ("JointMorphZ", model.predict_proba(X_test)[:, 1], model.predict_redshift(X_test)),
        ("two random forests", p_forest, forest_z.predict(X_test)),
    ]:
        cls = classification_metrics(late_true, p_late)
        phz = photoz_metrics(z_spec, z_phot)
        print(
            f"{name:>20}: AUC {cls['roc_auc']:.3f}  accuracy {cls['accuracy']:.3f}  "
            f"sigma_NMAD {phz['sigma_nmad']:.4f}  outliers {phz['outlier_fraction']:.3f}"
        )
    return model


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
