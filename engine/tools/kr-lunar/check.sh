#!/usr/bin/env bash
# Checks the engine's Korean lunar calendar against korean-lunar-calendar 0.4.0 on EVERY day
# 1900-01-01..2050-12-31, both directions (solar -> lunar and lunar -> solar), through the CLI.
# Usage: engine/tools/kr-lunar/check.sh [path/to/hypercube]   (default: cargo run --release)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [[ -z "$bin" ]]; then
  (cd "$here/../../.." && cargo build --release -q -p server)
  bin="${CARGO_TARGET_DIR:-$here/../../../target}/release/hypercube"
fi
cd "$here"
[[ -d node_modules ]] || npm install --silent
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
node dump_days.js > "$tmp/ref.csv"
cut -d, -f1 "$tmp/ref.csv" | "$bin" lunar --csv > "$tmp/ours.csv"
check() { # name file
  if diff -q "$tmp/ref.csv" "$2" > /dev/null; then
    echo "$1: $(($(wc -l < "$tmp/ref.csv") - 1)) days identical"
  else
    echo "$1: MISMATCH"; diff "$tmp/ref.csv" "$2" | head -20; exit 1
  fi
}
check "solar->lunar" "$tmp/ours.csv"
cut -d, -f2- "$tmp/ref.csv" | "$bin" lunar --to-solar --csv > "$tmp/back.csv"
check "lunar->solar" "$tmp/back.csv"
