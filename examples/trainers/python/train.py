#!/usr/bin/env python3
"""Loopline external trainer example: scikit-learn's HistGradientBoosting, exported with skl2onnx.

The trainer contract (docs/adr/0007-training.md): the training service runs
``<command> <spec.json>``; the spec names the training-set Parquet, the label and feature
columns, the task, the split, the params, the seed and an output folder. The trainer must write
``<outputDir>/model.onnx`` (plain tensor outputs: no ZipMap) and ``<outputDir>/metrics.json``
(holdout metrics, name -> number), then exit 0. Anything printed goes to the run's trainer.log.

The model takes one ``[batch, 1]`` input per feature, named after its column (FLOAT for numbers,
STRING for categories), like Loopline's built-in trainers, so serving and monitoring address
features by name.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn import metrics
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType

# Hyper-parameters this trainer understands, with their types and defaults.
PARAMS = {"max_iter": (int, 100), "learning_rate": (float, 0.1), "max_leaf_nodes": (int, 31), "max_depth": (int, None), "min_samples_leaf": (int, 20), "l2_regularization": (float, 0.0)}


def split_rows(frame, split, seed):
    """The split as the spec says: seeded random, or the latest rows by time held out."""
    n = len(frame)
    if split["kind"] == "random":
        order = np.random.default_rng(seed).permutation(n)
        holdout = int(min(n - 1, max(1, round(n * split["holdoutFraction"]))))
        return np.sort(order[holdout:]), np.sort(order[:holdout])
    column = frame[split["timeColumn"]]
    # Times compare as epoch milliseconds, as the spec's cutoff is given.
    times = column.to_numpy(dtype=np.float64) if pd.api.types.is_numeric_dtype(column) else pd.to_datetime(column, utc=True).dt.as_unit("ms").astype("int64").to_numpy()
    order = np.argsort(times, kind="stable")
    if "cutoff" in split:
        holdout = int((times >= split["cutoff"]).sum())
    else:
        holdout = int(min(n - 1, max(1, round(n * split.get("holdoutFraction", 0.2)))))
    return order[: n - holdout], order[n - holdout :]


def main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    label, features, task, seed = spec["labelColumn"], spec["featureColumns"], spec["task"], spec["seed"]
    unknown = sorted(set(spec["params"]) - set(PARAMS))
    if unknown:
        print(f"unknown params: {', '.join(unknown)}; known: {', '.join(PARAMS)}", file=sys.stderr)
        return 2
    params = {name: (kind(spec["params"][name]) if name in spec["params"] else default) for name, (kind, default) in PARAMS.items()}

    columns = list(dict.fromkeys([label, *features] + ([spec["split"]["timeColumn"]] if spec["split"]["kind"] == "time" else [])))
    frame = pq.read_table(spec["trainingSet"]["path"], columns=columns).to_pandas()
    categorical = [name for name in features if not pd.api.types.is_numeric_dtype(frame[name])]
    numeric = [name for name in features if name not in categorical]
    for name in numeric:
        frame[name] = frame[name].astype(np.float32)
    for name in categorical:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), "")
    train_rows, holdout_rows = split_rows(frame, spec["split"], seed)
    train, holdout = frame.iloc[train_rows], frame.iloc[holdout_rows]

    estimator = (HistGradientBoostingClassifier if task == "binary" else HistGradientBoostingRegressor)(random_state=seed, early_stopping=False, **params)
    encoder = ColumnTransformer([("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical), ("numbers", "passthrough", numeric)])
    model = Pipeline([("encode", encoder), ("estimator", estimator)])
    y_train = train[label].to_numpy().astype(np.int64 if task == "binary" else np.float64)
    model.fit(train[features], y_train)

    y_true = holdout[label].to_numpy().astype(np.float64)
    if task == "binary":
        scores = model.predict_proba(holdout[features])[:, 1]
        predicted = (scores >= 0.5).astype(int)
        result = {
            "auc": metrics.roc_auc_score(y_true, scores),
            "log_loss": metrics.log_loss(y_true, scores, labels=[0, 1]),
            "accuracy": metrics.accuracy_score(y_true, predicted),
            "precision": metrics.precision_score(y_true, predicted, zero_division=0),
            "recall": metrics.recall_score(y_true, predicted, zero_division=0),
            "f1": metrics.f1_score(y_true, predicted, zero_division=0),
        }
    else:
        predicted = model.predict(holdout[features])
        result = {"rmse": float(np.sqrt(metrics.mean_squared_error(y_true, predicted))), "mae": metrics.mean_absolute_error(y_true, predicted), "r2": metrics.r2_score(y_true, predicted)}
    result.update({"train_rows": len(train), "holdout_rows": len(holdout)})

    initial_types = [(name, StringTensorType([None, 1]) if name in categorical else FloatTensorType([None, 1])) for name in features]
    options = {id(estimator): {"zipmap": False}} if task == "binary" else None
    onnx_model = to_onnx(model, initial_types=initial_types, options=options, target_opset={"": 15, "ai.onnx.ml": 3})
    output = Path(spec["outputDir"])
    output.mkdir(parents=True, exist_ok=True)
    (output / "model.onnx").write_bytes(onnx_model.SerializeToString())
    (output / "metrics.json").write_text(json.dumps({name: float(value) for name, value in result.items()}, indent=2))
    print(f"trained {type(estimator).__name__} on {len(train)} rows; holdout {json.dumps(result)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: train.py <spec.json>", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
