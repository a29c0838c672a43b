#!/usr/bin/env bash
# The browser the page's end-to-end tests drive (test/e2e/page*.test.ts): Debian's chromium,
# run headless by puppeteer-core. Installed only when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "[ci] $(chromium --version 2>/dev/null | head -1)"
  exit 0
fi
echo "[ci] installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "[ci] $(chromium --version 2>/dev/null | head -1)"
