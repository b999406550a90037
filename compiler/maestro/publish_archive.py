"""A run's publish record inside Argo's archive of the publish step's `out` artifact.

In: the bytes of `out.tgz`, wherever they were read (a folder, an S3 bucket). Out: the parsed
`publish/publish.json`, or None when the archive holds no readable one. Sizes are bounded; nothing
is extracted to disk.
"""

from __future__ import annotations

import io
import json
import tarfile

ARCHIVE = "out.tgz"                     # Argo's archive of a step's `out` artifact
RECORD_MEMBER = "publish/publish.json"  # the publish record inside it
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024    # publish/ holds the model too; a record alone is a few KiB
MAX_RECORD_BYTES = 1024 * 1024


def record_in_archive(data: bytes) -> object:
    """The parsed publish record inside an `out.tgz`, None when it holds none that is readable."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            member = next((m for m in tar.getmembers() if m.name.removeprefix("./") == RECORD_MEMBER), None)
            if member is None or not member.isfile() or member.size > MAX_RECORD_BYTES:
                return None
            return json.loads(tar.extractfile(member).read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError, ValueError):
        return None
