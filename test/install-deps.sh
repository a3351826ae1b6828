#!/bin/sh
# Debian 12 packages needed to build mugai and run its tests.
set -e
PKGS="build-essential meson ninja-build pkg-config python3
 libglib2.0-dev libgmime-3.0-dev libmagic-dev libmagic1 libxml2-dev libinih-dev
 libjson-c-dev libarchive-dev libssl-dev libmilter-dev"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
