#!/bin/sh
# The `vmdesk` command of the installed app: /usr/bin/vmdesk links here (resources/deb/after-install.tpl)
# and the package ships this file as <app folder>/vmdesk-cli (electron-builder.yml, extraFiles). It runs
# the command line's bundle with the app's own binary as plain Node (ELECTRON_RUN_AS_NODE=1), the way the
# app runs each VM's agent: a CommonJS file read from app.asar (what bin/vmdesk.js runs in a checkout).
app=$(dirname "$(readlink -f "$0")")
ELECTRON_RUN_AS_NODE=1 exec "$app/vmdesk" "$app/resources/app.asar/dist/bundle/cli.cjs" "$@"
