#!/bin/bash
# tools/demo.sh — `make demo`: a private daemon on a demo project made from
# examples/, then a few offline asks (the builtin analyst), showing answers
# and the files they produced.  Leaves the daemon running so the user can go
# on with the printed environment; `daa shutdown` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
DAA=$ROOT/$BUILD/bin/daa
DEMO=$ROOT/$BUILD/demo
mkdir -p "$DEMO/run" "$DEMO/data" "$DEMO/config"
chmod 700 "$DEMO/run"
export DAA_SOCKET=$DEMO/run/daad.sock XDG_RUNTIME_DIR=$DEMO/run
export XDG_DATA_HOME=$DEMO/data XDG_CONFIG_HOME=$DEMO/config
export DAA_PYTHON=${DAA_PYTHON:-/usr/bin/python3}
unset OPENAI_API_KEY DAA_LLM_BASE_URL DAA_LLM_MODEL

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "daemon"
"$DAA" ping
say "demo project from examples/sales.csv"
"$DAA" project rm demo >/dev/null 2>&1 || true
"$DAA" project new demo
"$DAA" -p demo add examples/sales.csv
for q in "how many rows are there" \
	 "total revenue" \
	 "average revenue by region" \
	 "plot revenue over time by month" \
	 "top 5 products by revenue"; do
	say "daa ask \"$q\""
	"$DAA" -p demo ask "$q" </dev/null
done
say "history"
"$DAA" -p demo history 2>/dev/null || ls "$XDG_DATA_HOME/daa/projects/demo/history"
say "go on yourself"
cat <<EOT
export DAA_SOCKET=$DAA_SOCKET XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME
$DAA -p demo ask "plot units by category"
$DAA shutdown     # stops the demo daemon
EOT
