#!/bin/sh
# Debian 12 packages needed to build mugai, run its tests and the demo:
# the libraries (sqlite3 for the quarantine index, libcurl for releases,
# libsystemd for the milter's readiness notice under its unit,
# libytnef for Outlook's winmail.dat, libseccomp for the workers' sandbox),
# Postfix and its tools (smtp-sink, swaks), miltertest,
# clamd with ClamAV's test files (test/clamav.py starts its own clamd),
# clang with libFuzzer (test/fuzz), ripmime (test/differential.py reads
# mugai's output with a second, lenient MIME parser), and sudo
# (test/security.py runs the administrators' commands through it).
set -e
PKGS="build-essential meson ninja-build pkg-config python3 procps
 libglib2.0-dev libgmime-3.0-dev libmagic-dev libmagic1 libxml2-dev libinih-dev
 libjson-c-dev libarchive-dev libssl-dev libmilter-dev libsystemd-dev libgsf-1-dev zlib1g-dev libqpdf-dev
 libytnef0-dev libsqlite3-dev libcurl4-openssl-dev libseccomp-dev
 postfix swaks miltertest clamav-daemon clamav-testfiles clang libclang-rt-14-dev
 ripmime sudo"
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
# clamav-daemon brings the system's clamd and freshclam services.  The tests
# run their own clamd with their own signatures; freshclam would only try to
# reach the internet, and the system clamd has no database to start with.
# Stop and disable both, when this script is what installed them.
case " $missing " in
*" clamav-daemon "*)
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl disable --now clamav-freshclam.service clamav-daemon.socket clamav-daemon.service >/dev/null 2>&1 || true
	else
		for s in clamav-freshclam clamav-daemon; do
			$SUDO invoke-rc.d "$s" stop >/dev/null 2>&1 || true
			$SUDO update-rc.d "$s" disable >/dev/null 2>&1 || true
		done
	fi
	;;
esac
