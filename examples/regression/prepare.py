"""Step `prepare` of the synthetic-regression example: a reproducible table of noisy linear data.

Out: $MAESTRO_OUTPUT_TABLE/train.csv and test.csv (columns x1, x2, x3, y), y = 3 x1 - 2 x2 + 0.5 x3
+ 1 + noise. Settings from the environment: ROWS (default 400), SEED (default 7), NOISE (default 0.1).
Standard library only, so the example runs anywhere `maestro run` does.
"""

import csv
import os
import random
from pathlib import Path

COEFFICIENTS = (3.0, -2.0, 0.5)
INTERCEPT = 1.0


def rows(count: int, seed: int, noise: float):
    rng = random.Random(seed)
    for _ in range(count):
        x = [rng.uniform(-1, 1) for _ in COEFFICIENTS]
        y = INTERCEPT + sum(c * v for c, v in zip(COEFFICIENTS, x)) + rng.gauss(0, noise)
        yield [*x, y]


def write(path: Path, table) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x1", "x2", "x3", "y"])
        writer.writerows([f"{v:.6f}" for v in row] for row in table)


def main() -> None:
    out = Path(os.environ["MAESTRO_OUTPUT_TABLE"])
    table = list(rows(int(os.environ.get("ROWS", "400")), int(os.environ.get("SEED", "7")),
                      float(os.environ.get("NOISE", "0.1"))))
    cut = len(table) * 3 // 4
    write(out / "train.csv", table[:cut])
    write(out / "test.csv", table[cut:])
    print(f"prepare: {cut} training rows, {len(table) - cut} test rows")


if __name__ == "__main__":
    main()
