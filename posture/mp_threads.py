"""How many threads a MediaPipe legacy solution's graph runs its calculators on.

The bundled graphs declare a default executor without options, so MediaPipe gives it one thread per
hardware core. Each `process()` call is one frame through the graph, and its calculators then hop
between those threads, waking each other up: on a quiet machine with free cores a frame costs about
75 % more CPU time than on one thread (benchmarks/bench_watched_break.py measured 26 % of a core for
pose at 6 frames a second on 2 cores, 15 % with one thread; the wall time per frame did not get worse,
since nothing in one frame runs in parallel for long). Under load the hopping is throttled, which is
why a busy machine showed the lower figure.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=type)


def with_graph_threads(solution: T, threads: int) -> T:
    """A subclass of the MediaPipe solution class `solution` whose graph's default executor has `threads`
    threads."""
    from mediapipe.framework import thread_pool_executor_pb2 as tpe

    class Sized(solution):  # type: ignore[misc,valid-type]
        def _initialize_graph_interface(self, *args: object, **kwargs: object) -> object:
            proto = super()._initialize_graph_interface(*args, **kwargs)
            defaults = [e for e in proto.executor if e.name == ""]
            if not defaults:
                # No executor declared: the graph-level field sets the default one.
                proto.num_threads = threads
            for executor in defaults:
                executor.type = "ThreadPoolExecutor"
                executor.options.Extensions[tpe.ThreadPoolExecutorOptions.ext].num_threads = threads
            return proto

    Sized.__name__ = f"{solution.__name__}With{threads}Threads"
    return Sized  # type: ignore[return-value]
