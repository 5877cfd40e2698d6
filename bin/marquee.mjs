#!/usr/bin/env node
// The `marquee` command: runs the TypeScript CLI through tsx's loader so no build step is needed.
import { register } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

register('tsx/esm', pathToFileURL('./'));
const here = dirname(fileURLToPath(import.meta.url));
await import(pathToFileURL(join(here, '..', 'src', 'cli', 'main.ts')).href);
