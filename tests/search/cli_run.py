"""Running `oncosearch` in-process for the CLI tests (typer's CliRunner), with the checks every
such test wants: the exit code asked for, no exception escaped, no traceback printed."""

from __future__ import annotations

from typer.testing import CliRunner, Result

from search.cli import app


def run(*args, code: int = 0, env: dict | None = None) -> Result:
    """`oncosearch ARGS` in this process; asserts the exit code and that no exception escaped."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(result.exception))
        raise AssertionError(f"oncosearch {' '.join(map(str, args))} raised:\n{tb}\nstderr: {result.stderr}")
    assert result.exit_code == code, (
        f"oncosearch {' '.join(map(str, args))}: exit {result.exit_code}, expected {code}\n"
        f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}")
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
    return result


def error_line(result: Result) -> str:
    """The one line a failing command printed on stderr (an error is one line, never a traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oncosearch: error: "), result.stderr
    return lines[0]
