"""Train the two original apps' models as they did, into a directory of pickles (never committed).

    python bench/originals/train.py DIR

- iris.pkl: LogisticRegression on scikit-learn's iris, train_test_split(random_state=41).
- diamonds.pkl: RandomForestRegressor(n_jobs=-1) on the diamonds data with ordinal codes (cut, color, clarity,
  worst = 0) and volume = x*y*z, 70:30 split, pickled with n_jobs=-1 as the original saved it.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[2]
CUT = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
COLOR = ["J", "I", "H", "G", "F", "E", "D"]
CLARITY = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]


def train(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    X, y = load_iris(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, random_state=41)
    iris = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    (directory / "iris.pkl").write_bytes(pickle.dumps(iris))

    frame = pd.read_csv(ROOT / "ml" / "data" / "diamonds.csv.gz")
    frame = frame[(frame.x > 0) & (frame.y > 0) & (frame.z > 0)]
    features = pd.DataFrame({
        "carat": frame.carat,
        "cut": frame.cut.map(CUT.index),
        "color": frame.color.map(COLOR.index),
        "clarity": frame.clarity.map(CLARITY.index),
        "depth": frame.depth,
        "table": frame.table,
        "volume": frame.x * frame.y * frame.z,
    })
    X_train, _, y_train, _ = train_test_split(features.to_numpy(), frame.price.to_numpy(), test_size=0.3,
                                              random_state=42)
    diamonds = RandomForestRegressor(n_jobs=-1, random_state=42).fit(X_train, y_train)
    (directory / "diamonds.pkl").write_bytes(pickle.dumps(diamonds))


if __name__ == "__main__":
    train(Path(sys.argv[1]))
