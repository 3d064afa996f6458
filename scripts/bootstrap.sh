#!/usr/bin/env bash
# Installs everything the platform needs on a fresh machine of this kind:
# uv (from PyPI), the locked Python packages into .venv, the Kafka jars
# (through Maven, cached outside the repository) and, when asked with
# --postgres (the tests), PostgreSQL from Debian's packages and ical.js from
# npm, which the tests read calendar invitations with, Debian's Chromium, which the browser tests
# drive through Playwright (never a browser Playwright downloads), and Debian's prometheus for the
# promtool that checks the alert rules. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
CACHE_DIR="${MAPPA_CACHE_DIR:-$HOME/.cache/mappa}"
TOOLS="$CACHE_DIR/tools"

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  UV="$TOOLS/bin/uv"
  if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "bootstrap: installing uv $UV_VERSION into $TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
fi

echo "bootstrap: Python packages from uv.lock into .venv"
"$UV" sync --frozen --quiet

bash deploy/kafka.sh install

if [ "${1:-}" = "--postgres" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "bootstrap: installing PostgreSQL from Debian packages"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi

if [ "${1:-}" = "--postgres" ] && { [ ! -x /usr/bin/chromium ] || ! command -v promtool >/dev/null 2>&1; }; then
  echo "bootstrap: installing Chromium and promtool (prometheus) from Debian packages"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium prometheus >/dev/null
fi

if [ "${1:-}" = "--postgres" ]; then
  # kustomize and the operators' CRDs, for the manifests' check (deploy/k8s/tools.sh).
  bash deploy/k8s/tools.sh
fi

if [ "${1:-}" = "--postgres" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "bootstrap: installing Node.js from Debian packages"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "bootstrap: ical.js from package-lock.json into tests/support/calendar"
  npm ci --prefix tests/support/calendar --silent --no-audit --no-fund
fi
