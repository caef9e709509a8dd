#!/usr/bin/env bash
# Performance budgets for CI: runs the reduced benchmarks of every category named in the budget
# file (short in-process job, 50,000 vectors for the index suite) and exits non-zero when a time
# ratio or an allocation exceeds its budget by more than the file's margin.
# Usage: tests/perf/check-budgets.sh [budget-file]
set -euo pipefail
cd "$(dirname "$0")/../.."
budgets="${1:-tests/ObjectRetrieval.Benchmarks/Budgets/budgets.json}"
dotnet run -c Release --project tests/ObjectRetrieval.Benchmarks -- budget-check --budgets "$budgets"
