#!/usr/bin/env bash
# npm test: on Node 22 (scripts/node.sh), installs what a fresh checkout lacks, builds, then the unit and
# integration tests against the real services (mau's own MariaDB), which their global set-up starts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
# Before installing or building: a missing Debian package stops the run at once, naming it (installed as root).
MAU_MYSQL_URL=${MAU_TEST_MYSQL_URL:-${MAU_MYSQL_URL:-}} bash scripts/services.sh packages --tests
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build
exec npx vitest run --project unit --project integration "$@"
