"""The garbage collector: Background, Foreground and Orphan cascading
deletion over an ownership graph of every served kind (see controller.py)."""

from controllers.garbagecollector.controller import GarbageCollector

__all__ = ["GarbageCollector"]
