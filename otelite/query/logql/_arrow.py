"""What a log query works out over a batch's Arrow columns at once rather than row by
row: which rows share a resource and scope, and what the attribute maps hold.

Map columns are ``map<string, string>`` (the stored attribute maps); a null map reads as
an empty one, as ``otelite.storage.stored_attributes`` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Distinct", "MapRows", "distinct_rows", "map_keys", "rows_with_code"]

# Separators of the identity text: between columns, between a map's size, keys and
# values, and between its items. A batch whose text holds one is identified in Python.
_COLUMN, _PART, _ITEM = "\x1c", "\x1d", "\x1e"
_LOW, _HIGH = 0x1C, 0x1E


@dataclass(frozen=True, slots=True)
class Distinct:
    """The distinct values of some columns over a batch's rows."""

    keys: list[str]
    """Each distinct value's identity: equal exactly when the values are."""
    index: np.ndarray
    """For each row, its value's position in ``keys``."""
    first: np.ndarray
    """For each value, the first row that has it."""


def distinct_rows(table: pa.Table, columns: Sequence[str]) -> Distinct:
    """Which rows of ``table`` have the same values in ``columns`` (nulls as empty).

    Each row's values are written as one text (a map as its size, its keys and its
    values), which Arrow then encodes as a dictionary; where a value holds one of the
    separators that text uses, as their Python ``repr`` (which escapes the separators,
    so it never equals such a text; a null reads as itself there, which only tells
    apart two rows that read the same)."""
    parts = [_texts(table.column(name)) for name in columns]
    if all(clean for _, clean in parts):
        texts = [text for text, _ in parts]
        joined = pc.binary_join_element_wise(*texts, _COLUMN).combine_chunks()
    else:
        rows = zip(*(table.column(name).to_pylist() for name in columns), strict=True)
        joined = pa.array([repr(row) for row in rows], pa.string())
    encoded = joined.dictionary_encode()
    index = encoded.indices.to_numpy()
    _, first = np.unique(index, return_index=True)
    return Distinct(encoded.dictionary.to_pylist(), index, first)


def _texts(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, bool]:
    """Each row's value as text, and whether no value holds a separator."""
    if not pa.types.is_map(column.type):
        text = pc.fill_null(column.cast(pa.string()), "")
        return text, not _holds_separator(text)
    parts, clean = [], True
    for chunk in column.chunks:
        offsets = chunk.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        keys, values = chunk.keys, pc.fill_null(chunk.items, "")
        clean = clean and not any(
            _holds_separator(child.slice(start, end - start)) for child in (keys, values)
        )
        key_lists = pa.ListArray.from_arrays(offsets, keys)
        value_lists = pa.ListArray.from_arrays(offsets, values)
        size = pc.list_value_length(key_lists).cast(pa.string())
        parts.append(
            pc.binary_join_element_wise(
                size, pc.binary_join(key_lists, _ITEM), pc.binary_join(value_lists, _ITEM), _PART
            )
        )
    return pa.chunked_array(parts, pa.string()), clean


def _holds_separator(texts: pa.Array | pa.ChunkedArray) -> bool:
    # On the bytes of the strings at once (all of a sliced array's: more is only slower).
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is not None:
            found = np.frombuffer(data, np.uint8)
            if ((found >= _LOW) & (found <= _HIGH)).any():
                return True
    return False


def map_keys(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The keys of every map of a map column, in one list."""
    parts = []
    for chunk in column.chunks:
        offsets = chunk.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        parts.append(chunk.keys.slice(start, end - start))
    return pa.chunked_array(parts, pa.string())


def rows_with_code(types: pa.ChunkedArray, prefix: str) -> list[int]:
    """The rows of a map column with a value that starts with ``prefix``."""
    found: list[int] = []
    first = 0
    for chunk in types.chunks:
        offsets = chunk.offsets.to_numpy()
        codes = chunk.items.slice(offsets[0], offsets[-1] - offsets[0])
        marked = np.flatnonzero(pc.starts_with(codes, prefix).to_numpy(zero_copy_only=False))
        if len(marked):
            rows = np.searchsorted(offsets, marked + offsets[0], side="right") - 1
            found.extend((np.unique(rows) + first).tolist())
        first += len(chunk)
    return found


class MapRows:
    """A map column's entries as Python values, a row's list made when it is asked for:
    Arrow's conversion of a whole map column makes a list and tuples per row."""

    __slots__ = ("_keys", "_offsets", "_values")

    def __init__(self, column: pa.ChunkedArray) -> None:
        keys: list[str] = []
        values: list[str | None] = []
        offsets = [0]
        for chunk in column.chunks:
            bounds = chunk.offsets.to_numpy()
            start, end = int(bounds[0]), int(bounds[-1])
            keys += chunk.keys.slice(start, end - start).to_pylist()
            values += chunk.items.slice(start, end - start).to_pylist()
            offsets += (bounds[1:] - start + offsets[-1]).tolist()
        self._keys, self._values, self._offsets = keys, values, offsets

    def pairs(self, row: int) -> list[tuple[str, str | None]]:
        """The (key, value) entries of the map in ``row``, in order."""
        start, end = self._offsets[row], self._offsets[row + 1]
        return list(zip(self._keys[start:end], self._values[start:end], strict=True))
