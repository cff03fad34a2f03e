#!/usr/bin/env bash
# Builds edgenet_<version>_<arch>.deb: the NativeAOT binary, the systemd unit, docs/service.md, the model under its own
# name and a config that serves it (IMU for a [N, T, 6] model, camera for an NCHW one). docs/service.md, "The .deb".
#   DEBFULLNAME="Ada Lovelace" DEBEMAIL=ada@example.org bash publish-profiles/build-deb.sh linux-arm64 MODEL.enet [OUT_DIR]
# EDGENET_BINARY=PATH packages that binary instead of publishing one (it must run here: it also inspects the model).
set -euo pipefail
rid=${1:-linux-arm64}; model=${2:?an .enet model to serve}; out=${3:-out}
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$model" ] || { echo "error: model '$model' does not exist" >&2; exit 2; }
name=$(basename "$model")
case "$name" in *.enet) ;; *) echo "error: '$model' is not an .enet model" >&2; exit 2 ;; esac
maintainer_name=${DEBFULLNAME:-$(git -C "$root" config user.name || true)}
maintainer_mail=${DEBEMAIL:-$(git -C "$root" config user.email || true)}
[ -n "$maintainer_name" ] && [ -n "$maintainer_mail" ] || { echo "error: set DEBFULLNAME and DEBEMAIL (the package's Maintainer field)" >&2; exit 2; }
arch=$([ "$rid" = linux-arm64 ] && echo arm64 || echo amd64)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")
pkg="$out/deb/edgenet_${version}_${arch}"

# The model's input decides the source: [N, T, 6] is an IMU window of T samples, [N, C, H, W] a camera frame.
if [ -n "${EDGENET_BINARY:-}" ]; then
  binary=$EDGENET_BINARY; inspect=("$binary")
else
  dotnet publish "$root/runtime/EdgeNet.Cli" -c Release -p:EdgeNetProfile="$rid" -o "$out/publish-$rid" >/dev/null
  binary=$out/publish-$rid/edgenet
  dotnet build "$root/runtime/EdgeNet.Cli" -c Release --nologo -v quiet >/dev/null   # the device binary may not run here
  inspect=(dotnet "$root/runtime/EdgeNet.Cli/bin/Release/net10.0/edgenet.dll")
fi
shape=$("${inspect[@]}" inspect "$model" | sed -n 's/^input: *[^ ]* \[\([^]]*\)\].*/\1/p')
IFS=, read -r -a dims <<< "$shape"
installed=/usr/share/edgenet/models/$name
if [ "${#dims[@]}" = 3 ] && [ "${dims[2]}" = 6 ]; then
  window=${dims[1]}
  config=$(sed -e "s|\"model\": \"[^\"]*\"|\"model\": \"$installed\"|" -e "s|\"window\": [0-9]*|\"window\": $window|" \
               -e "s|\"stride\": [0-9]*|\"stride\": $(( window > 1 ? window / 2 : 1 ))|" "$root/publish-profiles/edgenet.json")
elif [ "${#dims[@]}" = 4 ]; then
  format=$([ "${dims[1]}" = 3 ] && echo rgb24 || echo yuv420)
  codec=$([ "$format" = rgb24 ] && echo rgb || echo yuv420)
  config=$(cat <<CONFIG
{
  "model": "$installed",
  "stateDirectory": "/var/lib/edgenet",
  "source": { "type": "camera", "command": "rpicam-vid",
              "args": ["--codec", "$codec", "--width", "64", "--height", "48", "--framerate", "10", "-t", "0", "--nopreview", "-o", "-"],
              "width": 64, "height": 48, "format": "$format", "frameTimeoutSeconds": 10 },
  "postprocess": { "topK": 3, "threshold": 0.6, "vote": 3 },
  "sinks": { "stdout": true, "jsonLines": "", "gpioChip": -1, "gpioPins": { } },
  "control": { "socket": "/run/edgenet/control.sock" },
  "finetune": { "epochs": 5, "batch": 8, "lr": 0.01, "momentum": 0.9, "train": "head", "holdout": 0.25 }
}
CONFIG
)
else
  echo "error: '$model' takes [$shape]: the service serves [N, T, 6] IMU windows or [N, C, H, W] camera frames" >&2; exit 2
fi

rm -rf "$pkg"; mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/edgenet" "$pkg/usr/share/edgenet/models" "$pkg/usr/share/doc/edgenet"
install -m 0755 "$binary" "$pkg/usr/bin/edgenet"
install -m 0644 "$root/publish-profiles/edgenet.service" "$pkg/lib/systemd/system/edgenet.service"
install -m 0644 "$root/docs/service.md" "$pkg/usr/share/doc/edgenet/service.md"
install -m 0644 "$model" "$pkg$installed"
printf '%s\n' "$config" > "$pkg/etc/edgenet/edgenet.json"; chmod 0640 "$pkg/etc/edgenet/edgenet.json"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: edgenet
Version: $version
Architecture: $arch
Maintainer: $maintainer_name <$maintainer_mail>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: libc6 (>= 2.28), adduser
Section: misc
Priority: optional
Description: EdgeNet deep-learning runtime and classification service
 Runs int8 and fp32 neural networks on sensor and camera streams, and fine-tunes
 them on the device. The edgenet service serves $name (see /etc/edgenet/edgenet.json
 and /usr/share/doc/edgenet/service.md).
CONTROL
echo "/etc/edgenet/edgenet.json" > "$pkg/DEBIAN/conffiles"
cat > "$pkg/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group edgenet >/dev/null || addgroup --system edgenet
  getent passwd edgenet >/dev/null || adduser --system --ingroup edgenet --no-create-home --home /var/lib/edgenet edgenet
  for g in gpio i2c video; do getent group $g >/dev/null && adduser edgenet $g >/dev/null || true; done
  chgrp edgenet /etc/edgenet/edgenet.json
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable edgenet.service >/dev/null || true
    systemctl restart edgenet.service || echo "edgenet: the service did not start; see journalctl -u edgenet" >&2
  fi
fi
POSTINST
cat > "$pkg/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop edgenet.service || true
  systemctl disable edgenet.service >/dev/null || true
fi
PRERM
cat > "$pkg/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
[ -d /run/systemd/system ] && systemctl daemon-reload || true
if [ "$1" = purge ]; then
  rm -rf /var/lib/edgenet /etc/edgenet
  getent passwd edgenet >/dev/null && deluser --system edgenet >/dev/null || true
  getent group edgenet >/dev/null && delgroup --system edgenet >/dev/null || true
fi
POSTRM
chmod 0755 "$pkg/DEBIAN/postinst" "$pkg/DEBIAN/prerm" "$pkg/DEBIAN/postrm"
dpkg-deb --root-owner-group --build "$pkg" >/dev/null
echo "$pkg.deb"
