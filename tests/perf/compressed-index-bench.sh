#!/usr/bin/env bash
# The compressed index's "Must show" measurements (README, "Compressed shard index"):
#  1. single vector: 1M clustered unit vectors (D = 512, 20,000 centres, cosine 0.75), pq64x4 over IVF4096;
#  2. multi-vector: 100,000 images × 16 × 512 with text-like queries, pq64x4 and pq128x4 over IVF1024.
# One query at a time on one thread; ground truth (exact float MaxSim) cached as .ivecs next to the queries.
# Needs about 6 GB of disk in DIR and 8 GB of memory; takes tens of minutes (training and encoding).
# Usage: tests/perf/compressed-index-bench.sh [DIR]
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
if [[ ! -f "$dir/multi100k.fvecs" ]]; then
  "$objret" gen-vectors --multi --images 100000 --vectors-per-image 16 --dim 512 --centres 20000 --cosine 0.75 --seed 42 \
    --out "$dir/multi100k.fvecs" --queries 1000 --queries-out "$dir/qmulti.fvecs"
fi
"$objret" bench index --base "$dir/base1m.fvecs" --queries "$dir/q1m.fvecs" --codec pq64x4 --ivf 4096 --refine 1 \
  --nprobe 16,24,32,48 --rerank 100 --json "$dir/single-pq64x4.json"
for codec in pq64x4 pq128x4; do
  "$objret" bench index --base "$dir/multi100k.fvecs" --queries "$dir/qmulti.fvecs" --max-queries 500 --vectors-per-image 16 \
    --codec "$codec" --ivf 1024 --refine 0 --nprobe 64,128,1024 --rerank 1000,2000,4000,8000 --json "$dir/multi-$codec.json"
done
