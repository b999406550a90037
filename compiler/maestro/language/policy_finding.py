"""The finding of a policy rule: which field of the effective pipeline breaks which policy field.

In: made by `policy` and `reserved`. Out: read by `project`, which turns each into a `Diagnostic`
pointing at both lines.
"""

from __future__ import annotations

from typing import NamedTuple


class PolicyFinding(NamedTuple):
    path: tuple          # in the pipeline's effective document, or () for the environment itself
    message: str
    rule: str            # the policy field, e.g. 'max_gpus_per_step'
