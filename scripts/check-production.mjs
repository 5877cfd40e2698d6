#!/usr/bin/env node
// The production path, end to end, as a container image build would take it: a copy of the
// repository, its dependencies installed, `npm run build`, `npm prune --omit=dev` (no tsx, esbuild,
// vite, typescript left), then plain `npm start` on a free port with a temporary data directory.
// Passes when /healthz answers ok, / is the built UI (not the "UI not built" page) and its script
// loads, and the server stops cleanly on SIGTERM. Everything it creates is removed; every step is
// bounded in time.
//
// Dependencies: by default the copy gets this checkout's installed node_modules (CI's `npm ci` has
// just made it from the lockfile), because a second `npm ci` recompiles better-sqlite3 and takes
// minutes on two busy cores. `--npm-ci` runs `npm ci --offline` from the npm cache instead.
//
//   node scripts/check-production.mjs [--npm-ci] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const useNpmCi = process.argv.includes('--npm-ci');
const keep = process.argv.includes('--keep');
const DEV_ONLY = ['tsx', 'typescript', 'vite', 'esbuild', 'vitest', 'drizzle-kit'];

const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
const say = (text) => process.stdout.write(`[production ${seconds()} s] ${text}\n`);

/** Runs a command to completion within `timeoutMs`; throws with its output if it fails. */
function run(command, args, { cwd, timeoutMs, env = process.env }) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : `exit code ${result.status}${result.signal ? ` (${result.signal})` : ''}`;
    throw new Error(`\`${command} ${args.join(' ')}\` failed: ${why}\n${(result.stdout ?? '').slice(-3000)}${(result.stderr ?? '').slice(-3000)}`);
  }
  return result.stdout;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function get(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, text: await response.text() };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'marquee-production-'));
  const app = join(work, 'app');
  const dataDir = join(work, 'data');
  let server;
  try {
    // The files git would put in a fresh clone (plus uncommitted ones not ignored), nothing built.
    const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, timeoutMs: 30_000 })
      .split('\0')
      .filter(Boolean);
    for (const file of files) {
      mkdirSync(dirname(join(app, file)), { recursive: true });
      try {
        cpSync(join(ROOT, file), join(app, file));
      } catch (error) {
        if (error.code !== 'ENOENT') throw error; // deleted in the work tree but not yet in git
      }
    }
    say(`copied ${files.length} files to ${app}`);

    if (useNpmCi) {
      run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app, timeoutMs: 600_000 });
      say('npm ci --offline done');
    } else {
      run('cp', ['-a', join(ROOT, 'node_modules'), join(app, 'node_modules')], { cwd: app, timeoutMs: 180_000 });
      say('node_modules copied');
    }

    run('npm', ['run', 'build', '--silent'], { cwd: app, timeoutMs: 180_000 });
    say('npm run build done');
    run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: app, timeoutMs: 120_000 });
    const left = DEV_ONLY.filter((name) => {
      try {
        readFileSync(join(app, 'node_modules', name, 'package.json'));
        return true;
      } catch {
        return false;
      }
    });
    if (left.length > 0) throw new Error(`npm prune --omit=dev left devDependencies behind: ${left.join(', ')}`);
    say(`npm prune --omit=dev done (${DEV_ONLY.join(', ')} gone)`);

    mkdirSync(dataDir);
    const port = await freePort();
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('MARQUEE_') || key === 'LOG_LEVEL') delete env[key];
    Object.assign(env, { MARQUEE_PORT: String(port), MARQUEE_DATA_DIR: dataDir });
    const output = [];
    // Own process group: npm → sh → node all get the signal.
    server = spawn('npm', ['start'], { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (chunk) => output.push(chunk));
    server.stderr.on('data', (chunk) => output.push(chunk));
    // 'close': npm and the node server it started have both exited and closed their output.
    const exited = new Promise((resolveExit) => server.once('close', (code, signal) => resolveExit({ code, signal })));
    const log = () => Buffer.concat(output).toString('utf8').slice(-4000);

    const base = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    let health;
    while (Date.now() < deadline) {
      if (server.exitCode !== null) throw new Error(`npm start exited early (code ${server.exitCode}):\n${log()}`);
      health = await get(`${base}healthz`).catch(() => undefined);
      if (health) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!health) throw new Error(`npm start did not answer on ${base} within 30 s:\n${log()}`);
    if (health.status !== 200 || JSON.parse(health.text).status !== 'ok') throw new Error(`/healthz answered ${health.status} ${health.text}`);
    say(`npm start answers: /healthz ${health.text}`);

    const index = await get(base);
    const script = /<script[^>]+src="\.?\/?(assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    if (index.status !== 200 || !script) throw new Error(`/ is not the built UI (status ${index.status}):\n${index.text.slice(0, 500)}`);
    const asset = await get(base + script);
    if (asset.status !== 200 || asset.text.length < 1000) throw new Error(`${script} answered ${asset.status} (${asset.text.length} bytes)`);
    say(`/ serves the built UI and ${script} (${asset.text.length} bytes)`);
    const sources = await get(`${base}api/sources`);
    if (sources.status !== 200 || !Array.isArray(JSON.parse(sources.text))) throw new Error(`/api/sources answered ${sources.status} ${sources.text.slice(0, 200)}`);

    process.kill(-server.pid, 'SIGTERM');
    const exit = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 15_000))]);
    if (!exit) throw new Error(`npm start did not stop within 15 s of SIGTERM:\n${log()}`);
    if (!/"msg":"stopped"/.test(log())) throw new Error(`the server did not shut down cleanly (exit ${JSON.stringify(exit)}):\n${log()}`);
    server = undefined;
    say('stopped cleanly on SIGTERM');
  } finally {
    if (server && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (keep) say(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
  say('production path passed');
} catch (error) {
  process.stderr.write(`production path FAILED after ${seconds()} s: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
