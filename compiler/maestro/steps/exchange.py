"""The artifact store as the steps of a TrainJob use it: where Argo cannot pass artifacts, the train
step fetches its inputs and stores its output itself, with the keys of the environment's artifact
store handed to it by Secret reference (`contract.ACCESS_KEY_VARIABLE`, `SECRET_KEY_VARIABLE`).

In: the exchange prefix (`--exchange`, e.g. `artifacts/<namespace>/<workflow>/exchange`), the keys,
the environment's `artifacts` settings and the work dir. Out: `<workdir>/<step>/` downloaded from
`<prefix>/<step>/` (what an Argo output artifact with `archive: none` uploads: one object per file),
and a step's folder uploaded the same way, which Argo's S3 input artifacts read back as a folder.
Nothing is written outside the work dir; a failure of the store is a `StepError` saying what failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable

from .context import StepError


@dataclass(frozen=True)
class Exchange:
    prefix: str
    access_key: str
    secret_key: str

    def fetch(self, artifacts, workdir: Path, steps: Iterable[str]) -> None:
        client = _client(artifacts, self)
        for step in steps:
            keys = _call(lambda: _keys(client, artifacts.bucket, f"{self.prefix}/{step}/"), artifacts, step)
            if not keys:
                raise StepError(f"the output of step '{step}' is missing at s3://{artifacts.bucket}/{self.prefix}/"
                                f"{step}/; did '{step}' upload it to the exchange?")
            for key in keys:
                target = _inside(workdir, key[len(self.prefix) + 1:], step)
                target.parent.mkdir(parents=True, exist_ok=True)
                _call(lambda: client.download_file(artifacts.bucket, key, str(target)), artifacts, step)

    def store(self, artifacts, workdir: Path, step: str) -> None:
        client = _client(artifacts, self)
        folder = workdir / step
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            key = f"{self.prefix}/{step}/{path.relative_to(folder).as_posix()}"
            _call(lambda: client.upload_file(str(path), artifacts.bucket, key), artifacts, step)


def _client(artifacts, exchange: Exchange):
    from ..s3_client import s3_client

    return s3_client(artifacts, exchange.access_key, exchange.secret_key)


def _keys(client, bucket: str, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def _inside(workdir: Path, relative: str, step: str) -> Path:
    """`<workdir>/<relative>`, refused unless it is a plain path inside the step's own folder."""
    parts = PurePosixPath(relative).parts
    if relative.startswith("/") or len(parts) < 2 or parts[0] != step or any(p in ("", ".", "..") for p in parts):
        raise StepError(f"refusing the exchange object '{relative}': not a plain path inside '{step}/'")
    return workdir.joinpath(*parts)


def _call(action, artifacts, step: str):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (BotoCoreError, ClientError) as exc:
        raise StepError(f"the artifact store {artifacts.endpoint} (bucket {artifacts.bucket}) failed while "
                        f"exchanging '{step}': {exc}") from None
