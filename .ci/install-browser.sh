#!/usr/bin/env bash
# Install Debian's Chromium for the browser test of the HTML report (tests/browser). Idempotent.
# Runs only in CI (CI=true) or when asked:  bash .ci/install-browser.sh --force
set -euo pipefail
if [[ "${CI:-}" != "true" && "${1:-}" != "--force" ]]; then
  echo "install-browser: skipped (not CI); run 'bash .ci/install-browser.sh --force' to install chromium"
  exit 0
fi
if [[ -x /usr/bin/chromium ]]; then
  echo "install-browser: already installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
  exit 0
fi
SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium chromium-driver
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null)"
