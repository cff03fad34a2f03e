#!/usr/bin/env bash
# bench/threads.sh [OUT.md] : intra-op thread scaling, EdgeNet and ONNX Runtime, on every compare model.
# Runs `EdgeNet.Bench compare --threads 1,N` (the JIT build; N = THREADS_N, default 2) one model group at a time, each
# under /tmp/edgenet-measure.lock (held a minute or two at most), and writes a markdown table (default
# /tmp/edgenet-threads/threads.md): per model p50 at 1 and N threads, the speedup (p50 at 1 / p50 at N) of each engine,
# and EdgeNet/ORT at N threads. Only meaningful on an idle machine with at least N cores: read the load it prints.
#   THREADS_ONLY="HAR ResNet" limits the run to those groups (compare's --only, a substring of the model's name).
#   Build first: dotnet build EdgeNet.sln -c Release.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=${THREADS_WORK:-/tmp/edgenet-threads}; mkdir -p "$work"
out=${1:-$work/threads.md}
n=${THREADS_N:-2} lock=${THREADS_LOCK-/tmp/edgenet-measure.lock}
bench=$root/bench/EdgeNet.Bench/bin/Release/net10.0/EdgeNet.Bench.dll
[ -e "$bench" ] || { echo "error: build first (dotnet build EdgeNet.sln -c Release)" >&2; exit 1; }
groups=${THREADS_ONLY:-digits HAR MobileNetV2-0.35 MobileNetV2-1.0 BlazeFace UltraFace ResNet PP-OCR}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
i=0
for g in $groups; do
  i=$((i + 1)); d=$work/$i-$g; mkdir -p "$d"
  if [ -n "$lock" ]; then flock "$lock" dotnet "$bench" compare --threads "1,$n" --only "$g" --out "$d" >"$d/log.txt" 2>&1
  else dotnet "$bench" compare --threads "1,$n" --only "$g" --out "$d" >"$d/log.txt" 2>&1; fi || { tail -5 "$d/log.txt"; echo "skip $g"; continue; }
  grep 'threads [0-9]*:' "$d/log.txt" || true
done
{
  echo "# Intra-op threads: 1 against $n, EdgeNet and ONNX Runtime"
  echo
  echo "Commit $(git -C "$root" rev-parse --short HEAD), $(date -u +%F) UTC, $(nproc) CPUs, JIT build, load $load0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo "Command: bench/threads.sh (EdgeNet.Bench compare --threads 1,$n per model). p50 in µs; speedup = p50 at 1 thread / p50 at $n."
  echo
  echo "| model | EdgeNet 1 | EdgeNet $n | EdgeNet speedup | ORT 1 | ORT $n | ORT speedup | EdgeNet/ORT at 1 | EdgeNet/ORT at $n |"
  echo "|---|---|---|---|---|---|---|---|---|"
  cat "$work"/*/compare.md 2>/dev/null | awk -F'|' -v n="$n" '
    NF > 9 && $3 ~ /^ *[0-9]+ *$/ { m = $2; gsub(/^ +| +$/, "", m); t = $3 + 0; e[m, t] = $4 + 0; o[m, t] = $6 + 0; if (!(m in seen)) { seen[m] = 1; order[++k] = m } }
    END { for (i = 1; i <= k; i++) { m = order[i]; if (!((m, n) in e)) continue
      printf "| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f |\n", m, e[m, 1], e[m, n], e[m, 1] / e[m, n], o[m, 1], o[m, n], o[m, 1] / o[m, n], e[m, 1] / o[m, 1], e[m, n] / o[m, n] } }'
} >"$out"
cat "$out"
