"""The cost of the schema bundle shipped with maestro: what loading one kind, and all of them, costs.

In: the bundle (maestro/schemas/) and, when ../shared is beside the checkout, the same schemas as
plain JSON with their descriptions (shared/schemas). Out: the median in-process time to read and
unpack the pre-parsed table of all the schemas (`packed.json.gz`, what a process pays once); per
kind the compressed and JSON sizes, the time to gunzip and parse its own file (what loading a kind
cost before the table), to take it from the table and compile it (`compiled_schema`: the fast
check), and to parse the uncompressed shared/schemas file; and two
fresh `maestro validate` processes, one on a single ConfigMap (one kind loaded: the bundle is lazy)
and one on a document of every kind that the compile emits (the compile's worst case).
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

from .measure import MAESTRO, SHARED, checked, median_wall, timed

KINDS = (  # apiVersion, kind: everything `maestro compile` emits, and the largest schemas
    ("argoproj.io/v1alpha1", "WorkflowTemplate"), ("argoproj.io/v1alpha1", "CronWorkflow"),
    ("argoproj.io/v1alpha1", "ApplicationSet"), ("argoproj.io/v1alpha1", "AppProject"),
    ("argoproj.io/v1alpha1", "Application"), ("mlops.seldon.io/v1alpha1", "Model"),
    ("mlops.seldon.io/v1alpha1", "Experiment"), ("mlops.seldon.io/v1alpha1", "Server"),
    ("mlops.seldon.io/v1alpha1", "SeldonRuntime"), ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"), ("external-secrets.io/v1", "ExternalSecret"),
    ("external-secrets.io/v1", "SecretStore"), ("v1", "Namespace"), ("v1", "ConfigMap"),
    ("v1", "ServiceAccount"), ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "ResourceQuota"), ("v1", "LimitRange"), ("batch/v1", "CronJob"),
)


def bundle_rows(times: int) -> dict:
    from maestro.validation import compiled, fetch, packed
    from maestro.validation.locations import BUNDLE_DIR, bundle_location

    def table():
        packed._unpacked = None
        return packed._table()

    location = bundle_location(("1.37.0", True))
    rows = []
    for api_version, kind in KINDS:
        candidate = next(c for c in location.candidates(api_version, kind) if Path(c.ref).exists())
        path = Path(candidate.ref)

        def load(path=path):
            fetch._parsed.clear()
            return fetch._read_file(str(path))

        def own_file(path=path):
            return json.loads(gzip.decompress(path.read_bytes()))

        def build(candidate=candidate):
            compiled._compiled.clear()
            return compiled.compiled_schema(candidate, load())

        plain = SHARED / "schemas" / path.relative_to(BUNDLE_DIR).as_posix().removesuffix(".gz")
        rows.append({
            "kind": kind, "gz_kib": path.stat().st_size / 1024, "json_kib": len(gzip.decompress(path.read_bytes())) / 1024,
            "file_parse_ms": timed(own_file, times) * 1000, "load_and_compile_ms": timed(build, times) * 1000,
            "shared_json_ms": timed(lambda plain=plain: json.loads(plain.read_bytes()), times) * 1000
            if plain.exists() else None,
        })
    return {"table_ms": timed(table, times) * 1000, "kinds": rows, "processes": _process_rows(times)}


def _process_rows(times: int) -> list[dict]:
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"
    every = "".join(f"---\napiVersion: {a}\nkind: {k}\nmetadata: {{name: a}}\n" for a, k in KINDS)
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("one kind (ConfigMap)", one), (f"{len(KINDS)} kinds", every)):
            target = Path(folder) / "m.yaml"
            target.write_text(text)
            command = [MAESTRO, "validate", "--strict", str(target)]
            # exit 1: documents without a spec are invalid results, which is the point; 2 would be a usage error
            out.append({"target": name, "wall_s": median_wall([checked(command, ok=(0, 1)) for _ in range(times)])})
    return out


def table(report: dict) -> list[list[str]]:
    lines = [["bundle: kind", "gzip KiB", "JSON KiB", "own file: gunzip+parse ms", "from the table + compile ms",
              "shared/schemas JSON parse ms"],
             ["the table (packed.json.gz), read and unpacked once", "", "", "", f"{report['table_ms']:.1f}", ""]]
    for r in report["kinds"]:
        shared = "-" if r["shared_json_ms"] is None else f"{r['shared_json_ms']:.1f}"
        lines.append([r["kind"], f"{r['gz_kib']:.0f}", f"{r['json_kib']:.0f}", f"{r['file_parse_ms']:.1f}",
                      f"{r['load_and_compile_ms']:.1f}", shared])
    total = lambda key: sum(r[key] for r in report["kinds"])  # noqa: E731
    lines.append(["all of the above", f"{total('gz_kib'):.0f}", f"{total('json_kib'):.0f}", f"{total('file_parse_ms'):.1f}",
                  f"{total('load_and_compile_ms'):.1f}", ""])
    for p in report["processes"]:
        lines.append([f"`maestro validate --strict`, {p['target']}", "", "", "", f"{p['wall_s'] * 1000:.0f} (process)", ""])
    return lines
