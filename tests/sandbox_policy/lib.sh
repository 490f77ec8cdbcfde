# tests/sandbox_policy/lib.sh — shared set-up for the policy tests (sourced,
# not run): a temp project with data/ history/ outputs/, a private temp dir,
# a fake $HOME holding a secret, the probe, and an `expect` that compares the
# probe's verdict lines.
set -u
ROOT=${DAA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BLD=${DAA_BUILD:-$ROOT/build}
SBX=$BLD/bin/daa-sandbox
PROBE=$BLD/tests/sandbox_policy/probe
PY=${DAA_PYTHON:-/usr/bin/python3}
[ -x "$SBX" ] && [ -x "$PROBE" ] || { echo "not built: $SBX $PROBE (run make)"; exit 1; }
T=$(mktemp -d /tmp/daa-sbx-test.XXXXXX)
BGPIDS=""
cleanup() {
	for p in $BGPIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
P=$T/proj
mkdir -p "$P/data" "$P/history" "$P/outputs/plots" "$T/tmp" "$T/home/.ssh" "$T/elsewhere"
echo "date,revenue" > "$P/data/sales.csv"
echo "print(1)" > "$P/history/001_first.py"
echo "PRIVATE KEY" > "$T/home/.ssh/secret"
FAILS=0

# Landlock present?  Tests of that layer skip (77) when it is not.
need_landlock() {
	"$SBX" --probe | grep -q '^landlock: available' || { echo "skip: no Landlock on this kernel"; exit 77; }
}

# expect OUTPUT LINE...: each LINE must be one of OUTPUT's lines.
expect() {
	local out=$1; shift
	for want in "$@"; do
		if ! grep -qxF -- "$want" <<<"$out"; then
			echo "FAIL: expected line '$want'"
			echo "  got: $(grep -F -- "${want%%:*}:" <<<"$out" | head -n 3 | tr '\n' '|')"
			FAILS=$((FAILS + 1))
		fi
	done
}

# Run the probe under the project policy (extra daa-sandbox options first, then --).
under() {
	"$SBX" --project "$P" --tmp "$T/tmp" --ro "$PROBE" "$@"
}

finish() {
	[ "$FAILS" -eq 0 ] && { echo "all checks passed"; exit 0; }
	echo "$FAILS check(s) failed"; exit 1
}
