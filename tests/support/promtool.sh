#!/usr/bin/env bash
# Checks Prometheus text exposition with `promtool check metrics`, strictly: passes only when
# promtool exits 0 *and* prints nothing (promtool also prints lint problems it does not fail on).
#
#   tests/support/promtool.sh [FILE]          # FILE, or stdin
#   curl -s http://127.0.0.1:8080/metrics | tests/support/promtool.sh
#
# promtool: $EDGEMON_PROMTOOL, else on PATH, else $EDGEMON_PROMTOOL_DIR/promtool (default
# /var/cache/edgemon/promtool, where .ci/deps puts it). Exit status: 0 clean, 1 problems (printed),
# 77 promtool not found (ctest's SKIP_RETURN_CODE convention), 2 usage.
set -euo pipefail

[ $# -le 1 ] || { echo "usage: $0 [FILE]" >&2; exit 2; }
promtool=${EDGEMON_PROMTOOL:-}
if [ -z "$promtool" ]; then
  promtool=$(command -v promtool 2>/dev/null || true)
fi
if [ -z "$promtool" ]; then
  promtool=${EDGEMON_PROMTOOL_DIR:-/var/cache/edgemon/promtool}/promtool
fi
[ -x "$promtool" ] || { echo "promtool.sh: promtool not found (run .ci/deps)" >&2; exit 77; }

input=${1:-/dev/stdin}
status=0
said=$("$promtool" check metrics < "$input" 2>&1) || status=$?
if [ "$status" != 0 ] || [ -n "$said" ]; then
  echo "promtool check metrics: exit $status" >&2
  [ -z "$said" ] || printf '%s\n' "$said" >&2
  exit 1
fi
