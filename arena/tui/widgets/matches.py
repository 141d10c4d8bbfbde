"""A table of saved matches, sortable by any column and filtered by text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from arena.store import MatchRow, MatchStatus
from arena.tui.format import cost, short_name


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    cell: Callable[[MatchRow], str]
    sort: Callable[[MatchRow], Any]
    width: int = 12
    """The most cells its values take; longer ones end in `…`."""


def _date(row: MatchRow) -> str:
    return row.created_at[:16].replace("T", " ")


def _result(row: MatchRow) -> str:
    if row.status == MatchStatus.INTERRUPTED:
        # The resume command is in the status line and the replay's summary.
        return "interrupted ↻"
    if row.result is None:
        return row.status
    return f"{row.result} {row.termination or ''}".strip()


def _saved(row: MatchRow) -> str:
    return "—" if row.saved_pct is None else f"{row.saved_pct:.0f}%"


COLUMNS = (
    Column("date", "Date", _date, lambda r: r.created_at, 16),
    Column("result", "Result", _result, _result, 16),
    Column("plies", "Plies", lambda r: str(r.plies), lambda r: r.plies, 7),
    Column("saved", "Saved", _saved, lambda r: -1.0 if r.saved_pct is None else r.saved_pct, 7),
    Column("game", "Game", lambda r: r.game or "chess", lambda r: r.game or "chess", 12),
    Column(
        "white", "White", lambda r: short_name(r.white_spec), lambda r: r.white_spec.lower(), 18
    ),
    Column(
        "black", "Black", lambda r: short_name(r.black_spec), lambda r: r.black_spec.lower(), 18
    ),
    Column("id", "Id", lambda r: r.id, lambda r: r.id, 12),
    Column("cost", "Cost", lambda r: cost(r.cost_usd), lambda r: r.cost_usd or 0.0, 8),
)
"""The table's columns, what a person looks for first (when, how it ended) on the left."""
SORT_ROOM = "  "
"""Room kept after each header for the sort arrow, so it is never cut."""
MIN_CUT_WIDTH = 6
"""A column that does not fit is shown cut (with `…`) if this much of it fits, else left out."""
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


def matches_filter(row: MatchRow, text: str) -> bool:
    """True if every word of `text` appears in one of the row's cells (case-insensitive)."""
    cells = [c.cell(row) for c in COLUMNS]
    haystack = " ".join([*cells, row.white_spec, row.black_spec, row.status]).lower()
    return all(word in haystack for word in text.lower().split())


class MatchTable(DataTable[Text]):
    """Saved matches, newest first; click a header (or press `o`) to sort, enter to open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "next_sort", "Sort by", show=True),
        Binding("O", "reverse_sort", "Reverse", show=False),
    ]

    class MatchChosen(Message):
        """A match was picked (enter or click on its row)."""

        def __init__(self, table: MatchTable, match_id: str) -> None:
            super().__init__()
            self.table = table
            self.match_id = match_id

        @property
        def control(self) -> MatchTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.rows_all: list[MatchRow] = []
        """Every match given, before filtering."""
        self.sort_key = "date"
        """The column the rows are sorted by."""
        self.sort_reverse = True
        self.filter_text = ""

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def fitted(self) -> list[tuple[Column, int]]:
        """The columns that fit the table's width, each with the width it gets, in order."""
        room = max(20, self.size.width - 1)  # the vertical scrollbar
        out: list[tuple[Column, int]] = []
        for column in COLUMNS:
            need = max(column.width, len(column.label) + len(SORT_ROOM))
            if need + 2 <= room:
                out.append((column, need))
                room -= need + 2
            elif room - 2 >= MIN_CUT_WIDTH:
                out.append((column, room - 2))
                break
            else:
                break
        return out

    def set_matches(self, rows: list[MatchRow]) -> None:
        self.rows_all = list(rows)
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else key in ("date", "saved")
        self.sort_key = key
        self.sort_reverse = reverse
        self._rebuild()

    @property
    def shown(self) -> list[MatchRow]:
        """The rows shown, in order."""
        column = next(c for c in COLUMNS if c.key == self.sort_key)
        rows = [r for r in self.rows_all if matches_filter(r, self.filter_text)]
        return sorted(rows, key=column.sort, reverse=self.sort_reverse)

    def _rebuild(self) -> None:
        selected = self._selected_id()
        self.clear(columns=True)
        fitted = self.fitted()
        for column, width in fitted:
            arrow = SORT_ROOM
            if column.key == self.sort_key:
                arrow = " ▼" if self.sort_reverse else " ▲"
            label = Text(column.label + arrow)
            label.truncate(width, overflow="ellipsis")
            self.add_column(label, key=column.key, width=width)
        for row in self.shown:
            cells = []
            for column, width in fitted:
                cell = Text(column.cell(row))
                cell.truncate(width, overflow="ellipsis")
                cells.append(cell)
            self.add_row(*cells, key=row.id)
        if selected is not None and RowKey(selected) in self.rows:
            self.move_cursor(row=self.get_row_index(selected))
        self.refresh()

    def _selected_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value

    def action_next_sort(self) -> None:
        index = COLUMN_KEYS.index(self.sort_key)
        self.sort_by(COLUMN_KEYS[(index + 1) % len(COLUMN_KEYS)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key, not self.sort_reverse)

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(event.column_key.value)

    @on(DataTable.RowSelected)
    def _row(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.MatchChosen(self, event.row_key.value))
