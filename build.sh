#!/usr/bin/env bash
# Channels.Net build entry point.
#   ./build.sh test     install what the tests need (if missing), build, run every test
#   ./build.sh build    build the solution (Release)
#   ./build.sh bench    run the benchmarks (Release)
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "build.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH." >&2
    exit 1
  fi
}

# Debian packages the tests drive as real peers: Redis, the Python channels_redis / daphne, Chromium
# (python3-nacl: the independent XChaCha20-Poly1305 reference for the AEAD cipher tests).
TEST_PACKAGES=(redis-server redis-sentinel redis-tools python3-channels-redis python3-msgpack python3-cryptography python3-nacl python3-daphne chromium)

package_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_test_dependencies() {
  local missing=() package
  for package in "${TEST_PACKAGES[@]}"; do
    package_missing "$package" && missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "build.sh: installing ${missing[*]}"
  local sudo=()
  ((EUID != 0)) && sudo=(sudo)
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "build.sh: cannot install ${missing[*]}: apt-get is not available; install them by hand." >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

cmd_build() {
  need_dotnet
  dotnet build Channels.Net.sln -c Release
}

cmd_test() {
  need_dotnet
  install_test_dependencies
  dotnet build Channels.Net.sln -c Release
  local results=artifacts/test-results
  rm -rf "$results"
  local status=0
  local project name
  for project in tests/*/*.csproj; do
    name=$(basename "$project" .csproj)
    dotnet test "$project" -c Release --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=$?
  done
  # One closing line over every test assembly, from the TRX files: "N passed, N failed, N skipped".
  local passed=0 failed=0 skipped=0 runs=0 counters
  for trx in "$results"/*.trx; do
    [[ -f $trx ]] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
    failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
    skipped=$((skipped + $(sed -E 's/.* notExecuted="([0-9]+)".*/\1/' <<<"$counters")))
    runs=$((runs + 1))
  done
  echo "Tests: $passed passed, $failed failed, $skipped skipped"
  if ((runs == 0 || passed == 0)); then
    echo "build.sh: no test run reported a result" >&2
    status=1
  fi
  if ((failed > 0 || skipped > 0)); then
    status=1
  fi
  return "$status"
}

cmd_bench() {
  need_dotnet
  dotnet run -c Release --project benchmarks/Channels.Net.Benchmarks -- "${@:-all}"
}

case "${1:-}" in
  test) cmd_test ;;
  build) cmd_build ;;
  bench) shift; cmd_bench "$@" ;;
  *) echo "usage: ./build.sh test | build | bench [scenario]" >&2; exit 2 ;;
esac
