#!/usr/bin/env bash
# Installs Debian's chromium (the dashboard's headless-browser test, and the
# digests' HTML and PDF) and poppler-utils (pdftoppm: the digest test looks
# at the PDF's pages as PNG), if they are not there yet. Needs root (CI and
# the dev machines run as root).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} = 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "[chromium] not installed and not root: install Debian's ${missing[*]} to run the dashboard and digest tests" >&2
	exit 0
fi
echo "[chromium] installing Debian's ${missing[*]} (the dashboard and digest tests drive chromium headless; pdftoppm renders PDF pages)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
chromium --version 2>/dev/null | head -1
pdftoppm -v 2>&1 | head -1
