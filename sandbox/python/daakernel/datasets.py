"""The project's datasets as `dfs`, a lazy mapping: dfs["sales"] reads
data/sales.csv the first time it is used, applying the project's conventions
(the keys are listed in sandbox/KERNEL.md), and returns the same DataFrame
after that.  Formats: csv, tsv, txt, json, jsonl, xlsx/xls, parquet (when an
engine is installed)."""

import collections.abc
import hashlib
import json
import os
import pickle
import re
import stat
import tempfile

import pandas as pd

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".json": "json",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx", ".xls": "xlsx",
           ".parquet": "parquet", ".pq": "parquet"}
_THOUSANDS = {",": re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$|^[-+]?\d+(\.\d+)?$"),
              ".": re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$|^[-+]?\d+(,\d+)?$"),
              " ": re.compile(r"^[-+]?\d{1,3}( \d{3})+([.,]\d+)?$|^[-+]?\d+([.,]\d+)?$"),
              "'": re.compile(r"^[-+]?\d{1,3}('\d{3})+(\.\d+)?$|^[-+]?\d+(\.\d+)?$")}


class DatasetError(Exception):
    """A dataset that cannot be found or read; the message says why."""


def conv_values(conventions):
    """{KEY: {value, source}} (or {KEY: value}) -> {KEY: value}."""
    out = {}
    for k, v in (conventions or {}).items():
        out[str(k)] = v.get("value") if isinstance(v, dict) and "value" in v else v
    return out


def _as_list(v):
    """A convention value that may be one name or a list of names."""
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)]


def scan(project):
    """Datasets found in <project>/data when the bind request lists none."""
    found, data = [], os.path.join(project, "data")
    for f in sorted(os.listdir(data)) if os.path.isdir(data) else []:
        stem, ext = os.path.splitext(f)
        if ext.lower() in FORMATS and not f.startswith("."):
            found.append({"name": stem, "path": os.path.join(data, f),
                          "format": FORMATS[ext.lower()]})
    return found


def _sniff_sep(path, encoding):
    """The likeliest delimiter from the first line (comma unless another wins)."""
    with open(path, "r", encoding=encoding, errors="replace") as f:
        line = f.readline(65536)
    counts = {s: line.count(s) for s in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _read_csv(path, fmt, c):
    """read_csv with the separator, encoding, thousands/decimal, NA and id conventions."""
    kw = {"low_memory": False}
    for key, arg in (("thousands_separator", "thousands"), ("decimal_separator", "decimal")):
        if c.get(key):
            kw[arg] = str(c[key])
    if c.get("na_values"):
        kw["na_values"] = _as_list(c["na_values"])
    ids = _as_list(c.get("id_columns"))
    if ids:
        kw["dtype"] = {k: str for k in ids}
    enc = c.get("encoding") or "utf-8"
    sep = "\t" if fmt == "tsv" else c.get("csv_separator")
    for attempt in ([enc] if c.get("encoding") else [enc, "cp1252", "latin-1"]):
        try:
            s = sep or _sniff_sep(path, attempt)
            return pd.read_csv(path, sep=s, encoding=attempt, **kw)
        except UnicodeDecodeError:
            continue
    raise DatasetError("cannot decode %s as %s; set the `encoding` convention"
                       % (path, "/".join([enc, "cp1252", "latin-1"])))


def _read_json(path, fmt):
    """JSON records/columns, or JSON lines; a shape pandas cannot read
    directly (nested objects) goes through json_normalize."""
    if fmt == "jsonl":
        return pd.read_json(path, lines=True)
    try:
        return pd.read_json(path)
    except ValueError:
        with open(path, "r", encoding="utf-8") as f:
            return pd.json_normalize(json.load(f))


def _read(path, fmt, c):
    """Read one file by format."""
    if fmt in ("csv", "tsv"):
        return _read_csv(path, fmt, c)
    if fmt in ("json", "jsonl"):
        return _read_json(path, fmt)
    if fmt == "xlsx":
        sheet = c.get("sheet", 0)
        return pd.read_excel(path, sheet_name=sheet if sheet is not None else 0)
    if fmt == "parquet":
        try:
            return pd.read_parquet(path)
        except ImportError as e:
            raise DatasetError("cannot read parquet %s: no engine installed "
                               "(pyarrow or fastparquet): %s" % (path, e)) from None
    raise DatasetError("unsupported format %r for %s" % (fmt, path))


def to_number(s, thousands=",", decimal="."):
    """Text numbers like '1,234.5', '$1,234', '12%' to floats (NaN where not a number)."""
    t = s.astype("string").str.strip()
    t = t.str.replace(r"^[$€£¥]|[$€£¥%]$", "", regex=True)
    if thousands:
        t = t.str.replace(thousands, "", regex=False)
    if decimal and decimal != ".":
        t = t.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(t, errors="coerce")


def _fix_numbers(df, c, name, notes):
    """Numeric-as-text columns: those named in numeric_columns, and (with a
    thousands_separator convention) text columns whose values all match it."""
    sep = c.get("thousands_separator")
    dec = c.get("decimal_separator") or "."
    named = set(_as_list(c.get("numeric_columns"))) & set(map(str, df.columns))
    ids = set(_as_list(c.get("id_columns")))
    pat = _THOUSANDS.get(str(sep)) if sep else None
    for col in df.columns:
        if df[col].dtype != object or str(col) in ids:
            continue
        if str(col) in named:
            num = to_number(df[col], sep or ",", dec)
            lost = int(num.isna().sum() - df[col].isna().sum())
            if lost:
                notes.append("dataset %r: %d value(s) of %r are not numbers and became NaN"
                             % (name, lost, col))
            df[col] = num
        elif pat is not None:
            vals = df[col].dropna().astype(str).str.strip()
            if len(vals) and vals.str.match(pat).all() and vals.str.contains(str(sep), regex=False).any():
                df[col] = to_number(df[col], str(sep), dec)
    return df


def _date_format(c, col):
    """The date_format convention for one column (a string or {column: fmt})."""
    f = c.get("date_format")
    if isinstance(f, dict):
        return f.get(col)
    return str(f) if f else None


def _fix_dates(df, c, name, notes):
    """Parse the date_column(s) present in this frame with the date_format."""
    for col in _as_list(c.get("date_column")) + _as_list(c.get("date_columns")):
        if col not in df.columns or pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        fmt = _date_format(c, col)
        kw = {"format": fmt} if fmt else {"dayfirst": bool(c.get("dayfirst"))}
        try:
            df[col] = pd.to_datetime(df[col], **kw)
        except (ValueError, TypeError) as e:
            try:
                parsed = pd.to_datetime(df[col], errors="coerce", **kw)
            except (ValueError, TypeError) as e2:   # e.g. a malformed format string
                notes.append("dataset %r: %r left as it is: cannot parse it as dates with %r (%s)"
                             % (name, col, fmt, e2))
                continue
            bad = int(parsed.isna().sum() - df[col].isna().sum())
            notes.append("dataset %r: %d value(s) of %r do not match the date format %r and "
                         "became NaT (%s)" % (name, bad, col, fmt, e))
            df[col] = parsed
    return df


# Loaded-dataset cache: <project>/.daa/cache/<name>-<key>.pkl, key = sha256 of
# the file's bytes, the format, the conventions and the pandas version, so a
# changed file or convention never hits an old entry.  Only for files of at
# least CACHE_MIN_BYTES (smaller ones read faster than they hash).
#
# Trust: a kernel can write .daa/cache, and user code could put anything
# there (a pickle runs code when loaded; altered values give wrong answers
# to a later kernel, after undo or a restart).  So an entry is written only
# by build_cache(), the `cache` request the daemon sends right after bind,
# before any user code ran in this process; its SHA-256 is taken of the bytes
# written (never re-read from disk) and reported to the daemon, which keeps
# it in .daa/cache.json (no kernel can write that) and gives every kernel the
# list at bind (`trusted`).  An entry is unpickled only when the SHA-256 of
# the bytes read matches that list; anything else is ignored (and rebuilt by
# the next kernel's `cache` request).  Loads during steps never write.
CACHE_ENABLED = True
CACHE_MIN_BYTES = int(os.environ.get("DAA_CACHE_MIN_BYTES", str(1 << 20)))
CACHE_FORMAT = "daa-dataset-cache-1"
CACHE_MAX_BYTES = 16 << 30
_CACHE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.pkl$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def trusted_hashes(info):
    """The bind request's `cache` {files: {NAME.pkl: sha256}} -> a clean dict."""
    files = info.get("files") if isinstance(info, dict) else None
    out = {}
    for k, v in (files.items() if isinstance(files, dict) else ()):
        if isinstance(k, str) and isinstance(v, str) and _CACHE_NAME.match(k) and _SHA256.match(v):
            out[k] = v
    return out


def _cache_path(path, fmt, c, name):
    """The cache file for a dataset in <project>/data/, or None."""
    data = os.path.dirname(os.path.abspath(path))
    cache = os.path.join(os.path.dirname(data), ".daa", "cache")
    if (not CACHE_ENABLED or os.path.basename(data) != "data" or not os.path.isdir(cache)
            or os.path.getsize(path) < CACHE_MIN_BYTES):
        return None
    h = hashlib.sha256()
    h.update(json.dumps([CACHE_FORMAT, pd.__version__, str(fmt), c], sort_keys=True,
                        default=str).encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name))[:60].lstrip(".-") or "dataset"
    return os.path.join(cache, "%s-%s.pkl" % (safe, h.hexdigest()[:32]))


def _read_entry(cpath):
    """The bytes of a cache file: a regular file opened without following a
    symlink or blocking on a FIFO; None when absent or not a plain file."""
    try:
        fd = os.open(cpath, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > CACHE_MAX_BYTES:
            return None
        return f.read()


def _cache_check(cpath, trusted):
    """("ok", bytes) when the entry's SHA-256 is the one the daemon recorded;
    ("missing" | "untrusted" | "changed", None) otherwise."""
    raw = _read_entry(cpath)
    if raw is None:
        return ("missing" if not os.path.lexists(cpath) else "untrusted"), None
    want = (trusted or {}).get(os.path.basename(cpath))
    if want is None:
        return "untrusted", None
    if hashlib.sha256(raw).hexdigest() != want:
        return "changed", None
    return "ok", raw


def _cache_get(cpath, trusted, name, notes):
    """(frame, notes) from a verified cache entry, or None (with a note when
    an entry was there but did not match the recorded hash)."""
    state, raw = _cache_check(cpath, trusted)
    if state in ("changed", "untrusted") and notes is not None:
        notes.append("dataset %r: the cache entry .daa/cache/%s %s; loaded from data/ "
                     "instead" % (name, os.path.basename(cpath),
                                  "was changed after it was written" if state == "changed"
                                  else "was not written by daa"))
    if raw is None:
        return None
    try:
        got = pickle.loads(raw)
        if isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], pd.DataFrame):
            return got
    except Exception:
        pass
    return None


def _drop_stale_temps(d):
    """Remove the .tmp-* files a kernel killed while writing an entry left
    in the cache folder (they can be as large as a dataset): one kernel at a
    time works on a project's cache, so none of them is being written."""
    for name in os.listdir(d):
        if name.startswith(".tmp-"):
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass


def _cache_put(cpath, df, notes):
    """Write (frame, notes) atomically; drop older entries of the same
    dataset.  Returns the SHA-256 of the bytes written (None on failure)."""
    d, base = os.path.split(cpath)
    prefix = base.rsplit("-", 1)[0] + "-"
    raw = pickle.dumps((df, list(notes)), protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(raw).hexdigest()
    tmp = None
    try:
        _drop_stale_temps(d)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, cpath)
        tmp = None
        for old in os.listdir(d):
            if old.startswith(prefix) and old != base and old.endswith(".pkl"):
                os.unlink(os.path.join(d, old))
        return digest
    except BaseException as e:   # an interrupt too: never leave the temp file
        if tmp:
            try:
                os.unlink(tmp)
            except Exception:
                pass
        if not isinstance(e, Exception):
            raise
        return None


def load(path, fmt, conventions, name="?", notes=None, trusted=None, compute=None):
    """Read a dataset file and apply the conventions; DatasetError on failure.
    Conversions that lost values are described in `notes` (a list).  Large
    files come from the project's cache when a verified entry is there
    (trusted: {entry file name: sha256}, see above); this never writes it.
    A file too large for the kernel's memory (outofcore.py, `compute`) is a
    Dask DataFrame read in blocks instead."""
    c = conv_values(conventions)
    if not os.path.isfile(path):
        raise DatasetError("dataset %r: file %s not found" % (name, path))
    fmt = _format(path, fmt)
    if ooc_wanted(path, fmt, compute):
        try:
            return ooc_read(path, fmt, c, name, notes, compute)
        except DatasetError:
            raise
        except ImportError as e:
            raise DatasetError("dataset %r is too large for the kernel's memory and Dask is not "
                               "installed (python3-dask): %s" % (name, e)) from None
        except Exception as e:
            raise DatasetError("dataset %r: cannot read %s with Dask: %s: %s"
                               % (name, path, type(e).__name__, e)) from None
    try:
        cpath = _cache_path(path, fmt, c, name)
    except Exception:
        cpath = None
    hit = _cache_get(cpath, trusted, name, notes) if cpath and trusted else None
    if hit is not None:
        if notes is not None:
            notes.extend(hit[1])
        return hit[0]
    return _load(path, fmt, c, name, notes)


def build_cache(dfs):
    """The `cache` request (only before user code ran in this process): for
    each large dataset, check its cache entry against the recorded hash and
    (re)build it from data/ when it is missing or does not match; frames
    built are kept loaded.  Returns {written: {file: sha256}, rebuilt:
    [{file, dataset, why}], checked: [file]}."""
    written, rebuilt, checked = {}, [], []
    c = conv_values(dfs._conv)
    for name, d in list(dfs._files.items()):
        path = d["path"]
        if dfs.is_dask(name):             # read in blocks, never pickled whole
            continue
        try:
            cpath = _cache_path(path, d.get("format"), c, name) if os.path.isfile(path) else None
        except Exception:
            cpath = None
        if not cpath:
            continue
        state, _ = _cache_check(cpath, dfs.trusted)
        if state == "ok":
            checked.append(os.path.basename(cpath))
            continue
        try:
            st = os.stat(path)
            mine = []
            frame = _load(path, d.get("format"), c, name, mine)
        except (DatasetError, OSError):
            continue                      # a step will say why when it loads it
        digest = _cache_put(cpath, frame, mine)
        dfs._loaded[name], dfs._stamps[name] = frame, (st.st_size, st.st_mtime_ns)
        dfs.notes.extend(mine)
        if digest:
            base = os.path.basename(cpath)
            written[base] = dfs.trusted[base] = digest
            if state in ("changed", "untrusted"):
                rebuilt.append({"file": base, "dataset": name,
                                "why": "changed after it was written" if state == "changed"
                                else "not written by daa"})
    return {"written": written, "rebuilt": rebuilt, "checked": checked}


def _format(path, fmt):
    """The format given, else the one of the file's extension (csv by default)."""
    return str(fmt).lower() if fmt else FORMATS.get(os.path.splitext(path)[1].lower(), "csv")


def _load(path, fmt, c, name, notes):
    """load() without the cache."""
    try:
        fmt = _format(path, fmt)
        df = _read(path, fmt, c)
    except DatasetError:
        raise
    except Exception as e:
        raise DatasetError("dataset %r: cannot read %s: %s: %s"
                           % (name, path, type(e).__name__, e)) from None
    notes = notes if notes is not None else []
    return _fix_dates(_fix_numbers(df, c, name, notes), c, name, notes)


class DatasetMap(collections.abc.MutableMapping):
    """`dfs`: dataset name -> DataFrame, each loaded on first use."""

    def __init__(self, datasets, conventions, trusted=None, compute=None):
        self.trusted = dict(trusted or {})   # verified cache entries: {file: sha256}
        self.compute = dict(compute or {})   # out-of-core settings (outofcore.py)
        self._files = {d["name"]: d for d in datasets}
        self._loaded = {}
        self._stamps = {}  # name -> (size, mtime_ns) of the file when it was loaded
        self._conv = conventions or {}
        self.notes = []   # load notes not yet shown (see Session)

    def _stale(self, name):
        """Did the file of a loaded dataset change since (re-added with
        --overwrite, edited by hand) or go away?  Then it must load again
        (and a file that is gone fails to load, as if never read: a step
        never gets a deleted dataset from memory)."""
        d, stamp = self._files.get(name), self._stamps.get(name)
        if not d or stamp is None:
            return False
        try:
            st = os.stat(d["path"])
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns) != stamp

    def _resolve(self, key):
        """Accept 'sales', 'sales.csv' or a different letter case."""
        if key in self._files or key in self._loaded:
            return key
        k = str(key)
        stem = os.path.splitext(k)[0]
        for name in list(self._files) + list(self._loaded):
            if name.lower() in (k.lower(), stem.lower()):
                return name
        raise KeyError("no dataset %r; datasets: %s"
                       % (key, ", ".join(sorted(self)) or "(none; add one with `daa add FILE`)"))

    def __getitem__(self, key):
        name = self._resolve(key)
        if name not in self._loaded or self._stale(name):
            d = self._files[name]
            try:
                st = os.stat(d["path"])
                stamp = (st.st_size, st.st_mtime_ns)
            except OSError:
                stamp = None
            self._loaded[name] = load(d["path"], d.get("format"), self._conv, name, self.notes,
                                      self.trusted, self.compute)
            self._stamps[name] = stamp
        return self._loaded[name]

    def is_dask(self, key):
        """Is this dataset Dask-backed (too large for the kernel's memory)?
        Decided from the file's size without loading it."""
        try:
            name = self._resolve(key)
        except KeyError:
            return False
        if name in self._loaded:
            return is_dask(self._loaded[name])
        d = self._files.get(name)
        if not d or not os.path.isfile(d["path"]):
            return False
        return ooc_wanted(d["path"], _format(d["path"], d.get("format")), self.compute) is not None

    def dask_reason(self, key):
        """Why a dataset is Dask-backed (a sentence), or None."""
        d = self._files.get(self._resolve(key))
        if not d or not os.path.isfile(d["path"]):
            return None
        return ooc_wanted(d["path"], _format(d["path"], d.get("format")), self.compute)

    def take_notes(self):
        """The load notes gathered since the last call."""
        out, self.notes = self.notes, []
        return out

    def set_files(self, datasets):
        """The project's dataset list changed: loaded frames of files that are
        still there are kept, others dropped."""
        files = {d["name"]: d for d in datasets}
        for n in [n for n in self._loaded if n in self._files and
                  (n not in files or files[n].get("path") != self._files[n].get("path")
                   or self._stale(n))]:
            del self._loaded[n]
        self._files = files

    def set_conventions(self, conventions):
        """New conventions: forget loaded files (they load again on next use)
        unless the values did not change; returns the names that were dropped."""
        same = conv_values(conventions) == conv_values(self._conv)
        self._conv = conventions or {}
        if same:
            return []
        dropped = [n for n in self._loaded if n in self._files]
        for n in dropped:
            del self._loaded[n]
        return dropped

    def cached(self, name):
        """The loaded frame of a dataset, or None."""
        return self._loaded.get(name)

    def __setitem__(self, key, value):
        self._loaded[str(key)] = value

    def __delitem__(self, key):
        name = self._resolve(key)
        self._loaded.pop(name, None)
        self._files.pop(name, None)

    def __iter__(self):
        return iter(dict.fromkeys(list(self._files) + list(self._loaded)))

    def __len__(self):
        return len(set(self._files) | set(self._loaded))

    def __repr__(self):
        parts = ["%r%s%s" % (n, " (Dask)" if self.is_dask(n) else "",
                             "" if n in self._loaded else " (not loaded yet)") for n in self]
        return "dfs{%s}" % ", ".join(parts)


from .outofcore import is_dask, ooc_read, ooc_wanted  # noqa: E402  daa-export: skip
