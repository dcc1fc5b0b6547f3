#!/usr/bin/env node
// The `unreasonable` command: registers tsx so that Node runs lib/cli/main.ts as is.
'use strict';
require('tsx/cjs');
const { main } = require('../lib/cli/main.ts');

main(process.argv).then((code) => {
  process.exitCode = code;
});
