"""The project's own error for problems with the user's input or environment.

Loaders and validation raise :class:`UserError` (a ``ValueError``, so code that catches
``ValueError`` keeps working) with a message that names the problem and the fix; the command line
shows it as one line with exit code 2. Any other exception is a bug: it keeps its traceback and
exits with 1. A missing input file raises :class:`InputFileNotFound`, which is also a
``FileNotFoundError``.
"""

from __future__ import annotations


class UserError(ValueError):
    """A problem with the user's input or environment, reported without a traceback by the CLI."""


class InputFileNotFound(UserError, FileNotFoundError):
    """An input path the user named does not exist (also a ``FileNotFoundError``)."""
