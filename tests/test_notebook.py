"""examples/quickstart.ipynb and interrupts, run in a real Jupyter kernel (nbclient + ipykernel)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import EXAMPLES, samples_in_live_log

from evalkit.log import iter_sample_lines, read_eval_log_header

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.anyio

BLOCKING_TASK = """
import anyio
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes
from evalkit.solver import solver


@solver
def first_two_only():
    async def solve(state, generate):
        if state.sample_id >= 2:
            await anyio.sleep_forever()  # until the interrupt cancels it
        return await generate(state)
    return solve


@task
def stuck():
    return Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(10)],
                solver=first_two_only(), scorer=includes())
"""


def _client(nb: Any, cwd: Path) -> Any:
    return nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                                   resources={"metadata": {"path": str(cwd)}})


def _texts(cell: Any, output_type: str = "stream") -> str:
    """Everything a code cell printed (streams) or displayed (text/plain), joined."""
    parts = []
    for output in cell.outputs:
        if output.output_type != output_type:
            continue
        parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _code_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


async def test_quickstart_notebook_runs(tmp_path: Path, log_dir: Path) -> None:
    """The quickstart runs top to bottom: an error run, then a retry that succeeds."""
    shutil.copy(EXAMPLES / "quickstart.ipynb", tmp_path)
    nb = nbformat.read(tmp_path / "quickstart.ipynb", as_version=4)
    await _client(nb, tmp_path).async_execute()
    cells = _code_cells(nb)
    everything = "".join(_texts(cell) + _texts(cell, "display_data") + _texts(cell, "error")
                         for cell in cells)
    assert "ipywidgets" not in everything  # rich's widget path is not used
    assert "hello: success 2 of 2" in everything
    assert "awaited: success" in everything
    assert "first run: error completed 4 errored 2" in everything
    assert "retry: success completed 6 errored 0" in everything
    assert "retry of the first run: True" in everything
    failing_cell = next(cell for cell in cells if "first run:" in _texts(cell))
    progress = _texts(failing_cell, "display_data")
    assert "greetings (mockllm/model)" in progress
    assert "6/6" in progress
    assert "resume with: eval_retry('" in _texts(failing_cell)
    assert "error: 2 of 6 samples failed" in _texts(failing_cell)
    assert _statuses(log_dir) == ["error", "success", "success", "success"]
    assert not (EXAMPLES / "logs").exists()


async def _run_interrupted(tmp_path: Path, log_dir: Path, code: str) -> Any:
    """Run ``code`` in a kernel, interrupt it once two samples are on disk, then probe."""
    (tmp_path / "stuck_task.py").write_text(BLOCKING_TASK)
    probe = ("print('kernel alive', logs[0].status, logs[0].results.completed_samples, "
             "logs[0].results.cancelled_samples)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code),
                                         nbformat.v4.new_code_cell(probe)])
    client = _client(nb, tmp_path)
    async with client.async_setup_kernel():
        async with anyio.create_task_group() as group:
            group.start_soon(client.async_execute_cell, nb.cells[0], 0)
            await _two_samples_written(log_dir)
            await client.km.interrupt_kernel()
        await client.async_execute_cell(nb.cells[1], 1)
    return nb


async def _two_samples_written(log_dir: Path) -> None:
    with anyio.fail_after(30):
        # another process writes the file: nothing to wait on but the file itself
        while samples_in_live_log(log_dir) < 2:  # noqa: ASYNC110  # see above
            await anyio.sleep(0.05)


def _statuses(log_dir: Path) -> list[str]:
    return sorted(read_eval_log_header(path).status for path in log_dir.glob("*.jsonl.zst"))


@pytest.mark.slow
async def test_kernel_interrupt_during_eval(tmp_path: Path, log_dir: Path) -> None:
    """Interrupting the kernel during eval() cancels like Ctrl-C and the kernel stays usable."""
    nb = await _run_interrupted(
        tmp_path, log_dir,
        "from evalkit import eval\nlogs = eval('stuck_task.py', model='mockllm/model', "
        "max_samples=2, display='plain')")
    run, probe = nb.cells
    assert "interrupted: stopping" in _texts(run)
    assert "resume with: eval_retry('" in _texts(run)
    assert _texts(probe) == "kernel alive cancelled 2 2\n"
    assert _statuses(log_dir) == ["cancelled"]


@pytest.mark.slow
async def test_kernel_interrupt_during_awaited_eval_async(tmp_path: Path, log_dir: Path) -> None:
    """Interrupting an awaited eval_async() in a cell also finishes the log as cancelled."""
    nb = await _run_interrupted(
        tmp_path, log_dir,
        "from evalkit import eval_async\nlogs = await eval_async('stuck_task.py', "
        "model='mockllm/model', max_samples=2, display='plain')")
    _, probe = nb.cells
    assert _texts(probe) == "kernel alive cancelled 2 2\n"
    assert _statuses(log_dir) == ["cancelled"]


STUBBORN_TASK = """
from pathlib import Path

import anyio
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes
from evalkit.solver import solver


@solver
def slow_to_stop():
    async def solve(state, generate):
        if state.sample_id >= 2:
            try:
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                Path("first-interrupt-seen").touch()
                with anyio.CancelScope(shield=True):  # takes a while to stop
                    await anyio.sleep(3)
                raise
        return await generate(state)
    return solve


@task
def stubborn():
    return Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(10)],
                solver=slow_to_stop(), scorer=includes())
"""


@pytest.mark.slow
async def test_second_kernel_interrupt_stops_the_cell_not_the_kernel(
    tmp_path: Path, log_dir: Path
) -> None:
    """A second interrupt of an awaited eval_async ends the cell with EvalInterrupted;
    the kernel lives and the log still reads with the samples finished before."""
    (tmp_path / "stubborn_task.py").write_text(STUBBORN_TASK)
    code = ("from evalkit import eval_async\nlogs = await eval_async('stubborn_task.py', "
            "model='mockllm/model', max_samples=2, display='plain')")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code),
                                         nbformat.v4.new_code_cell("print('kernel alive')")])
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    marker = tmp_path / "first-interrupt-seen"
    async with client.async_setup_kernel():
        async with anyio.create_task_group() as group:
            group.start_soon(client.async_execute_cell, nb.cells[0], 0)
            await _two_samples_written(log_dir)
            await client.km.interrupt_kernel()
            with anyio.fail_after(30):
                # the kernel is another process: the marker file is the only signal
                while not marker.exists():  # noqa: ASYNC110  # see above
                    await anyio.sleep(0.05)
            await client.km.interrupt_kernel()
        await client.async_execute_cell(nb.cells[1], 1)
    run, probe = nb.cells
    assert [o.get("ename") for o in run.outputs if o.output_type == "error"] == [
        "EvalInterrupted"]
    assert "interrupted again: stopping now" in _texts(run)
    assert _texts(probe) == "kernel alive\n"
    [path] = list(log_dir.glob("*.jsonl.zst"))  # noqa: ASYNC240  # the run is over; nothing waits
    assert sum(1 for _ in iter_sample_lines(path)) >= 2
    assert read_eval_log_header(path).status in ("started", "cancelled")
