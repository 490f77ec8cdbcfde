#!/bin/sh
# tests/integration/test_layering.sh — the layering rules of DESIGN.md hold
# (tools/check_layering.sh: include directions and what client binaries link).
cd "${DAA_ROOT:-$(dirname "$0")/../..}" || exit 1
BUILD=$(realpath --relative-to=. "${DAA_BUILD:-build}") exec ./tools/check_layering.sh
