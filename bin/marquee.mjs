#!/usr/bin/env node
// The `marquee` command: runs the built JavaScript (dist/node, from `npm run build`) with plain
// Node — no TypeScript loader, so it works in a production install without devDependencies.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'node', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`marquee: not built yet (${main} is missing); run \`npm run build\` first\n`);
  process.exit(1);
}
// Stack traces in logs name the TypeScript lines (the build writes source maps beside the modules).
process.setSourceMapsEnabled(true);
await import(pathToFileURL(main).href);
