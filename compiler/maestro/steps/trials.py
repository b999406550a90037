"""The trial registry: every distinct run of a pipeline that reached the gate, with its p-value, so the
gate can correct for many tries (daily re-runs, many settings) when `policy.multiple_testing` asks.

In: `<workdir>/trials/trials.json` when present (`maestro run` puts its output folder's registry
there; in a cluster it is the gate's `trials` input artifact), this run's id, the last date it was
scored on and its p-value. Out: the updated registry (the gate writes it to `gate/trials.json`),
the trials within the window and Holm's adjusted p-value. A registry is a list of
`{"run_id", "data_end", "p_value"}`; anything else is refused with a plain message, never trusted.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

from .context import StepError

REGISTRY = "trials.json"


def load(path: Path) -> list[dict]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StepError(f"the trial registry {path} is unreadable ({exc}); delete it to start a new one") from None
    if not isinstance(entries, list) or not all(_valid(e) for e in entries):
        raise StepError(f"the trial registry {path} is not a list of {{run_id, data_end (YYYY-MM-DD), "
                        "p_value (0 to 1)}} entries; delete it to start a new one")
    return entries


def _valid(entry) -> bool:
    if not isinstance(entry, dict) or set(entry) != {"run_id", "data_end", "p_value"}:
        return False
    try:
        dt.date.fromisoformat(entry["data_end"])
    except (TypeError, ValueError):
        return False
    p = entry["p_value"]
    return isinstance(entry["run_id"], str) and isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1


def record(entries: list[dict], run_id: str, data_end: str, p_value: Optional[float]) -> list[dict]:
    """This run added (or replaced: a rerun of the same run is the same trial), in a stable order."""
    mine = {"run_id": run_id, "data_end": data_end, "p_value": 1.0 if p_value is None else float(p_value)}
    kept = [e for e in entries if e["run_id"] != run_id] + [mine]
    return sorted(kept, key=lambda e: (e["data_end"], e["run_id"]))


def in_window(entries: list[dict], data_end: str, days: int) -> list[dict]:
    end = dt.date.fromisoformat(data_end)
    return [e for e in entries if abs((dt.date.fromisoformat(e["data_end"]) - end).days) <= days]


def holm_adjusted(p_values: list[float], index: int) -> float:
    """Holm's step-down adjusted p-value of hypothesis `index` among `p_values`: with the p-values
    sorted ascending, p~(i) = max over j <= i of min(1, (m - j + 1) p(j)) (1-based)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: (p_values[i], i))
    adjusted, running = 1.0, 0.0
    for rank, i in enumerate(order, start=1):
        running = max(running, min(1.0, (m - rank + 1) * p_values[i]))
        if i == index:
            adjusted = running
            break
    return adjusted


def correct(entries: list[dict], run_id: str, data_end: str, policy) -> dict:
    """What the gate needs: how many trials count, and this run's adjusted p-value."""
    window = in_window(entries, data_end, policy.window_days)
    mine = next(i for i, e in enumerate(window) if e["run_id"] == run_id)
    raw = window[mine]["p_value"]
    return {"method": policy.method, "window_days": policy.window_days, "trials": len(window),
            "p_value": raw, "adjusted_p_value": holm_adjusted([e["p_value"] for e in window], mine)}
