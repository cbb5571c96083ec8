"""Replica of the original diamonds app: Flask, a pickled RandomForestRegressor(n_jobs=-1),
GET /api/predict?carat=&cut=&color=&clarity=&depth=&table=&volume= -> {"predicted_price": ...}."""

import os
import pickle

from flask import Flask, jsonify, request

app = Flask(__name__)
with open(os.path.join(os.environ["ORIGINALS_DIR"], "diamonds.pkl"), "rb") as handle:
    model = pickle.load(handle)

FEATURES = ["carat", "cut", "color", "clarity", "depth", "table", "volume"]


@app.route("/api/predict")
def predict():
    row = [float(request.args.get(name)) for name in FEATURES]
    return jsonify({"predicted_price": float(model.predict([row])[0])})
