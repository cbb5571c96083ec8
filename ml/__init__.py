"""mlsite's model layer: model cards, feature schemas, training recipes, verified skops artifacts, drift and the
registry.

Pure Python — no Django. The web layer uses only the names exported here (an import-linter contract in
pyproject.toml keeps it so).
"""

from __future__ import annotations

from ml.artifacts import (
    deserialize,
    load_pickle,
    read_card,
    read_manifest,
    remove_version,
    serialize,
    untrusted_types,
    write_version,
)
from ml.cards import CARD_SCHEMA, CLASSIFICATION, REGRESSION, CardInvalid, ModelCard, card_dict, load_card
from ml.drift import PSI_MODERATE, PSI_SIGNIFICANT, bin_counts, psi, psi_level
from ml.errors import ArtifactRefused, InvalidInput, MLError, ModelNotFound, ModelUnavailable, ScoringError
from ml.mlflow_format import MlflowUnreadable, merge_card, read_mlflow_model
from ml.mlflow_format import complete_card as complete_mlflow_card
from ml.recipes import RECIPES, get_recipe
from ml.registry import (
    CatalogueEntry,
    LoadedModel,
    ModelStatus,
    Registry,
    VersionRef,
    estimator_problems,
    registry_for,
    reset_registries,
)
from ml.schema import BooleanFeature, CategoryFeature, Derivation, Feature, FeatureSchema, NumberFeature
from ml.training import TrainResult, references, train

__all__ = [
    "CARD_SCHEMA",
    "CLASSIFICATION",
    "PSI_MODERATE",
    "PSI_SIGNIFICANT",
    "RECIPES",
    "REGRESSION",
    "ArtifactRefused",
    "BooleanFeature",
    "CardInvalid",
    "CatalogueEntry",
    "CategoryFeature",
    "Derivation",
    "Feature",
    "FeatureSchema",
    "InvalidInput",
    "LoadedModel",
    "MLError",
    "ModelCard",
    "ModelNotFound",
    "ModelStatus",
    "ModelUnavailable",
    "NumberFeature",
    "Registry",
    "ScoringError",
    "TrainResult",
    "VersionRef",
    "MlflowUnreadable",
    "bin_counts",
    "complete_mlflow_card",
    "merge_card",
    "read_mlflow_model",
    "card_dict",
    "estimator_problems",
    "deserialize",
    "get_recipe",
    "load_card",
    "load_pickle",
    "psi",
    "psi_level",
    "read_card",
    "read_manifest",
    "references",
    "registry_for",
    "remove_version",
    "reset_registries",
    "serialize",
    "train",
    "untrusted_types",
    "write_version",
]
