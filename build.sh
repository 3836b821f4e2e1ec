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

cmd_build() {
  need_dotnet
  dotnet build Channels.Net.sln -c Release
}

cmd_test() {
  need_dotnet
  dotnet build Channels.Net.sln -c Release
  local log
  log=$(mktemp)
  set +e
  dotnet test Channels.Net.sln -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  set -e
  # One closing line over every test assembly: "N passed, N failed, N skipped".
  awk '/^(Passed|Failed)! +- /{
         for (i = 1; i <= NF; i++) {
           if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
         }
         runs++
       }
       END { gsub(/,/, "", p); printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s; if (runs == 0) exit 1 }' "$log" || {
    echo "build.sh: no test run reported a result" >&2
    status=1
  }
  rm -f "$log"
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
