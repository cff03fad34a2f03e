#!/usr/bin/env bash
# Face detection on a still image: converts UltraFace and BlazeFace with edgenet-convert (checked against ONNX
# Runtime), finds the faces in astronaut.png (or the PNG/JPEG given), prints them as JSON and draws them into
# out/faces-<model>.png. Needs only the .NET 10 SDK.   bash examples/facedetect/run.sh [IMAGE]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${OUT_DIR:-$root/out}"; mkdir -p "$out"
image="${1:-$here/astronaut.png}"
dotnet build "$root/tools/converter/EdgeNet.Converter" -c Release --nologo -v quiet
dotnet build "$here/FaceDetect.csproj" -c Release --nologo -v quiet
convert="dotnet $root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll"
facedetect="dotnet $here/bin/Release/net10.0/facedetect.dll"
for model in ultraface_slim_320 blazeface_front_128; do
  $convert "$here/models/$model.onnx" -o "$out/$model.enet" --verify 2>&1 | grep -v "W:onnxruntime"
  $facedetect "$out/$model.enet" "$image" --out "$out/faces-${model%%_*}.png"
done
echo "boxes drawn into $out/faces-ultraface.png and $out/faces-blazeface.png"
