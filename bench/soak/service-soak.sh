#!/usr/bin/env bash
# An hour in the life of `edgenet serve` (issue 15, "Must show"): two services — one on camera frames from ffmpeg
# (the digits CNN), one on the simulated IMU (a gesture model) — while clients connect, query, subscribe, label,
# reload, fine-tune and roll back throughout. Every 30 s each service's RSS, threads, open files, windows and faults
# go to soak.csv; at the end both are stopped with SIGTERM and summary.txt says whether they stayed flat.
# Loopback only (Unix sockets), bounded by DURATION (seconds).
#   EDGENET=/path/to/edgenet (NativeAOT) or EDGENET_DLL=/path/to/edgenet.dll; EDGENET_CONVERT_DLL=/path/to/edgenet-convert.dll;
#   EDGENET_ROOT=the repository when the script runs from a copy
#   bash bench/soak/service-soak.sh OUT_DIR [DURATION]
set -uo pipefail
out=${1:?output folder}; duration=${2:-3300}
root=${EDGENET_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}   # the repository (for the example models)
mkdir -p "$out"; out=$(cd "$out" && pwd)
if [ -n "${EDGENET:-}" ]; then cmd=("$EDGENET"); else cmd=(dotnet "${EDGENET_DLL:?set EDGENET or EDGENET_DLL}"); fi
en() { "${cmd[@]}" "$@"; }
command -v ffmpeg >/dev/null || { echo "error: ffmpeg is needed for the camera frames" >&2; exit 2; }

# Models: the digits CNN converted, and a small gesture classifier trained on simulated IMU windows.
dotnet "${EDGENET_CONVERT_DLL:?set EDGENET_CONVERT_DLL}" "$root/examples/digits/cnn_digits.onnx" -o "$out/digits.enet" --labels "$root/examples/digits/labels.txt" >/dev/null
en imu-dataset -o "$out/imu-data" --windows 300 >/dev/null
en train --arch "dense:32,relu,dense:3" --input-shape 50x6 --class-names "$out/imu-data/labels.txt" --data "$out/imu-data/x.npy" \
   --labels "$out/imu-data/y.npy" -o "$out/gesture.enet" --epochs 5 --batch 16 --lr 0.05 --momentum 0.9 >/dev/null

cat > "$out/camera.json" <<JSON
{ "model": "$out/digits.enet", "stateDirectory": "$out/camera-state", "threads": 1,
  "source": { "type": "camera", "command": "ffmpeg", "width": 64, "height": 48, "format": "gray8", "frameTimeoutSeconds": 10,
              "args": ["-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "600", "-f", "rawvideo", "-pix_fmt", "gray", "-"] },
  "postprocess": { "topK": 3, "threshold": 0.3, "vote": 3 },
  "sinks": { "stdout": false, "jsonLines": "$out/camera-results.jsonl" },
  "control": { "socket": "$out/camera.sock", "maxClients": 8, "idleTimeoutSeconds": 30 },
  "finetune": { "epochs": 3, "batch": 8, "lr": 0.01, "momentum": 0.9, "train": "head", "holdout": 0.25, "maxLabelled": 200 } }
JSON
cat > "$out/imu.json" <<JSON
{ "model": "$out/gesture.enet", "stateDirectory": "$out/imu-state", "threads": 1,
  "source": { "type": "imu", "simulated": true, "rateHz": 50, "window": 50, "stride": 25, "simulatedGestures": [0, 1, 2], "simulatedGestureSamples": 150 },
  "postprocess": { "topK": 3, "threshold": 0.5, "vote": 3 },
  "sinks": { "stdout": false, "jsonLines": "$out/imu-results.jsonl" },
  "control": { "socket": "$out/imu.sock", "maxClients": 8, "idleTimeoutSeconds": 30 },
  "finetune": { "epochs": 5, "batch": 8, "lr": 0.01, "momentum": 0.9, "train": "all", "holdout": 0.25, "maxLabelled": 200 } }
JSON

"${cmd[@]}" serve --config "$out/camera.json" > /dev/null 2> "$out/camera.log" & cam=$!
"${cmd[@]}" serve --config "$out/imu.json" > /dev/null 2> "$out/imu.log" & imu=$!
trap 'kill -TERM $cam $imu 2>/dev/null; kill $(jobs -p) 2>/dev/null' EXIT
for i in $(seq 300); do [ -S "$out/camera.sock" ] && [ -S "$out/imu.sock" ] && break; sleep 0.2; done

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'; }
echo "t_s,service,rss_kb,threads,fds,windows,faults,labelled,model_version,finetune" > "$out/soak.csv"
sample() {
  local t=$1 name=$2 pid=$3 sock=$4
  local st; st=$(en ctl --socket "$sock" status 2>/dev/null)
  echo "$t,$name,$(awk '/^VmRSS/{print $2}' /proc/$pid/status),$(awk '/^Threads/{print $2}' /proc/$pid/status),$(ls /proc/$pid/fd | wc -l),$(echo "$st" | field windows),$(echo "$st" | field sensorFaults),$(echo "$st" | field labelledSamples),$(echo "$st" | field modelVersion),$(echo "$st" | field finetune)" >> "$out/soak.csv"
}

# Clients, all the time (one round every ~3.5 s): queries every round, a label every 3rd, a subscriber every 15th,
# a reload every 40th (~2.5 min), a fine-tune every 200th (~12 min), a rollback every 400th.
clients() {
  local name=$1 sock=$2 classes=$3 n=0
  while :; do
    n=$((n + 1))
    en ctl --socket "$sock" status >/dev/null 2>&1; en ctl --socket "$sock" metrics >/dev/null 2>&1
    last=$(en ctl --socket "$sock" last 2>/dev/null)
    if [ $((n % 3)) = 0 ]; then
      truth=$(echo "$last" | field truth); [ -n "$truth" ] || truth=$((RANDOM % classes))
      en ctl --socket "$sock" label "$truth" >/dev/null 2>&1
    fi
    [ $((n % 15)) = 0 ] && timeout 3 "${cmd[@]}" ctl --socket "$sock" subscribe >/dev/null 2>&1
    [ $((n % 40)) = 0 ] && en ctl --socket "$sock" reload >/dev/null 2>&1
    [ $((n % 200)) = 0 ] && en ctl --socket "$sock" finetune >> "$out/$name-finetunes.log" 2>&1
    [ $((n % 400)) = 0 ] && en ctl --socket "$sock" rollback >> "$out/$name-finetunes.log" 2>&1
    sleep 3
  done
}
clients camera "$out/camera.sock" 10 & clients imu "$out/imu.sock" 3 &

start=$(date +%s)
while :; do
  t=$(( $(date +%s) - start ))
  sample "$t" camera $cam "$out/camera.sock"; sample "$t" imu $imu "$out/imu.sock"
  [ "$t" -ge "$duration" ] && break
  kill -0 $cam 2>/dev/null && kill -0 $imu 2>/dev/null || { echo "a service died" >> "$out/summary.txt"; break; }
  sleep 30
done
kill $(jobs -p | grep -v -e "^$cam\$" -e "^$imu\$") 2>/dev/null
kill -TERM $cam $imu; wait $cam; cam_rc=$?; wait $imu; imu_rc=$?
trap - EXIT
{
  echo "duration ${duration}s; exit codes after SIGTERM: camera $cam_rc, imu $imu_rc"
  for s in camera imu; do
    awk -F, -v s=$s '$2==s { n++; if (n==3) { r0=$3; t0=$4; f0=$5 } if (n>=3) { if ($3>rmax) rmax=$3; if (rmin==""||$3<rmin) rmin=$3; if ($4>tmax) tmax=$4; if ($5>fmax) fmax=$5 }
      if (prev!="" && $6<=prev) stalls++; prev=$6; last=$0 }
      END { printf "%s: after warm-up (sample 3) RSS %d..%d kB, threads %d -> max %d, fds %d -> max %d, samples without new windows: %d; last: %s\n", s, rmin, rmax, t0, tmax, f0, fmax, stalls+0, last }' "$out/soak.csv"
  done
} >> "$out/summary.txt"
cat "$out/summary.txt"
