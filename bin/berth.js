#!/usr/bin/env node
'use strict';
// The operator's command line. Build first (`npm run build`); sub-commands live in the apps:
//   berth platform ...   the control plane (apps/control-plane)
//   berth registry ...   one tenant's data plane (apps/registry)
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const registryCli = path.join(root, 'apps', 'registry', 'dist', 'cli.js');
const platformCli = path.join(root, 'apps', 'control-plane', 'dist', 'cli.js');
if (!fs.existsSync(registryCli) || !fs.existsSync(platformCli)) {
  process.stderr.write('berth: not built yet; run `npm run build` first\n');
  process.exit(1);
}
const { Command } = require(
  require.resolve('commander', { paths: [path.join(root, 'apps', 'control-plane')] }),
);
const program = new Command('berth').description(
  'Berth: a managed OCI container registry platform',
);
// Each app's CLI loads that app's whole module graph (the control plane alone brings
// class-validator, @nestjs/swagger and its own modules: ~400 modules, ~5 MiB of RSS), so a
// sub-command loads only its own app; help and unknown commands load both.
const wanted = process.argv[2];
if (wanted !== 'registry') program.addCommand(require(platformCli).platformCommand());
if (wanted !== 'platform') program.addCommand(require(registryCli).registryCommand());
program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
