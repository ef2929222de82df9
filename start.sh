#!/usr/bin/env bash
# Installs everything VMDesk needs, then starts it: the desktop app where Electron can run (its
# binary is present and there is a display), otherwise `vmdesk serve`, which prints the URL to open.
# Arguments are passed on to `vmdesk serve` (e.g. ./start.sh --port 8080).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh

electron_binary() {
  # path.txt names the binary once it is installed; require('electron') would try to download it.
  node -e "const fs = require('fs'); try { const p = require('path').join('node_modules/electron/dist', fs.readFileSync('node_modules/electron/path.txt', 'utf8').trim()); if (fs.existsSync(p)) console.log(require('path').resolve(p)); } catch {}" 2>/dev/null
}

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${VMDESK_HEADLESS:-}" != 1 ] && bin=$(electron_binary) && [ -n "$bin" ]; then
  exec "$bin" .
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "The Electron binary is not installed (it is downloaded from GitHub on first use); serving the same UI to your browser instead." >&2
fi
exec node bin/vmdesk.js serve "$@"
