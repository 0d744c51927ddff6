#!/usr/bin/env bash
# Runs a command on Node 22 (scripts/node.sh): every npm script that runs the project's code goes through
# this, so that `npm run <script>` on a machine whose Node is older runs on 22, as CI and the image do.
#   bash scripts/node22.sh COMMAND [ARG ...]
set -euo pipefail
source "$(dirname "$0")/node.sh"
exec "$@"
