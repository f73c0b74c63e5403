"""Baselines the joint network is measured against: template fitting and separate models."""

from skphotoz.baselines.pairs import IndependentPair
from skphotoz.baselines.sed import SEDTemplateFitter

__all__ = ["IndependentPair", "SEDTemplateFitter"]
