"""Where the kubelet keeps things under ``--root-dir`` (the layout is
described in runtime.py's docstring)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["PodPaths", "RootPaths", "inside"]

PRIVATE = ".pinnace"


class PathError(ValueError):
    """A path from a pod spec would leave the pod directory."""


def inside(base: Path, path: str) -> Path:
    """``path`` (absolute or relative, as in a pod spec) taken inside
    ``base``: "/app/x" and "app/x" are both ``base/app/x``; ".." may not
    climb out of ``base``."""
    parts: list[str] = []
    for part in PurePosixPath(path).parts:
        if part in ("/", "", "."):
            continue
        if part == "..":
            if not parts:
                raise PathError(f'"{path}" leaves the pod directory')
            parts.pop()
            continue
        parts.append(part)
    if parts and parts[0] == PRIVATE:
        raise PathError(f'"{path}" is the kubelet\'s private directory')
    return base.joinpath(*parts)


@dataclass(frozen=True)
class PodPaths:
    """The directories of one pod."""

    dir: Path

    @property
    def private(self) -> Path:
        return self.dir / PRIVATE

    @property
    def info_file(self) -> Path:
        return self.private / "pod.json"

    def container_state(self, container: str) -> Path:
        return self.private / "containers" / container

    def attempt_state(self, container: str, attempt: int) -> Path:
        return self.container_state(container) / str(attempt)

    def container_logs(self, container: str) -> Path:
        return self.private / "logs" / container

    def attempt_log(self, container: str, attempt: int) -> Path:
        return self.container_logs(container) / f"{attempt}.log"

    def volume(self, name: str) -> Path:
        return self.private / "volumes" / name

    def attempts(self, container: str) -> list[int]:
        """The attempts started for ``container``, in order."""
        try:
            return sorted(
                int(p.name) for p in self.container_state(container).iterdir() if p.name.isdigit()
            )
        except FileNotFoundError:
            return []

    def write_info(self, namespace: str, name: str, uid: str) -> None:
        self.private.mkdir(parents=True, exist_ok=True)
        self.info_file.write_text(json.dumps({"namespace": namespace, "name": name, "uid": uid}))

    def read_info(self) -> dict[str, str] | None:
        try:
            return json.loads(self.info_file.read_text())
        except (FileNotFoundError, ValueError):
            return None


@dataclass(frozen=True)
class RootPaths:
    root: Path

    @property
    def pods_dir(self) -> Path:
        return self.root / "pods"

    def pod(self, uid: str) -> PodPaths:
        return PodPaths(self.pods_dir / uid)

    def pvc(self, namespace: str, claim: str) -> Path:
        return self.root / "pvc" / namespace / claim

    def known_pod_uids(self) -> list[str]:
        try:
            return sorted(p.name for p in self.pods_dir.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []
