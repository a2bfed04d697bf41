#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's headless-browser test, if
# it is not there yet. Needs root (CI and the dev machines run as root).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "[chromium] not installed and not root: install Debian's chromium package to run the dashboard test" >&2
	exit 0
fi
echo "[chromium] installing Debian's chromium (the dashboard test drives it headless)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version 2>/dev/null | head -1
