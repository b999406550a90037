"""The benchmark runner: `python benchmarks/run.py [--quick] [--json OUT] [--keep DIR]`.

Out: tables on stdout, the targets met or missed, and (with --json) every figure with the machine it
ran on. `--quick` skips the 1,000-pipeline repository and the 1-vs-2-process training comparison (about a
minute instead of ten). Run it with
the project's interpreter (`.venv/bin/python benchmarks/run.py`): it times that environment's
`maestro`. See benchmarks/README.md for what each figure means and the latest results.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):   # run as a script: make `benchmarks` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_bundle, bench_cli, bench_compile, bench_train, bench_validate  # noqa: E402
from benchmarks.measure import compile_bytecode, machine  # noqa: E402

TARGET_SIZE = 1000
COMPILE_TIMES = 5   # each compile row: its ratios spread widely on a shared machine


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workspace = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="maestro-bench-"))
    try:
        report = measure(workspace, args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(workspace, ignore_errors=True)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 10- and 100-pipeline repositories, no 1-vs-2-process training")
    parser.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file")
    parser.add_argument("--keep", metavar="DIR", help="generate the repositories in DIR and keep them")
    return parser


def measure(workspace: Path, quick: bool) -> dict:
    workspace.mkdir(parents=True, exist_ok=True)
    compile_bytecode(Path(__file__).resolve().parents[1] / "compiler" / "maestro")
    sizes, times = ((10, 100), 3) if quick else ((10, 100, TARGET_SIZE), 3)
    report = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick, "machine": machine()}
    _progress("compile")
    report["compile"] = bench_compile.compile_rows(workspace, sizes, COMPILE_TIMES)   # the ratios' spread is wide
    _progress("cli")
    report["cli"] = bench_cli.cli_rows(workspace, times * 3)
    _progress("bundle")
    report["bundle"] = bench_bundle.bundle_rows(times)
    _progress("validate")
    trees = {"example tree": workspace / "example" / "gitops", "100-pipeline tree": workspace / "p100" / "gitops",
             "argo-workflows examples": bench_validate.CORPUS}
    report["validate"] = bench_validate.validate_rows(trees, times)
    _progress("train")
    report["train"] = bench_train.train_rows(workspace / "example", times)
    if not quick:   # ~2 minutes: spawned workers import torch, and every configuration warms up
        _progress("train, 1 vs 2 processes")
        report["train_distributed"] = bench_train.distributed_rows(times)
    report["targets"] = targets(report)
    return report


def _progress(section: str) -> None:
    print(f"... {section}", file=sys.stderr, flush=True)


def targets(report: dict) -> list[dict]:
    big = next((r for r in report["compile"] if r["pipelines"] == TARGET_SIZE), None)
    cli = report["cli"]
    example = next((r for r in report["validate"] if r["target"] == "example tree"), None)
    rows = [
        ("compile <= 3x the serialization floor (1,000 pipelines, validation on)",
         big and big["validated"]["ratio_to_floor"], 3.0, "x"),
        # the targets of issue 18, measured the same way
        ("compile <= 1.0x the C-dumper floor (1,000 pipelines, validation on, one process)",
         big and big["validated"]["ratio_to_floor"], 1.0, "x"),
        ("compile <= 2.5x the parse+write floor (1,000 pipelines, validation on, one process)",
         big and big["validated"]["ratio_to_physical_floor"], 2.5, "x"),
        ("compile --jobs 2 >= 1.5x faster than --jobs 1 (1,000 pipelines, 2 cores)",
         big and big["jobs2"]["speedup"], 1.5, "x", "at least"),
        ("incremental compile of one edited pipeline < 1/10 of a full compile (1,000 pipelines)",
         big and big["incremental_ratio"], 0.1, ""),
        ("maestro --help < 150 ms", cli["help_s"] * 1000, 150.0, " ms"),
        ("cold maestro --help <= 100 ms CPU", cli["help_cpu_s"] * 1000, 100.0, " ms"),
        ("cold maestro validate of the example tree <= 3x a python+libyaml load of it",
         example and example["ratio_to_floor"], 3.0, "x"),
        ("cold maestro compile --check on the examples <= 5x the floor process", cli["compile_check_ratio"], 5.0, "x"),
        ("the compile path imports no torch, pandas or numpy", len(cli["importtime"]["heavy_imported"]), 0, ""),
    ]
    return [{"target": name, "value": value, "limit": limit, "unit": unit,
             "met": None if value is None else (value >= limit if sense else value <= limit)}
            for name, value, limit, unit, *sense in rows]


def print_report(report: dict) -> None:
    m = report["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, commit {m['commit']}")
    for section in (bench_compile.table(report["compile"]), bench_cli.table(report["cli"]),
                    bench_bundle.table(report["bundle"]), bench_validate.table(report["validate"]),
                    bench_train.table(report["train"]),
                    *([bench_train.table(report["train_distributed"])] if "train_distributed" in report else []),
                    _targets_table(report)):
        print()
        print_table(section)


def _targets_table(report: dict) -> list[list[str]]:
    lines = [["target", "value", "met"]]
    for t in report["targets"]:
        value = "not measured (--quick)" if t["value"] is None else f"{t['value']:.3g}{t['unit']}"
        lines.append([t["target"], value, {True: "yes", False: "NO", None: "-"}[t["met"]]])
    return lines


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
