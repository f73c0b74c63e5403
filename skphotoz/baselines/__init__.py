"""Baselines the joint network is measured against: template fitting and separate models."""

from skphotoz.baselines.flexzboost import FlexZBoost
from skphotoz.baselines.pairs import GradientBoostingPair, IndependentPair
from skphotoz.baselines.sed import SEDTemplateFitter
from skphotoz.baselines.sequential import SequentialPair

__all__ = [
    "FlexZBoost",
    "GradientBoostingPair",
    "IndependentPair",
    "SEDTemplateFitter",
    "SequentialPair",
]
