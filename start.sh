#!/usr/bin/env bash
# Installs everything VMDesk needs, then starts it.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
exec node bin/vmdesk.js "${@:-host}"
