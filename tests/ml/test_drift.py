from __future__ import annotations

import numpy as np
import pandas as pd

from ml import drift, get_recipe


def reference():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"sepal_length": rng.normal(5.8, 0.8, 5000), "sepal_width": rng.normal(3, 0.4, 5000),
                          "petal_length": rng.normal(3.7, 1.7, 5000), "petal_width": rng.normal(1.2, 0.7, 5000)})
    return drift.reference_distribution(get_recipe("iris").card.schema, frame)["sepal_length"], rng


def test_psi_stays_quiet_on_data_like_the_training_data():
    ref, rng = reference()
    value = drift.psi(ref["fractions"], drift.bin_counts(ref, rng.normal(5.8, 0.8, 2000)))
    assert value < drift.PSI_MODERATE
    assert drift.psi_level(value) == "stable"


def test_psi_flags_a_shifted_distribution():
    ref, rng = reference()
    value = drift.psi(ref["fractions"], drift.bin_counts(ref, rng.normal(7.0, 0.8, 2000)))
    assert value > drift.PSI_SIGNIFICANT
    assert drift.psi_level(value) == "significant"


def test_psi_of_nothing_is_none():
    ref, _ = reference()
    assert drift.psi(ref["fractions"], drift.bin_counts(ref, [])) is None
    assert drift.psi_level(None) == "no data"


def test_categorical_bins_follow_the_choices():
    spec = get_recipe("diamonds").card
    frame = pd.DataFrame({f.name: [f.example] * 3 for f in spec.schema.features})
    ref = drift.reference_distribution(spec.schema, frame)["cut"]
    assert ref["bins"] == list(spec.schema.feature("cut").choices)
    assert drift.bin_counts(ref, ["Ideal", "Fair", "unknown"]) == [1, 0, 0, 0, 1]
