"""Merged cells: which cells of the contacts sheet a merged range hides.

A merged range shows only its first (top-left) cell; Excel and LibreOffice keep the others
but never show them, so a value written there is lost to the user. The program therefore never
writes into a hidden cell: the daily run leaves its own cell out and names it among the
workbook's problems, and a command that would need one refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from followup.core.model import Problem
from followup.workbook.columns import cell_address


@dataclass(frozen=True)
class MergedRange:
    """A merged range, 1-based and inclusive."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def ref(self) -> str:
        return f"{cell_address(self.top, self.left)}:{cell_address(self.bottom, self.right)}"

    def hides(self, row: int, col: int) -> bool:
        """Whether the cell is inside the range and not the one cell it shows."""
        inside = self.top <= row <= self.bottom and self.left <= col <= self.right
        return inside and (row, col) != (self.top, self.left)


@dataclass(frozen=True)
class MergedCells:
    """The merged ranges of one sheet."""

    ranges: tuple[MergedRange, ...] = ()

    @classmethod
    def from_calamine(
        cls, ranges: Sequence[tuple[tuple[int, int], tuple[int, int]]] | None
    ) -> MergedCells:
        """From python-calamine's 0-based ((top, left), (bottom, right)) pairs (None: none)."""
        return cls(
            tuple(
                MergedRange(top + 1, left + 1, bottom + 1, right + 1)
                for (top, left), (bottom, right) in ranges or ()
            )
        )

    def over(self, row: int, col: int) -> MergedRange | None:
        """The range that hides the cell, if one does."""
        return next((merged for merged in self.ranges if merged.hides(row, col)), None)

    def columns_from(self, row: int) -> set[int]:
        """The columns some range covers in `row` or below (a title merged above it is not)."""
        return {
            col
            for merged in self.ranges
            if merged.bottom >= row
            for col in range(merged.left, merged.right + 1)
        }

    def hidden(self, columns: Iterable[int]) -> dict[tuple[int, int], MergedRange]:
        """Every hidden cell in the given columns, with the range that hides it."""
        wanted = set(columns)
        return {
            (row, col): merged
            for merged in self.ranges
            for col in wanted
            if merged.left <= col <= merged.right
            for row in range(merged.top, merged.bottom + 1)
            if merged.hides(row, col)
        }


def hidden_problems(
    sheet: str, hidden: Mapping[tuple[int, int], MergedRange], headers: Mapping[int, str]
) -> list[Problem]:
    """One problem for each merged range that hides some of the program's cells, naming the
    first of them (`headers`: the column number of each of the program's columns -> its name)."""
    by_range: dict[MergedRange, list[tuple[int, int]]] = {}
    for cell, where in sorted(hidden.items()):
        by_range.setdefault(where, []).append(cell)
    problems = []
    for where, cells in by_range.items():
        (row, col), more = cells[0], len(cells) - 1
        problems.append(
            Problem(
                sheet,
                cell_address(row, col),
                "",
                f"This cell is inside the merged range {where.ref}, which shows only its first "
                f"cell, so followup does not write {headers[col]} here"
                + (f" (nor in {more} more of its cells there)" if more else "")
                + ". Unmerge those cells (Merge & Center in Excel) so that it can.",
            )
        )
    return problems
