"""Write, check and recover the gitops folder.

In: a compiled `Tree` and the folder. Out: files on disk (write), or a list of `Drift`s (check).
A write stages every changed file and fsyncs it, commits a journal, then moves files into place
and prunes what maestro generated earlier and no longer produces. A run interrupted at any point
is completed (journal committed) or undone (journal absent) by the next write's `recover`. A file
lock serializes compiles; the kernel drops it when its holder dies, so a killed compile leaves no
stale lock behind. One module a job: `paths` (what may be touched), `state` (the lock and the state
folders), `changes` (what a tree changes: writes, prunes, drift), `journal` (the write and its
recovery), `files` (file operations that never follow a link).

CI runs this on untrusted pull requests, so nothing in the checkout is trusted (docs/security.md#untrusted-checkouts-in-ci):
- `preflight` refuses a symbolic link anywhere under gitops/ or .maestro/, and a .maestro/ that git
  tracks, before any command reads or writes either;
- every path (of the tree, of a journal) must be a plain relative path inside gitops/;
- files are moved and removed through directory descriptors opened with O_NOFOLLOW, so a link
  swapped in later is still never followed;
- a journal is acted on only when a record in this user's private state folder, outside the
  checkout, holds its SHA-256. The journal carries a random nonce and the digest of every staged
  file, so a journal or staged file that came from the checkout can never match;
- read-only commands (`compile --check`, `diff`) never recover.
"""

from __future__ import annotations

from .changes import Drift, check, generated_files, summarize, unaccounted
from .journal import commit, pending, recover, write
from .paths import MANUAL_FOLDER, STATE_DIR, preflight
from .reading import Snapshot
from .state import locked, state_dir

__all__ = ["Drift", "MANUAL_FOLDER", "STATE_DIR", "Snapshot", "check", "commit", "generated_files", "locked", "pending",
           "preflight", "recover", "state_dir", "summarize", "unaccounted", "write"]
