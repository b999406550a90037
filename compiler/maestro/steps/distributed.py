"""Training on several devices: one worker process per GPU, DistributedDataParallel; on one node
with workers this process spawns, or, across the nodes of a TrainJob, as one of the ranks torchrun
started (`joined`, `fit_launched`: the same workers, the same batch rule, rank 0's Fit).

In: the samples, the spec, the seed and a `World` (how many workers, on which kind of device).
Out: the same `learning.Fit` as `learning.fit`, built in this (the parent) process from rank 0's
best weights and history; the workers write no file, so the step's artifacts are written once.

The batch rule: the global batch stays `training.batch_size` and the learning rate stays
`training.learning_rate`, whatever the number of workers. Every worker draws the same seeded order
of the training windows, cuts it into the same global batches, and takes every N-th window of each
(window i goes to rank i mod N); its loss is weighted so that DistributedDataParallel's average of
the workers' gradients is exactly the gradient of the global batch's mean loss, also when a batch
does not divide evenly. One optimizer step per global batch: the same optimization as one process,
up to the order of float additions (and dropout masks, which each worker draws from its own seed).
docs/runtime.md says why this rule and not linear scaling.

Workers are spawned (CUDA cannot be forked) and meet at a TCPStore this process holds on
127.0.0.1 (a free port, chosen by the kernel). A worker that fails sends its error back and exits;
the others are stopped after a short grace, and the fit raises the cause: a worker that died
without a word (killed), else the earliest error (a peer's broken collective comes after its cause). Collectives time out after
`World.collective_timeout` seconds, so a worker stuck outside a collective makes the others fail
rather than wait; `World.deadline` bounds the whole fit when set.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Callable, Iterator, Optional

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from . import learning
from .context import StepError
from .launch import Launch
from .nets import build

COLLECTIVE_TIMEOUT = 600.0   # seconds a worker waits for the others in one collective
FAILURE_GRACE = 5.0          # seconds the other workers get to report after one failed
POLL = 0.2


@dataclass(frozen=True)
class World:
    size: int                                 # worker processes
    device: str = "cpu"                       # "cuda": one GPU per worker (nccl); "cpu": gloo
    collective_timeout: float = COLLECTIVE_TIMEOUT
    deadline: Optional[float] = None          # seconds for the whole fit; None: no bound but the collectives'

    @property
    def backend(self) -> str:
        return "nccl" if self.device == "cuda" else "gloo"


def worker_count(gpus: int, visible_gpus: int) -> int:
    """One worker per GPU the spec asks for and this node shows; one (today's path) otherwise."""
    return max(1, min(gpus, visible_gpus))


def plan_world(gpus: int, cpu_workers: Optional[int] = None) -> World:
    """The train step's workers. `cpu_workers` (tests, benchmarks, `MAESTRO_TRAIN_CPU_WORKERS` read by
    `maestro step`) forces that many CPU workers on the gloo backend."""
    if cpu_workers is not None:
        return World(cpu_workers, "cpu")
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    size = worker_count(gpus, visible)
    return World(size, "cuda" if size > 1 else learning.pick_device())


def describe(world: World, batch_size: int, nodes: int = 1) -> str:
    share, extra = divmod(batch_size, world.size)
    per_worker = f"{share}" if not extra else f"{share}-{share + 1}"
    spread = f"{nodes} nodes x {world.size // nodes} processes, " if nodes > 1 else ""
    return (f"world size {world.size} ({spread}{world.backend} on {world.device}): global batch {batch_size}, "
            f"{per_worker} windows per worker per step, learning rate unchanged")


def fit_distributed(samples: learning.Samples, spec, seed: int, world: World,
                    on_epoch: Optional[Callable[[int, int], None]] = None, echo=None,
                    threads: Optional[int] = None) -> learning.Fit:
    """`on_epoch(rank, epoch)` runs in every worker before each epoch (tests inject failures with it)."""
    (echo or _stderr)(f"train: {describe(world, spec.training.batch_size)}")
    data = learning.prepare(samples, spec)
    arrays = tuple(tuple(t.numpy() for t in part) for part in (data.train, data.val))
    result = run_workers(_fit_worker, (arrays, data.features, spec, seed, on_epoch, threads), world)
    return _fit_of(result, data, spec, world)


def _fit_of(result: dict, data: learning.Prepared, spec, world: World) -> learning.Fit:
    """The served model of rank 0's best weights."""
    net = build(spec.model, data.features)
    state = {name: torch.from_numpy(value) for name, value in result["state"].items()}
    return learning.Fit(learning.served(net, state, data, spec), result["history"], result["best_epoch"],
                        world.device, world.size)


# ---- a world torchrun started (a TrainJob's nodes) ------------------------------------------------

@contextmanager
def joined(launch: Launch, node_setup: Optional[Callable[[], None]] = None,
           collective_timeout: float = COLLECTIVE_TIMEOUT) -> Iterator[World]:
    """This process in the process group of every rank torchrun started (env:// rendezvous at
    MASTER_ADDR:MASTER_PORT), for the block. `node_setup` runs once per node (local rank 0), and
    every rank waits for every node's before going on: each node fetches its own inputs."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        learning.deterministic_cublas()
        torch.cuda.set_device(launch.local_rank)   # "cuda" below means this process's GPU
    world = World(launch.size, device, collective_timeout)
    dist.init_process_group(world.backend, init_method="env://", rank=launch.rank, world_size=launch.size,
                            timeout=dt.timedelta(seconds=collective_timeout))
    try:
        if node_setup is not None and launch.local_rank == 0:
            node_setup()
        dist.barrier()
        yield world
    finally:
        dist.destroy_process_group()


def fit_launched(samples: learning.Samples, spec, seed: int, world: World, launch: Launch, echo=None,
                 threads: Optional[int] = None) -> Optional[learning.Fit]:
    """This rank's part of the fit `fit_distributed` makes in one node's processes, the same batch rule
    and the same result for the same world size; rank 0 gets the Fit, every other rank None."""
    if launch.rank == 0:
        (echo or _stderr)(f"train: {describe(world, spec.training.batch_size, launch.nodes)}")
    data = learning.prepare(samples, spec)
    arrays = tuple(tuple(t.numpy() for t in part) for part in (data.train, data.val))
    result = _fit_worker(launch.rank, world, arrays, data.features, spec, seed, None, threads)
    return None if result is None else _fit_of(result, data, spec, world)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fit_worker(rank: int, world: World, arrays, features: int, spec, seed: int, on_epoch,
                threads: Optional[int]) -> Optional[dict]:
    device = "cuda" if world.device == "cuda" else "cpu"   # "cuda" is this worker's GPU (set_device)
    learning.seed_everything(seed, device, threads)
    net = build(spec.model, features).to(device)           # the same weights as one process would start from
    torch.manual_seed(int(np.random.SeedSequence([seed, rank]).generate_state(1)[0]))   # dropout: own stream
    train, val = (tuple(torch.from_numpy(a).to(device) for a in part) for part in arrays)
    worker = Worker(rank, world.size, device, on_epoch)
    history, best_state, best_epoch = learning._train_loop(net, train, val, spec, device, seed, worker)
    if rank != 0:
        return None
    return {"state": {k: v.detach().cpu().numpy() for k, v in best_state.items()},
            "history": history, "best_epoch": best_epoch}


class Worker:
    """What `learning._train_loop` needs to be one of `size` workers."""

    def __init__(self, rank: int, size: int, device: str, on_epoch=None):
        self.rank, self.size, self.device, self.on_epoch = rank, size, device, on_epoch

    def wrap(self, net: nn.Module) -> nn.Module:
        ids = [torch.cuda.current_device()] if self.device == "cuda" else None
        return nn.parallel.DistributedDataParallel(net, device_ids=ids)   # broadcasts rank 0's weights

    def starting(self, epoch: int) -> None:
        if self.on_epoch is not None:
            self.on_epoch(self.rank, epoch)

    def epoch(self, net, data, loss_fn, optimizer, scaler, batch_size: int, order, device: str) -> float:
        return shard_epoch(net, data, loss_fn, optimizer, scaler, batch_size, order, device, self.rank, self.size)

    def agree(self, value: float) -> float:
        """Rank 0's figure on every worker: early stopping must stop all of them at the same epoch."""
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.broadcast(tensor, src=0)
        return float(tensor.item())


def shard_epoch(net, data, loss_fn, optimizer, scaler, batch_size: int, order, device: str,
                rank: int, size: int) -> float:
    """One epoch of one worker: the mean training loss over all windows (every worker's share)."""
    net.train()
    x, y = data
    per_window = type(loss_fn)(reduction="none")
    total = torch.zeros(1, dtype=torch.float64, device=device)
    for batch in torch.randperm(len(x), generator=order).split(batch_size):
        mine, weight = batch[rank::size], size / len(batch)   # DDP divides the gradient sum by `size`
        if not len(mine):          # a last batch smaller than the world: contribute nothing, still step
            mine, weight = batch[:1], 0.0
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device, enabled=device == "cuda"):
            losses = per_window(net(x[mine]), y[mine])
            loss = losses.sum() * weight
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if weight:
            total += losses.detach().double().sum()
    dist.all_reduce(total)
    return float(total.item()) / len(x)


# ---- the launcher -----------------------------------------------------------------------------

class WorkerFailed(Exception):
    """A worker raised something other than a StepError (a bug, CUDA out of memory, ...)."""


class RemoteTraceback(Exception):
    def __str__(self) -> str:
        return "\n" + self.args[0]


def run_workers(target: Callable, args: tuple, world: World):
    """Run `target(rank, world, *args)` in `world.size` spawned processes joined in one process group;
    return rank 0's result. Raises the first failure (StepError stays a StepError)."""
    store = dist.TCPStore("127.0.0.1", 0, world.size, is_master=True, wait_for_workers=False,
                          timeout=dt.timedelta(seconds=world.collective_timeout))
    spawn = multiprocessing.get_context("spawn")
    pipes = [spawn.Pipe(duplex=False) for _ in range(world.size)]
    processes = [spawn.Process(target=_worker_main, args=(rank, world, store.port, target, args, pipes[rank][1]),
                               name=f"maestro-train-{rank}", daemon=True) for rank in range(world.size)]
    try:
        for process in processes:
            process.start()
        for _, sender in pipes:
            sender.close()
        results, failures = _join(processes, [receiver for receiver, _ in pipes], world)
    finally:
        _stop(processes)
        for receiver, _ in pipes:
            receiver.close()
        del store
    if failures:
        _raise(min(failures, key=_cause_first), world.size)
    if 0 not in results:
        raise WorkerFailed(f"train worker 0 of {world.size} ended without a result")
    return results[0]


def _worker_main(rank: int, world: World, port: int, target: Callable, args: tuple, sender) -> None:
    try:
        if world.device == "cuda":
            learning.deterministic_cublas()   # before the first CUDA call
            torch.cuda.set_device(rank)       # "cuda" below means this worker's GPU
        else:
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")   # CPU workers talk over loopback only
        store = dist.TCPStore("127.0.0.1", port, world.size, is_master=False,
                              timeout=dt.timedelta(seconds=world.collective_timeout))
        dist.init_process_group(world.backend, store=store, rank=rank, world_size=world.size,
                                timeout=dt.timedelta(seconds=world.collective_timeout))
        result = target(rank, world, *args)
        dist.destroy_process_group()
        sender.send(("ok", result))
    except BaseException as exc:   # everything goes back to the parent, which decides what the user sees
        sender.send(("error", {"rank": rank, "at": time.time(), "step_error": isinstance(exc, StepError),
                               "message": str(exc) or type(exc).__name__, "kind": type(exc).__name__,
                               "traceback": traceback.format_exc()}))
        _exit_now(1, sender)   # no interpreter teardown: a broken process group must not hang the exit
    # Nor on success: tearing down the interpreter destroys the store client's and gloo's C++ threads
    # in no set order, which can abort the process ("terminate called without an active exception").
    _exit_now(0, sender)


def _exit_now(code: int, sender) -> None:
    sender.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _join(processes, receivers, world: World):
    """Collect each worker's one message; stop waiting FAILURE_GRACE after the first failure."""
    results, failures = {}, []
    open_receivers = dict(zip(receivers, range(len(receivers))))
    running = {p.sentinel: rank for rank, p in enumerate(processes)}
    end = None if world.deadline is None else time.monotonic() + world.deadline
    failed_at = None
    while open_receivers or running:
        for ready in wait(list(open_receivers) + list(running), timeout=POLL):
            if ready in open_receivers:
                rank = open_receivers.pop(ready)
                try:
                    kind, payload = ready.recv()
                except (EOFError, OSError):
                    continue
                if kind == "ok":
                    results[rank] = payload
                else:
                    failures.append(payload)
            else:
                rank = running.pop(ready)
                processes[rank].join()
                code = processes[rank].exitcode
                if code and not any(f["rank"] == rank for f in failures):
                    failures.append(_exit_failure(rank, code))
        now = time.monotonic()
        if failures and failed_at is None:
            failed_at = now
        if failed_at is not None and now - failed_at > FAILURE_GRACE:
            break
        if end is not None and now > end:
            failures.append({"rank": min(running.values(), default=0), "at": time.time(), "step_error": True,
                             "message": f"still running after the deadline of {world.deadline:g} s; stopped",
                             "kind": "timeout", "traceback": ""})
            break
    # A worker that exited with a message already queued is read above; one killed by a signal is not.
    return results, [f for f in failures if not _late_exit(f, failures, results)]


def _cause_first(failure: dict) -> tuple:
    """The failure to report: a worker that died without a word (killed: out of memory, a signal) is
    never a consequence of a peer; otherwise the earliest error, since a peer's broken collective
    comes after its cause."""
    return failure["kind"] != "exit", failure["at"], failure["rank"]


def _exit_failure(rank: int, code: int) -> dict:
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return {"rank": rank, "at": time.time(), "step_error": False, "kind": "exit",
            "message": f"{how} without reporting an error (out of memory?)", "traceback": ""}


def _late_exit(failure: dict, failures: list, results: dict) -> bool:
    """An exit failure of a rank that also sent its error (read after its exit) is the same failure; one
    of a rank that sent its whole result came after its work was done and cannot have changed it."""
    if failure["kind"] != "exit":
        return False
    return failure["rank"] in results or any(f["rank"] == failure["rank"] and f["kind"] != "exit" for f in failures)


def _stop(processes) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def _raise(failure: dict, size: int):
    message = f"train worker {failure['rank']} of {size} failed: {failure['message']}"
    if failure["step_error"]:
        raise StepError(message)
    error = WorkerFailed(f"{message} ({failure['kind']})")
    if failure["traceback"]:
        raise error from RemoteTraceback(failure["traceback"])
    raise error
