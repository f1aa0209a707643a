"""Pydantic models at the HTTP edge: shapes, lengths, enums and dates, checked before any
command runs (422 when they do not hold). Rules of the process live in ``workflows/``."""
