#!/usr/bin/env bash
# npm test: on Node 22 (scripts/node.sh), installs what a fresh checkout lacks, builds, then the unit and
# integration tests against the real services, which their global set-up starts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build
exec npx vitest run --project unit --project integration "$@"
