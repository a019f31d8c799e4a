"""The project's Jupyter kernel: ipykernel's, which stops joblib's worker processes before it exits.

Why. On a shutdown request ipykernel signals every child process in its process group (SIGTERM, then
SIGKILL, with waits of 0.01, 0.03, 0.1, 0.3, 1, 3 and 10 s in between) and only exits once none is left.
joblib's worker pool (loky) leaves two resource-tracker processes behind, and a resource tracker ignores
SIGTERM by design: it exits when the process that started it closes its pipe. So a kernel that ran a
fit with ``n_jobs != 1`` sat in that loop until jupyter_client sent it SIGTERM itself, 2.5 s after the
request (half of ``shutdown_wait_time``): every papermill job and every JupyterLab shutdown or restart of
such a kernel took 2.6 s; with this class it takes what the same kernel takes without parallel work
(0.5-1.6 s against 0.3-1.4 s, depending on what it imported; 2026-12-02, ``bench/_work`` scratch probe).
``tests/test_kernel_shutdown.py`` checks how the kernel ends (by itself, not by SIGTERM), not how long it takes.

What. :class:`NotebookKernel` first shuts joblib's reusable executor down (workers stopped, its temporary
memory-mapped files removed) and closes its pipes to the resource trackers, which then exit at once; the
rest of ipykernel's shutdown is unchanged. The kernel spec that ``scripts/setup.sh`` registers selects it
with ``--IPKernelApp.kernel_class=creditmodel.kernel.NotebookKernel`` (``python -m creditmodel.kernel
KERNEL_JSON`` adds that argument to a spec written by ``ipykernel install``).

The executor and the trackers are reached through joblib's and multiprocessing's module-level singletons
(``_executor``, ``_resource_tracker._stop()``), which are not public API: should a later version rename
them, :func:`stop_worker_processes` logs that and the kernel falls back to ipykernel's slow path.
"""
from __future__ import annotations

import gc
import inspect
import sys

import json
from pathlib import Path

from ipykernel.ipkernel import IPythonKernel

KERNEL_CLASS_ARGUMENT = "--IPKernelApp.kernel_class=creditmodel.kernel.NotebookKernel"
_TRACKERS = ("joblib.externals.loky.backend.resource_tracker", "multiprocessing.resource_tracker")


def stop_worker_processes() -> list[str]:
    """Stop joblib's reusable executor and the resource trackers this process started; return what was stopped.

    Only modules that are already imported are touched, so a kernel that never ran parallel work does nothing.
    Running tasks are not waited for: the workers are killed (the kernel is going away)."""
    stopped: list[str] = []
    rex = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(rex, "_executor", None)
    if executor is not None:
        if hasattr(executor, "terminate"):  # joblib's executor: also deletes its memory-mapped temporary folder
            executor.terminate(kill_workers=True)
        else:
            executor.shutdown(wait=True, kill_workers=True)
        rex._executor = executor = None
        stopped.append("joblib workers")
    gc.collect()  # finalise the executor's queues and locks now: their semaphores unregister from the trackers
    for name in _TRACKERS:
        tracker = getattr(sys.modules.get(name), "_resource_tracker", None)
        if tracker is not None and getattr(tracker, "_pid", None) is not None:
            tracker._stop()  # closes the pipe and waits for the tracker, which unlinks what is still registered
            stopped.append(name.split(".")[0] + " resource tracker")
    return stopped


class NotebookKernel(IPythonKernel):
    """ipykernel's IPython kernel; on shutdown or restart it stops joblib's worker processes first."""

    async def do_shutdown(self, restart: bool) -> dict:
        try:
            stopped = stop_worker_processes()
            if stopped:
                self.log.debug("stopped before shutdown: %s", ", ".join(stopped))
        except Exception:  # never block a shutdown: ipykernel's own child handling still follows
            self.log.warning("could not stop joblib's worker processes; the kernel exits more slowly",
                             exc_info=True)
        content = super().do_shutdown(restart)
        return await content if inspect.isawaitable(content) else content


def select_in_spec(kernel_json: str | Path) -> None:
    """Add :data:`KERNEL_CLASS_ARGUMENT` to the ``argv`` of a kernel spec file (once)."""
    path = Path(kernel_json)
    spec = json.loads(path.read_text(encoding="utf-8"))
    argv = [a for a in spec["argv"] if not a.startswith("--IPKernelApp.kernel_class=")]
    spec["argv"] = [*argv, KERNEL_CLASS_ARGUMENT]
    path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python -m creditmodel.kernel KERNEL_JSON
    select_in_spec(sys.argv[1])
