"""Replica of the original iris app: Flask, a pickled LogisticRegression, POST /predict -> the class as text."""

import os
import pickle

from flask import Flask, request

app = Flask(__name__)
with open(os.path.join(os.environ["ORIGINALS_DIR"], "iris.pkl"), "rb") as handle:
    model = pickle.load(handle)


@app.route("/predict", methods=["POST"])
def predict():
    data = request.get_json(force=True)
    return str(model.predict([data])[0])
