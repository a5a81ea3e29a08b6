"""Dispatch keeps media on a volume in every overlay: its root filesystem is read-only, so each
directory its media settings name (local store) must lie under a mounted, writable volume."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from services.dispatch.media_settings import MediaSettings
from tests.deploy.test_deploy_check import OVERLAYS
from tests.deploy.test_site_values import K8S, of_kind, render


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_media_directories_are_on_a_mounted_volume(tools: None, overlay: str) -> None:
    docs = render(K8S, overlay)
    (deployment,) = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == "dispatch"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (config,) = [
        d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].startswith("dispatch-config")
    ]
    data: dict[str, Any] = config["data"]
    if data.get("DISPATCH_MEDIA__STORE") == "s3":
        return  # kept in a bucket: nothing on disk
    defaults = MediaSettings()
    dirs = [
        data.get("DISPATCH_MEDIA__INBOUND_DIR", str(defaults.inbound_dir)),
        data.get("DISPATCH_MEDIA__OUTBOUND_DIR", str(defaults.outbound_dir)),
    ]
    mounts = [PurePosixPath(m["mountPath"]) for m in container.get("volumeMounts", [])]
    writable = {m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")}
    for directory in dirs:
        path = PurePosixPath(directory)
        assert path.is_absolute(), f"{overlay}: {directory} is relative to a read-only root"
        assert any(path.is_relative_to(m) and str(m) in writable for m in mounts), (
            f"{overlay}: {directory} is on no writable volume"
        )
