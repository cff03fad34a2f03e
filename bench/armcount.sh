#!/usr/bin/env bash
# bench/armcount.sh [OUT.md] : arm64 instructions per inference, EdgeNet against ONNX Runtime, counted under qemu as a
# Raspberry Pi 4 (cortex-a72) and Pi 5 (cortex-a76) by ../shared/armcount (its README has the method and its limits).
# Publishes the NativeAOT linux-arm64 `edgenet` (or takes EDGENET_ARM64), converts the perf and real models with the
# converter, counts each model on both CPUs, smallest first, and writes a markdown table (default bench/results/arm64.md).
# Deterministic: run it before and after a kernel change. Needs root and setup.sh's tools (it runs setup.sh once).
# A model of several inputs (Silero VAD, MiniLM: the input field names each, NAME=X.npy) is counted by
# bench/armcount-multi.sh for both engines (count.sh and its ortloop feed one float32 input).
#   ARMCOUNT_MODELS="har-fp32 mnv2-035-int8" limits the run to those rows (names as in the table below);
#   ARMCOUNT_CPUS="cortex-a76" to one CPU; ARMCOUNT_ENGINES="edgenet" skips ORT (its counts do not change with ours).
#   ARMCOUNT_SET=families counts the convnet families instead (EdgeNet.Bench's FamilyCases write their ONNX into
#   ~/.cache/edgenet-models/families on a first `compare`; ResNet-18 is ../shared/models/fetch.sh's, like PP-OCR):
#   15 models of 10-830M instructions, 20-230 s a count each on a loaded machine (EdgeNet; ORT's runner 2-3x that), so
#   narrow it with ARMCOUNT_MODELS / ARMCOUNT_CPUS / ARMCOUNT_ENGINES=edgenet (ORT's rows stay from an earlier run: fp32
#   ORT counts A72 = A76 within 0.1%). ARMCOUNT_SET=all counts both sets; rows are kept across runs, so the table
#   carries every set counted.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd); shared=$(cd "$root/../shared" && pwd); ac=$shared/armcount
out=${1:-$root/bench/results/arm64.md}
work=${ARMCOUNT_WORK:-/tmp/edgenet-armcount}; mkdir -p "$work"
dir=${ARMCOUNT_DIR:-/tmp/armcount}
[ -x "$dir/ortloop/ortloop" ] && [ -e "$dir/libinsn.so" ] || bash "$ac/setup.sh" "$dir"
if [ -z "${EDGENET_ARM64:-}" ]; then
  dotnet publish "$root/runtime/EdgeNet.Cli" -c Release -p:EdgeNetProfile=linux-arm64 -o "$work/arm64" >"$work/publish.log" 2>&1 \
    || { tail -20 "$work/publish.log"; echo "error: arm64 publish failed" >&2; exit 1; }
  export EDGENET_ARM64=$work/arm64/edgenet
fi
conv=$root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll
[ -e "$conv" ] || dotnet build "$root/tools/converter/EdgeNet.Converter" -c Release >"$work/convert-build.log" 2>&1 \
  || { tail -20 "$work/convert-build.log"; echo "error: converter build failed" >&2; exit 1; }

perf=$shared/perf models=$shared/models
# The GRU keyword-spotting models are written by a test (no GRU model is in ../shared):
#   EDGENET_GRU_KWS_OUT=/tmp/edgenet-gru-kws tests/EdgeNet.Tests/bin/Release/net10.0/EdgeNet.Tests -class EdgeNet.Tests.GruKeywordModelTests
kws=${GRU_KWS_DIR:-/tmp/edgenet-gru-kws}
fam=${EDGENET_MODELS_CACHE:-$HOME/.cache/edgenet-models}/families cache=${EDGENET_MODELS_CACHE:-$HOME/.cache/edgenet-models}
# The families' inputs: uniform in [-1, 1], one image each, the same bytes every run (one generator, seed 5, in this order)
python3 - "$ac" "$work" <<'PY'
import os, random, sys
sys.path.insert(0, sys.argv[1]); import npy
r = random.Random(5)
for s in (224, 256, 320):
    x = [r.uniform(-1, 1) for _ in range(3 * s * s)]
    f = os.path.join(sys.argv[2], f"in{s}.npy")
    if not os.path.exists(f): npy.write(f, (1, 3, s, s), x)
PY
# name | EdgeNet's source ONNX | converter flags | ORT's ONNX | input | D (extra inferences: more for small models)
cases=(
  "har-fp32|$perf/har_lstm_128x9.onnx||$perf/har_lstm_128x9.onnx|$perf/har_lstm_128x9_input.npy|5"
  "har-int8|$perf/har_lstm_128x9.onnx|--quantize int8 --calibration $perf/har_lstm_128x9_input.npy|$perf/har_lstm_128x9_dynamic_int8.onnx|$perf/har_lstm_128x9_input.npy|5"
  "mnv2-035-fp32|$perf/mobilenetv2_035_96.onnx||$perf/mobilenetv2_035_96.onnx|$perf/mobilenetv2_035_96_input.npy|3"
  "mnv2-035-int8|$perf/mobilenetv2_035_96_qdq_int8.onnx||$perf/mobilenetv2_035_96_qdq_int8.onnx|$perf/mobilenetv2_035_96_input.npy|3"
  "blazeface-128|$models/blazeface_front_128.onnx||$models/blazeface_front_128.onnx|$models/blazeface_front_128.input.npy|3"
  "ultraface-slim|$models/ultraface_slim_320_simplified.onnx||$models/ultraface_slim_320_simplified.onnx|$models/ultraface_slim_320_simplified.input.npy|1"
  "mnv2-100-fp32|$perf/mobilenetv2_100_224.onnx||$perf/mobilenetv2_100_224.onnx|$perf/mobilenetv2_100_224_input.npy|1"
  "mnv2-100-int8|$perf/mobilenetv2_100_224_qdq_int8.onnx||$perf/mobilenetv2_100_224_qdq_int8.onnx|$perf/mobilenetv2_100_224_input.npy|1"
  "gru-kws-128|$kws/gru_kws_h128_lbr1.onnx||$kws/gru_kws_h128_lbr1.onnx|$kws/gru_kws_h128_lbr1.input.npy|5"
  "gru-kws-64-lbr0|$kws/gru_kws_h64_lbr0.onnx||$kws/gru_kws_h64_lbr0.onnx|$kws/gru_kws_h64_lbr0.input.npy|5"
  # ../shared/models' audio and text models (the oww_* and MiniLM .onnx from fetch.sh, in the models cache)
  "oww-mel|$cache/oww_melspectrogram.onnx|--input-shape input=1,16000|$cache/oww_melspectrogram.onnx|$models/oww_melspectrogram.input.npy|3"
  "oww-embedding|$cache/oww_embedding.onnx||$cache/oww_embedding.onnx|$models/oww_embedding.input.npy|3"
  "oww-alexa|$cache/oww_alexa.onnx||$cache/oww_alexa.onnx|$models/oww_alexa.input.npy|5"
  "oww-mycroft|$cache/oww_hey_mycroft.onnx||$cache/oww_hey_mycroft.onnx|$models/oww_hey_mycroft.input.npy|5"
  # several inputs (NAME=X.npy ...): counted by bench/armcount-multi.sh, each input at its file's shape
  "silero-vad|$models/silero_vad_v5.onnx|--input-shape input=1,512 --input-shape state=2,1,128 --input-value sr=16000|$models/silero_vad_v5.onnx|input=$models/silero_vad_v5.input.input.npy state=$models/silero_vad_v5.input.state.npy sr=$models/silero_vad_v5.input.sr.npy|5"
  "minilm-14|$cache/all_minilm_l6_v2.onnx|--input-shape input_ids=1,14 --input-shape attention_mask=1,14 --input-shape token_type_ids=1,14|$cache/all_minilm_l6_v2.onnx|input_ids=$models/all_minilm_l6_v2.input.input_ids.npy attention_mask=$models/all_minilm_l6_v2.input.attention_mask.npy token_type_ids=$models/all_minilm_l6_v2.input.token_type_ids.npy|1"
)
families=(
  "ppocr-cls|$models/ppocr_mobile_v2_cls.onnx|--input-shape x=1,3,48,192|$models/ppocr_mobile_v2_cls.onnx|$models/ppocr_mobile_v2_cls.input.npy|3"
  "mnv3-small|$fam/mobilenetv3_224.onnx||$fam/mobilenetv3_224.onnx|$work/in224.npy|1"
  "yunet-320|$fam/yunet_320.onnx|--input-shape images=1,3,320,320|$fam/yunet_320.onnx|$fam/yunet_320.input.npy|1"
  "ssdlite-320|$fam/ssdlite_320_m2.onnx||$fam/ssdlite_320_m2.onnx|$work/in320.npy|1"
  "shufflenetv2|$fam/shufflenetv2_224.onnx||$fam/shufflenetv2_224.onnx|$work/in224.npy|1"
  "squeezenet11|$fam/squeezenet11_224.onnx||$fam/squeezenet11_224.onnx|$work/in224.npy|1"
  "effnet-lite0|$fam/efficientnet_lite0_224.onnx||$fam/efficientnet_lite0_224.onnx|$work/in224.npy|1"
  "yolov5n-320|$fam/yolov5n_320.onnx||$fam/yolov5n_320.onnx|$work/in320.npy|1"
  "yolov8n-320|$fam/yolov8n_320.onnx||$fam/yolov8n_320.onnx|$work/in320.npy|1"
  "effnet-b0|$fam/efficientnet_b0_224.onnx||$fam/efficientnet_b0_224.onnx|$work/in224.npy|1"
  "unet-256|$fam/unet_256_c16.onnx||$fam/unet_256_c16.onnx|$work/in256.npy|1"
  "resnet18|$cache/resnet18_mlnet.onnx|--input-shape Input247=1,3,224,224|$cache/resnet18_mlnet.onnx|$models/resnet18_mlnet.input.npy|1"
  "resnet26|$fam/resnet26_224.onnx||$fam/resnet26_224.onnx|$work/in224.npy|1"
  "densenet121|$fam/densenet121_224.onnx||$fam/densenet121_224.onnx|$work/in224.npy|1"
  "ppocrv4-det|$models/ppocrv4_det.onnx|--input-shape x=1,3,480,640|$models/ppocrv4_det.onnx|$models/ppocrv4_det.input.npy|1"
)
case ${ARMCOUNT_SET:-perf} in
  perf) ;; families) cases=("${families[@]}") ;; all) cases+=("${families[@]}") ;;
  *) echo "ARMCOUNT_SET: perf, families or all" >&2; exit 2 ;;
esac
want=${ARMCOUNT_MODELS:-} cpus=${ARMCOUNT_CPUS:-cortex-a72 cortex-a76} engines=${ARMCOUNT_ENGINES:-edgenet ort}
rows=$work/rows.tsv; touch "$rows"   # name cpu engine total simd ldst branch other: kept across runs, newest wins

for c in "${cases[@]}"; do
  IFS='|' read -r name src flags ortm input d <<<"$c"
  [ -z "$want" ] || [[ " $want " == *" $name "* ]] || continue
  [ -e "$src" ] || { echo "skip $name: $src not found"; continue; }
  enet=$work/$name.enet
  # shellcheck disable=SC2086
  dotnet "$conv" "$src" -o "$enet" $flags >"$work/$name.convert.log" 2>&1 || { tail -5 "$work/$name.convert.log"; echo "skip $name: conversion failed"; continue; }
  for cpu in $cpus; do
    for eng in $engines; do
      m=$enet; [ "$eng" = ort ] && m=$ortm
      if [[ $input == *=* ]]; then   # named inputs: count.sh takes one float32 input
        # shellcheck disable=SC2086
        r=$(ARMCOUNT_DIR=$dir ARMCOUNT_SHARED=$ac bash "$root/bench/armcount-multi.sh" "$cpu" "$eng" "$m" "$d" $input) || { echo "skip $name $cpu $eng: no count"; continue; }
      else
        r=$("$ac/count.sh" "$cpu" "$eng" "$m" "$input" "$d") || { echo "skip $name $cpu $eng: no count"; continue; }
      fi
      echo "$name $cpu $eng $r"
      read -r total simd ldst branch other <<<"$(sed 's/[a-z]*=//g' <<<"$r")"
      grep -v "^$name $cpu $eng " "$rows" >"$rows.new" || true
      echo "$name $cpu $eng $total $simd $ldst $branch $other" >>"$rows.new"; mv "$rows.new" "$rows"
    done
  done
done

# EdgeNet before this work: main f8c2172 (../shared/armcount's README; BlazeFace counted here)
python3 "$root/bench/armcount_table.py" "$rows" "$out" "$(git -C "$root" rev-parse --short HEAD)" "$root/bench/results/arm64-before-f8c2172.tsv"
