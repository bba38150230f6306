// Checks deploy/registry.Dockerfile against the workspace, since no image can be built here (no
// Docker engine, and the base image is not reachable): every @berth/* library the data plane
// needs, directly or through another library, is installed, its sources copied into the build
// stage and its dist/ into the runtime image; and the image's ENV carries the data plane's
// process settings.
//
//   node --test tools/lint/registry-image.spec.mjs
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'deploy', 'registry.Dockerfile'), 'utf8');

/** package name -> workspace folder, for every workspace of the repository. */
function workspaceFolders() {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const folders = new Map();
  for (const pattern of workspaces) {
    const [group] = pattern.split('/');
    for (const name of readdirSync(join(root, group))) {
      try {
        const pkg = JSON.parse(readFileSync(join(root, group, name, 'package.json'), 'utf8'));
        folders.set(pkg.name, `${group}/${name}`);
      } catch {
        // not a workspace
      }
    }
  }
  return folders;
}

/** The workspace folders the data plane needs: apps/registry and its @berth/* closure. */
function registryClosure() {
  const folders = workspaceFolders();
  const needed = new Set(['apps/registry']);
  const queue = ['apps/registry'];
  while (queue.length > 0) {
    const folder = queue.shift();
    const pkg = JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(pkg.dependencies ?? {})) {
      if (!dependency.startsWith('@berth/')) continue;
      const target = folders.get(dependency);
      assert.ok(target, `${folder} depends on ${dependency}, which is no workspace`);
      if (!needed.has(target)) {
        needed.add(target);
        queue.push(target);
      }
    }
  }
  return [...needed].sort();
}

describe('deploy/registry.Dockerfile', () => {
  it('installs, builds and ships every library the data plane depends on', () => {
    const closure = registryClosure();
    assert.ok(closure.includes('libs/oci'), `closure found: ${closure.join(', ')}`);
    const workspaces = /ARG REGISTRY_WORKSPACES="([^"]*)"/.exec(dockerfile)?.[1] ?? '';
    const listed = [...workspaces.matchAll(/-w (\S+)/g)].map((match) => match[1]).sort();
    assert.deepEqual(listed, closure, 'REGISTRY_WORKSPACES');
    for (const folder of closure) {
      assert.ok(
        dockerfile.includes(`COPY ${folder}/ ${folder}/`),
        `the build stage copies the sources of ${folder}`,
      );
      assert.ok(
        dockerfile.includes(`COPY --from=build /app/${folder}/dist/ ${folder}/dist/`),
        `the runtime stage copies ${folder}/dist`,
      );
    }
  });

  it("sets the data plane's process settings", () => {
    const source = readFileSync(
      join(root, 'libs', 'platform-contracts', 'src', 'process-settings.ts'),
      'utf8',
    );
    for (const name of ['NODE_OPTIONS', 'GLIBC_TUNABLES']) {
      const value = new RegExp(`${name}: '([^']+)'`).exec(source)?.[1];
      assert.ok(value, `${name} in DATA_PLANE_PROCESS_SETTINGS`);
      assert.ok(dockerfile.includes(`${name}=${value}`), `the image sets ${name}=${value}`);
    }
  });
});
