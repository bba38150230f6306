#!/usr/bin/env node
'use strict';
// The operator's command line. Build first (`npm run build`); sub-commands live in the apps.
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'apps', 'registry', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('berth: not built yet; run `npm run build` first\n');
  process.exit(1);
}
require(cli).runCli(process.argv);
