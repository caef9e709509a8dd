#!/usr/bin/env bash
# Runs every test of the repository on a fresh machine: installs what the tests need, builds, tests.
# Usage: ./test.sh            (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

echo "== tools"
# Debian packages the tests run: Prometheus and promtool (dashboard and metrics tests), Chromium (browser test).
missing=()
{ command -v prometheus >/dev/null && command -v promtool >/dev/null; } || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing ${missing[*]} and cannot install them (needs root and apt-get): install these Debian packages." >&2
  fi
fi

echo "== test tools"
# Azurite (Azure Storage emulator) for the storage and cluster tests, pinned in tests/tools/package-lock.json.
if [ ! -x tests/tools/node_modules/.bin/azurite-blob ]; then
  command -v npm >/dev/null || { echo "npm is required to install Azurite (apt-get install nodejs npm)" >&2; exit 1; }
  npm ci --prefix tests/tools --no-audit --no-fund
fi

echo "== build"
dotnet build ObjectRetrieval.sln -c Release -warnaserror

echo "== vulnerable packages"
# Every package, direct or transitive, against the advisories NuGet knows; any finding fails the run.
vulnerable="$(dotnet list ObjectRetrieval.sln package --vulnerable --include-transitive 2>&1)"
echo "$vulnerable" | grep -E "has the following vulnerable packages|Critical|High|Moderate|Low" || true
if echo "$vulnerable" | grep -q "has the following vulnerable packages"; then
  echo "vulnerable packages found (above): update them in Directory.Packages.props" >&2
  exit 1
fi
if echo "$vulnerable" | grep -qiE "error|unable to"; then
  echo "$vulnerable" >&2
  echo "the vulnerability check could not run" >&2
  exit 1
fi

echo "== tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
dotnet test ObjectRetrieval.sln -c Release --no-build --logger "console;verbosity=normal" | tee "$log"

echo "== performance budgets"
tests/perf/check-budgets.sh

# One closing line over every test project.
awk '/^ +Passed: +[0-9]+$/ {p += $2} /^ +Failed: +[0-9]+$/ {f += $2} /^ +Skipped: +[0-9]+$/ {s += $2}
     END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
