#!/usr/bin/env bash
# The sensor example: gesture classes (still, shake, circle) from IMU windows. EdgeNet makes simulated labelled
# windows through its MPU-6050 driver, trains an LSTM on them itself, and serves it on a simulated IMU; the control
# socket then shows the results. On a Pi, set "simulated": false in the config to read a real MPU-6050 on I2C bus 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
out="${OUT_DIR:-$root/out}/gesture"; mkdir -p "$out"
edgenet() { dotnet "$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll" "$@"; }
dotnet build "$root/EdgeNet.sln" -c Release --nologo -v quiet
edgenet imu-dataset -o "$out/data" --windows 300
edgenet train --arch "lstm:16,dense:3" --input-shape 50x6 --class-names "$out/data/labels.txt" \
  --data "$out/data/x.npy" --labels "$out/data/y.npy" -o "$out/gesture.enet" --epochs 8 --batch 16 --lr 0.05 --momentum 0.9
sed -e "s|@MODEL@|$out/gesture.enet|" -e "s|@STATE@|$out/state|" -e "s|@SOCKET@|$out/control.sock|" "$here/edgenet.json" > "$out/edgenet.json"
dotnet "$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll" serve --config "$out/edgenet.json" > "$out/results.log" 2> "$out/service.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for i in $(seq 50); do [ -S "$out/control.sock" ] && break; sleep 0.2; done
sleep 6
edgenet ctl --socket "$out/control.sock" status
edgenet ctl --socket "$out/control.sock" metrics
kill -TERM $pid; wait $pid || true
echo "results (JSON lines): $out/results.log"; tail -3 "$out/results.log"
