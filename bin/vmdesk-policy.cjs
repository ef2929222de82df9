#!/usr/bin/env node
'use strict';
// The host memory policy: automatic ballooning (see src-main/core/resources/memory-policy.ts).
const path = require('node:path');
require('./run-bundle.cjs').runBundle(path.join(__dirname, '..', 'dist', 'bundle', 'policy.cjs'));
