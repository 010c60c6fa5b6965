#!/usr/bin/env bash
# Install Debian's chromium when it is missing: tests/render/test_report_browser.py renders
# report.html in it, and in CI (CI=true) that test fails rather than skips without it.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "== chromium (Debian package, for the report.html browser test)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
