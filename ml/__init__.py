"""mlsite's model layer: data sets, feature schemas, training, verified artifacts, drift and the registry.

Pure Python — no Django. The web layer uses only the names exported here (an import-linter contract in
pyproject.toml keeps it so).
"""

from __future__ import annotations

from ml.artifacts import pin_version, read_manifest
from ml.drift import PSI_MODERATE, PSI_SIGNIFICANT, bin_counts, psi, psi_level
from ml.errors import ArtifactRefused, InvalidInput, MLError, ModelNotFound, ModelUnavailable, ScoringError
from ml.registry import LoadedModel, ModelStatus, Registry, registry_for, reset_registries
from ml.schema import CategoryFeature, Derivation, FeatureSchema, NumberFeature
from ml.specs import SPECS, ModelSpec, get_spec
from ml.training import TrainResult, train

__all__ = [
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
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
    "bin_counts",
    "get_spec",
    "pin_version",
    "psi",
    "psi_level",
    "read_manifest",
    "registry_for",
    "reset_registries",
    "train",
]
