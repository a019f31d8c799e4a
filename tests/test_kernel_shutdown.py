"""The end of a papermill job prints no kernel ERROR (``creditmodel.jobs.kernel_manager_class``).

papermill asks the kernel for ``kernel_info`` after the last cell and shuts the kernel down as soon as the
reply arrives; jupyter_client's ``shutdown_kernel`` sends SIGINT first. A SIGINT that lands while ipykernel
is still in the ``kernel_info_request`` handler makes the kernel print ``[IPKernelApp] ERROR |
KeyboardInterrupt caught in kernel.`` under a successful run. In a real job the race is rare (the handler
returns microseconds after the reply); the notebook here keeps the kernel in the handler for a second after
replying, so that the signal always lands there when one is sent. The first test shows that the notebook
exposes the line with jupyter_client's own manager, the second that the job runner's manager sends no
signal. Each of the two starts one kernel (~5 s).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("papermill")

LINE = "KeyboardInterrupt caught in kernel"

SLOW_KERNEL_INFO = """\
import time
_kernel = get_ipython().kernel
_kernel_info = _kernel.shell_handlers["kernel_info_request"]

async def _slow_kernel_info(stream, ident, parent):
    await _kernel_info(stream, ident, parent)  # the reply is sent: papermill now shuts the kernel down
    time.sleep(1.0)  # still in the handler, where ipykernel turns SIGINT into KeyboardInterrupt

_kernel.shell_handlers["kernel_info_request"] = _slow_kernel_info
print("ok")
"""


def _run(tmp_path: Path, manager: str) -> str:
    """Run the notebook through papermill in a child process; its output and the kernel's log."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SLOW_KERNEL_INFO)]
    src, out = tmp_path / "slow_kernel_info.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    kw = "kernel_manager_class=jobs.kernel_manager_class()" if manager == "jobs" else ""
    code = ("import papermill as pm\nfrom creditmodel import jobs\n"
            f"pm.execute_notebook({str(src)!r}, {str(out)!r}, kernel_name='python3', progress_bar=False,"
            f" {kw})\n")
    # the kernel logs to the stderr it inherits: a child process lets the test read all of it
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "ok" in "".join(nbformat.read(out, as_version=4).cells[0].outputs[0].text)
    return res.stdout + res.stderr


@pytest.mark.slow
def test_default_manager_interrupts_the_kernel_at_shutdown(tmp_path: Path) -> None:
    """The control: jupyter_client's manager interrupts at shutdown, and this notebook makes that visible."""
    assert LINE in _run(tmp_path, "default")


@pytest.mark.slow
def test_job_kernel_manager_shuts_down_without_interrupt(tmp_path: Path) -> None:
    text = _run(tmp_path, "jobs")
    assert LINE not in text
    assert "[IPKernelApp] ERROR" not in text
    # CurveZMQ keys from the manager when the kernel spec declares support (`ipykernel install` in
    # scripts/setup.sh writes it): ipykernel >= 7.4 then does not warn about TCP without encryption
    import zmq
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    if zmq.has("curve") and "curve" in (spec.metadata.get("supported_encryption") or []):
        assert "without encryption" not in text


def test_kernel_manager_class_keeps_timeout_interrupts() -> None:
    """Only the interrupt of a shutdown is skipped: nbclient's timeout interrupt (``interrupt_kernel``) is
    jupyter_client's own, and the base class keeps its defaults."""
    from jupyter_client.manager import AsyncKernelManager

    from creditmodel import jobs

    cls = jobs.kernel_manager_class()
    assert issubclass(cls, AsyncKernelManager)
    assert cls is jobs.kernel_manager_class()
    assert cls.interrupt_kernel is AsyncKernelManager.interrupt_kernel
    assert cls(kernel_name="python3").transport_encryption in ("auto", "disabled")
    assert AsyncKernelManager(kernel_name="python3").transport_encryption == "disabled"
