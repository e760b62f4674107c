"""Makes the model of `npm run bench:serving` in the three forms the three servers load.

    python prepare_models.py <out-folder>

One fitted scikit-learn GradientBoostingClassifier (100 trees of depth 3, 10 float features,
trained on seeded synthetic data) is written as:
- <out>/model.onnx: skl2onnx with ZipMap off (the Loopline registry refuses non-tensor outputs):
  input `features` FP32 [-1, 10], outputs `label` INT64 [-1] and `probabilities` FP32 [-1, 2]
  (the same names as the serving tests' fixture, services/serving/test/python/make_sklearn_fixture.py);
- <out>/mlflow-model/: an MLflow sklearn model (tensor signature FP32 [-1, 10]) for
  `mlflow models serve`;
- <out>/mlserver/gbt/: model.joblib + model-settings.json (mlserver_sklearn.SKLearnModel) for
  `mlserver start <out>/mlserver`;
- <out>/expected.json: rows and what scikit-learn predicts for them, so the benchmark can check
  that every server answers the same labels before timing it.
Prints one JSON line with what it did. Without mlflow installed it still makes the other forms.
"""

import json
import pathlib
import sys
import time

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from skl2onnx import to_onnx

FEATURES = 10
TREES = 100
SEED = 20240601
MODEL_NAME = "gbt"


def export_onnx(model: GradientBoostingClassifier, x: np.ndarray, path: pathlib.Path) -> None:
    onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    # Readable tensor names in the OIP metadata: input `features`, outputs `label`, `probabilities`.
    rename = {onx.graph.input[0].name: "features", onx.graph.output[1].name: "probabilities"}
    for node in onx.graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
        node.output[:] = [rename.get(name, name) for name in node.output]
    for value in list(onx.graph.input) + list(onx.graph.output):
        value.name = rename.get(value.name, value.name)
    onx.producer_name = "loopline-bench-serving (skl2onnx)"
    path.write_bytes(onx.SerializeToString())


def export_mlflow(model: GradientBoostingClassifier, x: np.ndarray, path: pathlib.Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(x[:16], model.predict(x[:16]))
    # cloudpickle, not MLflow 3's default skops: skops refuses to load tree models unless told to
    # trust sklearn.tree._tree.Tree, which `mlflow models serve` cannot be told.
    mlflow.sklearn.save_model(model, str(path), signature=signature, serialization_format="cloudpickle")


def export_mlserver(model: GradientBoostingClassifier, folder: pathlib.Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (folder / "model-settings.json").write_text(json.dumps(settings, indent=1) + "\n")


def main() -> None:
    out = pathlib.Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    x, y = make_classification(n_samples=10_000, n_features=FEATURES, n_informative=6, random_state=SEED)
    x = x.astype(np.float32)
    started = time.perf_counter()
    model = GradientBoostingClassifier(n_estimators=TREES, max_depth=3, random_state=SEED).fit(x, y)
    train_seconds = time.perf_counter() - started

    export_onnx(model, x, out / "model.onnx")
    export_mlserver(model, out / "mlserver" / MODEL_NAME)
    mlflow_error = None
    try:
        export_mlflow(model, x, out / "mlflow-model")
    except ImportError as error:  # run without the benchmark's environment: Loopline and MLServer only
        mlflow_error = f"mlflow is not installed in {sys.executable}: {error}"

    rows = np.random.default_rng(SEED).normal(size=(1_024, FEATURES)).astype(np.float32)
    expected = {
        "model": MODEL_NAME,
        "features": FEATURES,
        "rows": rows.tolist(),
        "label": model.predict(rows).tolist(),
        "probabilities": model.predict_proba(rows).astype(np.float32).tolist(),
    }
    (out / "expected.json").write_text(json.dumps(expected) + "\n")

    import sklearn

    print(
        json.dumps(
            {
                "trees": TREES,
                "features": FEATURES,
                "trainRows": int(x.shape[0]),
                "trainSeconds": round(train_seconds, 2),
                "trainAccuracy": round(float(model.score(x, y)), 4),
                "onnxBytes": (out / "model.onnx").stat().st_size,
                "sklearn": sklearn.__version__,
                "mlflowError": mlflow_error,
            }
        )
    )


if __name__ == "__main__":
    main()
