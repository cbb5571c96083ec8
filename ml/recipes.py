"""Training recipes of the two models mlsite ships: their data, split and algorithms. What they are and what they
take is in their cards (ml/cards/iris.yaml, ml/cards/diamonds.yaml); any other model is registered, not trained here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ml import datasets
from ml.cards import ModelCard, load_card
from ml.encoding import OrdinalColumns
from ml.errors import ModelNotFound

CARDS_DIR = Path(__file__).resolve().parent / "cards"


@dataclass(frozen=True)
class Recipe:
    name: str
    load_data: Callable[[], datasets.Dataset]
    algorithms: dict[str, Callable[[ModelCard, int], Any]]  # name → factory(card, seed) of an unfitted estimator
    default_algorithm: str
    test_size: float
    split_seed: int

    @cached_property
    def card(self) -> ModelCard:
        return load_card((CARDS_DIR / f"{self.name}.yaml").read_text())


def _logistic_regression(card: ModelCard, seed: int) -> LogisticRegression:
    # max_iter raised from the default 100 so lbfgs converges on unscaled features (no ConvergenceWarning).
    return LogisticRegression(max_iter=1000, random_state=seed)


def _ordinal_columns(card: ModelCard) -> OrdinalColumns:
    """Category labels → codes in the card's order (worst → best), so clients send labels and never codes."""
    return OrdinalColumns({index: feature.choices for index, feature in enumerate(card.schema.features)
                           if feature.kind == "category"})


def _hist_gradient_boosting(card: ModelCard, seed: int) -> Pipeline:
    # Few, wide trees: serving cost grows with the number of trees (about 5 µs each per call), accuracy with
    # their width. Log-price target because price errors are multiplicative. Early stopping off: reproducible.
    regressor = HistGradientBoostingRegressor(
        max_iter=100, learning_rate=0.15, max_leaf_nodes=127, early_stopping=False, random_state=seed
    )
    return Pipeline([
        ("encode", _ordinal_columns(card)),
        ("model", TransformedTargetRegressor(regressor=regressor, func=np.log, inverse_func=np.exp)),
    ])


def _random_forest(card: ModelCard, seed: int) -> Pipeline:
    # The original app's model: a default RandomForestRegressor on ordinal codes, all cores, price target.
    return Pipeline([
        ("encode", _ordinal_columns(card)),
        ("model", RandomForestRegressor(n_jobs=-1, random_state=seed)),
    ])


RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    Recipe(name="iris", load_data=datasets.load_iris, algorithms={"logistic_regression": _logistic_regression},
           default_algorithm="logistic_regression", test_size=0.25,
           split_seed=41),  # the original app's train_test_split(random_state=41)
    Recipe(name="diamonds", load_data=datasets.load_diamonds,
           algorithms={"hist_gradient_boosting": _hist_gradient_boosting, "random_forest": _random_forest},
           default_algorithm="hist_gradient_boosting", test_size=0.30, split_seed=42),  # the original 70:30 split
)}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except (KeyError, TypeError):
        raise ModelNotFound(f"No training recipe for {str(name)[:64]!r}; mlsite trains {', '.join(RECIPES)} "
                            "(register any other model with manage.py register_model).") from None
