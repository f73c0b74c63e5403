"""Baselines the joint network is measured against: template fitting and separate models."""

from skphotoz.baselines.pairs import GradientBoostingPair, IndependentPair
from skphotoz.baselines.sed import SEDTemplateFitter
from skphotoz.baselines.sequential import SequentialPair

__all__ = ["GradientBoostingPair", "IndependentPair", "SEDTemplateFitter", "SequentialPair"]
