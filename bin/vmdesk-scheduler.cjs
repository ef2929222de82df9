#!/usr/bin/env node
'use strict';
// The snapshot scheduler: scheduled snapshots with retention (see src-main/core/schedule/schedule-ops.ts).
const path = require('node:path');
require('./run-bundle.cjs').runBundle(path.join(__dirname, '..', 'dist', 'bundle', 'scheduler.cjs'));
