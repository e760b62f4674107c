"""Reference drift values for Loopline's drift tests and benchmark, computed by Evidently 0.7.23
and, for every KS test, by scipy's ks_2samp directly.

usage: python drift_reference.py <input.json>   (prints one JSON document on stdout)

Two engines, both Evidently's own code:
- "stattests" (the tests): per column, what Evidently's data-drift calculation does
  (`get_one_column_drift`): drop NaN/inf, choose the stattest (`get_stattest`: the default choice or
  the method asked for, with Evidently's feature-type rules), run it with its default threshold.
  No report around it, so it takes a fraction of the time.
- "report" (the benchmark): `Report([DataDriftPreset(method=...)]).run(...)`, the whole report.

input:  {"engine": "stattests" | "report",
         "cases": [{"name", "numerical": [columns], "categorical": [columns], "integer": [columns],
                    "methods": ["auto", "ks", ...],
                    "reference": {column: [values|null]}, "current": {...}
                    | "referenceParquet": path, "currentParquet": path}]}
output: {"cases": [{"name", "loadSeconds", "runs": [{"method", "seconds", "features": {column: {"method",
          "value", "threshold", "drifted"}}, "driftedShare", "scipyKs": {column: {"pValue", "statistic"}}}]}]}
"""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

warnings.filterwarnings("ignore")

from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.legacy.calculations.stattests import get_stattest  # noqa: E402
from evidently.legacy.core import ColumnType  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402

# Evidently's display names of its stattests → the method ids Loopline uses.
METHOD_IDS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
}


def frame(columns, numerical, categorical, integer):
    data = {}
    for name, values in columns.items():
        if name in integer:
            data[name] = pd.Series(values, dtype="int64")
        elif name in numerical:
            data[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        else:
            data[name] = pd.Series(values, dtype="object")
    return pd.DataFrame(data)


def load_case(case):
    numerical = case["numerical"]
    categorical = case["categorical"]
    integer = set(case.get("integer", []))
    if "referenceParquet" in case:
        return pd.read_parquet(case["referenceParquet"]), pd.read_parquet(case["currentParquet"])
    return (
        frame(case["reference"], numerical, categorical, integer),
        frame(case["current"], numerical, categorical, integer),
    )


def columns_for(method, numerical, categorical):
    # A method asked for applies only to the column types Evidently registers it for:
    # KS and Wasserstein to numerical columns, chi-square and Z to categorical ones.
    nums = [] if method in ("chisquare", "z") else numerical
    cats = [] if method in ("ks", "wasserstein") else categorical
    return nums, cats


def run_report(reference, current, method, nums, cats):
    columns = nums + cats
    definition = DataDefinition(numerical_columns=nums, categorical_columns=cats)
    ref = Dataset.from_pandas(reference[columns], data_definition=definition)
    cur = Dataset.from_pandas(current[columns], data_definition=definition)
    preset = DataDriftPreset() if method == "auto" else DataDriftPreset(method=method)
    snapshot = Report([preset]).run(reference_data=ref, current_data=cur)
    features = {}
    drifted_share = None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            method_id = METHOD_IDS.get(config["method"], config["method"])
            features[config["column"]] = {"method": method_id, "value": float(metric["value"]), "threshold": float(config["threshold"])}
        elif config["type"].endswith("DriftedColumnsCount"):
            drifted_share = float(metric["value"]["share"])
    return features, drifted_share


def run_stattests(reference, current, method, nums, cats):
    features = {}
    drifted = []
    for column, column_type in [(c, ColumnType.Numerical) for c in nums] + [(c, ColumnType.Categorical) for c in cats]:
        ref = reference[column].replace([-np.inf, np.inf], np.nan).dropna()
        cur = current[column].replace([-np.inf, np.inf], np.nan).dropna()
        stattest = get_stattest(ref, cur, column_type, None if method == "auto" else method)
        result = stattest(ref, cur, column_type, None)
        features[column] = {"method": stattest.name, "value": float(result.drift_score), "threshold": float(result.actual_threshold)}
        drifted.append(bool(result.drifted))
    return features, sum(drifted) / len(drifted)


def run_case(case, engine):
    numerical = case["numerical"]
    categorical = case["categorical"]
    started = time.perf_counter()
    reference, current = load_case(case)
    load_seconds = time.perf_counter() - started
    runs = []
    for method in case["methods"]:
        nums, cats = columns_for(method, numerical, categorical)
        started = time.perf_counter()
        if engine == "report":
            features, drifted_share = run_report(reference, current, method, nums, cats)
        else:
            features, drifted_share = run_stattests(reference, current, method, nums, cats)
        seconds = time.perf_counter() - started
        scipy_ks = {}
        for column, result in features.items():
            if result["method"] == "ks":
                r = reference[column].replace([np.inf, -np.inf], np.nan).dropna()
                c = current[column].replace([np.inf, -np.inf], np.nan).dropna()
                test = stats.ks_2samp(r, c)
                scipy_ks[column] = {"pValue": float(test.pvalue), "statistic": float(test.statistic)}
        runs.append({"method": method, "seconds": seconds, "features": features, "driftedShare": drifted_share, "scipyKs": scipy_ks})
    return {"name": case["name"], "loadSeconds": load_seconds, "runs": runs}


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    engine = request.get("engine", "stattests")
    if engine not in ("stattests", "report"):
        raise SystemExit(f"unknown engine {engine!r}: expected stattests or report")
    result = {"cases": [run_case(case, engine) for case in request["cases"]]}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
