"""Step `score` (the evaluator) of the synthetic-regression example.

In: $MAESTRO_INPUT_PREPARE_TABLE/test.csv and $MAESTRO_INPUT_FIT_MODEL/model.json. Out:
$MAESTRO_OUTPUT_METRICS/metrics.json in maestro's metrics format, `{"metrics": {name: number}}`:
rmse, mae and r2 on the held-out rows, and their count.
"""

import csv
import json
import math
import os
from pathlib import Path


def main() -> None:
    model = json.loads((Path(os.environ["MAESTRO_INPUT_FIT_MODEL"]) / "model.json").read_text(encoding="utf-8"))
    with open(Path(os.environ["MAESTRO_INPUT_PREPARE_TABLE"]) / "test.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    target = model["target"]
    actual = [float(r[target]) for r in rows]
    predicted = [model["intercept"] + sum(w * float(r[c]) for c, w in model["coefficients"].items()) for r in rows]
    errors = [p - a for p, a in zip(predicted, actual)]
    mean = sum(actual) / len(actual)
    total = sum((a - mean) ** 2 for a in actual)
    metrics = {"rmse": math.sqrt(sum(e * e for e in errors) / len(errors)),
               "mae": sum(abs(e) for e in errors) / len(errors),
               "r2": 1 - sum(e * e for e in errors) / total, "rows": len(rows)}
    out = Path(os.environ["MAESTRO_OUTPUT_METRICS"])
    (out / "metrics.json").write_text(json.dumps({"metrics": metrics}, indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
    print("score: " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())))


if __name__ == "__main__":
    main()
