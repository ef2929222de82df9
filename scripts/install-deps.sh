#!/usr/bin/env bash
# Installs what VMDesk needs on Debian/Ubuntu: QEMU and firmware through apt (as root, or printing
# the exact sudo line), then the npm packages, then builds, then puts the `vmdesk` command in
# ~/.local/bin. `--test` adds what the tests need. Each step is skipped when already done: the build
# too, when dist/ was built from the sources as they are (scripts/build-inputs.mjs);
# VMDESK_FORCE_BUILD=1 builds anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(qemu-system-x86 qemu-utils ovmf ipxe-qemu
  # the demo guest recipe: fetches Debian's kernel and busybox with apt-get download, packs them
  cpio xz-utils xorriso grub-pc-bin grub-efi-amd64-bin grub-common mtools)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium util-linux e2fsprogs xfsprogs strace python3-fusepy openssh-server openssh-client iproute2)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "Installing with apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "VMDesk needs these Debian packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "VMDesk needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
if [[ "${VMDESK_FORCE_BUILD:-}" == 1 ]] || ! node scripts/build-inputs.mjs; then
  npm run build --silent
fi
scripts/install-launcher.sh
