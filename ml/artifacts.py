"""Versioned model artifacts: ``$MODEL_DIR/<name>/<version>/{model.skops, card.json, manifest.json}``.

The model is stored in the skops format and loaded with skops' trusted-type check: a file from a user can hold
scikit-learn estimators, NumPy and SciPy objects, and nothing that runs code when it is loaded. Beyond skops' own
list mlsite trusts a few of scikit-learn's fitted structures and its own ordinal encoder (TRUSTED_TYPES). A pickle
is never loaded from disk; one that the operator vouches for on the command line is loaded once (``load_pickle``)
and converted (``serialize``).

Versions are increasing integers. A version directory is written under a temporary name and renamed into place, so
a reader never sees half an artifact. Loading verifies that the manifest is complete, that the artifact was built
with the installed scikit-learn, that the sha256 of the model bytes matches the manifest (and the catalogue), and
only then deserialises those same verified bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio

from ml.cards import ModelCard, card_dict, load_card
from ml.errors import ArtifactRefused, ModelNotFound

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 2
REQUIRED_KEYS = ("format", "name", "version", "model_file", "sha256", "versions", "created_at")
# Beyond the types skops trusts by default: scikit-learn's own fitted structures that skops leaves for the user to
# review — each is rebuilt from arrays by its own __setstate__, none takes a callable — and mlsite's ordinal encoder
# (plain dictionaries). Any other type in a file refuses it.
TRUSTED_TYPES = [
    "ml.encoding.OrdinalColumns",
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
]


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "skops": skops.__version__,
    }


# --- serialisation --------------------------------------------------------------------------------------------------
def serialize(estimator: Any) -> bytes:
    """An estimator as skops bytes; ArtifactRefused if it holds types a skops load would not trust."""
    try:
        payload = sio.dumps(estimator)
    except Exception as exc:  # noqa: BLE001 - skops raises assorted errors for objects it cannot represent
        raise ArtifactRefused(f"the estimator cannot be stored in the skops format: {type(exc).__name__}: "
                              f"{exc}") from None
    untrusted = untrusted_types(payload)
    if untrusted:
        raise ArtifactRefused(f"the estimator holds types mlsite does not load: {', '.join(untrusted)}.")
    return payload


def untrusted_types(payload: bytes) -> list[str]:
    """The types in a skops file that neither skops nor mlsite trusts (a non-empty list refuses the file)."""
    try:
        found = sio.get_untrusted_types(data=payload)
    except Exception as exc:  # noqa: BLE001 - a broken or hostile file: any error means "not a skops file"
        raise ArtifactRefused(f"not a readable skops file ({type(exc).__name__}: {exc}).") from None
    return sorted(set(found) - set(TRUSTED_TYPES))


def deserialize(payload: bytes) -> Any:
    """Load skops bytes, trusting only skops' types and mlsite's own encoder. Never runs code from the file."""
    untrusted = untrusted_types(payload)
    if untrusted:
        raise ArtifactRefused(f"untrusted types in the model file: {', '.join(untrusted[:10])}.")
    try:
        return sio.loads(payload, trusted=TRUSTED_TYPES)
    except Exception as exc:  # noqa: BLE001 - as above
        raise ArtifactRefused(f"the model file cannot be loaded ({type(exc).__name__}: {exc}).") from None


def load_pickle(payload: bytes) -> Any:
    """Unpickle a joblib or pickle file. THIS RUNS CODE FROM THE FILE: only for a file the operator vouches for on
    the command line (``--trust-pickle``), never for anything that came over the network. Registration converts the
    result to skops, so the pickle is loaded this once and never served."""
    import io

    import joblib

    try:
        return joblib.load(io.BytesIO(payload))
    except Exception as exc:  # noqa: BLE001 - whatever the file is, it did not give an estimator
        raise ArtifactRefused(f"the pickle file cannot be loaded ({type(exc).__name__}: {exc}).") from None


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


# --- the store ------------------------------------------------------------------------------------------------------
def list_versions(model_dir: Path, name: str) -> list[str]:
    """Versions on disk, oldest first. Directories without a manifest (interrupted writes) and removed versions
    (``<N>.removed``) are ignored."""
    root = Path(model_dir) / name
    if not root.is_dir():
        return []
    found = [entry.name for entry in root.iterdir() if entry.name.isdigit() and (entry / MANIFEST_FILE).is_file()]
    return sorted(found, key=int)


def _next_version(model_dir: Path, name: str, at_least: int) -> str:
    """One more than any number ever used, removed versions included, and at least ``at_least`` (the catalogue's
    next number): a number always means one artifact."""
    root = Path(model_dir) / name
    used = [int(entry.name.split(".")[0]) for entry in root.iterdir() if entry.name.split(".")[0].isdigit()] \
        if root.is_dir() else []
    return str(max(max(used, default=0) + 1, at_least))


def list_models(model_dir: Path) -> list[str]:
    root = Path(model_dir)
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir() and list_versions(root, entry.name)) \
        if root.is_dir() else []


def write_version(model_dir: Path, card: ModelCard, payload: bytes, manifest: dict[str, Any], *,
                  at_least: int = 1) -> tuple[str, Path]:
    """Store skops ``payload`` with its card as the next version of ``card.name`` (numbered ``at_least`` or more);
    return (version, directory)."""
    root = Path(model_dir) / card.name
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        (staging / MODEL_FILE).write_bytes(payload)
        card_text = json.dumps(card_dict(card), indent=2, sort_keys=True) + "\n"
        (staging / CARD_FILE).write_text(card_text)
        while True:
            version = _next_version(model_dir, card.name, at_least)
            full = {
                "format": MANIFEST_FORMAT,
                "name": card.name,
                "version": version,
                "task": card.task,
                "model_file": MODEL_FILE,
                "sha256": sha256(payload),
                "card_sha256": sha256(card_text.encode()),
                "size_bytes": len(payload),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "versions": library_versions(),
                **manifest,
            }
            (staging / MANIFEST_FILE).write_text(json.dumps(full, indent=2, sort_keys=True, default=str) + "\n")
            try:
                os.rename(staging, root / version)  # atomic; fails if another writer took this number first
            except OSError:
                if (root / version).exists():
                    continue
                raise
            return version, root / version
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_version(model_dir: Path, name: str, version: str) -> None:
    """Retire a version's directory as ``<N>.removed`` (its catalogue entry is removed first, so nothing serves it
    any more). The files stay for audit, and the number is never given to another artifact."""
    target = Path(model_dir) / name / str(version)
    if target.is_dir() and str(version).isdigit():
        os.rename(target, target.with_name(f"{version}.removed"))


@dataclass(frozen=True)
class VerifiedArtifact:
    manifest: dict[str, Any]
    estimator: Any


def read_manifest(model_dir: Path, name: str, version: str) -> dict[str, Any]:
    path = Path(model_dir) / name / str(version) / MANIFEST_FILE
    if not path.parent.is_dir():
        raise ModelNotFound(f"{name} has no version {version!r}.")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactRefused(f"{name} v{version}: {MANIFEST_FILE} is missing.") from None
    except (OSError, ValueError) as exc:
        raise ArtifactRefused(f"{name} v{version}: manifest is unreadable ({exc}).") from None
    if not isinstance(manifest, dict):
        raise ArtifactRefused(f"{name} v{version}: manifest is not a JSON object.")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise ArtifactRefused(f"{name} v{version}: manifest lacks {', '.join(missing)}.")
    return manifest


def read_card(model_dir: Path, name: str, version: str) -> ModelCard:
    path = Path(model_dir) / name / str(version) / CARD_FILE
    try:
        return load_card(path.read_text())
    except FileNotFoundError:
        raise ArtifactRefused(f"{name} v{version}: {CARD_FILE} is missing.") from None


def load_verified(model_dir: Path, name: str, version: str, *, expected_sha256: str | None = None
                  ) -> VerifiedArtifact:
    manifest = read_manifest(model_dir, name, version)
    where = f"{name} v{version}"
    if manifest["name"] != name or str(manifest["version"]) != str(version):
        raise ArtifactRefused(f"{where}: manifest says {manifest['name']} v{manifest['version']}.")
    built_with = (manifest.get("versions") or {}).get("sklearn")
    if built_with != sklearn.__version__:
        raise ArtifactRefused(f"{where}: built with scikit-learn {built_with}, this server runs "
                              f"{sklearn.__version__}; retrain or re-register it with this version.")
    if manifest.get("model_file") != MODEL_FILE:
        raise ArtifactRefused(f"{where}: {manifest.get('model_file')!r} is not a skops model file; models of "
                              "earlier mlsite versions are retrained with `manage.py train`.")
    path = Path(model_dir) / name / str(version) / MODEL_FILE
    try:
        payload = path.read_bytes()
    except OSError as exc:
        raise ArtifactRefused(f"{where}: cannot read {MODEL_FILE} ({exc}).") from None
    digest = sha256(payload)
    if digest != manifest["sha256"]:
        raise ArtifactRefused(f"{where}: sha256 of {MODEL_FILE} is {digest}, the manifest says {manifest['sha256']}")
    if expected_sha256 is not None and digest != expected_sha256:
        raise ArtifactRefused(f"{where}: sha256 of {MODEL_FILE} is {digest}, the catalogue says {expected_sha256}")
    return VerifiedArtifact(manifest=manifest, estimator=deserialize(payload))
