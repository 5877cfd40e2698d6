#!/usr/bin/env node
// Runs before `npm start`. In a development checkout (devDependencies installed) it builds, so
// `npm install && npm start` on a fresh clone, and `npm start` after an edit, run current code.
// In a production install (`npm run build`, then `npm prune --omit=dev`) the build tools are gone
// and the build is already there: nothing to do but say so if it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));

function installed(name) {
  try {
    require.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

if (installed('vite') && installed('esbuild')) {
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const result = spawnSync(npm[0], [...npm.slice(1), 'run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  process.exitCode = result.status ?? 1;
} else {
  const missing = [join('dist', 'node', 'src', 'cli', 'main.js'), join('dist', 'web', 'index.html')].filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0) {
    process.stderr.write(`marquee: ${missing.join(' and ')} missing, and the build tools are not installed: run \`npm ci && npm run build\` before pruning dev dependencies\n`);
    process.exitCode = 1;
  }
}
