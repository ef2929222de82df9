#!/usr/bin/env bash
# Installs everything VMDesk and its tests need, then runs every check and test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh --test
exec node scripts/test-all.mjs
