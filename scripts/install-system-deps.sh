#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
# Not root: prints the apt-get line to run and fails, so nothing half-works later.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present"; exit 0; }
echo "system packages missing: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
  echo "error: no apt-get here. Install the equivalents of: ${missing[*]}" >&2; exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (or with sudo): apt-get install -y ${missing[*]}" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "error: apt-get update failed: check the Debian mirror in /etc/apt" >&2; exit 1; }
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/vocalmidi-apt.log 2>&1; then
  tail -20 /tmp/vocalmidi-apt.log >&2
  echo "error: apt-get install failed for: ${missing[*]} (log: /tmp/vocalmidi-apt.log)" >&2; exit 1
fi
echo "system packages: installed ${missing[*]}"
