"""The joint network's specification: layout, defaults, protocols and the loss-weight rule.

Architecture 1 of de Diego et al. (2021, their Fig. 2), in the paper's notation:

* Base module ``D512_0.5``: Dense(512, relu) + Dropout(0.5);
* Classification module ``D32_0.1 : D32_0.1 : D1``: two Dense(32, relu) +
  Dropout(0.1), then Dense(1, sigmoid) giving p = P(late type);
* Redshift module ``C^b_c : D1``: concatenate(base output, p), then
  Dense(1, linear).

The other architectures of the paper's Table 2 are parameter changes
(:data:`ARCHITECTURES`). Every builder (the Keras network of
:mod:`skphotoz.nn.network`, the replica network of :mod:`skphotoz.nn.replica`)
and every estimator reads its layout from one :class:`NetworkSpec`; nothing
else holds a default of the layout.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

from skphotoz.nn.density import PDF_FAMILIES

#: Output names: the Keras losses and metrics are keyed on them
#: ("val_p_late_loss", "val_redshift_loss").
CLASS_OUTPUT, REDSHIFT_OUTPUT = "p_late", "redshift"

#: Name of the PDF head's output (and layer): its raw parameters, see
#: :mod:`skphotoz.nn.density`.
PDF_OUTPUT = "redshift_pdf"

#: Name of the layer whose kernel holds the concatenate-layer weights
#: analysed in the paper's Sect. 3.3 (Fig. 8).
REDSHIFT_LAYER = "redshift"

#: Training protocols. ``"paper"`` is de Diego et al. (2021) taken literally;
#: ``"fixed"`` is its final-run mode; ``"total_loss"`` early-stops on the sum
#: of both validation losses and restores the best weights.
PROTOCOLS = ("paper", "fixed", "total_loss")

#: The redshift MSE weight that ``redshift_loss_weight="auto"`` uses outside
#: ``protocol="paper"``. The MSE of z (~0.006 on real samples) is some 30 times
#: smaller than the class BCE (~0.2), so with equal weights the shared base
#: module learns almost only the type; 10 measured best on CNOC2, VIPERS and
#: the demo sample (docs/benchmarks.md, benchmarks/bench_protocols.py).
AUTO_REDSHIFT_LOSS_WEIGHT = 10.0


#: ``epochs="auto"`` under ``protocol="fixed"``: 300 epochs (the paper's final
#: runs) while that stays within this many optimisation steps (300 epochs of
#: 3,000 galaxies in batches of 64), fewer beyond, never under
#: :data:`MIN_AUTO_EPOCHS`. Measured on SDSS+2MASS (docs/benchmarks.md, Sect.
#: 9): at 10k and 30k galaxies 100 epochs give the quality of 300 within
#: about two paired errors (sigma_NMAD better at 30k, worse at 10k) at a third
#: of the cost; at 3k 300 epochs are best.
AUTO_EPOCH_STEPS = 14_100
MIN_AUTO_EPOCHS = 100
MAX_EPOCHS = 300


def resolve_epochs(epochs, n_rows, batch_size, protocol="fixed"):
    """The number of epochs to train: ``epochs`` itself, or the ``"auto"`` schedule.

    Examples
    --------
    >>> from skphotoz.nn.spec import resolve_epochs
    >>> [resolve_epochs("auto", n, 64) for n in (370, 3000, 6000, 30000)]
    [300, 300, 150, 100]
    >>> resolve_epochs("auto", 30000, 64, protocol="paper")  # an upper bound there
    300
    """
    if epochs != "auto":
        return int(epochs)
    if protocol != "fixed":
        return MAX_EPOCHS  # early stopping decides; this is its ceiling
    steps_per_epoch = -(-int(n_rows) // int(batch_size))
    budget = -(-AUTO_EPOCH_STEPS // max(steps_per_epoch, 1))
    return int(min(MAX_EPOCHS, max(MIN_AUTO_EPOCHS, budget)))


#: base_dropout="auto": the paper's rate below this many training galaxies,
#: a lighter one from there (docs/benchmarks.md, Sect. 7).
AUTO_DROPOUT_ROWS = 5_000
PAPER_BASE_DROPOUT = 0.5
LARGE_SAMPLE_BASE_DROPOUT = 0.2


def resolve_base_dropout(base_dropout, base_units, n_rows, protocol="fixed"):
    """The base module's dropout rates: ``base_dropout`` itself, or the ``"auto"`` rule.

    "auto" keeps the paper's 0.5 below :data:`AUTO_DROPOUT_ROWS` training
    galaxies (and always under ``protocol="paper"``, or when the size is
    unknown) and takes 0.2 from there: with 6,400 and more training
    galaxies the lighter base had the lower sigma_NMAD, and 0.5 regularised
    away the scatter the trees reach.

    Examples
    --------
    >>> from skphotoz.nn.spec import resolve_base_dropout
    >>> [resolve_base_dropout("auto", (512,), n) for n in (2000, 8000)]
    [(0.5,), (0.2,)]
    >>> resolve_base_dropout("auto", (64, 32), 8000, protocol="paper")
    (0.5, 0.5)
    >>> resolve_base_dropout((0.3,), (512,), 8000)
    (0.3,)
    """
    if not isinstance(base_dropout, str):
        return tuple(base_dropout)
    large = protocol != "paper" and n_rows is not None and n_rows >= AUTO_DROPOUT_ROWS
    rate = LARGE_SAMPLE_BASE_DROPOUT if large else PAPER_BASE_DROPOUT
    return (rate,) * len(tuple(base_units))


#: redshift_units="auto": the redshift branch's hidden layers outside the
#: paper's protocol. The paper's branch is one Dense(1) on the base output and
#: p, so the 512 base units must serve the type and the redshift alike; two
#: relu layers of 64 between them lowered sigma_NMAD on all five gappy samples
#: of docs/benchmarks.md, Sect. 7 (SDSS from 0.0283 to below the trees' 0.0269).
AUTO_REDSHIFT_UNITS = (64, 64)


def resolve_redshift_units(redshift_units, protocol="fixed"):
    """The redshift branch's hidden widths: ``redshift_units`` itself, or the ``"auto"`` rule.

    "auto" is the paper's branch (no hidden layer) under ``protocol="paper"``
    and :data:`AUTO_REDSHIFT_UNITS` otherwise.

    Examples
    --------
    >>> from skphotoz.nn.spec import resolve_redshift_units
    >>> [resolve_redshift_units("auto", protocol) for protocol in ("paper", "fixed")]
    [(), (64, 64)]
    >>> resolve_redshift_units((16,))
    (16,)
    """
    if not isinstance(redshift_units, str):
        return tuple(redshift_units)
    if redshift_units != "auto":
        raise ValueError(f"redshift_units must be a tuple or 'auto'; got {redshift_units!r}.")
    return () if protocol == "paper" else AUTO_REDSHIFT_UNITS


def effective_redshift_loss_weight(redshift_loss_weight, protocol):
    """The MSE weight actually used: "auto" is 1 (the paper's) for ``protocol="paper"``.

    Examples
    --------
    >>> from skphotoz.nn.spec import effective_redshift_loss_weight
    >>> [effective_redshift_loss_weight("auto", protocol) for protocol in ("paper", "fixed")]
    [1.0, 10.0]
    """
    if isinstance(redshift_loss_weight, str):
        return 1.0 if protocol == "paper" else AUTO_REDSHIFT_LOSS_WEIGHT
    return float(redshift_loss_weight)


def check_layer_spec(name, units, dropouts=None):
    """Validated ``(units, dropouts)`` tuples of one module; raise ValueError if malformed.

    Examples
    --------
    >>> from skphotoz.nn.spec import check_layer_spec
    >>> check_layer_spec("class_units", [32, 32], [0.1, 0.1])
    ((32, 32), (0.1, 0.1))
    """
    units = tuple(units)
    if not all(isinstance(u, numbers.Integral) and u > 0 for u in units):
        raise ValueError(f"{name} must be a tuple of positive integers; got {units!r}.")
    if dropouts is None:
        return units, None
    dropouts = tuple(dropouts)
    if len(dropouts) != len(units):
        raise ValueError(
            f"{name} has {len(units)} layer(s) but its dropout tuple has {len(dropouts)} entries."
        )
    if not all(0.0 <= d < 1.0 for d in dropouts):
        raise ValueError(f"Dropout rates for {name} must lie in [0, 1); got {dropouts!r}.")
    return units, dropouts


@dataclass(frozen=True)
class NetworkSpec:
    """The layout of the joint network: what every builder needs, validated once.

    Parameters
    ----------
    base_units, base_dropout : tuple, default=(512,), (0.5,)
        Base module Dense(relu) widths and dropout rates.
    class_units, class_dropout : tuple, default=(32, 32), (0.1, 0.1)
        Classification branch widths and dropout rates before its sigmoid.
    redshift_units : tuple, default=()
        Dense(relu) layers on the base output before the concatenation with
        p (``(16,)`` is the paper's Architecture 4).
    feed_class_probability : bool, default=True
        Concatenate p = P(late type) into the redshift branch (the paper's
        design); False gives two heads that share only the base module.
    missing_bands : bool, default=False
        The input is encoded for missing bands (:mod:`skphotoz.nn.layers`):
        for each band its z-scored magnitude (0 where absent), whether it was
        observed and whether it was a non-detection, so the first layer sees
        three columns per band.
    band_dropout : float, default=0.0
        With ``missing_bands``, the probability that training hides an
        observed band of a galaxy (per band, per step), so that the network
        learns to predict from any subset of its bands.
    colours : False, "adjacent" or "all", default=False
        Feed the network colours beside the magnitudes, computed inside the
        model from the raw magnitudes (a colour is missing when either band
        is): of adjacent bands (m_j - m_j+1; True means this), or of every
        pair of bands (:func:`colour_pairs`).

    shared_base : bool, default=True
        One base module feeds both heads (the paper's design). False gives
        the type branch a base module of its own (same size): with
        ``feed_class_probability=False`` that is two separate sequential
        networks trained side by side (de Diego et al. 2020), an ablation.
    redshift_pdf : {None, "mixture", "bins"}, default=None
        Add a redshift-PDF head (:mod:`skphotoz.nn.density`) on the same
        input as the redshift neuron (base output and p).
    pdf_components : int or None, default=None
        Mixture components or bins of the PDF head; None takes the family's
        default (:data:`skphotoz.nn.density.PDF_FAMILIES`).

    Examples
    --------
    >>> from skphotoz.nn.spec import NetworkSpec
    >>> spec = NetworkSpec.from_params(base_units=[64], base_dropout=[0.2])
    >>> spec.base_units, spec.class_units
    ((64,), (32, 32))
    """

    base_units: tuple = (512,)
    base_dropout: tuple = (PAPER_BASE_DROPOUT,)
    class_units: tuple = (32, 32)
    class_dropout: tuple = (0.1, 0.1)
    redshift_units: tuple = ()
    feed_class_probability: bool = True
    missing_bands: bool = False
    band_dropout: float = 0.0
    colours: bool = False
    shared_base: bool = True
    redshift_pdf: str | None = None
    pdf_components: int | None = None

    @classmethod
    def from_params(cls, **params):
        """A validated spec from estimator parameters (lists accepted, unknown keys refused)."""
        unknown = set(params) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Unknown architecture argument(s): {sorted(unknown)}.")
        merged = {**asdict(cls()), **params}
        base_units, base_dropout = check_layer_spec(
            "base_units", merged["base_units"], merged["base_dropout"]
        )
        if not base_units:
            raise ValueError("base_units needs at least one layer (the shared base module).")
        class_units, class_dropout = check_layer_spec(
            "class_units", merged["class_units"], merged["class_dropout"]
        )
        redshift_units, _ = check_layer_spec("redshift_units", merged["redshift_units"])
        band_dropout = float(merged["band_dropout"])
        if not 0.0 <= band_dropout < 1.0:
            raise ValueError(f"band_dropout must lie in [0, 1); got {band_dropout!r}.")
        return cls(
            base_units=base_units,
            base_dropout=base_dropout,
            class_units=class_units,
            class_dropout=class_dropout,
            redshift_units=redshift_units,
            feed_class_probability=bool(merged["feed_class_probability"]),
            missing_bands=bool(merged["missing_bands"]),
            band_dropout=band_dropout,
            colours=check_colours(merged["colours"]),
            shared_base=bool(merged["shared_base"]),
            **_check_pdf_head(merged["redshift_pdf"], merged["pdf_components"]),
        )

    @property
    def pdf_outputs(self):
        """Raw outputs of the PDF head per galaxy (0 without one)."""
        if self.redshift_pdf is None:
            return 0
        return 3 * self.pdf_components if self.redshift_pdf == "mixture" else self.pdf_components

    @property
    def encodes_inside(self):
        """Whether the model standardises (and encodes) raw magnitudes itself."""
        return self.missing_bands or self.colours

    def n_features(self, n_bands):
        """Number of input features per galaxy: magnitudes, then colours."""
        return n_bands + len(colour_pairs(n_bands, self.colours)[0])


def _check_pdf_head(redshift_pdf, pdf_components):
    if redshift_pdf is None:
        return {"redshift_pdf": None, "pdf_components": None}
    if redshift_pdf not in PDF_FAMILIES:
        raise ValueError(
            f"redshift_pdf must be None or one of {sorted(PDF_FAMILIES)}; got {redshift_pdf!r}."
        )
    if pdf_components is None:
        pdf_components = PDF_FAMILIES[redshift_pdf]
    if not isinstance(pdf_components, numbers.Integral) or pdf_components < 1:
        raise ValueError(f"pdf_components must be a positive integer; got {pdf_components!r}.")
    return {"redshift_pdf": redshift_pdf, "pdf_components": int(pdf_components)}


#: The colour sets a network can be fed (``colours=True`` means "adjacent").
COLOUR_MODES = (False, "adjacent", "all")


def check_colours(colours):
    """``colours`` as one of :data:`COLOUR_MODES`; raise ValueError otherwise."""
    if colours is True:
        return "adjacent"
    if colours is False or colours is None:
        return False
    if colours not in COLOUR_MODES:
        raise ValueError(f"colours must be one of {COLOUR_MODES} (or True); got {colours!r}.")
    return colours


def colour_pairs(n_bands, colours):
    """Band indices ``(blue, red)`` of the colours ``m[blue] - m[red]`` the network is fed.

    "adjacent": (0, 1), (1, 2), ...; "all": every pair i < j, so that a
    galaxy missing one band still has a colour across the gap (with 30% of
    bands missing at random, half of the adjacent colours are missing).

    Examples
    --------
    >>> from skphotoz.nn.spec import colour_pairs
    >>> [b.tolist() for b in colour_pairs(3, "all")]
    [[0, 0, 1], [1, 2, 2]]
    """
    import numpy as np

    colours = check_colours(colours)
    if not colours or n_bands < 2:
        return np.empty(0, int), np.empty(0, int)
    if colours == "adjacent":
        return np.arange(n_bands - 1), np.arange(1, n_bands)
    blue, red = np.triu_indices(n_bands, k=1)
    return blue, red


#: Published architectures of Table 2, as keyword arguments for
#: :meth:`NetworkSpec.from_params` and :class:`skphotoz.JointMorphZ`.
ARCHITECTURES = {
    1: {"redshift_units": ()},
    2: {"base_units": (64,), "base_dropout": (0.5,), "redshift_units": ()},
    3: {"class_units": (32,), "class_dropout": (0.1,), "redshift_units": ()},
    4: {"redshift_units": (16,)},
}
