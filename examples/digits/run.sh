#!/usr/bin/env bash
# The bundled example: convert the PyTorch-trained digits CNN (ONNX) to .enet, check it against ONNX Runtime,
# and evaluate it on the 397 held-out digits. Needs only the .NET 10 SDK.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${OUT_DIR:-$root/out}"; mkdir -p "$out"
dotnet build "$root/EdgeNet.sln" -c Release --nologo -v quiet
dotnet "$root/tools/converter/EdgeNet.Converter/bin/Release/net10.0/edgenet-convert.dll" \
  "$here/cnn_digits.onnx" -o "$out/cnn_digits.enet" --labels "$here/labels.txt" --verify
dotnet "$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll" eval "$out/cnn_digits.enet" \
  --data "$here/digits_test_x.npy" --labels "$here/digits_test_y.npy"
dotnet "$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll" bench "$out/cnn_digits.enet" --iters 2000
