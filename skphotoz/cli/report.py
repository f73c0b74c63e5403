"""``skphotoz report``: the paper's whole analysis of a catalog as one HTML page.

The command reads its options and the sample, then calls
:func:`skphotoz.reporting.run.run_report`, which does the analysis.
"""

from __future__ import annotations

from pathlib import Path

import click

from skphotoz.cli.common import (
    bands_to_score,
    check_folds,
    check_output,
    import_keras_quietly,
    load_training,
    one_line,
    reports_errors,
    staged_folder,
)
from skphotoz.cli.options import (
    catalog_options,
    n_galaxies_option,
    network_options,
    out_of_sample_options,
    overwrite_option,
    parse_base_units,
    redshift_pdf_option,
    split_list,
)

_DEMO_NAME = "demo sample (SDSS ugriz + 2MASS JHKs, kcorrect test set)"
# reporting.run.DEFAULT_PEERS, written out so that --help does not import the analysis.
_DEFAULT_PEERS = "HGB pair,RF pair,separate networks"
_NO_FILTERS = (
    "no --filters given, so the bands could not be matched to filter curves "
    "(e.g. --filters U=bessell_U,... or sdss_r0, cfht_megacam_rs_9601)."
)


def _parse_filters(filters, bands):
    """'--filters U=bessell_U,...' or a plain list in band order -> list of sedpy names."""
    items = split_list(filters)
    if not items:
        return None
    if all("=" in item for item in items):
        mapping = dict(item.split("=", 1) for item in items)
        missing = [b for b in bands if b not in mapping]
        if missing:
            raise click.UsageError(f"--filters gives no filter for band(s) {missing}.")
        return [mapping[b] for b in bands]
    if len(items) != len(bands):
        raise click.UsageError(
            f"--filters lists {len(items)} filter(s) for {len(bands)} band(s) {bands}."
        )
    return items


def _parse_offsets(sed_offsets, n_bands):
    """``--sed-offsets`` as n_bands floats, or None when not given."""
    if not sed_offsets:
        return None
    try:
        offsets = [float(v) for v in split_list(sed_offsets)]
    except ValueError as exc:
        raise click.UsageError(f"--sed-offsets must be numbers ({exc}).") from exc
    if len(offsets) != n_bands:
        raise click.UsageError(f"--sed-offsets has {len(offsets)} values for {n_bands} bands.")
    return offsets


def _check_sed_inputs(filters, templates):
    """The filter curves and templates load, before any training: a typo fails now."""
    from skphotoz.baselines.templates import load_bands, load_templates

    for option, load, value in (
        ("--filters", load_bands, filters),
        ("--templates", load_templates, templates),
    ):
        try:
            load(value)
        except (ValueError, OSError) as exc:
            raise click.ClickException(f"{option}: {one_line(exc)}") from exc


@click.command()
@click.argument(
    "catalog", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@catalog_options(required=False)
@network_options
@click.option(
    "--demo",
    is_flag=True,
    help="Use the built-in SDSS+2MASS demo sample (the default without CATALOG).",
)
@n_galaxies_option(2000)
@out_of_sample_options
@click.option(
    "--filters",
    multiple=True,
    help="sedpy filter names for the SED template baseline, either band=filter pairs "
    "(U=bessell_U,...) or one per band in --bands order. Without it the SED baseline is "
    "skipped (the demo knows its filters).",
)
@click.option(
    "--templates",
    default="bpz",
    show_default=True,
    help="SED templates: 'bpz' or a folder of LePhare .sed files.",
)
@click.option(
    "--sed-offsets",
    default=None,
    help="Magnitude offsets added per band before template fitting, comma-separated, e.g. "
    "Vega to AB for Bessell UBVRI: 0.81,-0.10,0.01,0.19,0.44 (the templates are AB).",
)
@click.option("--r-band", default=None, help="Band column for Fig. 1 and Table 1 (guessed).")
@click.option(
    "--weights",
    type=click.IntRange(2, None),
    default=None,
    metavar="N",
    help="Add the Q-Q analysis of the redshift-neuron weights over N bootstrap training "
    "runs (paper Fig. 8 used 1000; each run is one training).",
)
@click.option(
    "--peers",
    default=_DEFAULT_PEERS,
    show_default=True,
    help="Peers predicted on the same folds as the network and compared with it by paired "
    "bootstrap differences, comma-separated: 'HGB pair', 'RF pair', 'separate networks' "
    "(the paper's two sequential networks on the fast path), 'SequentialPair' (the same "
    "through scikeras, ~20x slower); 'none' for no peers table.",
)
@redshift_pdf_option(
    "Give the network a redshift-PDF head and add the out-of-sample PDFs' PIT "
    "histogram, interval coverage and PDF metrics (from the same trained folds as the points)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("skphotoz_report"),
    show_default=True,
    help="Folder for report.html (self-contained) and its PNG/CSV files. It is written "
    "whole or not at all: a failed run leaves it as it was, and --overwrite replaces only "
    "a folder that an earlier report wrote.",
)
@overwrite_option
@reports_errors
def report(
    catalog,
    bands,
    type_col,
    z_col,
    et_values,
    lt_values,
    unit,
    sentinels,
    impute,
    epochs,
    protocol,
    base_units,
    random_state,
    demo,
    n_galaxies,
    loo,
    folds,
    n_bootstrap,
    filters,
    templates,
    sed_offsets,
    r_band,
    weights,
    peers,
    redshift_pdf,
    output,
    overwrite,
):
    """The paper's whole analysis of CATALOG (or the demo sample) as one HTML report.

    \b
    Examples:
      skphotoz report --demo --epochs 50 -o demo_report
      skphotoz report cnoc2.fits --bands UBVRI --type-col SC --et-values 2 \\
          --lt-values 4,5 --z-col Z --epochs 100 --r-band UBVRI_3 \\
          --filters bessell_U,bessell_B,bessell_V,bessell_R,bessell_I \\
          --sed-offsets 0.81,-0.10,0.01,0.19,0.44 -o cnoc2_report
    (CNOC2 magnitudes are Vega-like; the offsets make them AB for the
    templates only.)

    Every network prediction in it is out of sample (k-fold or LOO).
    Galaxies with missing bands are predicted natively (or filled with
    --impute); without --impute, galaxies with too few observed bands for a
    prediction (JointMorphZ's min_observed_bands) are left out and counted.
    Contents: Fig. 1 + Table 1 (data), Tables 3, 5, 6 + ROC (classification
    at 0.5 and at Youden's threshold), z_phot vs z_spec for the network and
    the SED baseline, residuals with 99% bands, the residual table with
    bootstrap errors, outlier counts, the peers (--peers) on the same folds
    with their paired differences from the network, with --redshift-pdf the
    PDFs' PIT histogram and coverage and, with --weights N, the weight Q-Q
    analysis. Open OUTPUT/report.html in a browser.
    """
    from skphotoz.reporting.run import resolve_peers, run_report

    try:
        peers = resolve_peers(peers)
    except ValueError as exc:
        raise click.UsageError(f"--peers: {exc}") from exc
    notes = []
    if demo and catalog is not None:
        raise click.UsageError("Give either a CATALOG (with --bands etc.) or --demo, not both.")
    if catalog is not None and not (bands and type_col and z_col):
        raise click.UsageError("A CATALOG needs --bands, --type-col and --z-col.")
    check_output(output, overwrite, folder=True)
    if catalog is None:
        if not demo:
            click.echo("No CATALOG given: reporting on the built-in demo sample (--demo).")
        from skphotoz.datasets import DEMO_BANDS, load_demo

        X, y = load_demo(n_samples=n_galaxies, random_state=random_state, return_X_y=True)
        sed_filters, r_band = list(DEMO_BANDS), r_band or "r"
        name, title = _DEMO_NAME, "demo sample"
    else:
        data = load_training(
            catalog,
            bands,
            type_col,
            z_col,
            et_values,
            lt_values,
            unit,
            sentinels,
            impute,
            min_observed_bands=bands_to_score(impute),
        )
        X, y, name, title = data.X, data.y, str(catalog), catalog.name
        notes += [f"Left out {n} row(s): {reason}." for reason, n in data.dropped.items()]
        sed_filters = _parse_filters(filters, data.bands)
    # Offsets only matter with a template fit, and are checked only then.
    offsets = None
    if sed_filters is not None:
        offsets = _parse_offsets(sed_offsets, X.shape[1])
        _check_sed_inputs(sed_filters, templates)
    if not loo:
        check_folds(folds, y["type"])
    units = parse_base_units(base_units)
    import_keras_quietly()
    with staged_folder(output) as staging:
        path = run_report(
            staging,
            X,
            y,
            epochs=epochs,
            protocol=protocol,
            base_units=units,
            impute=impute,
            redshift_pdf=redshift_pdf,
            loo=loo,
            peers=peers,
            n_folds=folds,
            sed_filters=sed_filters,
            templates=templates,
            sed_offsets=offsets,
            sed_note=_NO_FILTERS,
            r_band=r_band,
            weight_runs=weights,
            sample=name,
            title=f"skphotoz report: {title}",
            notes=notes,
            n_bootstrap=n_bootstrap,
            random_state=random_state,
            verbose=1,
        )
    click.echo(
        f"Wrote {output / path.name} (open it in a browser) and its figures and tables in {output}."
    )
