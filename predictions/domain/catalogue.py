"""Writes to the model catalogue: register a model (card + artifact), adopt artifacts already in MODEL_DIR, pin a
default, remove a version.

Registration checks everything before it changes anything, and lists every problem it finds: the card against its
JSON Schema, the artifact's size and types (skops: nothing that runs code), the estimator against the card (task,
classes, feature names and count), a test prediction on the card's example, the reference sample against the
schema. Only then is the artifact written (atomically, under the next version number) and the catalogue row
inserted; a failure of either leaves no trace.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction

import ml
from predictions.domain import serving
from predictions.domain.errors import RegistrationRefused
from predictions.models import ModelVersion, RegisteredModel

log = logging.getLogger(__name__)

REFERENCE_MAX_ROWS = 1_000_000
RESERVED_NAMES = frozenset({"jobs", "models", "new", "schema"})


def model_register(
    *,
    card: str | bytes | dict[str, Any],
    artifact: bytes,
    source: str,
    user: Any = None,
    reference_csv: bytes | None = None,
    trust_pickle: bool = False,
) -> ModelVersion:
    """Register ``artifact`` (skops bytes; with ``trust_pickle``, a joblib/pickle file the operator vouches for on
    the command line, converted to skops) as the next version of the model ``card`` describes."""
    if len(artifact) > settings.MODEL_UPLOAD_MAX_SIZE:
        raise RegistrationRefused([f"model file: {len(artifact):,} bytes is more than MODEL_UPLOAD_MAX_SIZE "
                                   f"({settings.MODEL_UPLOAD_MAX_SIZE:,})."])
    try:
        parsed = ml.load_card(card)
    except ml.CardInvalid as exc:
        raise RegistrationRefused([f"card {problem}" for problem in exc.problems]) from None
    problems = _name_problems(parsed)
    try:
        payload = ml.serialize(ml.load_pickle(artifact)) if trust_pickle else artifact
        estimator = ml.deserialize(payload)
    except ml.ArtifactRefused as exc:
        raise RegistrationRefused([*problems, f"model file: {exc}"]) from None
    problems += [f"model: {problem}" for problem in ml.estimator_problems(parsed, estimator)]
    if not problems:
        problems += _scoring_problems(parsed, estimator)
    references: dict[str, Any] = {}
    if reference_csv is not None:
        references, found = _reference(parsed, reference_csv)
        problems += found
    elif parsed.reference:
        references = {"reference": parsed.reference}
    if problems:
        raise RegistrationRefused(problems)
    manifest = {"source": source, "estimator": type(estimator).__name__, "algorithm": type(estimator).__name__,
                **references}
    version, path = ml.write_version(settings.MODEL_DIR, parsed, payload, manifest, at_least=next_version(parsed.name))
    try:
        row = _record(parsed, version, ml.read_manifest(settings.MODEL_DIR, parsed.name, version), source, user)
    except Exception:
        ml.remove_version(settings.MODEL_DIR, parsed.name, version)
        raise
    log.info("registered %s v%s (%s, %s)", parsed.name, version, type(estimator).__name__, source)
    return row


def next_version(name: str) -> int:
    """The smallest version number the next artifact of ``name`` may take: after every number the catalogue knows."""
    last = ModelVersion.objects.filter(model__name=name).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def model_adopt(*, name: str, version: str, source: str = ModelVersion.Source.ADOPTED, user: Any = None
                ) -> ModelVersion:
    """Add a version already written to MODEL_DIR (by ``manage.py train``, or restored with the store) to the
    catalogue. Its card and checksum come from the files; the registry verifies both before serving it."""
    card = ml.read_card(settings.MODEL_DIR, name, version)
    manifest = ml.read_manifest(settings.MODEL_DIR, name, version)
    problems = _name_problems(card)
    if problems:
        raise RegistrationRefused(problems)
    return _record(card, version, manifest, source, user)


def models_adopt_all(*, user: Any = None) -> list[ModelVersion]:
    """Adopt every version in MODEL_DIR that the catalogue does not know yet."""
    known = set(ModelVersion.objects.values_list("model__name", "version"))
    adopted = []
    for entry in ml.Registry.scan(settings.MODEL_DIR):
        for version in sorted(entry.versions, key=int):
            if (entry.name, int(version)) not in known:
                adopted.append(model_adopt(name=entry.name, version=version, user=user))
    return adopted


def model_pin(*, name: str, version: str | None, user: Any = None) -> RegisteredModel:
    """Serve ``version`` by default (None: the newest); every worker follows within MODEL_CATALOGUE_REFRESH."""
    model = RegisteredModel.objects.filter(name=name).first()
    if model is None:
        raise ml.ModelNotFound(f"Unknown model {name!r}.")
    if version is not None and not model.versions.filter(version=_number(version)).exists():
        raise ml.ModelNotFound(f"{name} has no version {version!r}.")
    model.pinned_version = _number(version) if version is not None else None
    model.save(update_fields=["pinned_version", "updated_at"])
    serving.invalidate()
    return model


def version_remove(*, name: str, version: str, user: Any = None) -> None:
    """Stop serving a version and retire its files; requests that name it then get 404, and queued work that
    needs it fails clearly."""
    with transaction.atomic():
        row = ModelVersion.objects.select_related("model").filter(model__name=name, version=_number(version)).first()
        if row is None:
            raise ml.ModelNotFound(f"{name} has no version {version!r}.")
        model = row.model
        row.delete()
        if model.pinned_version == int(version):
            model.pinned_version = None
        model.save(update_fields=["pinned_version", "updated_at"])
    ml.remove_version(settings.MODEL_DIR, name, str(version))
    serving.invalidate()


# --- helpers ------------------------------------------------------------------------------------------------------
def _number(version: str | int) -> int:
    try:
        return int(str(version))
    except ValueError:
        raise ml.ModelNotFound(f"No version {str(version)[:32]!r}.") from None


def _name_problems(card: ml.ModelCard) -> list[str]:
    if card.name in RESERVED_NAMES:
        return [f"name: {card.name!r} is reserved; choose another name."]
    existing = RegisteredModel.objects.filter(name=card.name).first()
    if existing is not None and existing.task != card.task:
        return [f"name: {card.name!r} is already a {existing.task} model; a {card.task} card cannot be a new "
                "version of it. Choose another name."]
    return []


def _scoring_problems(card: ml.ModelCard, estimator: Any) -> list[str]:
    """Score the card's own example, as a client would: the estimator must answer, finitely."""
    try:
        model = ml.LoadedModel(card=card, version="0", manifest={}, estimator=estimator)
        model.predict([card.schema.validate(card.schema.example(derived=False))])
    except (ml.InvalidInput, ml.ScoringError, ml.ArtifactRefused) as exc:
        return [f"model: it cannot score the card's example: {exc}"]
    return []


def _reference(card: ml.ModelCard, content: bytes) -> tuple[dict[str, Any], list[str]]:
    """Drift references from a sample CSV with the card's feature columns (and optionally the target)."""
    try:
        frame = pd.read_csv(io.BytesIO(content), nrows=REFERENCE_MAX_ROWS + 1)
    except Exception as exc:  # noqa: BLE001 - pandas raises many kinds for a file that is not CSV
        return {}, [f"reference: not a CSV file ({type(exc).__name__}: {exc})."]
    if len(frame) > REFERENCE_MAX_ROWS:
        return {}, [f"reference: more than {REFERENCE_MAX_ROWS:,} rows; a sample is enough."]
    if frame.empty:
        return {}, ["reference: the file has no rows."]
    rows, problems = [], []
    for number, record in enumerate(frame.to_dict("records"), start=1):
        raw = {key: (value.item() if hasattr(value, "item") else value) for key, value in record.items()
               if key in card.schema.accepted_names and not (isinstance(value, float) and value != value)}
        try:
            rows.append(card.schema.validate(raw))
        except ml.InvalidInput as exc:
            if len(problems) < 5:
                problems.append(f"reference row {number}: {exc.message}")
            else:
                problems.append("reference: more rows are invalid; the first five are listed.")
                break
    if problems:
        return {}, problems
    features = pd.DataFrame(rows)
    target = card.source.get("target", {}).get("name")
    y = frame[target].to_numpy() if target and target in frame.columns else None
    return ml.references(card, features, y), []


def _record(card: ml.ModelCard, version: str, manifest: dict[str, Any], source: str, user: Any) -> ModelVersion:
    user = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        model, created = RegisteredModel.objects.select_for_update().get_or_create(
            name=card.name, defaults={"title": card.title, "task": card.task, "created_by": user})
        row = ModelVersion.objects.create(
            model=model, version=int(version), card=ml.card_dict(card), sha256=manifest["sha256"],
            size_bytes=manifest.get("size_bytes") or 0, estimator=str(manifest.get("estimator", ""))[:200],
            source=source, metrics=manifest.get("metrics") or {}, created_by=user)
        model.title = card.title
        model.save(update_fields=["title", "updated_at"])  # the stamp every worker watches
    serving.invalidate()
    return row
