#!/usr/bin/env python3
"""LightGBM side of bench/training: trains on the rows of the benchmark Parquet whose `holdout` is
0 and writes the probabilities of the holdout rows (float64, little-endian, row order) so that
both sides are scored by the same metric code. Prints one JSON line with the training time."""
import json
import sys
import time

import lightgbm as lgb
import numpy as np
import pyarrow.parquet as pq


def main(parquet_path, predictions_path, params_json):
    params = json.loads(params_json)
    features = params.pop("features")
    rounds = params.pop("num_iterations")
    table = pq.read_table(parquet_path, columns=[*features, "label", "holdout"])
    x = np.column_stack([table.column(name).to_numpy().astype(np.float32) for name in features])
    y = table.column("label").to_numpy().astype(np.float64)
    holdout = table.column("holdout").to_numpy().astype(bool)
    started = time.perf_counter()
    cpu_started = time.process_time()
    dataset = lgb.Dataset(x[~holdout], y[~holdout], params={"max_bin": params["max_bin"], "verbose": -1})
    booster = lgb.train({**params, "objective": "binary", "verbose": -1}, dataset, num_boost_round=rounds)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    booster.predict(x[holdout]).astype("<f8").tofile(predictions_path)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "lightgbm": lgb.__version__, "train_rows": int((~holdout).sum()), "holdout_rows": int(holdout.sum())}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
