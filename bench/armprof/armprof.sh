#!/usr/bin/env bash
# bench/armprof/armprof.sh CPU EDGENET_ARM64 MODEL.enet INPUT.npy [D] : where an inference's arm64 instructions go, by
# function (the NativeAOT binary's symbols from its .dbg beside it), under qemu as cortex-a72 or cortex-a76. Like
# ../shared/armcount/count.sh it runs 1 and 1+D inferences and prints the difference / D, so loading cancels out.
# Its total agrees with count.sh's for the same binary and model to within 0.1%. Needs qemu-aarch64 (dynamic), gcc, aarch64-linux-gnu-nm.
set -eu
cpu=$1 bin=$2 model=$3 input=$4 d=${5:-3}
here=$(cd "$(dirname "$0")" && pwd); ac=$(cd "$here/../../../shared/armcount" && pwd)
plugin=${ARMPROF_PLUGIN:-/tmp/armcount/libarmprof.so}
[ -e "$plugin" ] || { mkdir -p "$(dirname "$plugin")"; gcc -O2 -shared -fPIC -I"$ac" -o "$plugin" "$here/armprof.c"; }
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
for n in 1 $((1 + d)); do
  python3 "$ac/rows.py" "$input" "$w/x$n.npy" "$n"
  PROF_OUT=$w/p$n DOTNET_EnableWriteXorExecute=0 qemu-aarch64 -cpu "$cpu" -plugin "$plugin" \
    "$bin" run "$model" --input "$w/x$n.npy" --output "$w/y.npy" --batch 1 >/dev/null
done
python3 "$here/armprof_symbols.py" "$w/p1" "$w/p$((1 + d))" "$bin.dbg" "$d"
