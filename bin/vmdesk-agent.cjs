#!/usr/bin/env node
'use strict';
// The per-VM agent (one per running VM; see src-main/core/agent/agent.ts).
const path = require('node:path');
require('./run-bundle.cjs').runBundle(path.join(__dirname, '..', 'dist', 'bundle', 'agent.cjs'));
