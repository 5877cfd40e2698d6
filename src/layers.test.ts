// The layers import downwards only (docs/ARCHITECTURE.md): the domain, backends, store and monitor
// know nothing of the HTTP layer, the CLI, the browser or the wire contract; the contract (src/api)
// stands on zod and the core's vocabulary alone, so the web can bundle it; the web imports no
// server-side code. Every import of every file under src/ is checked, tests included.
// And src/ is product code only: unit tests (`*.test.ts(x)`) sit beside the code they test, but
// every fake, fixture, fault runner and dev tool lives under test/ (test/support/), and no product
// file imports from test/.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Folders under src/ a layer must never import from. */
const FORBIDDEN: Record<string, readonly string[]> = {
  core: ['backends', 'store', 'monitor', 'notifications', 'server', 'web', 'cli', 'api'],
  backends: ['store', 'monitor', 'notifications', 'server', 'web', 'cli', 'api'],
  store: ['monitor', 'notifications', 'server', 'web', 'cli', 'api'],
  monitor: ['notifications', 'server', 'web', 'cli', 'api'],
  notifications: ['server', 'web', 'cli', 'api'],
  web: ['backends', 'store', 'monitor', 'notifications', 'server', 'cli'],
};

/** Packages only tests use: a product file importing one is test scaffolding. */
const TEST_TOOLS = new Set(['vitest', '@vitest/expect', '@vitest/spy', 'fast-check', 'playwright-core']);

/** A file name that says "test scaffolding" (test-support, fake-clock, fixtures, mock-server, fuzz, testing/ …). */
const SCAFFOLD_NAME = /(^|[/._-])(tests?|testing|fakes?|fixtures?|mocks?|fuzz|scripted)(?=[/._-]|$)/i;

const isTestFile = (path: string) => /\.test\.tsx?$/.test(path);

/** Why a product file under src/ looks like test scaffolding (null when it does not). */
function scaffolding(path: string, imports: readonly string[]): string | null {
  if (isTestFile(path)) return null;
  if (SCAFFOLD_NAME.test(path.replace(/\.tsx?$/, ''))) return 'its name';
  const tool = imports.find((to) => TEST_TOOLS.has(to));
  if (tool) return `imports ${tool}`;
  if (imports.some((to) => to === '../test' || to.startsWith('../test/'))) return 'imports from test/';
  return null;
}

/** What src/api may import besides itself: zod and the core's vocabulary. */
const API_MAY_IMPORT = new Set(['zod', 'core/types.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

/** `monitor/engine.ts` for a relative import, the package name for a bare one. */
function target(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
  const base = resolve(dirname(file), specifier).replace(/\.js$/, '');
  const found = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((p) => existsSync(p)) ?? base;
  return relative(SRC, found);
}

function edges(): Array<{ from: string; to: string }> {
  return sourceFiles(SRC).flatMap((file) => importsOf(readFileSync(file, 'utf8')).map((spec) => ({ from: relative(SRC, file), to: target(file, spec) })));
}

describe('layer boundaries', () => {
  const all = edges();

  it('finds the imports it checks', () => {
    expect(all.some((e) => e.from === 'server/app.ts' && e.to === 'monitor/engine-types.ts')).toBe(true);
    expect(all.some((e) => e.from === 'web/lib/live.ts' && e.to === 'api/types.ts')).toBe(true);
  });

  it('lower layers never import upwards (no monitor -> server, no core -> store, …)', () => {
    const wrong = all.filter((e) => {
      const layer = e.from.split('/')[0]!;
      const into = e.to.split('/')[0]!;
      return !e.to.startsWith('..') && e.to.includes('/') && (FORBIDDEN[layer] ?? []).includes(into);
    });
    expect(wrong.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('src/api imports only zod, core/types.ts and itself', () => {
    const wrong = all.filter((e) => e.from.startsWith('api/') && !e.from.endsWith('.test.ts') && !e.to.startsWith('api/') && !API_MAY_IMPORT.has(e.to));
    expect(wrong.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it('src/ holds product code and unit tests only: no fakes, fixtures or dev tools, no import from test/', () => {
    // The check itself: what it must flag, and what it must let through.
    expect(scaffolding('server/test-fakes.ts', [])).toBe('its name');
    expect(scaffolding('monitor/testing/fake-clock.ts', [])).toBe('its name');
    expect(scaffolding('core/test-fixtures.ts', [])).toBe('its name');
    expect(scaffolding('web/dev/mock-server.ts', [])).toBe('its name');
    expect(scaffolding('backends/parsers-gen.ts', ['fast-check'])).toBe('imports fast-check');
    expect(scaffolding('store/crash-writer.ts', ['../test/support/store.ts'])).toBe('imports from test/');
    expect(scaffolding('server/app.test.ts', ['vitest', '../test/support/server-fakes.ts'])).toBeNull();
    expect(scaffolding('monitor/engine.ts', ['monitor/clock.ts'])).toBeNull();

    const importsByFile = new Map<string, string[]>();
    for (const e of all) importsByFile.set(e.from, [...(importsByFile.get(e.from) ?? []), e.to]);
    const files = sourceFiles(SRC).map((file) => relative(SRC, file));
    expect(files.length).toBeGreaterThan(100);
    const flagged = files.flatMap((file) => {
      const why = scaffolding(file, importsByFile.get(file) ?? []);
      return why ? [`${file}: ${why}`] : [];
    });
    expect(flagged).toEqual([]);
  });
});
