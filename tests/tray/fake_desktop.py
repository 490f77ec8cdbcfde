#!/usr/bin/python3
"""tests/tray/fake_desktop.py — the desktop services a tray talks to, faked on
the session bus for tests: a StatusNotifierWatcher (so daa-tray exports a real
SNI item instead of falling back to XEmbed) and a notification server
(org.freedesktop.Notifications).  Prints one JSON line per event:

    {"ready": true}
    {"item": {"sender": ":1.7", "path": "/org/ayatana/NotificationItem/daa_tray"}}
    {"notify": {"summary": "...", "body": "..."}}
"""
import json
import sys

from gi.repository import Gio, GLib

WATCHER_XML = """<node><interface name="org.kde.StatusNotifierWatcher">
 <method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
 <method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
 <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
 <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
 <property name="ProtocolVersion" type="i" access="read"/>
 <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
 <signal name="StatusNotifierHostRegistered"/>
</interface></node>"""
NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
 <method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/>
  <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
  <arg type="as" direction="in"/><arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
  <arg type="u" direction="out"/></method>
 <method name="GetCapabilities"><arg type="as" direction="out"/></method>
 <method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
  <arg type="s" direction="out"/><arg type="s" direction="out"/></method>
 <method name="CloseNotification"><arg type="u" direction="in"/></method>
</interface></node>"""

items = []
counter = [0]


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def watcher_call(conn, sender, path, iface, method, params, inv):
    if method == "RegisterStatusNotifierItem":
        p = params.unpack()[0]
        items.append("%s%s" % (sender, p) if p.startswith("/") else p)
        out({"item": {"sender": sender, "path": p if p.startswith("/") else "/StatusNotifierItem"}})
        conn.emit_signal(None, path, iface, "StatusNotifierItemRegistered",
                         GLib.Variant("(s)", (items[-1],)))
    inv.return_value(None)


def watcher_prop(conn, sender, path, iface, prop):
    return {"RegisteredStatusNotifierItems": GLib.Variant("as", items),
            "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
            "ProtocolVersion": GLib.Variant("i", 0)}[prop]


def notify_call(conn, sender, path, iface, method, params, inv):
    if method == "Notify":
        a = params.unpack()
        counter[0] += 1
        out({"notify": {"app": a[0], "summary": a[3], "body": a[4]}})
        inv.return_value(GLib.Variant("(u)", (counter[0],)))
    elif method == "GetCapabilities":
        # like GNOME Shell, dunst, xfce4-notifyd: bodies are read as markup
        inv.return_value(GLib.Variant("(as)", (["body", "body-markup"],)))
    elif method == "GetServerInformation":
        inv.return_value(GLib.Variant("(ssss)", ("fake", "daa-tests", "1", "1.2")))
    else:
        inv.return_value(None)


def on_bus(conn, name):
    w = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML).interfaces[0]
    n = Gio.DBusNodeInfo.new_for_xml(NOTIFY_XML).interfaces[0]
    conn.register_object("/StatusNotifierWatcher", w, watcher_call, watcher_prop, None)
    conn.register_object("/org/freedesktop/Notifications", n, notify_call, None, None)


owned = []


def on_name(conn, name):
    owned.append(name)
    if len(owned) == 2:
        out({"ready": True})


Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher",
                 Gio.BusNameOwnerFlags.NONE, on_bus, on_name, None)
Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                 Gio.BusNameOwnerFlags.NONE, None, on_name, None)
GLib.MainLoop().run()
