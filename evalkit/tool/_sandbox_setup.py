"""Preparing a sample's sandbox: copy ``Sample.files`` in, then run ``Sample.setup``."""

from __future__ import annotations

import base64
import binascii
import urllib.parse

import anyio

from ._sandbox import SandboxEnvironment

# How much of a failed setup script's output the error quotes (characters, from the end).
_SETUP_OUTPUT_TAIL = 2000


class SandboxSetupError(Exception):
    """A sample's ``setup`` script failed: the sample errors before its solver runs."""


async def setup_sandbox(
    box: SandboxEnvironment, files: dict[str, str] | None, setup: str | None
) -> None:
    """Write each of ``files`` into ``box``, then run ``setup`` with bash.

    A file's value is a host file path (copied), a ``data:`` URL (decoded), or
    else the text itself. A setup script that exits non-zero or times out
    raises SandboxSetupError with the end of its output.
    """
    for destination, source in (files or {}).items():
        await box.write_file(destination, await _contents(source))
    if setup:
        result = await box.exec(["bash", "-c", "exec 2>&1\n" + setup])
        if not result.success:
            output = result.output[-_SETUP_OUTPUT_TAIL:]
            raise SandboxSetupError(
                f"the sample's setup script exited with code {result.returncode}"
                + (f"; its output ends:\n{output}" if output else " and printed nothing")
            )


async def _contents(source: str) -> str | bytes:
    if source.startswith("data:"):
        return _data_url(source)
    # A long text, or one with a newline, is never a path (and stat would refuse it).
    if "\n" not in source and len(source) < 4096 and await anyio.Path(source).is_file():
        return await anyio.Path(source).read_bytes()
    return source


def _data_url(url: str) -> bytes:
    """The bytes of ``data:[<type>][;base64],<data>``."""
    header, comma, data = url[len("data:"):].partition(",")
    if not comma:
        raise ValueError(f"a sample file's data: URL has no ',' before its data: {url[:60]!r}")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"a sample file's data: URL is not valid base64: {exc}") from exc
    return urllib.parse.unquote_to_bytes(data)

