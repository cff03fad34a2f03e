#!/usr/bin/env bash
# bench/aot-vs-jit.sh [OUT.md] : the NativeAOT `edgenet` against the JIT's, `edgenet bench` on the perf and real models
# and the convnet families (every model compare covers but the transformer, audio and VAD ones).
# Publishes the NativeAOT binary for each profile (default linux-x64-v4 and linux-x64, i.e. x86-64-v4 and -v3), converts
# the models with the converter, then per model runs `edgenet bench` with the JIT (dotnet edgenet.dll, the Release
# build) and with each AOT binary, interleaved (the order turns every round), AOTJIT_ROUNDS rounds, each model's rounds
# under /tmp/edgenet-measure.lock. Writes a markdown table (default /tmp/edgenet-aotjit/aot-vs-jit.md): per model the
# median over rounds of each engine's p50, of its process CPU time per inference and of its fastest run, and AOT/JIT
# of each. Latency moves with load (read the per-round spread beside it), and so does CPU time here (a loaded VM's
# runs are slower on the core, not only waiting for it; the JIT's also holds its background compiles); the fastest
# run of a thousand moves least, so on a loaded machine AOT/JIT min is the figure to read.
# Build first: dotnet build EdgeNet.sln -c Release.
#   AOTJIT_MODELS="har-fp32 mnv2-100-int8" limits the run to those rows; AOTJIT_PROFILES="linux-x64-v4" to one build;
#   AOTJIT_ROUNDS (5); AOTJIT_THREADS (1): --threads of every run; AOTJIT_SKIP_PUBLISH=1 reuses the binaries in
#   AOTJIT_WORK (/tmp/edgenet-aotjit); AOTJIT_LOCK (/tmp/edgenet-measure.lock; empty: no lock).
#   AOTJIT_NODES=1: every run with --profile (twice the time), and a second table: the time per op, each node's median
#   over the rounds summed per op, to tell a slower kernel from load. On x64 the hot kernels are the same machine code
#   under ILC and the JIT (Gemm.Tile512/Row, the depthwise and indirect-conv tiles: the same RyuJIT at the same ISA);
#   nodes that stream weights or maps from memory (a classifier's Dense, ResNet's last stage) move by 10-25% between
#   processes with the other core's load, so read a gap that does not repeat over rounds as load.
#   AOTJIT_NOPGO=1: one more engine, jit-nopgo: the JIT with DOTNET_TieredPGO=0, which compiles as ILC does, without a
#   profile (ILC has none: no MIBC is passed). Its columns are to the JIT like the AOT ones, so a row where jit-nopgo
#   matches the AOT binary is PGO's doing (block layout and register allocation of the FullOpts kernels, which the JIT
#   compiles "optimized using Synthesized PGO" under TieredPGO, and Tier 1's profile-driven inlining), not ILC's code.
#   Session 18: BlazeFace-128's per-node AOT/JIT (conv2d_1 1.13, depthwise_conv2d_1 1.12, Concat_7 0.94) is jit-nopgo's
#   (1.11, 1.10, 0.91); the sum of the node medians AOT 1.02, jit-nopgo 1.00.
#   `edgenet bench --placement` prints where the arena, constants, input, output and packed weights landed (mod 4096).
#   AOTJIT_PIN (default 1 where AOTJIT_THREADS is 1; 0: off): every run of a round times on the same CPU, the CPU
#   turning every round through the CPUs this process may run on (round r on the ((r-1) mod count)-th of its
#   Cpus_allowed_list; under `taskset -c 1` or in a cpuset CPU 0 need not be one: round r on (r-1) mod nproc put
#   `taskset -c 1`'s runs on CPU 0): `edgenet bench --cpu`, which pins the timing thread only, after the warm-up (the
#   JIT's tier-1 compiler and the runtime's other threads stay free; `taskset` on the whole JIT process put them on the
#   timed CPU). This VM's two vCPUs do not run at the same speed, and which is faster changes from minute to minute (the
#   host's other tenants): session 21, MobileNetV2-1.0 fp32, quiet machine, one AOT binary 3391 µs on CPU 0 and 4590 on
#   CPU 1 in one round, 3686 / 3402 twenty minutes later. Unpinned, each process ran at the speed of the vCPU it landed
#   on, and a 5-round AOT/JIT measured that draw as much as the code (8fd7b5f's idle run: MobileNetV2-1.0 1.05; the same
#   binaries on one CPU in the same rounds: AOT/JIT 0.91-0.97). Needs builds with `bench --cpu` (AOTJIT_JIT of an older
#   build: AOTJIT_PIN=0).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd); shared=$(cd "$root/../shared" && pwd)
work=${AOTJIT_WORK:-/tmp/edgenet-aotjit}; mkdir -p "$work"
out=${1:-$work/aot-vs-jit.md}
profiles=${AOTJIT_PROFILES:-linux-x64-v4 linux-x64} rounds=${AOTJIT_ROUNDS:-5} threads=${AOTJIT_THREADS:-1}
want=${AOTJIT_MODELS:-} lock=${AOTJIT_LOCK-/tmp/edgenet-measure.lock}
pin=${AOTJIT_PIN:-1}
# The CPUs this process may run on (e.g. "1" under taskset -c 1, "0-3,8-11" in a cpuset), one number each.
read -r -a cpus <<<"$(awk '/^Cpus_allowed_list:/ { n = split($2, r, ","); for (i = 1; i <= n; i++) { m = split(r[i], b, "-");
  for (c = b[1]; c <= (m > 1 ? b[2] : b[1]); c++) printf "%d ", c } }' /proc/self/status)"
[ "${#cpus[@]}" -gt 0 ] || read -r -a cpus <<<"$(seq 0 $(($(nproc) - 1)))"   # no Cpus_allowed_list: 0..nproc-1
ncpu=${#cpus[@]}
[ "$threads" = 1 ] || pin=0
jit=${AOTJIT_JIT:-$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll}   # AOTJIT_JIT: another build of edgenet.dll
conv=$root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll
[ -e "$jit" ] && [ -e "$conv" ] || { echo "error: build first (dotnet build EdgeNet.sln -c Release)" >&2; exit 1; }

if [ -z "${AOTJIT_SKIP_PUBLISH:-}" ]; then
  for p in $profiles; do
    # Each profile its own intermediate folder: v3 and v4 share the RID, and ILC must not reuse the other's objects.
    nice -n 19 dotnet publish "$root/runtime/EdgeNet.Cli" -c Release -p:EdgeNetProfile="$p" \
      -p:IntermediateOutputPath="obj/Release/net10.0/$p/" -o "$work/$p" >"$work/publish-$p.log" 2>&1 \
      || { tail -20 "$work/publish-$p.log"; echo "error: publish $p failed" >&2; exit 1; }
  done
fi

perf=$shared/perf models=$shared/models
cache=${EDGENET_MODELS_CACHE:-$HOME/.cache/edgenet-models}
fam=$cache/families   # the convnet families compare covers (EdgeNet.Bench writes them there on its first compare)
src() { [ -e "$models/$1.onnx" ] && echo "$models/$1.onnx" || echo "$cache/$1.onnx"; }
# name | source ONNX | converter flags | timed inferences per bench run (about a second of work)
cases=(
  "har-fp32|$perf/har_lstm_128x9.onnx||2000"
  "har-int8|$perf/har_lstm_128x9.onnx|--quantize int8 --calibration $perf/har_lstm_128x9_input.npy|2000"
  "mnv2-035-fp32|$perf/mobilenetv2_035_96.onnx||1000"
  "mnv2-035-int8|$perf/mobilenetv2_035_96_qdq_int8.onnx||1500"
  "mnv2-100-fp32|$perf/mobilenetv2_100_224.onnx||80"
  "mnv2-100-int8|$perf/mobilenetv2_100_224_qdq_int8.onnx||120"
  "blazeface-128|$models/blazeface_front_128.onnx||400"
  "ultraface-slim|$models/ultraface_slim_320_simplified.onnx||250"
  "resnet18|$(src resnet18_mlnet)|--input-shape Input247=1,3,224,224|20"
  "ppocr-cls|$models/ppocr_mobile_v2_cls.onnx|--input-shape x=1,3,48,192|400"
  "ppocrv4-det|$models/ppocrv4_det.onnx|--input-shape x=1,3,480,640|10"
  "mobilenetv3-small|$fam/mobilenetv3_224.onnx||300"
  "efficientnet-lite0|$fam/efficientnet_lite0_224.onnx||100"
  "efficientnet-b0|$fam/efficientnet_b0_224.onnx||60"
  "shufflenetv2|$fam/shufflenetv2_224.onnx||200"
  "squeezenet11|$fam/squeezenet11_224.onnx||250"
  "densenet121|$fam/densenet121_224.onnx||30"
  "resnet26|$fam/resnet26_224.onnx||40"
  "unet-256|$fam/unet_256_c16.onnx||60"
  "yolov5n-320|$fam/yolov5n_320.onnx||150"
  "yolov8n-320|$fam/yolov8n_320.onnx||120"
  "ssdlite-320|$fam/ssdlite_320_m2.onnx||500"
  "yunet-320|$fam/yunet_320.onnx|--input-shape images=1,3,320,320|700"
)

# p50, process CPU per inference and the fastest run (µs)
p50() { awk '/^p50/ { p = $2; m = $8 } /^CPU per inference/ { c = $4 } END { print p, (c == "" ? "nan" : c), m }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cols=$profiles${AOTJIT_NOPGO:+ jit-nopgo}   # the engines compared with the JIT, a column group each
engines="jit $cols"
raw=$work/raw.tsv; : >"$raw"   # model round engine p50 cpu min
isa=$work/isa.txt; : >"$isa"
nodes=$work/nodes.tsv; : >"$nodes"   # AOTJIT_NODES: model round engine node op µs
prof=${AOTJIT_NODES:+--profile}

for c in "${cases[@]}"; do
  IFS='|' read -r name onnx flags iters <<<"$c"
  [ -z "$want" ] || [[ " $want " == *" $name "* ]] || continue
  [ -e "$onnx" ] || { echo "skip $name: $onnx not found"; continue; }
  enet=$work/$name.enet
  # shellcheck disable=SC2086
  [ -e "$enet" ] || nice -n 19 dotnet "$conv" "$onnx" -o "$enet" $flags >"$work/$name.convert.log" 2>&1 \
    || { tail -5 "$work/$name.convert.log"; rm -f "$enet"; echo "skip $name: conversion failed"; continue; }
  measure() {
    local r e i k n=0; set -- $engines; n=$#
    for r in $(seq 1 "$rounds"); do
      for i in $(seq 0 $((n - 1))); do
        k=$(( (i + r) % n + 1 )); e=${!k}   # the order turns every round
        on=; [ "$pin" = 1 ] && on="--cpu ${cpus[(r - 1) % ncpu]}"   # AOTJIT_PIN: the round's CPU, of those allowed
        # shellcheck disable=SC2086
        if [ "$e" = jit ]; then o=$(dotnet "$jit" bench "$enet" --iters "$iters" --threads "$threads" $prof $on)
        elif [ "$e" = jit-nopgo ]; then o=$(DOTNET_TieredPGO=0 dotnet "$jit" bench "$enet" --iters "$iters" --threads "$threads" $prof $on)
        else o=$("$work/$e/edgenet" bench "$enet" --iters "$iters" --threads "$threads" $prof $on); fi
        # --profile's rows: node, op (two words for "Conv dw"), µs, %
        [ -z "$prof" ] || awk -v m="$name" -v r="$r" -v e="$e" '/^node /{ on = 1; next } /^all nodes/{ on = 0 }
          on && NF >= 4 { op = $2; for (i = 3; i <= NF - 2; i++) op = op " " $i; printf "%s\t%s\t%s\t%s\t%s\t%s\n", m, r, e, $1, op, $(NF - 1) }' <<<"$o" >>"$nodes"
        read -r t cpu tc <<<"$(p50 <<<"$o")"
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$r" "$e" "$t" "$cpu" "$tc" >>"$raw"
        [ "$r" = 1 ] && echo "$e: $(sed -n 's/^ISA paths: //p' <<<"$o")" >>"$isa"
        grep -q 'allocated per inference: 0 bytes' <<<"$o" || echo "warning: $name $e allocates: $(grep allocated <<<"$o")" >&2
      done
    done
  }
  if [ -n "$lock" ]; then exec 9>"$lock"; flock 9; measure; flock -u 9; exec 9>&-; else measure; fi
  echo "$name: $(awk -v m="$name" '$1 == m { printf "%s %s  ", $3, $4 }' "$raw")"
done

{
  echo "# NativeAOT against the JIT: \`edgenet bench\`, $threads thread(s)"
  echo
  echo "Commit $(git -C "$root" rev-parse --short HEAD), $(date -u +%F) UTC, $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo "Median over $rounds interleaved rounds of each run's p50 latency, its process CPU time per inference and its"
  echo "fastest inference (µs); AOT/JIT per profile, with the lowest and highest per-round p50 ratio. On a loaded machine"
  echo "read AOT/JIT min (the fastest of a thousand runs moves least with load)."
  echo "Command: bench/aot-vs-jit.sh (AOTJIT_ROUNDS=$rounds)."
  [ "$pin" = 1 ] && echo "Every run of a round timed on one CPU (bench --cpu: the timing thread pinned after the warm-up), the rounds turning through the CPUs this process may run on (${cpus[*]}): round r on the ((r-1) mod $ncpu)-th (AOTJIT_PIN)." \
    || echo "Runs not pinned (AOTJIT_PIN=0 or more than one thread): each ran on whichever CPU it landed on."
  echo
  printf '| model | JIT p50 | JIT CPU | JIT min |'; for p in $cols; do printf ' %s p50 | %s min | AOT/JIT p50 | per round | AOT/JIT CPU | AOT/JIT min |' "$p" "$p"; done; echo
  printf '|---|---|---|---|'; for p in $cols; do printf -- '---|---|---|---|---|---|'; done; echo
  for name in $(cut -f1 "$raw" | uniq); do
    col() { awk -F'\t' -v m="$name" -v e="$1" -v c="$2" '$1 == m && $3 == e { print $c }' "$raw" | median; }
    jp=$(col jit 4) jc=$(col jit 5) jt=$(col jit 6)
    printf '| %s | %.1f | %.1f | %.1f |' "$name" "$jp" "$jc" "$jt"
    for p in $cols; do
      ap=$(col "$p" 4) ac=$(col "$p" 5) at=$(col "$p" 6)
      spread=$(awk -F'\t' -v m="$name" -v e="$p" '$1 == m && $3 == "jit" { j[$2] = $4 } $1 == m && $3 == e { a[$2] = $4 }
        END { lo = 1e9; hi = 0; for (r in a) { q = a[r] / j[r]; if (q < lo) lo = q; if (q > hi) hi = q } printf "%.2f–%.2f", lo, hi }' "$raw")
      printf ' %.1f | %.1f | **%.2f** | %s | %.2f | **%.2f** |' "$ap" "$at" "$(echo "$ap / $jp" | bc -l)" "$spread" \
        "$(awk -v a="$ac" -v j="$jc" 'BEGIN { print (j ~ /^[0-9.]+$/ && j > 0 ? a / j : "nan") }')" "$(awk -v a="$at" -v j="$jt" 'BEGIN { print (j > 0 ? a / j : "nan") }')"
    done
    echo
  done
  echo
  if [ -n "$prof" ]; then
    echo "Time per op (AOTJIT_NODES=1, every run profiled): each node's median over the rounds, summed over the op's nodes (µs)."
    echo
    printf '| model | op | nodes | JIT |'; for p in $cols; do printf ' %s | AOT/JIT |' "$p"; done; echo
    printf '|---|---|---|---|'; for p in $cols; do printf -- '---|---|'; done; echo
    awk -F'\t' -v engines="$engines" '
      function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
                                            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      !($1 in order) { order[$1] = ++models }
      { k = $1 SUBSEP $5 SUBSEP $4 SUBSEP $3; v[k] = v[k] " " $6 }   # model, op, node, engine: the rounds
      END {
        for (k in v) { split(k, f, SUBSEP); t = median(v[k]); sum[f[1] SUBSEP f[2] SUBSEP f[4]] += t; if (f[4] == "jit") count[f[1] SUBSEP f[2]]++ }
        ne = split(engines, e, " ")
        for (mo in count) { split(mo, f, SUBSEP); j = sum[mo SUBSEP "jit"]
          line = sprintf("| %s | %s | %d | %.1f |", f[1], f[2], count[mo], j)
          for (i = 2; i <= ne; i++) { a = sum[mo SUBSEP e[i]]; line = line sprintf(" %.1f | %.2f |", a, j > 0 ? a / j : 0) }
          printf "%d\t%.3f\t%s\n", order[f[1]], j, line }
      }' "$nodes" | sort -t$'\t' -k1,1n -k2,2gr | cut -f3
    echo
  fi
  echo "ISA paths chosen (first round):"
  echo
  sort -u "$isa" | sed 's/^/    /'
} >"$out"
cat "$out"
