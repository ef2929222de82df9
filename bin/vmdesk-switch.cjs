#!/usr/bin/env node
'use strict';
// The switch of one internal network (see src-main/core/network/internal-switch.ts).
const path = require('node:path');
require('./run-bundle.cjs').runBundle(path.join(__dirname, '..', 'dist', 'bundle', 'switch.cjs'));
