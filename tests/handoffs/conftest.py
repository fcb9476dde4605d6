"""Fixtures for the hand-off tests: a local S3-compatible server (moto's server mode)."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# The standard variables a user sets to reach a bucket (see README "Shared storage").
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """A moto S3 server on localhost: ``endpoint`` is its URL."""

    endpoint: str
    _no_aws_files: Path = field(repr=False)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) with this server as the only S3 endpoint and
        its credentials, through the variables the README documents; no outside AWS
        setting (profile, config file, other endpoint variable) can leak in."""
        env = {
            key: value
            for key, value in (os.environ if base is None else base).items()
            if not key.startswith(("AWS_", "FSSPEC_S3"))
        }
        return (
            env
            | CREDENTIALS
            | {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": str(self._no_aws_files / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self._no_aws_files / "credentials"),
            }
        )

    def filesystem(self) -> Any:
        """A fresh ``s3fs`` filesystem on this server (no listing cache shared with others)."""
        import s3fs

        return s3fs.S3FileSystem(
            key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            endpoint_url=self.endpoint,
            skip_instance_cache=True,
        )

    def new_bucket(self) -> str:
        """Create an empty bucket with a unique name and return the name."""
        name = f"team-{uuid.uuid4().hex[:12]}"
        self.filesystem().mkdir(name)
        return name


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on a free localhost port, in this process, for the whole session."""
    moto_server = pytest.importorskip(
        "moto.server",
        reason="moto[server] is not installed; `pip install -e '.[dev]'` provides the local "
        "S3 server these tests need",
    )
    werkzeug = logging.getLogger("werkzeug")  # one log line per request otherwise
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}", tmp_path_factory.mktemp("no-aws-files"))
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """``s3_server``, with its endpoint and credentials also in this process's environment."""
    for key in [k for k in os.environ if k.startswith(("AWS_", "FSSPEC_S3"))]:
        monkeypatch.delenv(key)
    for key, value in s3_server.env({}).items():
        monkeypatch.setenv(key, value)
    return s3_server


# ---- Run manifests ----


def manifests(project: Path) -> list[dict]:
    folder = project / "data" / "09_manifests" / "run_manifest.json"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/run_manifest.json"))]


@pytest.fixture(scope="session")
def read_manifests() -> Callable[[Path], list[dict]]:
    """``read_manifests(project)``: every run manifest of ``project``, oldest first."""
    return manifests
