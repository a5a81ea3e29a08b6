"""The S3-compatible media store against a real S3 API (moto's server, in this process on a
free port): written once by content hash, read back, referenced, swept by age; a bucket that
cannot be reached is a retryable error that loses no customer's file."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer
from pydantic import SecretStr, ValidationError

from services.dispatch.errors import StoreUnavailable
from services.dispatch.media import MediaUploads
from services.dispatch.media_inbound import InboundMedia
from services.dispatch.media_settings import MediaSettings, S3Settings
from services.dispatch.media_store import LocalStore, S3Store, s3_client
from services.dispatch.media_web import upload_route
from services.dispatch.media_wiring import media_store
from services.dispatch.settings import DispatchSettings
from shared import media, runtime
from shared.events.media import InboundMediaReported
from tests.services.dispatch.test_media import Clock, FakeMediaApi, MemoryCache
from tests.services.dispatch.test_media_inbound import NOW, PDF, PNG, FakeApi, Recorder, photo

DAY = 86400.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def settings_for(endpoint: str, bucket: str, **more: Any) -> S3Settings:
    return S3Settings(
        bucket=bucket, endpoint_url=endpoint, region="us-east-1",
        access_key_id=SecretStr("AKIDTESTING"), secret_access_key=SecretStr("s3cr3t-key"),
        **more,
    )  # fmt: skip


@pytest.fixture
def s3(endpoint: str) -> S3Settings:
    settings = settings_for(endpoint, f"media-{uuid.uuid4().hex[:12]}")
    s3_client(settings).create_bucket(Bucket=settings.bucket)
    return settings


class Counting:
    """The real client, counting the calls made through it."""

    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, []  # type: list[str]

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def keys(settings: S3Settings) -> list[str]:
    listed = s3_client(settings).list_objects_v2(Bucket=settings.bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_a_file_put_twice_is_written_once_by_its_hash(s3: S3Settings) -> None:
    client = Counting(s3_client(s3))
    store = S3Store(s3, "inbound", client)
    sha = media.sha256(PNG)
    assert store.put(PNG) == sha
    assert store.put(PNG) == sha
    assert client.calls.count("put_object") == 1 and client.calls.count("head_object") == 2
    assert keys(s3) == [f"wagate/media/inbound/{sha[:2]}/{sha}"]


def test_a_file_is_read_back_by_its_hash_and_referenced(s3: S3Settings) -> None:
    store = S3Store(s3, "inbound")
    sha = store.put(PDF)
    assert store.get(sha) == PDF
    assert store.get(media.sha256(b"never kept")) is None
    assert store.get("../../etc/passwd") is None
    assert store.reference(sha) == f"s3://{s3.bucket}/wagate/media/inbound/{sha[:2]}/{sha}"
    with pytest.raises(ValueError, match="not a sha256"):
        store.reference("ABC")


def test_the_prefix_is_configurable(endpoint: str, s3: S3Settings) -> None:
    bare = S3Store(s3.model_copy(update={"prefix": ""}), "")
    sha = bare.put(PNG)
    assert bare.reference(sha) == f"s3://{s3.bucket}/{sha[:2]}/{sha}" and bare.get(sha) == PNG
    nested = S3Store(s3.model_copy(update={"prefix": "acme/wa"}), "outbound")
    assert nested.reference(sha) == f"s3://{s3.bucket}/acme/wa/outbound/{sha[:2]}/{sha}"


def test_the_sweep_deletes_by_age_and_only_under_its_prefix(s3: S3Settings) -> None:
    inbound, outbound = S3Store(s3, "inbound"), S3Store(s3, "outbound")
    png, pdf = inbound.put(PNG), inbound.put(PDF)
    kept = outbound.put(PNG)
    assert inbound.sweep(DAY) == 0 and inbound.get(png) == PNG  # younger than a day: kept
    assert inbound.sweep(DAY, now=time.time() + 2 * DAY) == 2
    assert inbound.get(png) is None and inbound.get(pdf) is None
    assert outbound.get(kept) == PNG  # another prefix is not touched
    assert inbound.sweep(DAY, now=time.time() + 2 * DAY) == 0


def test_an_unreachable_endpoint_is_a_clear_retryable_error() -> None:
    down = settings_for(f"http://127.0.0.1:{free_port()}", "media", attempts=1, timeout_s=1)
    store = S3Store(down, "inbound")
    with pytest.raises(StoreUnavailable, match=r"keeping s3://media/wagate/media/inbound/") as exc:
        store.put(PNG)
    assert exc.value.retryable
    with pytest.raises(StoreUnavailable, match="reading"):
        store.get(media.sha256(PNG))
    with pytest.raises(StoreUnavailable, match="listing"):
        store.sweep(DAY)


def test_a_missing_bucket_is_retryable_too(endpoint: str) -> None:
    store = S3Store(settings_for(endpoint, "no-such-bucket-here"), "inbound")
    with pytest.raises(StoreUnavailable, match="NoSuchBucket"):
        store.put(PNG)


def test_refused_keys_are_retryable_too(s3: S3Settings) -> None:
    client = s3_client(s3)
    with Stubber(client) as stub:
        stub.add_client_error("head_object", "403", "Forbidden", 403)
        stub.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
        store = S3Store(s3, "inbound", client)
        with pytest.raises(StoreUnavailable, match="403") as exc:
            store.put(PNG)
        assert exc.value.retryable
        with pytest.raises(StoreUnavailable, match="AccessDenied"):
            store.get(media.sha256(PNG))


async def test_the_inbound_worker_keeps_a_customers_photo_in_s3(s3: S3Settings) -> None:
    recorder = Recorder()
    store = S3Store(s3, "inbound")
    worker = InboundMedia(FakeApi(), store, recorder, lambda: NOW, 3, 1.0)  # type: ignore[arg-type]
    await worker.on_message(photo())
    ((_, report, _),) = recorder.events
    assert isinstance(report, InboundMediaReported) and report.outcome == "stored"
    sha = media.sha256(PNG)
    assert report.sha256 == sha and report.reference == store.reference(sha)
    assert store.get(sha) == PNG


async def test_a_store_down_leaves_the_message_to_be_read_again(s3: S3Settings) -> None:
    """The worker raises the retryable error (the consume loop backs off and does not commit),
    reports nothing, and the same message read again once the bucket is back is kept."""
    recorder = Recorder()
    down = settings_for(f"http://127.0.0.1:{free_port()}", s3.bucket or "", attempts=1)
    worker = InboundMedia(FakeApi(), S3Store(down, "inbound"), recorder, lambda: NOW, 3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await worker.on_message(photo())
    assert recorder.events == []
    back = InboundMedia(FakeApi(), S3Store(s3, "inbound"), recorder, lambda: NOW, 3, 1.0)  # type: ignore[arg-type]
    await back.on_message(photo())
    assert [event.outcome for _, event, _ in recorder.events] == ["stored"]  # type: ignore[attr-defined]


def test_boto3s_own_credentials_are_used_when_none_are_set(
    s3: S3Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    chained = s3.model_copy(update={"access_key_id": None, "secret_access_key": None})
    client = s3_client(chained)
    assert client._request_signer._credentials.access_key == "AKIDFROMENV"
    assert S3Store(chained, "inbound", client).get(S3Store(s3, "inbound").put(PNG)) == PNG


def test_the_store_is_chosen_by_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(media_store(MediaSettings(inbound_dir=tmp_path), "inbound"), LocalStore)
    monkeypatch.setenv("DISPATCH_MEDIA__STORE", "s3")
    monkeypatch.setenv("DISPATCH_MEDIA__S3__BUCKET", "acme-media")
    monkeypatch.setenv("DISPATCH_MEDIA__S3__ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("DISPATCH_MEDIA__S3__REGION", "eu-west-1")
    monkeypatch.setenv("DISPATCH_MEDIA__S3__ACCESS_KEY_ID", "AKIDMINIO")
    monkeypatch.setenv("DISPATCH_MEDIA__S3__SECRET_ACCESS_KEY", "minio-secret")
    settings = DispatchSettings()
    chosen = media_store(settings.media, "outbound")
    assert isinstance(chosen, S3Store)
    sha = "a" * 64
    assert chosen.reference(sha) == f"s3://acme-media/wagate/media/outbound/aa/{sha}"
    assert "minio-secret" not in repr(settings) and "minio-secret" not in str(settings.media)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"DISPATCH_MEDIA__STORE": "s3"}, "needs s3.bucket"),
        ({"DISPATCH_MEDIA__STORE": "gcs"}, "'local' or 's3'"),
        ({"DISPATCH_MEDIA__S3__BUCKET": "Not_A_Bucket"}, "not an S3 bucket name"),
        ({"DISPATCH_MEDIA__S3__BUCKET": "ab"}, "not an S3 bucket name"),
        ({"DISPATCH_MEDIA__S3__ENDPOINT_URL": "minio:9000"}, "not an http(s) url"),
        ({"DISPATCH_MEDIA__S3__PREFIX": "a/../b"}, "not a key prefix"),
        ({"DISPATCH_MEDIA__S3__ACCESS_KEY_ID": "AKID"}, "go together"),
        ({"DISPATCH_MEDIA__S3__ADDRESSING_STYLE": "sideways"}, "'auto', 'path' or 'virtual'"),
    ],
)
def test_a_malformed_store_setting_stops_the_start(
    env: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(problem)):
        DispatchSettings()


def test_a_malformed_store_setting_exits_78_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a process of its own: the start configures logging for good."""
    monkeypatch.setenv("DISPATCH_MEDIA__STORE", "s3")
    start = "from services.dispatch.settings import DispatchSettings as S\n"
    start += "from shared import runtime\nruntime.configured('dispatch', S)\n"
    done = subprocess.run([sys.executable, "-c", start], capture_output=True, text=True, timeout=60)
    assert done.returncode == runtime.EXIT_CONFIG == 78, done.stderr
    assert "needs s3.bucket" in done.stdout + done.stderr


async def test_uploads_are_kept_in_the_bucket_and_answer_503_while_it_is_down(
    s3: S3Settings,
) -> None:
    down = settings_for(f"http://127.0.0.1:{free_port()}", s3.bucket or "", attempts=1)
    for settings, status in ((down, 503), (s3, 200)):
        api, store = FakeMediaApi(), S3Store(settings, "outbound")
        uploads = MediaUploads(api, MemoryCache(), store, Clock(), timedelta(0))  # type: ignore[arg-type]
        app = web.Application()
        app.router.add_post("/media", upload_route(uploads, ["k"]))
        async with TestClient(TestServer(app)) as client:
            headers = {"Authorization": "Bearer k"}
            async with client.post("/media?phone_number_id=1", data=PDF, headers=headers) as resp:
                body = await resp.json()
                assert resp.status == status, body
                if status == 503:
                    assert "keeping s3://" in body["error"]["reason"]
        assert len(api.calls) == (status == 200)  # nothing goes to Meta without the file kept
    sha = media.sha256(PDF)
    assert keys(s3) == [f"wagate/media/outbound/{sha[:2]}/{sha}"]
    assert body["sha256"] == sha
