#!/usr/bin/env bash
# Builds edgenet_<version>_<arch>.deb: the NativeAOT binary, the systemd unit, a default config and the example model.
#   bash publish-profiles/build-deb.sh linux-arm64 MODEL.enet [OUT_DIR]
set -euo pipefail
rid=${1:-linux-arm64}; model=${2:?an .enet model to ship as the example}; out=${3:-out}
root="$(cd "$(dirname "$0")/.." && pwd)"
arch=$([ "$rid" = linux-arm64 ] && echo arm64 || echo amd64)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")
pkg="$out/deb/edgenet_${version}_${arch}"
rm -rf "$pkg"; mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/edgenet" "$pkg/usr/share/edgenet/models"
dotnet publish "$root/runtime/EdgeNet.Cli" -c Release -p:EdgeNetProfile="$rid" -o "$out/publish-$rid" >/dev/null
install -m 0755 "$out/publish-$rid/edgenet" "$pkg/usr/bin/edgenet"
install -m 0644 "$root/publish-profiles/edgenet.service" "$pkg/lib/systemd/system/edgenet.service"
install -m 0640 "$root/publish-profiles/edgenet.json" "$pkg/etc/edgenet/edgenet.json"
install -m 0644 "$model" "$pkg/usr/share/edgenet/models/gesture.enet"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: edgenet
Version: $version
Architecture: $arch
Maintainer: EdgeNet <edgenet@example.invalid>
Depends: libc6
Section: misc
Priority: optional
Description: EdgeNet deep-learning runtime and classification service
 Runs int8 and fp32 neural networks on sensor and camera streams, and fine-tunes them on the device.
CONTROL
echo "/etc/edgenet/edgenet.json" > "$pkg/DEBIAN/conffiles"
cat > "$pkg/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
getent group edgenet >/dev/null || addgroup --system edgenet
getent passwd edgenet >/dev/null || adduser --system --ingroup edgenet --no-create-home --home /var/lib/edgenet edgenet
for g in gpio i2c video; do getent group $g >/dev/null && adduser edgenet $g >/dev/null || true; done
chgrp edgenet /etc/edgenet/edgenet.json
if [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable edgenet.service >/dev/null || true; fi
POSTINST
chmod 0755 "$pkg/DEBIAN/postinst"
dpkg-deb --root-owner-group --build "$pkg" >/dev/null
echo "$pkg.deb"
