"""The artifact store over S3: each environment's own bucket, read for the runs' publish records.

In: an environment's artifact settings (endpoint, region, insecure, bucket) and the run to look for.
Out: whether that bucket answers (`reachable`), and the key and parsed record of the run's publish
step (`publish_record`), the same answers `promotion_evidence.FileStore` gives for a folder.

Credentials are the caller's own, found the way the AWS tools find them (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile): `maestro promote` runs on a laptop or in CI, never with the
cluster's Secret. A store that does not answer, refuses the credentials, or is not there, or a
machine without boto3 (the `train` extra), is "not reachable": the committed promotions/ record is
the evidence then. Only listing and reading are done, and an archive over the size bound is not read.
"""

from __future__ import annotations

from typing import Optional

from .publish_archive import ARCHIVE, MAX_ARCHIVE_BYTES, record_in_archive

TIMEOUT_SECONDS = 5


_FAILED = object()   # what a call that the store did not answer returns


class S3Store:
    def __init__(self) -> None:
        self._clients: dict[tuple, object] = {}
        self._answered: dict[tuple, bool] = {}

    def __str__(self) -> str:
        return "s3"

    def location(self, artifacts, key: str) -> str:
        return f"s3://{artifacts.bucket}/{key} at {artifacts.endpoint}"

    def reachable(self, artifacts) -> bool:
        place = (artifacts.endpoint, artifacts.bucket)
        if place not in self._answered:
            client = self._client(artifacts)
            self._answered[place] = client is not None and \
                _asked(lambda: client.head_bucket(Bucket=artifacts.bucket)) is not _FAILED
        return self._answered[place]

    def publish_record(self, artifacts, namespace: str, run: str) -> Optional[tuple[str, object]]:
        client = self._client(artifacts)
        prefix = f"artifacts/{namespace}/{run}/{run}-publish"
        listed = _asked(lambda: client.list_objects_v2(Bucket=artifacts.bucket, Prefix=prefix)) if client else _FAILED
        if listed is _FAILED:
            return None
        # <prefix>-<pod suffix>/out.tgz, one level below the run: nothing deeper is the step's archive
        archives = sorted((item["Key"], item.get("Size", 0)) for item in listed.get("Contents", ())
                          if item["Key"].endswith(f"/{ARCHIVE}") and item["Key"].count("/") == prefix.count("/") + 1)
        for key, size in archives:
            body = _asked(lambda: client.get_object(Bucket=artifacts.bucket, Key=key)["Body"].read(MAX_ARCHIVE_BYTES + 1)) \
                if size <= MAX_ARCHIVE_BYTES else _FAILED
            if body is not _FAILED and len(body) <= MAX_ARCHIVE_BYTES:
                return f"s3://{artifacts.bucket}/{key}", record_in_archive(body)
        return None

    def _client(self, artifacts):
        place = (artifacts.endpoint, artifacts.region, artifacts.insecure)
        if place not in self._clients:
            try:
                from .s3_client import s3_client

                self._clients[place] = s3_client(artifacts, attempts=1, timeout=TIMEOUT_SECONDS)
            except ImportError:   # boto3 comes with the train extra
                self._clients[place] = None
        return self._clients[place]


def _asked(call):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (BotoCoreError, ClientError, OSError):
        return _FAILED
