"""File readers for ``maskjax report``: ``.npy``, ``.npz``, ``.csv``, ``.parquet``.

Every reader streams: it reports the number of rows (the leading axis) when it
can, and yields NumPy chunks of exactly ``size`` rows (the last one shorter).
Nothing here does maths; pandas and pyarrow are imported only when a ``.csv``
or ``.parquet`` file is read.

* ``.npy``: ``np.load(mmap_mode="r")``, sliced by rows (the OS pages data in).
* ``.npz``: the member's ``.npy`` header is parsed and its rows are read
  sequentially from the (possibly compressed) zip stream, so a large member is
  never held in memory at once.
* ``.csv``: ``pandas.read_csv(chunksize=...)``; several columns stack into a
  trailing axis (scores of C classes, L labels).
* ``.parquet``: ``pyarrow.parquet.ParquetFile.iter_batches``; list columns
  (one array per row) become a trailing axis.

Every problem a user can cause (a missing file, a wrong key or column, an
unreadable file) raises :class:`InputError` with a one-line message.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import re
import warnings
import zipfile
from typing import Iterator, Sequence

import numpy as np

SUFFIXES = (".npy", ".npz", ".csv", ".parquet")

# Column / key names tried, in order, when the user names none (per role).
DEFAULT_NAMES = {
    "preds": ("preds", "pred", "predictions", "prediction", "scores", "score", "logits", "probs",
              "y_pred", "y_score"),
    "targets": ("targets", "target", "labels", "label", "y_true", "y"),
    "mask": ("mask",),
    "weights": ("weights", "weight", "sample_weight"),
    "groups": (),  # only by name: --group-column COL
}


class InputError(Exception):
    """A problem with the user's files or arguments; the message is one line."""


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


class Source:
    """One array (or set of columns) of one file, read by rows."""

    role: str
    path: str
    n_rows: int | None  # None: unknown until read (CSV)
    approx_rows: int | None  # for the progress bar

    def chunks(self, size: int) -> Iterator[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def label(self) -> str:
        return f"--{self.role} {os.path.basename(self.path)}"


# --------------------------------------------------------------------------------------------
# .npy / .npz
# --------------------------------------------------------------------------------------------


class NpySource(Source):
    def __init__(self, path: str, role: str) -> None:
        self.path, self.role = path, role
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InputError(f"--{role}: {path} is not a readable .npy file ({_one_line(err)})") from None
        if not isinstance(arr, np.ndarray):
            raise InputError(f"--{role}: {path} is not a .npy array file")
        if arr.ndim == 0:
            raise InputError(f"--{role}: {path} holds a scalar; expected an array with a row axis")
        _check_dtype(arr.dtype, role, path)
        self.array = arr
        self.n_rows = self.approx_rows = arr.shape[0]
        self.row_shape = arr.shape[1:]

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        for start in range(0, self.n_rows, size):
            yield np.array(self.array[start:start + size])


class NpzSource(Source):
    """A member of an ``.npz`` archive, read row-block by row-block from the zip stream."""

    def __init__(self, path: str, role: str, key: str | None) -> None:
        self.path, self.role = path, role
        try:
            with zipfile.ZipFile(path) as zf:
                members = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        except (zipfile.BadZipFile, OSError) as err:
            raise InputError(f"--{role}: {path} is not a readable .npz file ({_one_line(err)})") from None
        if not members:
            raise InputError(f"--{role}: {path} holds no arrays")
        if key is None:
            key = _default_name(role, members)
            if key is None:
                raise InputError(
                    f"--{role}: {path} holds several arrays ({', '.join(members)}); choose one with "
                    f"--key {role}=NAME"
                )
        elif key not in members:
            raise InputError(f"--{role}: no array {key!r} in {path} (arrays: {', '.join(members)})")
        self.key = key
        with self._open() as f:
            self.shape, self.fortran, self.dtype = _read_npy_header(f, path, role)
        if len(self.shape) == 0:
            raise InputError(f"--{role}: {path}[{key!r}] is a scalar; expected an array with a row axis")
        if self.dtype.hasobject:
            raise InputError(f"--{role}: {path}[{key!r}] holds Python objects; save numeric arrays")
        _check_dtype(self.dtype, role, f"{path}[{key!r}]")
        self.n_rows = self.approx_rows = self.shape[0]
        self.row_shape = self.shape[1:]

    def _open(self):
        zf = zipfile.ZipFile(self.path)
        f = zf.open(self.key + ".npy")
        f._maskjax_zip = zf  # keep the archive alive with the member stream
        return f

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        if self.fortran:  # column-major rows are not contiguous: load the member at once
            with np.load(self.path, allow_pickle=False) as z:
                arr = z[self.key]
            for start in range(0, self.n_rows, size):
                yield np.array(arr[start:start + size])
            return
        row_items = int(np.prod(self.row_shape, dtype=np.int64))
        row_bytes = row_items * self.dtype.itemsize
        with self._open() as f:
            _read_npy_header(f, self.path, self.role)
            for start in range(0, self.n_rows, size):
                rows = min(size, self.n_rows - start)
                buf = f.read(rows * row_bytes)
                if len(buf) != rows * row_bytes:
                    raise InputError(f"--{self.role}: {self.path}[{self.key!r}] is truncated")
                yield np.frombuffer(buf, self.dtype).reshape((rows,) + tuple(self.row_shape)).copy()


def _check_dtype(dtype: np.dtype, role: str, where: str) -> None:
    """Refuse arrays that are not bool / integer / float (strings, objects, records, dates, complex).

    String class labels are refused rather than mapped to ids: the mapping would need every
    file's distinct values before the first chunk is counted (and would differ between files).
    """
    if dtype.kind in "biuf":
        return
    what = {"U": "strings", "S": "byte strings", "O": "Python objects", "V": "records",
            "M": "dates", "m": "time deltas", "c": "complex numbers"}.get(dtype.kind, "non-numeric values")
    hint = ("; save integer class ids (np.unique(labels, return_inverse=True)) and pass the names "
            "with --class-names") if role in ("targets", "preds") and dtype.kind in "US" else \
        "; save a numeric (bool / integer / float) array"
    raise InputError(f"--{role}: {where} holds {what} (dtype {dtype.str}), not numbers{hint}")


def _read_npy_header(f, path: str, role: str):
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f)
        return np.lib.format.read_array_header_2_0(f)
    except ValueError as err:
        raise InputError(f"--{role}: {path} holds an unreadable array ({_one_line(err)})") from None


# --------------------------------------------------------------------------------------------
# .csv / .parquet
# --------------------------------------------------------------------------------------------


def _default_name(role: str, names: Sequence[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    for cand in DEFAULT_NAMES[role]:
        if cand in lower:
            return lower[cand]
    if len(names) == 1:
        return names[0]
    return None


def _select_columns(role: str, path: str, available: Sequence[str], wanted: Sequence[str] | None,
                    taken: Sequence[str] = ()) -> list[str]:
    """Resolve ``--column ROLE=...`` patterns (or defaults) against a file's columns."""
    available = [str(c) for c in available]
    if wanted:
        out: list[str] = []
        for pattern in wanted:
            hits = [c for c in available if fnmatch.fnmatchcase(c, pattern)]
            if is_glob(pattern):
                hits.sort(key=natural_key)  # p2 before p10, whatever the file's column order
            if not hits:
                shown = ", ".join(available[:20]) + (", ..." if len(available) > 20 else "")
                raise InputError(f"--{role}: no column {pattern!r} in {path} (columns: {shown})")
            out.extend(h for h in hits if h not in out)
        return out
    name = _default_name(role, available)
    if name is not None:
        return [name]
    if role == "preds":
        # Everything the other roles do not use, e.g. score columns p0..p4 next to a label column,
        # except a row index pandas' to_csv wrote (an unnamed first column): read as class 0's
        # score it would shift every class silently (the CLI prints the columns it chose).
        rest = [c for c in available if c not in taken and _default_name_match(c) is None
                and not is_index_column(c)]
        if rest:
            return rest
    raise InputError(
        f"--{role}: cannot tell which columns of {path} to use (columns: {', '.join(available[:20])}); "
        f"name them with --column {role}=NAME[,NAME...]"
    )


def is_index_column(name: str) -> bool:
    """A row index written by pandas' ``to_csv`` (``""`` or ``"Unnamed: 0"``) or ``reset_index`` (``"index"``).

    >>> from maskjax.app.readers import is_index_column
    >>> [is_index_column(c) for c in ("Unnamed: 0", "index", "p0", "")]
    [True, True, False, True]
    """
    return name in ("", "index") or re.fullmatch(r"Unnamed: \d+", name) is not None


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def natural_key(name: str) -> tuple:
    """Sort key putting ``p2`` before ``p10``: digit runs compare as numbers.

    >>> from maskjax.app.readers import natural_key
    >>> sorted(["p10", "p2", "p1", "p0"], key=natural_key)
    ['p0', 'p1', 'p2', 'p10']
    """
    return tuple((0, int(tok), "") if tok.isdigit() else (1, 0, tok)
                 for tok in re.split(r"(\d+)", name) if tok != "")


def _default_name_match(column: str) -> str | None:
    for role, names in DEFAULT_NAMES.items():
        if column.lower() in names:
            return role
    return None


def _count_lines(path: str) -> int:
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


class CsvSource(Source):
    def __init__(self, path: str, role: str, columns: Sequence[str] | None, taken: Sequence[str]) -> None:
        import pandas as pd

        self.path, self.role = path, role
        try:
            header = pd.read_csv(path, nrows=0)
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
            raise InputError(f"--{role}: {path} is not a readable CSV file ({_one_line(err)})") from None
        self.columns = _select_columns(role, path, list(header.columns), columns, taken)
        self.n_rows = None
        self.approx_rows = max(_count_lines(path) - 1, 0)

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        import pandas as pd

        # Every column is read (not usecols=): a row with extra fields must raise, not be cut silently.
        seen = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                # group labels read as text: per-chunk type guessing turned "01" into 1 in some chunks only
                text = {c: str for c in self.columns} if self.role == "groups" else None
                reader = pd.read_csv(self.path, chunksize=size, index_col=False, dtype=text)
                for frame in reader:
                    if frame.isna().to_numpy().any():  # a short row reads as NaN: tell it from a NaN cell
                        _raise_if_ragged(self.path, self.role)
                    if len(frame):
                        seen += len(frame)
                        yield _frame_to_array(frame[self.columns], self.role, self.path)
        except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as err:
            _raise_if_ragged(self.path, self.role)
            raise InputError(f"--{self.role}: cannot read {self.path} ({_one_line(err)})") from None
        if not seen:
            raise InputError(f"--{self.role}: {self.path} is empty (a header but no data rows)")


def _raise_if_ragged(path: str, role: str) -> None:
    """Raise InputError naming the first line whose number of fields differs from the header's."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                return
            for row in reader:
                if row and len(row) != len(header):
                    raise InputError(f"--{role}: {path} is ragged: line {reader.line_num} has {len(row)} "
                                     f"field(s), the header has {len(header)}")
    except (OSError, UnicodeDecodeError, csv.Error):
        return


def _frame_to_array(frame, role: str, path: str) -> np.ndarray:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if role == "groups":  # group labels may be strings
        if frame.isna().to_numpy().any():
            raise InputError(f"--group-column: column {frame.columns[0]!r} of {path} has missing values")
        return frame.to_numpy()[:, 0]
    for name, dtype in frame.dtypes.items():
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
            raise InputError(f"--{role}: column {name!r} of {path} is not numeric (dtype {dtype})")
    arr = frame.to_numpy()
    return arr[:, 0] if arr.shape[1] == 1 else arr


class ParquetSource(Source):
    def __init__(self, path: str, role: str, columns: Sequence[str] | None, taken: Sequence[str]) -> None:
        import pyarrow.parquet as pq

        self.path, self.role = path, role
        try:
            self.file = pq.ParquetFile(path)
        except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ...
            raise InputError(f"--{role}: {path} is not a readable Parquet file ({_one_line(err)})") from None
        self.columns = _select_columns(role, path, self.file.schema_arrow.names, columns, taken)
        self.n_rows = self.approx_rows = self.file.metadata.num_rows

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        return _rechunk(self._batches(size), size)

    def _batches(self, size: int) -> Iterator[np.ndarray]:
        for batch in self.file.iter_batches(batch_size=size, columns=self.columns):
            cols = [_arrow_column(batch.column(i), name, self.role, self.path)
                    for i, name in enumerate(self.columns)]
            yield cols[0] if len(cols) == 1 else np.concatenate(
                [c.reshape(len(c), -1) for c in cols], axis=1)


def _arrow_column(col, name: str, role: str, path: str) -> np.ndarray:
    import pyarrow as pa

    t = col.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        values = _arrow_column(col.flatten(), name, role, path)
        n = len(col)
        if n and values.size % n:
            raise InputError(f"--{role}: list column {name!r} of {path} has rows of different lengths")
        return values.reshape(n, -1) if n else values.reshape(0, 0)
    if role == "groups":  # group labels may be strings or categories
        if col.null_count:
            raise InputError(f"--group-column: column {name!r} of {path} has missing values")
        if pa.types.is_dictionary(t):
            col = col.dictionary_decode()
        return col.to_numpy(zero_copy_only=False)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
        raise InputError(f"--{role}: column {name!r} of {path} is not numeric (type {t})")
    if col.null_count:
        raise InputError(f"--{role}: column {name!r} of {path} has missing values")
    return col.to_numpy(zero_copy_only=False)


def _rechunk(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Re-cut a stream of row blocks into blocks of exactly ``size`` rows (the last shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for block in blocks:
        pending.append(block)
        have += len(block)
        while have >= size:
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield joined[:size]
            rest = joined[size:]
            pending, have = ([rest] if len(rest) else []), len(rest)
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def open_source(path: str, role: str, *, key: str | None = None, columns: Sequence[str] | None = None,
                taken: Sequence[str] = ()) -> Source:
    """Open ``path`` for ``role`` (preds / targets / mask / weights); raises :class:`InputError`."""
    if not os.path.exists(path):
        raise InputError(f"--{role}: no such file: {path}")
    if os.path.isdir(path):
        raise InputError(f"--{role}: {path} is a directory, not a file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise InputError(f"--{role}: unsupported file type {suffix or '(none)'!r} for {path} "
                         f"(use {', '.join(SUFFIXES)})")
    if suffix in (".npy", ".npz") and columns:
        raise InputError(f"--{role}: --column applies to .csv/.parquet files; use --key {role}=NAME for .npz")
    if suffix in (".csv", ".parquet") and key is not None:
        raise InputError(f"--{role}: --key applies to .npz files; use --column {role}=NAME for {suffix}")
    if suffix == ".npy":
        if key is not None:
            raise InputError(f"--{role}: --key applies to .npz files, not .npy")
        return NpySource(path, role)
    if suffix == ".npz":
        return NpzSource(path, role, key)
    try:
        if suffix == ".csv":
            return CsvSource(path, role, columns, taken)
        return ParquetSource(path, role, columns, taken)
    except ImportError as err:
        lib = "pyarrow" if suffix == ".parquet" else "pandas"
        raise InputError(f"reading {suffix} files needs {lib} ({_one_line(err)}); "
                         f"pip install 'maskjax[cli]'") from None
