"""The sandbox's world kept across restarts: a snapshot of `World` (templates, customers,
windows, sends, violations) written atomically to a file (`SANDBOX_STATE_FILE`, under
`.local/` for `make run`) every few seconds and on stop, and read back at start, so that
`make stop` + `make run` finds the templates and customers of before.

The snapshot is Python's pickle of the sandbox's own dataclasses: a local development file the
sandbox alone writes, never one from elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import tempfile
from pathlib import Path

from services.sandbox.world import World
from shared import logs

log = logs.get(__name__)


def load(path: Path) -> World:
    """The world saved at `path`; a fresh one when there is none or it cannot be read."""
    try:
        world = pickle.loads(path.read_bytes())  # noqa: S301 - the sandbox's own file
    except FileNotFoundError:
        return World()
    except Exception as exc:  # a damaged or outdated snapshot: start afresh, say so
        log.warning("sandbox state unreadable; starting empty", path=str(path), reason=repr(exc))
        return World()
    if not isinstance(world, World):
        log.warning("sandbox state is not a world; starting empty", path=str(path))
        return World()
    log.info("sandbox state restored", path=str(path), templates=len(world.templates))
    return world


def save(world: World, path: Path) -> None:
    """Write the world to `path` atomically: a reader sees the old snapshot or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps(world, protocol=pickle.HIGHEST_PROTOCOL)
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


async def save_every(world: World, path: Path, interval_s: float) -> None:
    """Save the world now and then (a crash loses at most one interval)."""
    while True:
        await asyncio.sleep(interval_s)
        save(world, path)
