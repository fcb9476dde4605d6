"""Run manifests: what a run read and wrote, byte for byte, and a check of them.

A manifest lists every file-backed dataset a run loaded or saved, with its version and the
size and SHA-256 of each of its files, plus the run's parameters, the dependency lock's
hash, the git commit and the MLflow run id. ``verify_manifest`` compares it with the files
as they are now and reports every file that is missing, changed, truncated, or extra (a
file in a version folder that the run did not write). ``RunManifestHook``
(``manifest_hook.py``) writes one for every run.

Local paths are stored relative to the project, so a manifest stays valid in a colleague's
checkout; remote ones as URLs (``s3://...``).
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractVersionedDataset, VersionNotFoundError, get_filepath_str
from kedro_datasets.partitions import PartitionedDataset

from microexpression_pipeline.handoffs.run_versions import inner_dataset

SCHEMA_VERSION = 1
MANIFEST_DATASET = "run_manifest"
LOCK_FILE = "requirements.lock"
PACKAGES = ("kedro", "kedro-datasets", "kedro-mlflow", "tensorflow-cpu", "tensorflow", "keras",
            "mlflow", "numpy", "pandas", "opencv-contrib-python-headless",
            "scikit-learn")  # fmt: skip
_CHUNK = 1 << 20


def portable(path: str, protocol: str, project_path: Path) -> str:
    """``path`` relative to the project when it is a local path inside it, else a URL."""
    if protocol != "file":
        return f"{protocol}://{path}"
    try:
        return Path(path).resolve().relative_to(project_path.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def located(path: str, project_path: Path) -> str:
    """The inverse of ``portable``: a URL or an absolute local path."""
    if "://" in path or Path(path).is_absolute():
        return path
    return (project_path / path).as_posix()


def file_digest(fs: Any, path: str) -> tuple[int, str]:
    """Size and SHA-256 of one file."""
    digest, size = hashlib.sha256(), 0
    with fs.open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _files_under(fs: Any, path: str) -> list[str]:
    if fs.isdir(path):
        return sorted(fs.find(path))
    return [path] if fs.exists(path) else []


def dataset_record(dataset: Any, role: str, project_path: Path) -> dict[str, Any] | None:
    """The manifest entry of one dataset as it is now (``None`` if it is not file-backed).

    ``role`` is ``loaded`` or ``saved``: it decides which version is described.
    """
    inner = inner_dataset(dataset)
    record: dict[str, Any] = {
        "type": f"{type(dataset).__module__}.{type(dataset).__qualname__}",
        "version": None,
        "version_folder": None,
    }
    if isinstance(inner, PartitionedDataset):
        fs, protocol = inner._filesystem, inner._protocol
        location = inner._normalized_path
        paths = [get_filepath_str(PurePosixPath(p), protocol) for p in inner._list_partitions()]
    elif hasattr(inner, "_fs") and hasattr(inner, "_filepath"):
        fs, protocol = inner._fs, getattr(inner, "_protocol", "file")
        target = PurePosixPath(inner._filepath)
        if isinstance(inner, AbstractVersionedDataset) and inner._version:
            try:
                version = (
                    inner.resolve_save_version()
                    if role == "saved"
                    else inner.resolve_load_version()
                )
            except VersionNotFoundError:  # an optional input never saved: nothing to hash
                return {**record, "location": None, "files": []}
            record["version"] = version
            target = inner._get_versioned_path(version)
            record["version_folder"] = portable(
                get_filepath_str(target.parent, protocol), protocol, project_path
            )
        location = get_filepath_str(target, protocol)
        paths = _files_under(fs, location)
    else:
        return None
    record["location"] = portable(str(location), protocol, project_path)
    record["files"] = []
    for path in paths:
        size, sha256 = file_digest(fs, path)
        record["files"].append(
            {"path": portable(path, protocol, project_path), "size": size, "sha256": sha256}
        )
    return record


def git_state(project_path: Path) -> dict[str, Any]:
    """The checkout's commit and whether tracked files differ from it (``None`` outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(project_path), *args],
                capture_output=True, text=True, timeout=30, check=True,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def environment(project_path: Path) -> dict[str, Any]:
    """Lock file hash, Python and key package versions."""
    lock = project_path / LOCK_FILE
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "dependency_lock": {
            "file": LOCK_FILE,
            "sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else None,
        },
        "python": platform.python_version(),
        "packages": versions,
    }


@dataclass(frozen=True)
class Finding:
    """One discrepancy between a manifest and the files: what, where, and which dataset."""

    status: str  # missing | changed | truncated | extra
    path: str
    dataset: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status.upper():<9} {self.path}  ({self.dataset}: {self.detail})"


def verify_manifest(manifest: dict[str, Any], project_path: Path) -> tuple[list[Finding], int]:
    """Compare every file ``manifest`` lists with the file now; return findings and the
    number of files checked. Version folders are also searched for files it does not list."""
    findings: list[Finding] = []
    checked = 0
    for name, record in sorted(manifest.get("datasets", {}).items()):
        listed = set()
        for entry in record.get("files", []):
            checked += 1
            url = located(entry["path"], project_path)
            fs, path = fsspec.core.url_to_fs(url)
            listed.add(fs._strip_protocol(path))
            if not fs.exists(path):
                findings.append(Finding("missing", entry["path"], name, "file is gone"))
                continue
            size, sha256 = file_digest(fs, path)
            if size < entry["size"]:
                detail = f"{size} of {entry['size']} bytes"
                findings.append(Finding("truncated", entry["path"], name, detail))
            elif sha256 != entry["sha256"]:
                detail = f"sha256 {sha256[:12]}... expected {entry['sha256'][:12]}..."
                findings.append(Finding("changed", entry["path"], name, detail))
        folder = record.get("version_folder")
        if folder:
            fs, path = fsspec.core.url_to_fs(located(folder, project_path))
            for extra in _files_under(fs, path):
                if fs._strip_protocol(extra) not in listed:
                    shown = portable(extra, _protocol(fs), project_path)
                    findings.append(Finding("extra", shown, name, "not written by this run"))
    return findings, checked


def _protocol(fs: Any) -> str:
    protocol = fs.protocol
    return protocol[0] if isinstance(protocol, tuple | list) else protocol


def expected_digests(manifests: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """``path -> (sha256, run id)`` for every file the given manifests say a run saved."""
    expected: dict[str, tuple[str, str]] = {}
    for manifest in manifests:
        run = manifest.get("kedro_session_id", "?")
        for record in manifest.get("datasets", {}).values():
            if "saved" in record.get("roles", []):
                for entry in record.get("files", []):
                    expected[entry["path"]] = (entry["sha256"], run)
    return expected
