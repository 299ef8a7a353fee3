"""
`GCPauses`: a histogram of the pauses of Python's garbage collector, timed
through :data:`gc.callbacks`.

A full collection stops everything for as long as it takes to look at
every tracked object: with many connections that is tens of
milliseconds, which shows up as delivery latency.
"""

import gc
from typing import Any, Callable, Dict

from prometheus_client import CollectorRegistry, Histogram

__all__ = ["GCPauses", "GC_BUCKETS"]

#: Buckets, in seconds: young collections take microseconds, full ones
#: of a large heap tens of milliseconds.
GC_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class GCPauses:
    """
    Times each collection between :meth:`start` and :meth:`stop`, by
    generation, into ``snorky_gc_pause_seconds``.

    :param registry: where the histogram is registered.
    :param clock: the time source (``time.perf_counter``).
    """

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], float]) -> None:
        self.histogram = Histogram(
            "snorky_gc_pause_seconds",
            "Pauses of the garbage collector, by generation collected.",
            ["generation"], buckets=GC_BUCKETS, registry=registry,
        )
        self._children = {g: self.histogram.labels(str(g)) for g in range(3)}
        self._clock = clock
        self._started = 0.0

    def start(self) -> None:
        """
        Start timing collections.
        """
        if self.callback not in gc.callbacks:
            gc.callbacks.append(self.callback)

    def stop(self) -> None:
        """
        Stop timing collections.
        """
        while self.callback in gc.callbacks:
            gc.callbacks.remove(self.callback)

    def callback(self, phase: str, info: Dict[str, Any]) -> None:
        """
        What :data:`gc.callbacks` calls at the start and the end of each
        collection.
        """
        if phase == "start":
            self._started = self._clock()
        else:
            child = self._children.get(info.get("generation", 2))
            if child is not None:
                child.observe(self._clock() - self._started)
