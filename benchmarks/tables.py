"""A table of already formatted cells, printed as aligned text or as a Markdown table.

The benchmarks print their results in the terminal and the report renders the same tables into
the book's appendix; both come from one :class:`Table`, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """Column headings, rows of cells, and which columns hold numbers (right-aligned)."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool]

    def __post_init__(self) -> None:
        width = len(self.header)
        if len(self.numeric) != width or any(len(row) != width for row in self.rows):
            raise ValueError(f"every row and the alignment need {width} cells")

    def text(self) -> str:
        """Aligned columns for a terminal."""
        widths = [
            max(len(cell) for cell in column)
            for column in zip(self.header, *self.rows, strict=True)
        ]

        def line(cells: Sequence[str]) -> str:
            parts = [
                cell.rjust(width) if numeric else cell.ljust(width)
                for cell, width, numeric in zip(cells, widths, self.numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        return "\n".join([line(self.header), *(line(row) for row in self.rows)])

    def markdown(self) -> str:
        """A pipe table, numbers right-aligned."""
        rule = ["---:" if numeric else ":---" for numeric in self.numeric]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        return "\n".join([line(self.header), line(rule), *(line(row) for row in self.rows)])
