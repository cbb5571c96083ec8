"""The training data sets: iris from scikit-learn, diamonds from the project's own gzipped CSV."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
DIAMONDS_CSV = DATA_DIR / "diamonds.csv.gz"


@dataclass(frozen=True)
class Dataset:
    X: pd.DataFrame  # model input columns, named as in the feature schema
    y: pd.Series
    sha256: str  # of the source bytes, so a manifest says exactly what a model was trained on
    rows_raw: int
    rows_clean: int
    cleaning: dict[str, int]  # rule → rows it dropped


def load_iris() -> Dataset:
    from sklearn.datasets import load_iris as sklearn_iris

    bunch = sklearn_iris()
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = pd.DataFrame(bunch.data, columns=columns)
    y = pd.Series(bunch.target, name="species")
    digest = hashlib.sha256(np.ascontiguousarray(bunch.data).tobytes() + bunch.target.tobytes()).hexdigest()
    return Dataset(X=X, y=y, sha256=digest, rows_raw=len(X), rows_clean=len(X), cleaning={})


# Each rule names rows that are measurement errors rather than diamonds: zero dimensions, absurd lengths (a 58.9 mm
# wide diamond of 2 carats), and depth/table percentages far outside what a cut stone can have.
_DIAMOND_RULES: dict[str, str] = {
    "zero x, y or z": "x == 0 or y == 0 or z == 0",
    "x, y or z above 30 mm": "x > 30 or y > 30 or z > 30",
    "z below 2 mm": "z < 2",
    "depth outside 45-75 %": "depth < 45 or depth > 75",
    "table outside 40-80 %": "table < 40 or table > 80",
}


def load_diamonds(path: Path = DIAMONDS_CSV) -> Dataset:
    raw_bytes = path.read_bytes()
    frame = pd.read_csv(path)
    rows_raw = len(frame)
    cleaning: dict[str, int] = {}
    for rule, query in _DIAMOND_RULES.items():
        drop = frame.eval(query)
        cleaning[rule] = int(drop.sum())
        frame = frame[~drop]
    frame = frame.reset_index(drop=True)
    log.info("diamonds: %d rows read, %d kept after cleaning (%s)", rows_raw, len(frame), cleaning)
    X = pd.DataFrame(
        {
            "carat": frame["carat"].astype(float),
            "cut": frame["cut"].astype(str),
            "color": frame["color"].astype(str),
            "clarity": frame["clarity"].astype(str),
            "depth": frame["depth"].astype(float),
            "table": frame["table"].astype(float),
            "volume": (frame["x"] * frame["y"] * frame["z"]).astype(float),
        }
    )
    y = frame["price"].astype(float).rename("price")
    return Dataset(
        X=X,
        y=y,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        rows_raw=rows_raw,
        rows_clean=len(frame),
        cleaning=cleaning,
    )
