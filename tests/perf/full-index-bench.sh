#!/usr/bin/env bash
# The full-size index measurement: 1M clustered unit vectors (D = 512, 20,000 centres, cosine 0.75),
# 1,000 queries, top-10, one query at a time on one thread; exact int8 scan vs IVF.
# Needs about 3 GB of disk in DIR and 5 GB of memory. Usage: tests/perf/full-index-bench.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-/tmp/objret-vectors}"
mkdir -p "$dir"
dotnet build -c Release src/ObjectRetrieval.Cli >/dev/null
objret=src/ObjectRetrieval.Cli/bin/Release/net10.0/linux-x64/objret
if [[ ! -f "$dir/base1m.fvecs" ]]; then
  "$objret" gen-vectors --clustered --n 1000000 --dim 512 --centres 20000 --cosine 0.75 --seed 42 \
    --out "$dir/base1m.fvecs" --queries 1000 --queries-out "$dir/q1m.fvecs"
fi
"$objret" bench index --base "$dir/base1m.fvecs" --queries "$dir/q1m.fvecs" --k 10 --codec int8 \
  --ivf 4096 --nprobe 8,16,24,32,48 --exact-queries 100 --threads 1 --json "$dir/bench-index-1m.json"
