"""The ``skphotoz`` command line.

This package holds the click group :func:`main` (the ``skphotoz`` entry
point) and adds to it the commands its modules define: ``demo`` and
``compare`` (:mod:`skphotoz.cli.demo`, the built-in sample), and the catalog
commands ``fit``, ``predict``, ``cv``, ``report`` and ``inspect``, one module
each. The options several commands share are declared once in
:mod:`skphotoz.cli.options`. Run ``skphotoz COMMAND --help`` for each one.

Importing it does not import Keras or TensorFlow: each command imports what
it needs when it runs, so ``skphotoz --help`` is quick.
"""

import click

from skphotoz.cli import cv, demo, fit, inspect, predict, report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skphotoz")
def main():
    """Galaxy type (early/late) and photometric redshift from one network.

    \b
    Start here:
      skphotoz demo               train and evaluate on the built-in sample
      skphotoz report --demo -o report_dir
                                  the paper's whole analysis as one HTML page
      skphotoz COMMAND --help     options of any command

    \b
    Your own catalog (FITS, VOTable, ECSV, CSV or parquet) with
    spectroscopic redshifts and type labels:
      skphotoz inspect cat.fits   its columns, value ranges and type codes
      skphotoz fit cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC -o model.skz
      skphotoz predict model.skz big_catalog.fits -o predictions.fits
      skphotoz cv cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC --folds 5
      skphotoz report cat.fits --bands u,g,r,i,z --type-col TYPE --z-col ZSPEC -o report_dir
    Example: CNOC2 (types in SC: 2 early, 4 and 5 late, 6 dropped):
      skphotoz fit cnoc2.fits --bands UBVRI --type-col SC --et-values 2 --lt-values 4,5 \\
          --z-col Z -o cnoc2.skz
    """


for command in (
    demo.demo,
    demo.compare,
    fit.fit,
    predict.predict,
    cv.cv,
    report.report,
    inspect.inspect,
):
    main.add_command(command)

__all__ = ["main"]
