"""The one error a loader raises: a record that cannot be turned into RDF, with where and why."""

from __future__ import annotations


class RecordError(Exception):
    """A bad record: names the file, the line when known, and what to fix."""

    def __init__(self, file: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        where = file if line is None else f"{file}:{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        """Picklable with its fields (loaders run in worker processes when a load is parallel)."""
        return (RecordError, (self.file, self.message, self.line, self.column))
