#!/usr/bin/env bash
# The project's search beside a local-search peer (Timefold Solver), on the
# first allocations of BENCHMARKS.md: one solve at a time, the load average
# noted before each. Needs `pip install timefold==1.24.0b0` and Java 17+.
#   bash solutions/bench/peer.sh [OUT] [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-solutions/bench/peer}
shift || true
seeds=${*:-0 1 2 3 4 5 9 19}
work=$(mktemp -d)
mkdir -p "$out"
: > "$out/results.jsonl"
: > "$out/allocator-load.txt"
python - "$work/hallingdal-first" <<'PY'
import sys
import allocator
from allocator.compare import first_allocation
instance = allocator.read_instance("instances/hallingdal")
allocator.write_instance(first_allocation(instance), sys.argv[1])
PY
dirs=("$work/hallingdal-first")
for seed in $seeds; do
  allocator generate --shape office --first-allocation --seed "$seed" --out "$work/office-$seed" > /dev/null
  dirs+=("$work/office-$seed")
done
for dir in "${dirs[@]}"; do
  name=$(python -c "import allocator, sys; print(allocator.read_instance(sys.argv[1]).name)" "$dir")
  echo "$name $(cut -d' ' -f1 /proc/loadavg)" >> "$out/allocator-load.txt"
  allocator solve "$dir" --time-limit 10 --seed 0 --out "$work/sol-$name" --no-xlsx --quiet > /dev/null
  users=$(($(wc -l < "$dir/users.csv") - 1))
  limits="10"
  if [ "$users" -ge 1400 ]; then limits="10 30"; fi
  for limit in $limits; do
    for config in first-fit-la first-fit-la-40; do
      python solutions/bench/peer.py "$dir" --time-limit "$limit" --config "$config" \
        --allocator "$work/sol-$name" --jsonl "$out/results.jsonl" > /dev/null
    done
  done
done
python solutions/bench/peer.py table "$out/results.jsonl" | tee "$out/table.md"
rm -rf "$work"
