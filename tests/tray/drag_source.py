#!/usr/bin/python3
"""tests/tray/drag_source.py — a test drag source: a small GTK window at
(X, Y) whose button offers the given files as text/uri-list over XDND, so a
test can drag them onto daa-tray with xdotool like a file manager would.

    drag_source.py X Y FILE...     (prints "ready" once mapped)
"""
import sys

import gi
gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk, Gdk  # noqa: E402

x, y, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
uris = [GLib.filename_to_uri(f, None) for f in files]

win = Gtk.Window(title="daa drag source")
win.move(x, y)
win.set_default_size(180, 120)
btn = Gtk.Button(label="drag me")
btn.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
btn.drag_source_add_uri_targets()


def get_data(widget, ctx, sel, info, time):
    sel.set_uris(uris)


def drag_end(widget, ctx):
    print("drag-end", flush=True)


btn.connect("drag-data-get", get_data)
btn.connect("drag-end", drag_end)
win.add(btn)
win.connect("destroy", Gtk.main_quit)
win.connect("map-event", lambda *a: print("ready", flush=True))
win.show_all()
Gtk.main()
