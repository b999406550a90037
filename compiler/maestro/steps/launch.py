"""This process as torchrun started it: one rank of a world that may span nodes (a Kubeflow Trainer
TrainJob's `torchrun --no-python maestro step train ...`, docs/multinode.md).

In: the variables torchrun sets for each worker (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT), as a mapping the command read. Out: a `Launch`, or None when this process
was not started by torchrun. Imports nothing heavy: `maestro step` parses it before loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Launch:
    rank: int           # in the whole world; rank 0 alone writes the step's artifacts
    size: int           # every process of every node
    local_rank: int     # on this node: the GPU it takes; local rank 0 fetches the node's inputs
    local_size: int     # processes on this node
    master: str         # MASTER_ADDR:MASTER_PORT, where the process group meets (env://)

    @property
    def nodes(self) -> int:
        return self.size // self.local_size


def launch_from(environ: Mapping[str, str]) -> Optional[Launch]:
    """The launch torchrun describes in `environ`; None without RANK and WORLD_SIZE. Raises
    ValueError, saying which variable is wrong, for a partial or inconsistent set."""
    if "RANK" not in environ and "WORLD_SIZE" not in environ:
        return None
    missing = [name for name in VARIABLES if not environ.get(name)]
    if missing:
        raise ValueError(f"started by torchrun (RANK or WORLD_SIZE is set), but {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not set")
    rank, size, local_rank, local_size, port = (_whole(environ, name) for name in
                                                 ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_PORT"))
    if not (0 <= rank < size and 0 <= local_rank < local_size and size % local_size == 0):
        raise ValueError(f"torchrun's variables disagree: RANK {rank}, WORLD_SIZE {size}, LOCAL_RANK {local_rank}, "
                         f"LOCAL_WORLD_SIZE {local_size}; expected 0 <= RANK < WORLD_SIZE, 0 <= LOCAL_RANK < "
                         "LOCAL_WORLD_SIZE, and WORLD_SIZE a multiple of LOCAL_WORLD_SIZE")
    return Launch(rank, size, local_rank, local_size, f"{environ['MASTER_ADDR']}:{port}")


def _whole(environ: Mapping[str, str], name: str) -> int:
    value = environ[name]
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number, not '{value}'")
    return int(value)
