"""User-typed text made safe to show: in a terminal, an Excel sheet or a CSV file.

Descriptions, names and reasons come from grid workers, citizens (Open311) and owners, and
the event log keeps them as they were typed, for ever. The edge now refuses control
characters in new text (``api.schemas.common``), but events recorded before that, or typed
through another door, still hold them, and every report must still render. So each output
neutralises what would otherwise act instead of being read:

- a terminal: an ESC starts a control sequence (clear the screen, rewrite a line, set the
  window title), a CR overwrites the line it ends. Shown as a visible symbol (␛, ␍).
- XLSX: XML 1.0 cannot hold most control characters; openpyxl refuses the cell and the
  whole export fails. Shown as the same symbols.
- a cell beginning with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel (CSV formula
  injection: ``=HYPERLINK(...)`` in a citizen's report becomes a live link in the street
  office's ledger). XLSX cells are written as text, so nothing changes there; CSV has no
  types, so such a cell gets the conventional leading apostrophe, which Excel hides.
"""

from __future__ import annotations

# C0 controls except tab and line feed, DEL: the Unicode "control pictures" (U+2400 block)
# keep them visible and tell which one it was. C1 controls, U+FFFE and U+FFFF (not
# characters in XML) and lone surrogates: the replacement character.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})
_VISIBLE.update({0xFFFE: 0xFFFD, 0xFFFF: 0xFFFD})
_VISIBLE.update({c: 0xFFFD for c in range(0xD800, 0xE000)})

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's list for CSV injection


def visible(value: str) -> str:
    """``value`` with every control character replaced by a symbol that shows it."""
    return value.translate(_VISIBLE)


def not_a_formula(value: str) -> str:
    """``value`` for a CSV cell: with a leading apostrophe if Excel would run it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
