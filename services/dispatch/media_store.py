"""Files by content hash, in a local directory (`<root>/<sha[:2]>/<sha>`): written once,
atomically, and read back by their hash; old ones removed by the retention sweep.
An S3-compatible store is a documented follow-up (docs/media.md)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from shared import media


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def reference(self, sha256: str) -> str:
        """The stable reference a business is given for a kept file."""
        return f"file://{self.path(sha256).resolve()}"

    def put(self, data: bytes) -> str:
        """Keep `data`; its sha256 (kept once however often it is put)."""
        sha = media.sha256(data)
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (OSError, ValueError):
            return None

    def sweep(self, older_than_s: float, now: float | None = None) -> int:
        """Delete files kept longer than `older_than_s`; how many went."""
        cutoff = (time.time() if now is None else now) - older_than_s
        removed = 0
        for path in self.root.glob("??/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
