"""daa_tools.files — how daa_tools writes its outputs: each file to a hidden
temp name in its folder, then renamed, so a reader (or the next step) never
sees a half-written report or model, and a kernel stopped mid-write leaves
the previous file in place.  A temp file a killed kernel left is removed by
the next write into that folder: one kernel at a time works on a project,
so none of them is still being written."""

import os
import re

TEMP = re.compile(r"\A\..+\.tmp\Z")   # .<name>.tmp


def temp_name(path):
    """The hidden temp name that path is written to first."""
    folder, name = os.path.split(path)
    return os.path.join(folder, ".%s.tmp" % name)


def drop_stale_temps(folder):
    """Remove the temp files (regular files named .<name>.tmp) in folder."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            if TEMP.match(name) and os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
        except OSError:
            pass


def write_all(writers):
    """writers: [(path, write(temp_path))].  The stale temps of their
    folders are removed first; every file is written to its temp name, then
    all are renamed, in the order given; on any error (an interrupt too) the
    temp files are removed and the error raised."""
    temps = [temp_name(path) for path, _ in writers]
    for folder in {os.path.dirname(tmp) for tmp in temps}:
        drop_stale_temps(folder)
    try:
        for (path, write), tmp in zip(writers, temps):
            write(tmp)
        for (path, _), tmp in zip(writers, temps):
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
