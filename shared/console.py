"""What only command-line entry points do: quiet TensorFlow's native start-up noise.

TensorFlow's C++ runtime writes straight to file descriptor 2, past Python's logging: oneDNN and
CPU-feature notes, "could not find cuda drivers", a ``failed call to cuInit`` error on every CPU-only
machine, ``NodeDef mentions attribute use_unbounded_threadpool`` from tf.data. Between an
application's own log lines they read like failures. Entry points (never the library, never tests)
call :func:`quiet_native_logs`, which

- sets ``TF_CPP_MIN_LOG_LEVEL=1`` (drops the native INFO notes, keeps warnings and errors), and
- passes file descriptor 2 through a filter that drops only the known harmless lines below, so a real
  warning, error or Python traceback still reaches the terminal.

Nothing is quieted when the user asked for it: ``TF_CPP_MIN_LOG_LEVEL`` already set, ``--log-level
DEBUG`` on the command line, or ``DEEPCASES_NATIVE_LOGS=1``.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence

#: native lines that are not problems on a CPU machine (matched anywhere in the line)
NATIVE_NOISE = re.compile(
    rb"failed call to cuInit|Could not find cuda drivers|cudart_stub|oneDNN custom operations are on"
    rb"|This TensorFlow binary is optimized|To enable the following instructions"
    rb"|All log messages before absl::InitializeLog\(\) is called|NodeDef mentions attribute use_unbounded_threadpool"
    rb"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    rb"|TF-TRT Warning|Could not find TensorRT")

_installed: list[tuple[int, threading.Thread]] = []


def wants_native_logs(argv: Sequence[str]) -> bool:
    """True when the user asked to see TensorFlow's native messages (see the module docstring)."""
    args = list(argv)
    debug = any(a == "--log-level=DEBUG" or (a == "--log-level" and i + 1 < len(args) and args[i + 1] == "DEBUG")
                for i, a in enumerate(args))
    return debug or "TF_CPP_MIN_LOG_LEVEL" in os.environ or os.environ.get("DEEPCASES_NATIVE_LOGS") == "1"


def quiet_native_logs(argv: Sequence[str] = ()) -> bool:
    """Install the filter on file descriptor 2 (once per process); returns whether it is active."""
    if _installed:
        return True
    if wants_native_logs(argv):
        return False
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "1"
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except OSError:  # no usable descriptor 2 (e.g. a closed stream): nothing to filter
        return False

    def pump() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as source:
            pending = b""
            while chunk := source.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                kept = b"".join(line + b"\n" for line in lines if not NATIVE_NOISE.search(line))
                if kept:
                    os.write(terminal, kept)
            if pending and not NATIVE_NOISE.search(pending):
                os.write(terminal, pending)

    thread = threading.Thread(target=pump, name="native-log-filter", daemon=True)
    thread.start()
    _installed.append((terminal, thread))
    atexit.register(_restore)
    return True


def _restore() -> None:
    """At exit: flush Python's stderr through the filter, close the pipe and let the pump finish."""
    while _installed:
        terminal, thread = _installed.pop()
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(terminal, 2)  # closes the pipe's last write end held by this process: the pump sees EOF
        thread.join(timeout=2.0)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: cli_main marks the run interrupted and ``deepcases reproduce`` stops
    (rather than counting one failed application and going on to the next)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated(f"stopped by signal {signum}")


def console_entry(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """``raise SystemExit(console_entry(main))`` in a ``__main__`` block: quiet the noise, turn SIGTERM
    into a clean exit (the run is marked interrupted; rerun the same command to resume), then run."""
    import signal

    quiet_native_logs(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _terminated)
    return int(main(argv) or 0)
