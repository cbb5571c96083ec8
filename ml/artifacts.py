"""Versioned model artifacts on disk: ``$MODEL_DIR/<name>/<version>/{model.joblib,manifest.json}``.

Versions are increasing integers. A version directory is written under a temporary name and renamed into place, so
a reader never sees half an artifact. Loading verifies, in this order, that the manifest is complete, that the
artifact was built with the installed scikit-learn, that the sha256 of the model bytes matches the manifest and that
the feature schema is the one the code validates with — and only then unpickles those same verified bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from ml.errors import ArtifactRefused, ModelNotFound
from ml.specs import ModelSpec

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
PIN_FILE = "PINNED"  # optional: the version an operator pinned as the default
MANIFEST_FORMAT = 1
REQUIRED_KEYS = ("format", "name", "version", "algorithm", "model_file", "sha256", "schema", "metrics", "data",
                 "versions", "created_at")


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def list_versions(model_dir: Path, name: str) -> list[str]:
    """Versions on disk, oldest first. Directories without a manifest (interrupted writes) are ignored."""
    root = Path(model_dir) / name
    if not root.is_dir():
        return []
    found = [entry.name for entry in root.iterdir()
             if entry.name.isdigit() and (entry / MANIFEST_FILE).is_file()]
    return sorted(found, key=int)


def pinned_version(model_dir: Path, name: str) -> str | None:
    pin = Path(model_dir) / name / PIN_FILE
    if not pin.is_file():
        return None
    return pin.read_text().strip() or None


def pin_version(model_dir: Path, name: str, version: str | None) -> None:
    """Pin ``version`` as the served default, or unpin with None (the newest is served)."""
    pin = Path(model_dir) / name / PIN_FILE
    if version is None:
        pin.unlink(missing_ok=True)
        return
    available = list_versions(model_dir, name)
    if version not in available:
        raise ModelNotFound(f"{name} has no version {version!r}; available: {', '.join(available) or 'none'}.")
    pin.write_text(f"{version}\n")


def default_version(model_dir: Path, name: str) -> str | None:
    return pinned_version(model_dir, name) or next(reversed(list_versions(model_dir, name)), None)


def write_version(model_dir: Path, spec: ModelSpec, estimator: Any, manifest: dict[str, Any]) -> tuple[str, Path]:
    """Serialise ``estimator`` as the next version of ``spec``; return (version, directory)."""
    root = Path(model_dir) / spec.name
    root.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    payload = buffer.getvalue()
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        return _publish(root, staging, spec, payload, manifest, model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(root: Path, staging: Path, spec: ModelSpec, payload: bytes, manifest: dict, model_dir: Path):
    (staging / MODEL_FILE).write_bytes(payload)
    while True:
        existing = list_versions(model_dir, spec.name)
        version = str(int(existing[-1]) + 1 if existing else 1)
        full = {
            "format": MANIFEST_FORMAT,
            "name": spec.name,
            "version": version,
            "model_file": MODEL_FILE,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "size_bytes": len(payload),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "versions": library_versions(),
            **manifest,
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
        try:
            os.rename(staging, root / version)  # atomic; fails if another trainer took this number first
        except OSError:
            if (root / version).exists():
                continue
            raise
        return version, root / version


@dataclass(frozen=True)
class VerifiedArtifact:
    manifest: dict[str, Any]
    estimator: Any


def read_manifest(model_dir: Path, name: str, version: str) -> dict[str, Any]:
    path = Path(model_dir) / name / version / MANIFEST_FILE
    if not path.parent.is_dir():
        raise ModelNotFound(f"{name} has no version {version!r}.")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactRefused(f"{name} v{version}: {path} is missing.") from None
    except (OSError, ValueError) as exc:
        raise ArtifactRefused(f"{name} v{version}: manifest is unreadable ({exc}).") from None
    if not isinstance(manifest, dict):
        raise ArtifactRefused(f"{name} v{version}: manifest is not a JSON object.")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise ArtifactRefused(f"{name} v{version}: manifest lacks {', '.join(missing)}.")
    return manifest


def load_verified(model_dir: Path, spec: ModelSpec, version: str) -> VerifiedArtifact:
    manifest = read_manifest(model_dir, spec.name, version)
    where = f"{spec.name} v{version}"
    if manifest["name"] != spec.name or str(manifest["version"]) != version:
        raise ArtifactRefused(f"{where}: manifest says {manifest['name']} v{manifest['version']}.")
    built_with = (manifest.get("versions") or {}).get("sklearn")
    if built_with != sklearn.__version__:
        raise ArtifactRefused(
            f"{where}: built with scikit-learn {built_with}, but {sklearn.__version__} is installed; "
            f"retrain it with `manage.py train {spec.name}`."
        )
    if manifest["schema"] != json.loads(json.dumps(spec.schema.describe())):
        raise ArtifactRefused(f"{where}: its feature schema differs from the code's; retrain it.")
    model_path = Path(model_dir) / spec.name / version / str(manifest["model_file"])
    if model_path.parent != Path(model_dir) / spec.name / version:
        raise ArtifactRefused(f"{where}: model_file must be a plain file name.")
    try:
        payload = model_path.read_bytes()
    except OSError as exc:
        raise ArtifactRefused(f"{where}: cannot read {model_path.name} ({exc.strerror}).") from None
    digest = hashlib.sha256(payload).hexdigest()
    if digest != manifest["sha256"]:
        raise ArtifactRefused(f"{where}: sha256 of {model_path.name} is {digest}, manifest says {manifest['sha256']}.")
    try:
        estimator = joblib.load(io.BytesIO(payload))  # the very bytes that were hashed
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the artifact is unusable
        raise ArtifactRefused(f"{where}: cannot be deserialised ({type(exc).__name__}: {exc}).") from None
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is not None and n_features != len(spec.schema.names):
        raise ArtifactRefused(f"{where}: expects {n_features} features, the schema has {len(spec.schema.names)}.")
    return VerifiedArtifact(manifest=manifest, estimator=estimator)
