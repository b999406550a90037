"""Training throughput: samples per second of each model kind's real training epoch, on CPU (and on
CUDA where present), and the wall time of the example `maestro run aapl-direction --env dev`.

In: a workspace folder and the repeat count. Out: rows, each with a figure or a reason it is not
available (no torch installed, no `maestro run` yet). The throughput probe runs in a child process
(`python -m benchmarks.bench_train --probe`), so torch is never imported into the runner. It times
`maestro.steps.learning._epoch`, the loop `maestro step train` runs, on random windows shaped like
the example's (60 bars x 20 features, batch 256) with the example's network sizes.
`distributed_rows` times the same epoch in 2 gloo worker processes (`distributed.shard_epoch`, the
loop of each worker when the train step has several GPUs) against 1 process.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from .measure import MAESTRO, REPO, median, median_wall, run

KINDS = ("lstm", "gru", "transformer", "mlp")
SAMPLES, LENGTH, FEATURES, BATCH = 4096, 60, 20, 256


def train_rows(example: Path, times: int) -> list[dict]:
    probe = run([sys.executable, "-m", "benchmarks.bench_train", "--probe", str(times)], cwd=REPO)
    rows = json.loads(probe.stdout) if probe.code == 0 else [
        {"measure": "train samples/s", "value": None, "note": f"not available: {_last_line(probe.stderr)}"}]
    return rows + [run_row(example, times)]


def distributed_rows(times: int) -> list[dict]:
    """1 process against 2 gloo worker processes on CPU (the multi-GPU path of `maestro step train`)."""
    probe = run([sys.executable, "-m", "benchmarks.bench_train", "--probe-distributed", str(times)], cwd=REPO)
    return json.loads(probe.stdout) if probe.code == 0 else [
        {"measure": "train 1 vs 2 processes", "value": None, "note": f"not available: {_last_line(probe.stderr)}"}]


def run_row(example: Path, times: int) -> dict:
    """Every step run (--no-cache: by default `maestro run` reuses the steps whose inputs are unchanged)."""
    measure = "maestro run aapl-direction --env dev --no-cache"
    samples = [run([MAESTRO, "run", "aapl-direction", "--env", "dev", "--no-cache"], cwd=example) for _ in range(times)]
    if any(s.code != 0 for s in samples):
        failed = next(s for s in samples if s.code != 0)
        return {"measure": measure, "value": None, "note": f"not available: {_last_line(failed.stderr or failed.stdout)}"}
    return {"measure": measure, "value": median_wall(samples), "unit": "s", "note": "sample data, CPU, end to end"}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "no output"


def probe(times: int) -> list[dict]:
    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [{"measure": f"train {kind} ({device})", "value": samples_per_second(kind, device, times), "unit": "samples/s",
             "note": f"{SAMPLES} windows of {LENGTH}x{FEATURES}, batch {BATCH}, {torch.get_num_threads()} threads"}
            for device in devices for kind in KINDS]


def samples_per_second(kind: str, device: str, times: int, threads: int | None = None) -> float:
    import torch
    from torch import nn

    from maestro.steps import learning, nets

    learning.seed_everything(42, device)
    if threads:
        torch.set_num_threads(threads)
    model = SimpleNamespace(kind=kind, sequence_length=LENGTH, hidden_size=64, layers=2, dropout=0.1, heads=4)
    net = nets.build(model, FEATURES).to(device)
    data = (torch.randn(SAMPLES, LENGTH, FEATURES, device=device), torch.randint(0, 2, (SAMPLES, 1), device=device).float())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda")
    order = torch.Generator().manual_seed(0)
    epoch = lambda: learning._epoch(net, data, nn.BCEWithLogitsLoss(), optimizer, scaler, BATCH, order, device)
    epoch()   # warm-up: allocator, kernels
    walls = []
    for _ in range(times):
        start = time.perf_counter()
        epoch()
        walls.append(time.perf_counter() - start)
    return SAMPLES / median(walls)


DISTRIBUTED_KINDS = ("lstm", "mlp")   # the slowest recurrent net per window, and the cheapest net


def probe_distributed(times: int) -> list[dict]:
    import torch

    from maestro.steps import distributed, learning

    rows, cores = [], learning.cpu_budget()
    for kind in DISTRIBUTED_KINDS:
        one = samples_per_second(kind, "cpu", times)
        threads = torch.get_num_threads()
        rows.append({"measure": f"train {kind}, 1 process", "value": one, "unit": "samples/s",
                     "note": f"{threads} thread{'s' * (threads > 1)}"})
        if cores > threads:
            rows.append({"measure": f"train {kind}, 1 process, every core", "value": samples_per_second(kind, "cpu", times,
                         threads=cores), "unit": "samples/s", "note": f"{cores} threads"})
        two = distributed.run_workers(_distributed_worker, (kind, times), distributed.World(2, "cpu"))
        rows.append({"measure": f"train {kind}, 2 processes (gloo)", "value": SAMPLES / two, "unit": "samples/s",
                     "note": f"{learning.torch_threads()} thread(s) each; x{SAMPLES / two / one:.2f} of 1 process"})
    return rows


def _distributed_worker(rank: int, world, kind: str, times: int) -> float:
    """One worker of `distributed.shard_epoch` (the loop of each train worker); rank 0's median epoch."""
    import torch
    import torch.distributed as dist
    from torch import nn

    from maestro.steps import distributed, learning, nets

    learning.seed_everything(42, "cpu")
    model = SimpleNamespace(kind=kind, sequence_length=LENGTH, hidden_size=64, layers=2, dropout=0.1, heads=4)
    net = nets.build(model, FEATURES)
    trained = nn.parallel.DistributedDataParallel(net)
    data = (torch.randn(SAMPLES, LENGTH, FEATURES), torch.randint(0, 2, (SAMPLES, 1)).float())
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=False)
    order = torch.Generator().manual_seed(0)
    epoch = lambda: distributed.shard_epoch(trained, data, nn.BCEWithLogitsLoss(), optimizer, scaler, BATCH, order,
                                            "cpu", rank, world.size)
    epoch()   # warm-up
    walls = []
    for _ in range(times):
        dist.barrier()
        start = time.perf_counter()
        epoch()
        dist.barrier()
        walls.append(time.perf_counter() - start)
    return median(walls)


def table(rows: list[dict]) -> list[list[str]]:
    lines = [["train", "median", "note"]]
    for r in rows:
        value = "not available" if r["value"] is None else f"{r['value']:.0f} {r['unit']}" if r["unit"] == "samples/s" \
            else f"{r['value']:.2f} {r['unit']}"
        lines.append([r["measure"], value, r.get("note", "")])
    return lines


if __name__ == "__main__" and sys.argv[1:2] == ["--probe"]:
    print(json.dumps(probe(int(sys.argv[2]))))
if __name__ == "__main__" and sys.argv[1:2] == ["--probe-distributed"]:
    print(json.dumps(probe_distributed(int(sys.argv[2]))))
