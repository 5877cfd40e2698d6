#!/usr/bin/env node
// Builds the Node side of Marquee (src/ without the browser UI, and sim/ for `marquee demo`) to
// plain JavaScript under dist/node/, so `npm start` and bin/marquee.mjs run without a TypeScript
// loader and a production install can drop its devDependencies.
//
// Why esbuild, file by file: it is already here (Vite's own transpiler, and tsx's), turns the ~150
// files into JS in well under a second, and a per-file transform keeps every module where it was —
// `import.meta.url` paths (migrations, sim/example.json), the lazy import of the runtime and the
// module order behave exactly as they do under tsx in development and tests. Type checking stays
// with tsc (`npm run typecheck`); a second tsc program only to emit would cost ~30 s for nothing.
//
// It also proves that what the built server imports at run time is a runtime dependency: a module
// reachable from src/cli/main.ts that imports a devDependency would work here and crash after
// `npm prune --omit=dev`, so that fails the build instead.
import { builtinModules, createRequire } from 'node:module';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT_DIR = join(ROOT, 'dist', 'node');
/** The built entry point of the `marquee` command. */
export const BUILT_MAIN = join(OUT_DIR, 'src', 'cli', 'main.js');

/** Source folders built, and the folders inside them that are not part of the Node program. */
const SOURCE_DIRS = ['src', 'sim'];
const SKIPPED_DIRS = new Set([join('src', 'web')]); // the browser UI: built by Vite into dist/web
/** Non-TypeScript files read at run time, copied beside their built modules. */
const ASSETS = [join('src', 'store', 'migrations'), join('sim', 'example.json')];

function isTest(file) {
  return /\.test\.tsx?$/.test(file);
}

function sourceFiles() {
  const files = [];
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || isTest(entry.name)) continue;
      const file = relative(ROOT, join(entry.parentPath ?? entry.path, entry.name));
      if ([...SKIPPED_DIRS].some((skipped) => file.startsWith(skipped + sep))) continue;
      files.push(file);
    }
  }
  return files.sort();
}

/** Packages (not files, not node: builtins) that the program reachable from `entry` imports. */
async function runtimePackages(esbuild, entry) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
  const packages = new Set();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || builtins.has(imported.path)) continue;
      const parts = imported.path.split('/');
      packages.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return [...packages].sort();
}

export async function buildServer({ quiet = false } = {}) {
  const started = performance.now();
  // esbuild is a devDependency: resolved here, only when building.
  const esbuild = createRequire(import.meta.url)('esbuild');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  const devOnly = (await runtimePackages(esbuild, join('src', 'cli', 'main.ts'))).filter((name) => !(name in (pkg.dependencies ?? {})));
  if (devOnly.length > 0) {
    throw new Error(`the server imports ${devOnly.join(', ')} at run time, but only "dependencies" survive \`npm prune --omit=dev\`: move it there or stop importing it`);
  }

  // Built beside, then swapped in: a server or test starting meanwhile never sees half a build.
  const fresh = `${OUT_DIR}.${process.pid}.tmp`;
  rmSync(fresh, { recursive: true, force: true });
  const files = sourceFiles();
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: files,
    outdir: fresh,
    outbase: ROOT,
    bundle: false,
    platform: 'node',
    format: 'esm',
    target: 'node20.18',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const asset of ASSETS) {
    if (!existsSync(join(ROOT, asset))) throw new Error(`build asset ${asset} is missing`);
    cpSync(join(ROOT, asset), join(fresh, asset), { recursive: true });
  }
  const stale = `${OUT_DIR}.${process.pid}.old`;
  if (existsSync(OUT_DIR)) renameSync(OUT_DIR, stale);
  renameSync(fresh, OUT_DIR);
  rmSync(stale, { recursive: true, force: true });
  if (!quiet) {
    process.stdout.write(`built ${files.length} modules into ${relative(ROOT, OUT_DIR)}/ in ${Math.round(performance.now() - started)} ms\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await buildServer({ quiet: process.argv.includes('--quiet') });
  } catch (error) {
    process.stderr.write(`build:server failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
