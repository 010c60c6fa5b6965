#!/usr/bin/env bash
# Install Debian's chromium when it is missing: tests/render/test_report_browser.py and
# test_report_layout.py render report.html in it, and in CI (CI=true) they fail rather than skip
# without it. The layout tests drive it over --remote-debugging-pipe, through bash.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "== chromium (Debian package, for the report.html browser and layout tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
