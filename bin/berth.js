#!/usr/bin/env node
'use strict';
// The operator's command line. Build first (`npm run build`); sub-commands live in the apps:
//   berth platform ...   the control plane (apps/control-plane)
//   berth registry ...   one tenant's data plane (apps/registry)
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const clis = {
  registry: path.join(root, 'apps', 'registry', 'dist', 'cli.js'),
  platform: path.join(root, 'apps', 'control-plane', 'dist', 'cli.js'),
};
const { Command } = require(require.resolve('commander', { paths: [path.dirname(clis.registry)] }));
const program = new Command('berth').description(
  'Berth: a managed OCI container registry platform',
);
// Each app's CLI loads that app's whole module graph (the control plane alone brings
// class-validator, @nestjs/swagger and its own modules: ~400 modules, ~5 MiB of RSS), so a
// sub-command loads only its own app; help and unknown commands load whichever are built. The
// registry image ships the data plane only.
const wanted = process.argv[2];
const chosen = Object.hasOwn(clis, wanted) ? [wanted] : Object.keys(clis);
const built = chosen.filter((name) => fs.existsSync(clis[name]));
if (built.length === 0) {
  const missing = chosen.map((name) => path.relative(root, clis[name])).join(', ');
  process.stderr.write(`berth: not built yet (${missing} missing); run \`npm run build\` first\n`);
  process.exit(1);
}
if (built.includes('platform')) program.addCommand(require(clis.platform).platformCommand());
if (built.includes('registry')) program.addCommand(require(clis.registry).registryCommand());
program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
