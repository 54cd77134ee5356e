"""What a printer is: its column definitions and the function that fills a
row, plus the cell formats every printer shares (Kubernetes'
pkg/printers/internalversion helpers: HumanDuration ages, container and
image lists, label and selector strings, access modes, quantities).

Guarantees:

* A row always holds every column's cell, ``-o wide`` ones included: the
  apiserver builds Tables with ``Wide: true`` and kubectl hides the
  priority-1 columns itself.
* Cells are what Kubernetes puts in them: ``str`` or ``int`` (Go's int64),
  never None. An age is a HumanDuration string ("45s", "3m20s", "4h30m",
  "3d4h", "2y10d"), "<unknown>" for a zero time, "<invalid>" for a time
  more than a second in the future.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from pinnace.api.core.v1 import container_pb2
from pinnace.api.meta.v1 import meta_pb2
from pinnace.machinery.labels import SelectorError, format_labels, selector_from_label_selector
from pinnace.machinery.objects import object_meta
from pinnace.machinery.printers.descriptions import DOCS
from pinnace.machinery.quantity import QuantityError, format_quantity, parse_quantity
from pinnace.machinery.timeutil import parse_rfc3339

__all__ = [
    "AGE",
    "CONTAINERS",
    "IMAGES",
    "NAME",
    "Cell",
    "ColumnDefinition",
    "Printer",
    "access_modes",
    "age",
    "column",
    "containers_and_images",
    "format_label_selector",
    "format_labels",
    "human_duration",
    "parse_time",
    "quantity",
    "since",
]

# A Table cell as Kubernetes fills it: a string or a Go int64.
Cell = str | int


@dataclass(frozen=True, slots=True)
class ColumnDefinition:
    """meta.k8s.io/v1 TableColumnDefinition; priority 0 = default, 1 = -o wide."""

    name: str
    type: str
    format: str = ""
    description: str = ""
    priority: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (every field, none omitted: Kubernetes' json tags)."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Printer:
    """One kind's columns and how to fill a row of them for one object.

    ``cells(obj, now)`` returns one cell per column; ``conditions(obj)`` the
    row's TableRowConditions (only pods have any).
    """

    columns: tuple[ColumnDefinition, ...]
    cells: Callable[[Any, datetime], list[Cell]]
    conditions: Callable[[Any], list[dict[str, str]]] | None = None


def column(
    name: str, type: str = "string", doc: str = "", *, priority: int = 0, format: str = ""
) -> ColumnDefinition:
    """A column whose description is the API field documentation ``doc``
    names ("PodSpec.nodeName"), or ``doc`` itself when it is not a key."""
    return ColumnDefinition(name, type, format, DOCS.get(doc, doc), priority)


NAME = column("Name", doc="ObjectMeta.name", format="name")
AGE = column("Age", doc="ObjectMeta.creationTimestamp")
# The -o wide pair of every kind with a pod template.
CONTAINERS = column("Containers", doc="Names of each container in the template.", priority=1)
IMAGES = column("Images", doc="Images referenced by each container in the template.", priority=1)


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration: about 2-3 significant figures.

    Worked examples: 119 → "119s", 125 → "2m5s", 600 → "10m", 3h1m → "3h1m",
    10h → "10h", 76h → "3d4h", 30 days → "30d", 800 days → "2y70d".
    """
    whole = math.trunc(seconds)  # Go's int(d.Seconds()) truncates toward zero
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{days // 365}y{rest}d" if rest else f"{days // 365}y"
    return f"{days // 365}y"


def parse_time(timestamp: str) -> datetime | None:
    """An RFC 3339 time, or None for the zero time (empty or unreadable)."""
    if not timestamp:
        return None
    try:
        return parse_rfc3339(timestamp)
    except ValueError:
        return None


def since(timestamp: str, now: datetime) -> str:
    """translateTimestampSince: the HumanDuration from ``timestamp`` to now,
    "<unknown>" for a zero time."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    return human_duration((now - when).total_seconds())


def age(obj: Message, now: datetime) -> str:
    """The AGE cell: how long ago the object was created."""
    return since(object_meta(obj).creation_timestamp, now)


def containers_and_images(containers: Iterable[container_pb2.Container]) -> tuple[str, str]:
    """layoutContainerCells: container names and images, comma-joined."""
    listed = list(containers)
    return ",".join(c.name for c in listed), ",".join(c.image for c in listed)


def format_label_selector(selector: meta_pb2.LabelSelector | None) -> str:
    """metav1.FormatLabelSelector: the selector's text, "<none>" when it
    selects everything or nothing, "<error>" when it is malformed."""
    try:
        text = str(selector_from_label_selector(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: Iterable[str]) -> str:
    """GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once;
    unknown modes left out."""
    present = set(modes)
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


_EXPONENT = re.compile(r"[eE][+-]?[0-9]+$")


def quantity(resources: Mapping[str, str], name: str) -> str:
    """A resource list's quantity as Quantity.String() prints it ("0" when
    absent); an unparsable text is shown as it is."""
    text = resources.get(name, "")
    if not text:
        return "0"
    try:
        value = parse_quantity(text)
    except QuantityError:
        return text
    if text.endswith("i"):
        return format_quantity(value, "BinarySI")
    if _EXPONENT.search(text):
        return format_quantity(value, "DecimalExponent")
    return format_quantity(value, "DecimalSI")
