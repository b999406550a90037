"""CLI cold-start benchmarks: `maestro --help`, and `maestro compile --check` on the example project
paired with a floor process, plus `python -X importtime` evidence of what the compile path imports.

In: a workspace folder and the repeat count. Out: medians of new processes. The compile is run with
the cache off (a fresh CI clone has none); the floor is a plain `python` that loads the same
compiled tree with libyaml and dumps it again. The two are interleaved so drift hits both alike.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from .measure import MAESTRO, REPO, checked, median, median_wall

FLOOR = ("import pathlib, sys, yaml\n"
         "for path in sorted(pathlib.Path(sys.argv[1]).rglob('*.yaml')):\n"
         "    for doc in yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader):\n"
         "        yaml.dump(doc, Dumper=yaml.CSafeDumper)\n")
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
HEAVY = ("torch", "pandas", "numpy")


def example_project(workspace: Path) -> Path:
    root = workspace / "example"
    if not root.exists():
        for folder in ("pipelines", "environments"):
            shutil.copytree(REPO / folder, root / folder)
        checked([MAESTRO, "compile"], cwd=root, env={})
    return root


def cli_rows(workspace: Path, times: int) -> dict:
    root = example_project(workspace)
    checked([MAESTRO, "--help"], cwd=root)   # one untimed run: the page cache, not the code, is cold after a build
    help_samples = [checked([MAESTRO, "--help"], cwd=root) for _ in range(times * 2)]
    check, floor = [], []
    for _ in range(times):
        check.append(checked([MAESTRO, "compile", "--check"], cwd=root, env={"MAESTRO_NO_CACHE": "1"}))
        floor.append(checked([sys.executable, "-c", FLOOR, str(root / "gitops")], cwd=root))
    return {
        "help_s": median_wall(help_samples), "help_cpu_s": median([s.cpu for s in help_samples]),
        "compile_check_s": median_wall(check), "floor_process_s": median_wall(floor),
        "compile_check_ratio": median_wall(check) / median_wall(floor),
        "compile_check_rss_mib": max(s.rss_mib for s in check),
        "importtime": import_evidence(root),
    }


def import_evidence(root: Path, top: int = 10) -> dict:
    """What a cold `compile --check` imports: the modules costing most by themselves, the top-level
    imports with all they pull in, and whether any heavy library came in."""
    sample = checked([sys.executable, "-X", "importtime", "-m", "maestro", "compile", "--check"], cwd=root,
                 env={"MAESTRO_NO_CACHE": "1"})
    imports = [(int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4))
               for m in map(IMPORT_LINE.match, sample.stderr.splitlines()) if m]
    loaded = {name.split(".")[0] for *_, name in imports}
    return {
        "total_ms": sum(own for own, *_ in imports) / 1000,
        "top_self": [{"module": n, "ms": own / 1000} for own, _, _, n in sorted(imports, reverse=True)[:top]],
        "top_level": [{"module": n, "ms": cum / 1000} for _, cum, depth, n in
                      sorted(imports, key=lambda i: -i[1]) if depth <= 1][:5],
        "heavy_imported": sorted(h for h in HEAVY if h in loaded),
    }


def table(row: dict) -> list[list[str]]:
    lines = [["measure", "median", "target"],
             ["maestro --help", f"{1000 * row['help_s']:.0f} ms", "< 150 ms"],
             ["maestro --help, CPU (user + system)", f"{1000 * row['help_cpu_s']:.0f} ms", "<= 100 ms"],
             ["maestro compile --check (example, cold)", f"{1000 * row['compile_check_s']:.0f} ms", ""],
             ["floor: python + libyaml load/dump of the same tree", f"{1000 * row['floor_process_s']:.0f} ms", ""],
             ["compile --check / floor", f"{row['compile_check_ratio']:.2f}x", "<= 5x"],
             ["imports of compile --check (sum of self times)", f"{row['importtime']['total_ms']:.0f} ms",
              "no " + ", ".join(HEAVY)]]
    lines += [[f"  {t['module']} (with what it imports)", f"{t['ms']:.0f} ms", ""] for t in row["importtime"]["top_level"]]
    lines += [[f"  {t['module']} (itself)", f"{t['ms']:.1f} ms", ""] for t in row["importtime"]["top_self"]]
    return lines
