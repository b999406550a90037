"""Step `fit` (the trainer) of the synthetic-regression example: ordinary least squares.

In: $MAESTRO_INPUT_PREPARE_TABLE/train.csv. Out: $MAESTRO_OUTPUT_MODEL/model.json, the intercept and
coefficients by column. Solves the normal equations by Gaussian elimination: standard library only.
"""

import csv
import json
import os
from pathlib import Path


def read(path: Path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [[float(v) for v in row] for row in reader]


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit(rows):
    design = [[1.0, *row[:-1]] for row in rows]
    k = len(design[0])
    xtx = [[sum(d[i] * d[j] for d in design) for j in range(k)] for i in range(k)]
    xty = [sum(d[i] * row[-1] for d, row in zip(design, rows)) for i in range(k)]
    return solve(xtx, xty)


def main() -> None:
    header, rows = read(Path(os.environ["MAESTRO_INPUT_PREPARE_TABLE"]) / "train.csv")
    weights = fit(rows)
    model = {"kind": "linear", "intercept": weights[0], "coefficients": dict(zip(header[:-1], weights[1:])),
             "target": header[-1], "rows": len(rows)}
    out = Path(os.environ["MAESTRO_OUTPUT_MODEL"])
    (out / "model.json").write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"fit: {len(rows)} rows, weights {[round(w, 3) for w in weights]}")


if __name__ == "__main__":
    main()
