"""A recorded history replayed into the sequence of states it describes.

Every write the apiserver makes is one etcd revision, and a resourceVersion
is that revision, so sorting the events of every recorded resource by
resourceVersion (then by arrival, for a LIST and an event of one revision)
gives the order in which etcd changed, whichever watch delivered what
when. ``replay`` applies them one at a time to a ``World`` (objects by
resource and uid) and yields it after each one.

A resource's state is known from its first LIST on; a RELIST replaces it
(objects missing from the list are gone, with no DELETED event seen) and
opens a gap: what happened to that resource between its previous event and
the list's resourceVersion is unknown. ``World.listed_at`` says where each
resource's unbroken stretch began, so a check over a window can tell
whether the window crossed a gap.

The ``World`` yielded is the same object each time, changed in place: a
check reads it at once and keeps no reference to its contents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pinnace.machinery.objects import object_meta
from tests.chaos.history import History, Recorded

__all__ = ["World", "ordered", "replay"]


@dataclass
class World:
    """The objects of every recorded resource at one revision."""

    rv: int = 0
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource → uid → object
    listed_at: dict[str, int] = field(default_factory=dict)  # resource → rv of its latest (re)list

    def of(self, resource: str) -> dict[str, Any]:
        return self.objects.setdefault(resource, {})

    def known(self, resource: str) -> bool:
        return resource in self.listed_at

    def apply(self, ev: Recorded) -> None:
        self.rv = max(self.rv, ev.rv)
        objects = self.of(ev.resource)
        if ev.is_list:
            objects.clear()
            for obj in ev.objects:
                objects[object_meta(obj).uid] = obj
            self.listed_at[ev.resource] = ev.rv
        elif ev.type == "DELETED":
            objects.pop(object_meta(ev.obj).uid, None)
        else:
            objects[object_meta(ev.obj).uid] = ev.obj


def ordered(history: History) -> list[Recorded]:
    """Every event in the order etcd made the changes (resourceVersion,
    then arrival)."""
    return sorted(history.events, key=lambda e: (e.rv, e.seq))


def replay(history: History) -> Iterator[tuple[Recorded, World]]:
    """Each event with the world right after it."""
    world = World()
    for ev in ordered(history):
        world.apply(ev)
        yield ev, world
