"""The models mlsite serves: their feature schemas, data, splits and algorithms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from ml import datasets
from ml.encoding import OrdinalColumns
from ml.errors import InvalidInput, ModelNotFound
from ml.schema import CategoryFeature, Derivation, FeatureSchema, NumberFeature

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    task: str
    description: str
    schema: FeatureSchema
    target: str  # what is predicted, for people
    target_unit: str
    load_data: Callable[[], datasets.Dataset]
    algorithms: dict[str, Callable[[int], Any]]  # name → factory(seed) of an unfitted estimator
    default_algorithm: str
    test_size: float
    split_seed: int
    labels: tuple[str, ...] = ()  # class names by index, for classifiers
    legacy_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.task == CLASSIFICATION

    def validate_actual(self, value: Any) -> str | float:
        """Check a reviewer's true outcome: a class label (or its index) for classifiers, a positive amount else."""
        if self.is_classifier:
            if isinstance(value, str) and value in self.labels:
                return value
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(self.labels):
                return self.labels[value]
            raise InvalidInput("Invalid actual outcome.",
                               fields={"actual": [f"Must be one of: {', '.join(self.labels)}."]})
        number, message = _ACTUAL_AMOUNT.check(value)
        if message:
            raise InvalidInput("Invalid actual outcome.", fields={"actual": [message]})
        return number


# --- iris -----------------------------------------------------------------------------------------------------------
def _iris_feature(name: str, label: str, example: float) -> NumberFeature:
    # One range for all four (the largest iris measured is under 8 cm): the legacy endpoint takes them as a bare
    # array, and one shared range is what an OpenAPI 3.0 array schema can state exactly.
    return NumberFeature(name=name, label=label, unit="cm", minimum=0.0, maximum=15.0, example=example,
                         help=f"{label} of the flower, in centimetres.")


IRIS_SCHEMA = FeatureSchema(
    features=(
        _iris_feature("sepal_length", "Sepal length", 5.9),
        _iris_feature("sepal_width", "Sepal width", 3.0),
        _iris_feature("petal_length", "Petal length", 5.1),
        _iris_feature("petal_width", "Petal width", 1.8),
    )
)


def _logistic_regression(seed: int) -> LogisticRegression:
    # max_iter raised from the default 100 so lbfgs converges on unscaled features (no ConvergenceWarning).
    return LogisticRegression(max_iter=1000, random_state=seed)


IRIS = ModelSpec(
    name="iris",
    title="Iris species",
    task=CLASSIFICATION,
    description="Classifies an iris flower as setosa, versicolor or virginica from its sepal and petal sizes.",
    schema=IRIS_SCHEMA,
    target="species",
    target_unit="",
    load_data=datasets.load_iris,
    algorithms={"logistic_regression": _logistic_regression},
    default_algorithm="logistic_regression",
    test_size=0.25,
    split_seed=41,  # the original app's train_test_split(random_state=41)
    labels=("setosa", "versicolor", "virginica"),
)

# --- diamonds -------------------------------------------------------------------------------------------------------
CUTS = ("Fair", "Good", "Very Good", "Premium", "Ideal")
COLORS = ("J", "I", "H", "G", "F", "E", "D")
CLARITIES = ("I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF")


def _dimension(name: str, label: str, example: float) -> NumberFeature:
    # At least 0.1 mm each, so that x·y·z can never underflow below the smallest volume accepted.
    return NumberFeature(name=name, label=label, unit="mm", minimum=0.1, maximum=20.0, example=example,
                         help=f"{label} of the stone, in millimetres.", exclusive_minimum=False)


DIAMONDS_SCHEMA = FeatureSchema(
    features=(
        NumberFeature("carat", "Carat", "ct", 0.0, 10.0, 0.7, "Weight of the diamond (1 ct = 0.2 g)."),
        CategoryFeature("cut", "Cut", CUTS, "Ideal", "Quality of the cut, from Fair (worst) to Ideal (best)."),
        CategoryFeature("color", "Color", COLORS, "G", "Colour grade, from J (worst) to D (best, colourless)."),
        CategoryFeature("clarity", "Clarity", CLARITIES, "VS2",
                        "Clarity grade, from I1 (worst) to IF (best, internally flawless)."),
        NumberFeature("depth", "Depth", "%", 40.0, 80.0, 61.8,
                      "Total depth percentage: height divided by mean diameter.", exclusive_minimum=False),
        NumberFeature("table", "Table", "%", 40.0, 100.0, 57.0,
                      "Width of the top facet relative to the widest point.", exclusive_minimum=False),
        # 0.1³ … 20³: any x, y, z in range give a volume in range, a cross-field rule JSON Schema cannot state.
        NumberFeature("volume", "Volume", "mm³", 0.001, 8000.0, 115.1,
                      "Length × width × depth of the stone, in cubic millimetres.", exclusive_minimum=False),
    ),
    derivations=(
        Derivation(target="volume", sources=(
            _dimension("x", "Length", 5.7), _dimension("y", "Width", 5.72), _dimension("z", "Depth", 3.53),
        )),
    ),
)

_DIAMOND_CATEGORIES = {1: CUTS, 2: COLORS, 3: CLARITIES}  # column index in the schema order → labels


def _hist_gradient_boosting(seed: int) -> Pipeline:
    # Few, wide trees: serving cost grows with the number of trees (about 5 µs each per call), accuracy with
    # their width. Log-price target because price errors are multiplicative. Early stopping off: reproducible.
    regressor = HistGradientBoostingRegressor(
        max_iter=100, learning_rate=0.15, max_leaf_nodes=127, early_stopping=False, random_state=seed
    )
    return Pipeline([
        ("encode", OrdinalColumns(_DIAMOND_CATEGORIES)),
        ("model", TransformedTargetRegressor(regressor=regressor, func=np.log, inverse_func=np.exp)),
    ])


def _random_forest(seed: int) -> Pipeline:
    # The original app's model: a default RandomForestRegressor on ordinal codes, all cores, price target.
    return Pipeline([
        ("encode", OrdinalColumns(_DIAMOND_CATEGORIES)),
        ("model", RandomForestRegressor(n_jobs=-1, random_state=seed)),
    ])


DIAMONDS = ModelSpec(
    name="diamonds",
    title="Diamond price",
    task=REGRESSION,
    description="Estimates the price of a diamond in US dollars from its carat, cut, colour, clarity and size.",
    schema=DIAMONDS_SCHEMA,
    target="price",
    target_unit="USD",
    load_data=datasets.load_diamonds,
    algorithms={"hist_gradient_boosting": _hist_gradient_boosting, "random_forest": _random_forest},
    default_algorithm="hist_gradient_boosting",
    test_size=0.30,  # the original app's 70:30 split
    split_seed=42,
    legacy_codes={"cut": CUTS, "color": COLORS, "clarity": CLARITIES},
)

_ACTUAL_AMOUNT = NumberFeature("actual", "Actual price", "USD", 0.0, 10_000_000.0, 1000.0)

SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in (IRIS, DIAMONDS)}


def get_spec(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except (KeyError, TypeError):
        raise ModelNotFound(f"Unknown model {str(name)[:64]!r}; available: {', '.join(SPECS)}.") from None
