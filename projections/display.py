"""User-typed text made safe to show: in a terminal, an Excel sheet or a CSV file.

Descriptions, names and reasons come from grid workers, citizens (Open311) and owners, and
the event log keeps them as they were typed, for ever. The edge now refuses control
characters in new text (``api.schemas.common``), but events recorded before that, or typed
through another door, still hold them, and every report must still render. So each output
neutralises what would otherwise act instead of being read:

- a terminal: an ESC starts a control sequence (clear the screen, rewrite a line, set the
  window title), a CR overwrites the line it ends. Shown as a visible symbol (␛, ␍); a
  CR before a line feed is a line break sent by a web form and shown as one. A tab in a
  table cell becomes the spaces to the next tab stop.
- XLSX: XML 1.0 cannot hold most control characters; openpyxl refuses the cell and the
  whole export fails. Shown as the same symbols.
- a cell beginning with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel (CSV formula
  injection: ``=HYPERLINK(...)`` in a citizen's report becomes a live link in the street
  office's ledger). XLSX cells are written as text, so nothing changes there; CSV has no
  types, so such a cell gets the conventional leading apostrophe, which Excel hides.
"""

from __future__ import annotations

from rich.cells import cell_len

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
    """``value`` with every control character replaced by a symbol that shows it.

    A CR before a line feed is part of the line break, not a control: a browser's form
    sends every line break of a textarea as CRLF (Open311 intake, web clients), and the log
    keeps it so. Shown as ␍ it would end every line of such a description.
    """
    if "\r\n" in value:
        value = value.replace("\r\n", "\n")
    return value.translate(_VISIBLE)


def on_terminal(value: str) -> str:
    """``visible(value)`` with each tab as the spaces to the next tab stop (every 8 columns,
    a CJK character two of them), as a terminal shows it.

    A table cell cannot hold a tab as one: rich measured a tab as no width and then
    expanded it, so "住\t所" came out as "住 …" over two lines, and the whole report took
    rich's slow layout.
    """
    value = visible(value)
    if "\t" not in value:
        return value
    return "\n".join(map(_expand_tabs, value.split("\n")))


def _expand_tabs(line: str, stop: int = 8) -> str:
    out: list[str] = []
    column = 0
    for number, part in enumerate(line.split("\t")):
        if number:
            pad = stop - column % stop
            out.append(" " * pad)
            column += pad
        out.append(part)
        column += cell_len(part)
    return "".join(out)


def not_a_formula(value: str) -> str:
    """``value`` for a CSV cell: with a leading apostrophe if Excel would run it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
