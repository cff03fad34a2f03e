#!/usr/bin/env bash
# Sentence similarity with all-MiniLM-L6-v2: downloads the model and its vocabulary (fetch-model.sh) if they are not
# there, converts the model for sentences of up to 32 tokens with edgenet-convert and prints the cosine similarity
# of two sentences (or those given).   bash examples/sentences/run.sh ["first sentence" "second sentence" ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${OUT_DIR:-$root/out}"; mkdir -p "$out"
models="${EDGENET_MODELS:-$HOME/.cache/edgenet-models}"
[ -f "$models/all_minilm_l6_v2.vocab.txt" ] || bash "$here/fetch-model.sh"
dotnet build "$root/tools/converter/EdgeNet.Converter" -c Release --nologo -v quiet
dotnet build "$here/Sentences.csproj" -c Release --nologo -v quiet
L=32   # the longest sentence, in tokens with [CLS] and [SEP]; shorter ones are padded and masked
[ -f "$out/all_minilm_l6_v2.enet" ] || dotnet "$root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll" \
  "$models/all_minilm_l6_v2.onnx" -o "$out/all_minilm_l6_v2.enet" \
  --input-shape input_ids=1,$L --input-shape attention_mask=1,$L --input-shape token_type_ids=1,$L
if [ $# -lt 2 ]; then
  set -- "A small computer runs the model on the edge in real time." \
         "An embedded board executes the network locally without the cloud." \
         "The recipe needs two cups of flour and a pinch of salt."
fi
dotnet "$here/bin/Release/net10.0/sentences.dll" "$out/all_minilm_l6_v2.enet" "$models/all_minilm_l6_v2.vocab.txt" "$@"
