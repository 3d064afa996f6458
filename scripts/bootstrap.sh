#!/usr/bin/env bash
# Installs everything the platform needs on a fresh machine of this kind:
# uv (from PyPI), the locked Python packages into .venv and the Kafka jars
# (through Maven, cached outside the repository). With --postgres (the benchmark) also PostgreSQL
# from Debian's packages; with --tests also ical.js from npm, which the tests read calendar
# invitations with, Debian's Chromium, which the browser tests drive through Playwright (never a
# browser Playwright downloads), Debian's prometheus for the promtool that checks the alert rules,
# and kustomize with the Kubernetes operators' CRDs that the manifests are checked against
# (deploy/k8s/tools.sh: Go, Maven and a Java 21+ JDK, which machines of this kind have). Safe to
# run again.
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

# --postgres: PostgreSQL only (the benchmark); --tests: everything the tests need.
MODE="${1:-}"
if { [ "$MODE" = "--postgres" ] || [ "$MODE" = "--tests" ]; } && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "bootstrap: installing PostgreSQL from Debian packages"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi

if [ "$MODE" = "--tests" ] && { [ ! -x /usr/bin/chromium ] || ! command -v promtool >/dev/null 2>&1; }; then
  echo "bootstrap: installing Chromium and promtool (prometheus) from Debian packages"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium prometheus >/dev/null
fi

if [ "$MODE" = "--tests" ]; then
  # kustomize and the operators' CRDs, for the manifests' check (deploy/k8s/tools.sh).
  bash deploy/k8s/tools.sh
fi

if [ "$MODE" = "--tests" ]; then
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
