#!/usr/bin/env bash
# Wake words in a WAV file: downloads openWakeWord's models (fetch-models.sh, CC BY-NC-SA 4.0) if they are not
# there, converts the three stages with edgenet-convert and streams wake.wav (or the 16 kHz mono WAV given) through
# them in 80 ms chunks.   bash examples/wakeword/run.sh [AUDIO.wav]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${OUT_DIR:-$root/out}"; mkdir -p "$out"
models="${EDGENET_MODELS:-$HOME/.cache/edgenet-models}"
wav="${1:-$here/wake.wav}"
[ -f "$models/oww_hey_mycroft.onnx" ] || bash "$here/fetch-models.sh"
dotnet build "$root/tools/converter/EdgeNet.Converter" -c Release --nologo -v quiet
dotnet build "$here/WakeWord.csproj" -c Release --nologo -v quiet
convert="dotnet $root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll"
# The melspectrogram model takes any number of samples; the pipeline feeds it 1760 (a chunk and 480 before it).
$convert "$models/oww_melspectrogram.onnx" -o "$out/oww_melspectrogram.enet" --input-shape input=1,1760
for m in oww_embedding oww_alexa oww_hey_mycroft; do $convert "$models/$m.onnx" -o "$out/$m.enet"; done
dotnet "$here/bin/Release/net10.0/wakeword.dll" "$out/oww_melspectrogram.enet" "$out/oww_embedding.enet" \
  "$out/oww_alexa.enet" "$out/oww_hey_mycroft.enet" "$wav"
