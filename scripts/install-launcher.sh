#!/usr/bin/env bash
# Puts the `vmdesk` command on the user's PATH: ~/.local/bin/vmdesk, a small sh script that runs this
# checkout's command line (bin/vmdesk.js) with node. A launcher an earlier set-up wrote (it carries the
# marker line) is replaced; any other file at that path is left alone. Run by scripts/install-deps.sh.
set -euo pipefail
checkout=$(cd "$(dirname "$0")/.." && pwd)
dir="$HOME/.local/bin"
launcher="$dir/vmdesk"
marker="# vmdesk launcher, written by VMDesk's set-up (scripts/install-launcher.sh)"

if [[ -e $launcher || -L $launcher ]] && ! { [[ -f $launcher && ! -L $launcher ]] && grep -qxF "$marker" "$launcher"; }; then
  echo "$launcher exists and was not written by VMDesk: left as it is (run $checkout/bin/vmdesk.js instead)."
  exit 0
fi

# The checkout's path in single quotes, a quote in it written '\''.
quoted="'${checkout//\'/\'\\\'\'}/bin/vmdesk.js'"
mkdir -p "$dir"
tmp=$(mktemp "$dir/.vmdesk.XXXXXX")
printf '#!/bin/sh\n%s\nexec node %s "$@"\n' "$marker" "$quoted" >"$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$launcher"

case ":$PATH:" in
  *":$dir:"*) ;;
  *)
    echo "Installed $launcher, but $dir is not on your PATH. Add it for this shell and the next ones:"
    # shellcheck disable=SC2016 # printed for the user to run, expanded by their shell
    echo '  export PATH="$HOME/.local/bin:$PATH"; echo '\''export PATH="$HOME/.local/bin:$PATH"'\'' >>~/.bashrc'
    echo "(Debian's and Ubuntu's ~/.profile add ~/.local/bin at login once it exists: logging in again works too.)"
    ;;
esac
