#!/usr/bin/env bash
# The office-shaped first allocations of solutions/BENCHMARKS.md ("Offices"):
# 24 generated offices (seeds 0-23) as first allocations, each solved once
# at the default 10 s in a fresh process, the greedy baseline beside it.
#   bash solutions/bench/office.sh [OUT]
set -euo pipefail
out=${1:-solutions/bench/office}
tmp=$(mktemp -d)
for s in $(seq 0 23); do
  allocator generate --shape office --first-allocation --seed "$s" --out "$tmp/office-$s" >/dev/null
done
allocator bench "$tmp"/office-{0..23} --time-limit 10 --seed 0 --out "$out"
