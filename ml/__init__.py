"""mlsite's model layer: data sets, feature schemas, training, verified artifacts and the registry.

Pure Python — no Django. The web layer uses only the names exported here.
"""

from __future__ import annotations

from ml.errors import ArtifactRefused, InvalidInput, MLError, ModelNotFound, ModelUnavailable, ScoringError
from ml.registry import LoadedModel, ModelStatus, Registry, registry_for, reset_registries
from ml.schema import CategoryFeature, Derivation, FeatureSchema, NumberFeature
from ml.specs import SPECS, ModelSpec, get_spec
from ml.training import TrainResult, train

__all__ = [
    "SPECS",
    "ArtifactRefused",
    "CategoryFeature",
    "Derivation",
    "FeatureSchema",
    "InvalidInput",
    "LoadedModel",
    "MLError",
    "ModelNotFound",
    "ModelSpec",
    "ModelStatus",
    "ModelUnavailable",
    "NumberFeature",
    "Registry",
    "ScoringError",
    "TrainResult",
    "get_spec",
    "registry_for",
    "reset_registries",
    "train",
]
