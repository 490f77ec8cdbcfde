"""Matplotlib figures of a step saved as files: after each step (and at each
plt.show(), like a notebook's inline backend) every open pyplot figure is
written to outputs/plots/<step>_<n>.png at 100 dpi and closed.  Each is
written to a hidden temp name (.<step>_<n>.png.tmp) and renamed, so a
figure file is never half-written.  Absurd sizes are scaled down to MAX_PX
rather than allocated.

The saver's bookkeeping lives in closures, not in attributes of objects the
user namespace holds (plt.show is a plain function).  The daemon does not
trust the list of figures a reply carries anyway: it lists the files itself
(daemon/history/history_figs.c).

pyplot may be imported only when a step first plots (lazyplot.py): until
then there is no figure to save, and plt.show() is made to save once it is
imported."""

import os

from . import lazyplot

DPI = 100
MAX_PX = 8000     # largest width or height written, in pixels
MAX_AREA = 16e6   # largest image written, in pixels (64 MB of RGBA)
PAD_INCHES = 0.1  # savefig's default pad around a tight box


def _fit(fig, notes):
    """Clamp dpi and scale the figure down so it fits MAX_PX."""
    fig.set_dpi(DPI)
    w, h = fig.get_size_inches()
    if not (w > 0 and h > 0) or w != w or h != h:
        raise ValueError("figure has an invalid size %r x %r inches" % (w, h))
    scale = min(1.0, MAX_PX / (w * DPI), MAX_PX / (h * DPI),
                (MAX_AREA / (w * h * DPI * DPI)) ** 0.5)
    if scale < 1.0:
        fig.set_size_inches(w * scale, h * scale)
        notes.append("figure %d was %dx%d px; scaled down to %dx%d (limit: %d px a side, "
                     "%d Mpx)" % (fig.number, w * DPI, h * DPI, w * scale * DPI,
                                  h * scale * DPI, MAX_PX, MAX_AREA / 1e6))


def _bbox(fig):
    """The tight box (in inches, padded as savefig's 'tight' does) when it
    stays within MAX_PX — stray artists far outside the axes could make
    it enormous — else None.  Passing the box to savefig saves the
    second layout pass 'tight' would do."""
    try:
        box = fig.get_tightbbox(fig.canvas.get_renderer())
    except Exception:
        return None
    if box is None or box.width * DPI > MAX_PX or box.height * DPI > MAX_PX:
        return None
    return box.padded(PAD_INCHES)


def _write(fig, path):
    """savefig to a hidden temp name in the same folder, then rename."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, ".%s.tmp" % name)
    try:
        fig.savefig(tmp, dpi=DPI, bbox_inches=_bbox(fig), format="png")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def make_saver():
    """The figure saver of a kernel: (begin(step, plots_dir, project),
    save_open() -> new paths, results() -> (saved paths, notes)).  Its
    state is shared by these closures only."""
    state = {"dir": None, "project": None, "step": "step", "saved": [], "notes": []}

    def begin(step, plots_dir, project):
        """Start a step: numbering restarts at 1 for its figures."""
        state.update(step=step, dir=plots_dir, project=project, saved=[], notes=[])

    def save_open():
        """Save and close every open pyplot figure; returns the new paths."""
        new = []
        for num in open_numbers():
            plt = lazyplot.pyplot()
            fig = plt.figure(num)
            path = os.path.join(state["dir"] or ".", "%s_%d.png"
                                % (state["step"], len(state["saved"]) + 1))
            try:
                _fit(fig, state["notes"])
                _write(fig, path)
                rel = os.path.relpath(path, state["project"]) if state["project"] else path
                state["saved"].append(rel)
                new.append(rel)
            except (Exception, MemoryError) as e:
                state["notes"].append("figure %d not saved: %s: %s" % (num, type(e).__name__, e))
            finally:
                plt.close(fig)
        return new

    def results():
        """(paths saved this step, notes) as copies."""
        return list(state["saved"]), list(state["notes"])

    return begin, save_open, results


def install(save_open):
    """Make plt.show() (every import of pyplot is one module object) save and
    close the open figures now, as a notebook's inline backend does: at once
    when pyplot is imported, else right after its import.  A plain
    function: pyplot sets attributes on it when it switches backends."""
    def show(*args, **kwargs):
        """Save and close the open figures (daa kernel: figures become files)."""
        save_open()

    def patch(plt):
        plt.show = show
        plt.ioff()
    lazyplot.on_pyplot(patch)


def open_numbers():
    """The numbers of the open pyplot figures, in pyplot's order (none
    before pyplot is imported)."""
    plt = lazyplot.pyplot()
    return plt.get_fignums() if plt is not None else []


def close_new(before):
    """Close the figures opened since `before` (open_numbers() then): the
    charts an interrupted step or profile left open."""
    for num in set(open_numbers()) - set(before):
        lazyplot.pyplot().close(num)
