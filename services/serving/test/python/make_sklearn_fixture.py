"""Regenerates the scikit-learn fixture of the serving tests (checked in; run only to change it).

    pip install -r services/serving/test/python/requirements.txt
    python3 services/serving/test/python/make_sklearn_fixture.py

Writes, next to the serving tests (services/serving/test/fixtures/):
- sklearn-gbt.onnx: a gradient-boosted classifier (20 trees of depth 3, 10 float features),
  exported by skl2onnx with ZipMap off, so its outputs are plain tensors: `label` INT64 [N] and
  `probabilities` FP32 [N, 2]. A miniature of the benchmark model of issue 3.
- sklearn-gbt.expected.json: rows and what scikit-learn itself predicts for them, so the tests
  can check that Loopline serves the exported model faithfully.
Fixed seeds: a rerun with the pinned versions trains the same model (the file's bytes may differ in
generated node names).
"""

import json
import pathlib

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from skl2onnx import to_onnx

FEATURES = 10
OUT = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


def main() -> None:
    x, y = make_classification(n_samples=2000, n_features=FEATURES, n_informative=6, random_state=7)
    x = x.astype(np.float32)
    model = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=7).fit(x, y)
    onx = to_onnx(
        model,
        x[:1],
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
        final_types=None,
    )
    # Readable tensor names for the OIP metadata: input `features`, outputs `label`, `probabilities`.
    rename = {onx.graph.input[0].name: "features", onx.graph.output[1].name: "probabilities"}
    for node in onx.graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
        node.output[:] = [rename.get(name, name) for name in node.output]
    for value in list(onx.graph.input) + list(onx.graph.output):
        value.name = rename.get(value.name, value.name)
    onx.producer_name = "loopline-serving-tests (skl2onnx)"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "sklearn-gbt.onnx").write_bytes(onx.SerializeToString())

    rows = x[:8]
    expected = {
        "features": FEATURES,
        "rows": rows.tolist(),
        "label": model.predict(rows).tolist(),
        "probabilities": model.predict_proba(rows).astype(np.float32).tolist(),
    }
    (OUT / "sklearn-gbt.expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
