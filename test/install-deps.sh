#!/bin/sh
# Debian 12 packages needed to build mugai, run its tests and the demo:
# the libraries, Postfix and its tools (smtp-sink, swaks), miltertest.
set -e
PKGS="build-essential meson ninja-build pkg-config python3 procps
 libglib2.0-dev libgmime-3.0-dev libmagic-dev libmagic1 libxml2-dev libinih-dev
 libjson-c-dev libarchive-dev libssl-dev libmilter-dev libgsf-1-dev zlib1g-dev
 postfix swaks miltertest"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
# Postfix's installer must not ask; the system instance is not used by the
# tests (they run their own instance on loopback).
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
