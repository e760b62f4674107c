"""Drives a Loopline serving instance with NVIDIA's tritonclient, unmodified, over HTTP and gRPC.

    python3 tritonclient_check.py <http host:port> <grpc host:port> <model> <expected version>

The model is the test's linear classifier: input `features` FP32 [-1, 2], outputs `scores`
FP32 [-1, 2] (= [x0 + x1, marker]) and `label` INT64 [-1]. Every call a product backend would make
is exercised with the client's defaults (HTTP sends and asks binary tensor data by default), then
with JSON tensors. Prints one JSON line of findings; exits 1 on the first failed check.
"""

import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def expect_scores(result, rows, version, what):
    scores = result.as_numpy("scores")
    label = result.as_numpy("label")
    expected = np.stack([rows.sum(axis=1), np.full(len(rows), float(version))], axis=1).astype(np.float32)
    check(scores is not None and np.allclose(scores, expected), f"{what}: scores {scores} != {expected}")
    check(label is not None and label.dtype == np.int64 and label.shape == (len(rows),), f"{what}: label {label}")


def main():
    http_url, grpc_url, model, version = sys.argv[1:5]
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [0.5, -0.5]], dtype=np.float32)
    findings = {}

    # --- HTTP -------------------------------------------------------------------------------
    client = httpclient.InferenceServerClient(url=http_url)
    check(client.is_server_live(), "http: server live")
    check(client.is_server_ready(), "http: server ready")
    check(client.is_model_ready(model), "http: model ready")
    check(not client.is_model_ready("no-such-model"), "http: unknown model not ready")
    metadata = client.get_server_metadata()
    check("binary_tensor_data" in metadata["extensions"], f"http: extensions {metadata}")
    model_metadata = client.get_model_metadata(model)
    check(model_metadata["inputs"][0] == {"name": "features", "datatype": "FP32", "shape": [-1, 2]}, f"http: metadata {model_metadata}")
    findings["http_model_metadata"] = model_metadata

    features = httpclient.InferInput("features", list(rows.shape), "FP32")
    features.set_data_from_numpy(rows)  # binary tensor data, the client's default
    result = client.infer(model, [features], request_id="triton-http-1")
    expect_scores(result, rows, version, "http binary")
    response = result.get_response()
    check(response["model_version"] == version and response["id"] == "triton-http-1", f"http: response {response}")

    features_json = httpclient.InferInput("features", list(rows.shape), "FP32")
    features_json.set_data_from_numpy(rows, binary_data=False)
    outputs = [httpclient.InferRequestedOutput("scores", binary_data=False), httpclient.InferRequestedOutput("label", binary_data=True)]
    expect_scores(client.infer(model, [features_json], model_version=version, outputs=outputs), rows, version, "http json")

    try:
        wrong = httpclient.InferInput("features", [1, 3], "FP32")
        wrong.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
        client.infer(model, [wrong])
        check(False, "http: a wrong shape was accepted")
    except InferenceServerException as error:
        check("expected shape [-1, 2], received [1, 3]" in str(error), f"http: error message {error}")
        findings["http_error"] = str(error)
    client.close()

    # --- gRPC -------------------------------------------------------------------------------
    client = grpcclient.InferenceServerClient(url=grpc_url)
    check(client.is_server_live(), "grpc: server live")
    check(client.is_server_ready(), "grpc: server ready")
    check(client.is_model_ready(model), "grpc: model ready")
    metadata = client.get_server_metadata()
    check(metadata.name == "loopline", f"grpc: server metadata {metadata}")
    model_metadata = client.get_model_metadata(model, as_json=True)
    check(model_metadata["platform"] == "onnxruntime_onnx", f"grpc: metadata {model_metadata}")

    features = grpcclient.InferInput("features", list(rows.shape), "FP32")
    features.set_data_from_numpy(rows)  # raw_input_contents
    result = client.infer(model, [features], request_id="triton-grpc-1")
    expect_scores(result, rows, version, "grpc")
    response = result.get_response(as_json=True)
    check(response["model_version"] == version and response["id"] == "triton-grpc-1", f"grpc: response {response}")
    outputs = [grpcclient.InferRequestedOutput("label")]
    only_label = client.infer(model, [features], model_version=version, outputs=outputs)
    check(only_label.as_numpy("scores") is None and only_label.as_numpy("label").shape == (3,), "grpc: requested outputs only")

    try:
        client.infer("no-such-model", [features])
        check(False, "grpc: an unknown model was accepted")
    except InferenceServerException as error:
        check(error.status() == "StatusCode.NOT_FOUND", f"grpc: status {error.status()}")
        findings["grpc_error"] = error.message()
    client.close()

    print(json.dumps({"ok": True, **findings}))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(json.dumps({"ok": False, "failed": str(failure)}))
        sys.exit(1)
