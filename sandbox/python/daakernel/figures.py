"""Matplotlib figures of a step saved as files: after each step (and at each
plt.show(), like a notebook's inline backend) every open pyplot figure is
written to outputs/plots/<step>_<n>.png at 100 dpi and closed.  Absurd sizes
are scaled down to MAX_PX rather than allocated."""

import os

import matplotlib.pyplot as plt

DPI = 100
MAX_PX = 8000     # largest width or height written, in pixels
MAX_AREA = 16e6   # largest image written, in pixels (64 MB of RGBA)
PAD_INCHES = 0.1  # savefig's default pad around a tight box


class FigureSaver:
    """Saves open figures for the current step; one per kernel."""

    def __init__(self):
        self.plots_dir = None
        self.project = None
        self.step = "step"
        self.saved = []
        self.notes = []

    def begin(self, step, plots_dir, project):
        """Start a step: numbering restarts at 1 for its figures."""
        self.step, self.plots_dir, self.project = step, plots_dir, project
        self.saved, self.notes = [], []

    def _fit(self, fig):
        """Clamp dpi and scale the figure down so it fits MAX_PX."""
        fig.set_dpi(DPI)
        w, h = fig.get_size_inches()
        if not (w > 0 and h > 0) or w != w or h != h:
            raise ValueError("figure has an invalid size %r x %r inches" % (w, h))
        scale = min(1.0, MAX_PX / (w * DPI), MAX_PX / (h * DPI),
                    (MAX_AREA / (w * h * DPI * DPI)) ** 0.5)
        if scale < 1.0:
            fig.set_size_inches(w * scale, h * scale)
            self.notes.append("figure %d was %dx%d px; scaled down to %dx%d (limit: %d px a side, "
                              "%d Mpx)" % (fig.number, w * DPI, h * DPI, w * scale * DPI,
                                           h * scale * DPI, MAX_PX, MAX_AREA / 1e6))

    def _bbox(self, fig):
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

    def save_open(self):
        """Save and close every open pyplot figure; returns the new paths."""
        new = []
        for num in plt.get_fignums():
            fig = plt.figure(num)
            path = os.path.join(self.plots_dir or ".", "%s_%d.png"
                                % (self.step, len(self.saved) + 1))
            try:
                self._fit(fig)
                fig.savefig(path, dpi=DPI, bbox_inches=self._bbox(fig))
                rel = os.path.relpath(path, self.project) if self.project else path
                self.saved.append(rel)
                new.append(rel)
            except (Exception, MemoryError) as e:
                self.notes.append("figure %d not saved: %s: %s" % (num, type(e).__name__, e))
            finally:
                plt.close(fig)
        return new


def install(saver):
    """Make plt.show() (every import of pyplot is one module object) save and
    close the open figures now, as a notebook's inline backend does.  A plain
    function: pyplot sets attributes on it when it switches backends."""
    def show(*args, **kwargs):
        """Save and close the open figures (daa kernel: figures become files)."""
        saver.save_open()
    plt.show = show
    plt.ioff()
