#!/bin/sh
# tools/deps.sh — install the Debian packages daa needs, only those missing
# (checked with dpkg first), with sudo when not root.  Idempotent.
set -eu
# python3-vega-datasets: data files only (the Vega example tables), read by
# the analyst's held-out bench, bench/analyst/heldout/data.py (test6.json)
PKGS="build-essential pkg-config libmsgpack-dev libjansson-dev libcurl4-openssl-dev
 libseccomp-dev libcap-dev nettle-dev python3 python3-pandas python3-matplotlib python3-sklearn
 python3-scipy python3-statsmodels python3-seaborn python3-msgpack python3-openpyxl python3-nbformat python3-nbclient python3-nbconvert python3-jupyter-client python3-ipykernel python3-dask python3-distributed distro-info-data python3-vega-datasets
 systemd tmux valgrind libreadline-dev zlib1g-dev libpng-dev libchafa-dev cppcheck clang chromium
 libgtk-3-dev libayatana-appindicator3-dev libnotify-dev xvfb dbus-x11 python3-dogtail at-spi2-core xdotool imagemagick openbox x11-utils"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && { echo "deps: all Debian packages present"; exit 0; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
