"""The sandbox's world kept across restarts: a snapshot of `World` (templates, customers,
windows, sends, violations), of the media library (files, upload sessions, issued handles, the
download urls' key) and of the webhooks not delivered yet, written atomically to a
file (`SANDBOX_STATE_FILE`, under `.local/` for `make run`) every few seconds and on stop, and
read back at start, so that `make stop` + `make run` finds the templates, customers and
pending webhooks and media of before. The files are held in the snapshot itself: the sandbox's
files are the small ones its tests and demos upload, and Meta's own lifetimes (30 days for an
upload, 7 for a customer's file) still end them.

The snapshot is Python's pickle of the sandbox's own dataclasses: a local development file the
sandbox alone writes, never one from elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.sandbox.media import MediaState
from services.sandbox.webhook_sender import Delivery
from services.sandbox.world import World
from shared import logs

log = logs.get(__name__)


@dataclass
class Snapshot:
    world: World = field(default_factory=World)
    webhooks: list[Delivery] = field(default_factory=list)  # not delivered when it was taken
    media: MediaState = field(default_factory=MediaState)


def load(path: Path) -> Snapshot:
    """The snapshot saved at `path`; an empty one when there is none or it cannot be read."""
    try:
        snapshot = pickle.loads(path.read_bytes())  # noqa: S301 - the sandbox's own file
    except FileNotFoundError:
        return Snapshot()
    except Exception as exc:  # a damaged or outdated snapshot: start afresh, say so
        log.warning("sandbox state unreadable; starting empty", path=str(path), reason=repr(exc))
        return Snapshot()
    if not isinstance(snapshot, Snapshot) or not isinstance(snapshot.world, World):
        log.warning("sandbox state is not a snapshot; starting empty", path=str(path))
        return Snapshot()
    if not isinstance(getattr(snapshot, "media", None), MediaState):  # saved before media was
        snapshot.media = MediaState()
    log.info("sandbox state restored", path=str(path), templates=len(snapshot.world.templates),
             webhooks=len(snapshot.webhooks), media=len(snapshot.media.files))  # fmt: skip
    return snapshot


def save(snapshot: Snapshot, path: Path) -> None:
    """Write the snapshot to `path` atomically: a reader sees the old one or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def save_every(take: Callable[[], Snapshot], path: Path, interval_s: float) -> None:
    """Save a snapshot now and then (a crash loses at most one interval)."""
    while True:
        await asyncio.sleep(interval_s)
        save(take(), path)
