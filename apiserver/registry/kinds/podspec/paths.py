"""Path rules shared by volume items and volume mounts (Kubernetes' validatePathNoBacksteps,
validateLocalDescendingPath)."""

from __future__ import annotations

import posixpath

from pinnace.machinery.validation import (
    FieldError,
    FieldPath,
    invalid,
)


def no_backsteps(target: str, path: FieldPath) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def local_descending_path(target: str, path: FieldPath) -> list[FieldError]:
    errs: list[FieldError] = []
    if posixpath.isabs(target):
        errs.append(invalid(path, target, "must be a relative path"))
    errs += no_backsteps(target, path)
    return errs
