#!/bin/sh
# tools/install.sh — `make install`: copies the built programs and their
# run-time files under PREFIX (default ~/.local), and the systemd user units.
#
#   PREFIX/bin/daad, daa, daa-sandbox, daa-tray      (those that were built)
#   PREFIX/lib/daa/libdaasbx.so                      (when built)
#   PREFIX/share/daa/prompts/   prompt templates
#   PREFIX/share/daa/runtime/   the Python kernel runtime (sandbox/python)
#   PREFIX/share/daa/analyst/   the builtin offline analyst (daemon/analyst)
#   units: ~/.config/systemd/user when PREFIX is under $HOME, else
#          PREFIX/lib/systemd/user; ExecStart points at PREFIX/bin/daad.
#
# daad finds share/daa relative to its own binary (../share/daa), so nothing
# else needs configuring.  `tools/install.sh --uninstall` removes the same
# files.  DESTDIR is honoured for packaging.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PREFIX=${PREFIX:-$HOME/.local}
DESTDIR=${DESTDIR:-}
case "$PREFIX" in /*) ;; *) echo "install: PREFIX must be absolute (got $PREFIX)" >&2; exit 2 ;; esac
PREFIX=${PREFIX%/}

case "$PREFIX/" in
"$HOME"/*) UNITDIR=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user ;;
*) UNITDIR=$PREFIX/lib/systemd/user ;;
esac
BINS="daad daa daa-sandbox daa-tray"

if [ "${1:-}" = "--uninstall" ]; then
	for b in $BINS; do rm -f "$DESTDIR$PREFIX/bin/$b"; done
	rm -rf "$DESTDIR$PREFIX/lib/daa" "$DESTDIR$PREFIX/share/daa"
	rm -f "$DESTDIR$UNITDIR/daad.service" "$DESTDIR$UNITDIR/daad.socket"
	rm -f "$DESTDIR$PREFIX/share/applications/daa-tray.desktop"
	for i in daa daa-busy daa-attention; do
		rm -f "$DESTDIR$PREFIX/share/icons/hicolor/scalable/apps/$i.svg"
	done
	echo "install: removed daa from $PREFIX and $UNITDIR (projects are kept)"
	exit 0
fi

[ -x "$BUILD/bin/daad" ] || { echo "install: $BUILD/bin/daad is missing: run make first" >&2; exit 1; }

# Programs (daa-sandbox / daa-tray only when built).
install -d "$DESTDIR$PREFIX/bin"
for b in $BINS; do
	[ -x "$BUILD/bin/$b" ] && install -m 0755 "$BUILD/bin/$b" "$DESTDIR$PREFIX/bin/$b"
done
if [ -f "$BUILD/lib/libdaasbx.so" ]; then
	install -d "$DESTDIR$PREFIX/lib/daa"
	install -m 0644 "$BUILD/lib/libdaasbx.so" "$DESTDIR$PREFIX/lib/daa/libdaasbx.so"
fi

# Share: a fresh copy of each tree (no stale files from an older install).
SHARE=$DESTDIR$PREFIX/share/daa
copy_tree() { # src dst
	rm -rf "$2"
	install -d "$2"
	if [ -d "$1" ]; then
		(cd "$1" && find . -name __pycache__ -prune -o -type f -print) | while read -r f; do
			install -D -m 0644 "$1/$f" "$2/$f"
		done
	fi
}
copy_tree prompts "$SHARE/prompts"
copy_tree sandbox/python "$SHARE/runtime"
copy_tree daemon/analyst "$SHARE/analyst"
for f in "$SHARE/runtime/daa_kernel.py" "$SHARE/analyst/daa_analyst.py"; do
	[ -f "$f" ] && chmod 0755 "$f"
done
# byte-compiled where they are installed (the analyst runs with
# PYTHONDONTWRITEBYTECODE, a kernel cannot write there): see the Makefile
KERNEL_PYTHON=${KERNEL_PYTHON:-/usr/bin/python3}
if [ -x "$KERNEL_PYTHON" ]; then
	"$KERNEL_PYTHON" -m compileall -q "$SHARE/runtime" "$SHARE/analyst" >/dev/null ||
		echo "note: byte-compiling the Python runtime failed (it still runs, slower)" >&2
fi

# Desktop integration for daa-tray: application menu entry, icons (hicolor),
# the autostart template `daa tray --autostart on` copies to
# ~/.config/autostart (Exec made absolute when PREFIX/bin is not on PATH).
if [ -x "$BUILD/bin/daa-tray" ]; then
	APPS=$DESTDIR$PREFIX/share/applications
	ICONS=$DESTDIR$PREFIX/share/icons/hicolor/scalable/apps
	install -d "$APPS" "$ICONS" "$SHARE/tray"
	sed "s|^Exec=daa-tray|Exec=$PREFIX/bin/daa-tray|" client/tray/data/daa-tray.desktop >"$APPS/daa-tray.desktop"
	sed "s|^Exec=daa-tray|Exec=$PREFIX/bin/daa-tray|" client/tray/data/daa-tray-autostart.desktop \
		>"$SHARE/tray/daa-tray-autostart.desktop"
	chmod 0644 "$APPS/daa-tray.desktop" "$SHARE/tray/daa-tray-autostart.desktop"
	for i in daa daa-busy daa-attention; do
		install -m 0644 "client/tray/data/$i.svg" "$ICONS/$i.svg"
	done
	command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -z "$DESTDIR" ] &&
		gtk-update-icon-cache -q -t "$DESTDIR$PREFIX/share/icons/hicolor" 2>/dev/null || true
fi

# systemd user units, ExecStart pointing at this PREFIX.
install -d "$DESTDIR$UNITDIR"
if [ "$PREFIX" = "$HOME/.local" ]; then
	EXEC="%h/.local/bin/daad"
else
	EXEC="$PREFIX/bin/daad"
fi
sed "s|^ExecStart=%h/.local/bin/daad|ExecStart=$EXEC|" systemd/daad.service \
	>"$DESTDIR$UNITDIR/daad.service"
install -m 0644 systemd/daad.socket "$DESTDIR$UNITDIR/daad.socket"
chmod 0644 "$DESTDIR$UNITDIR/daad.service"

echo "install: daa installed in $PREFIX (units in $UNITDIR)"
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "install: add $PREFIX/bin to your PATH" ;; esac
echo "install: to start daad with your session:"
echo "    systemctl --user daemon-reload && systemctl --user enable --now daad.socket"
