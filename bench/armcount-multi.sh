#!/usr/bin/env bash
# armcount-multi.sh CPU ENGINE MODEL D NAME=X.npy [NAME=X.npy ...] : arm64 instructions per inference of a model with
# several inputs of any dtype (float32, int64, int32), as ../shared/armcount/count.sh counts one float32 input:
# (count with 1+D inferences - count with 1) / D under qemu-aarch64 -cpu CPU with its plugin, one thread.
#   ENGINE edgenet: MODEL .enet, run by $EDGENET_ARM64 with one --input per graph input; each file (one inference's
#                   input) is stacked K times along its first axis, so a batched [1, ...] input holds K rows and an
#                   input without a batch (Silero's state [2,1,128]) K runs; a scalar (Silero's sr) stays as it is
#   ENGINE ort:     MODEL .onnx, run K times by ortloop-multi (bench/ortloop-multi, published here for linux-arm64
#                   into $ARMCOUNT_DIR/ortloop-multi on first use); each file as it is (the input's exact shape)
# Needs root, count.sh's setup (ARMCOUNT_DIR, default /tmp/armcount) and ARMCOUNT_SHARED (default ../shared/armcount).
set -eu
cpu=$1 eng=$2 model=$(realpath "$3") d=$4; shift 4
here=$(cd "$(dirname "$0")" && pwd); dir=${ARMCOUNT_DIR:-/tmp/armcount}
shared=${ARMCOUNT_SHARED:-$here/../../shared/armcount}; w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
case $cpu in cortex-a72) fake=$shared/cpuinfo-a72 ;; cortex-a76) fake=$shared/cpuinfo-a76 ;; *) echo "cpu: cortex-a72 or cortex-a76" >&2; exit 2 ;; esac
if [ "$eng" = ort ] && [ ! -x "$dir/ortloop-multi/ortloop-multi" ]; then
  nice -n 19 dotnet publish "$here/ortloop-multi" -c Release -r linux-arm64 --self-contained -o "$dir/ortloop-multi" >"$w/publish.log" 2>&1 \
    || { tail -20 "$w/publish.log"; exit 1; }
fi
rows() { # NAME=SRC K -> NAME=DST: SRC stacked K times (K=1 for ort, or a scalar: SRC as it is)
  local name=${1%%=*} src=${1#*=}
  python3 - "$shared" "$src" "$w/$name.$2.npy" "$2" "$eng" <<'PY'
import sys
sys.path.insert(0, sys.argv[1]); import npy
s, d = npy.read(sys.argv[2]); k = int(sys.argv[4])
descr = open(sys.argv[2], "rb").read(128).split(b"'descr': '")[1].split(b"'")[0].decode()
if sys.argv[5] == "ort" or len(s) == 0: npy.write(sys.argv[3], s, d, descr)
else: npy.write(sys.argv[3], (k * s[0],) + tuple(s[1:]), d * k, descr)
PY
  echo "$name=$w/$name.$2.npy"
}
run() { # K -> "total simd ldst branch other"
  local cmd ins=()
  for a in "${inputs[@]}"; do ins+=($(rows "$a" $([ "$eng" = ort ] && echo 1 || echo "$1"))); done
  case $eng in
    edgenet) cmd="${EDGENET_ARM64:?set EDGENET_ARM64 to the NativeAOT linux-arm64 edgenet} run $model ${ins[*]/#/--input } --output-dir $w/out --batch 1" ;;
    ort) cmd="$dir/ortloop-multi/ortloop-multi $model $1 ${ins[*]}" ;;
    *) echo "engine: edgenet or ort" >&2; exit 2 ;;
  esac
  rm -rf "$w/out"
  unshare --mount bash -c "mount --bind $fake /proc/cpuinfo && DOTNET_EnableWriteXorExecute=0 DOTNET_TieredCompilation=0 \
      qemu-aarch64 -cpu $cpu -plugin $dir/libinsn.so $cmd" 2>&1 >/dev/null \
    | sed -n 's/^insns: \([0-9]*\) simd=\([0-9]*\) ldst=\([0-9]*\) branch=\([0-9]*\) other=\([0-9]*\)/\1 \2 \3 \4 \5/p'
}
inputs=("$@")
a=($(run 1)); b=($(run $((1 + d))))
[ ${#a[@]} -eq 5 ] && [ ${#b[@]} -eq 5 ] || { echo "no count (did the program run under qemu?)" >&2; exit 1; }
echo "$(( (b[0] - a[0]) / d )) simd=$(( (b[1] - a[1]) / d )) ldst=$(( (b[2] - a[2]) / d )) branch=$(( (b[3] - a[3]) / d )) other=$(( (b[4] - a[4]) / d ))"
