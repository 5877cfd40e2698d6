// `npm run bench [-- --quick] [-- --only name[,name]] [-- --out file]`
// Runs every benchmark module in turn (never in parallel: they would disturb each other's
// timings), prints one table and writes bench/results.json with the machine it ran on.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detection } from './detection.js';
import { domLatency } from './dom-latency.js';
import { fuzz } from './fuzz.js';
import { library } from './library.js';
import { notifications } from './notifications.js';
import { playback } from './playback.js';
import { playbackProcess } from './playback-process.js';
import { playbackStall } from './playback-stall.js';
import { libraryLive } from './library-live.js';
import { recovery } from './recovery.js';
import { returnToBest } from './return.js';
import { routeChoice } from './route-choice.js';
import { scale } from './scale.js';
import { sourcesPage } from './sources-page.js';
import type { Benchmark, BenchReport, BenchResult, BenchRow, MachineInfo } from './types.js';

/** Registry: recovery and scale plug in here as further modules. */
export const BENCHMARKS: Benchmark[] = [routeChoice, detection, domLatency, recovery, returnToBest, fuzz, scale, sourcesPage, library, libraryLive, playback, playbackProcess, playbackStall, notifications];

const here = path.dirname(fileURLToPath(import.meta.url));

export function machineInfo(): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryTotalMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
  };
}

function formatValue(value: number | null | undefined, unit: BenchRow['unit']): string {
  if (value === null || value === undefined) return '–';
  if (unit === 'x') return `${value.toFixed(1)}×`;
  if (unit === 'ms') return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
  if (unit === '%') return `${value.toFixed(1)} %`;
  return `${value.toFixed(value < 10 ? 2 : 0)} ${unit}`;
}

/** A plain-text table (also pasted into docs/BENCHMARKS.md as Markdown by `markdownTable`). */
export function textTable(results: BenchResult[]): string {
  const header = ['benchmark', 'case', 'n', 'p50', 'p95', 'goal', 'met'];
  const lines: string[][] = [header];
  for (const result of results) {
    if (result.error) {
      lines.push([result.name, `FAILED: ${result.error}`, '', '', '', '', '']);
      continue;
    }
    for (const row of result.rows) {
      lines.push([
        result.name,
        row.case + (row.note ? ` (${row.note})` : ''),
        String(row.n),
        formatValue(row.p50, row.unit),
        formatValue(row.p95, row.unit),
        row.goal ?? '',
        row.met === undefined ? '' : row.met === null ? '?' : row.met ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  const render = (line: string[]) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [render(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(render)].join('\n');
}

export function markdownTable(results: BenchResult[]): string {
  const rows = ['| benchmark | case | n | p50 | p95 | goal | met |', '|---|---|---:|---:|---:|---|---|'];
  for (const result of results) {
    if (result.error) {
      rows.push(`| ${result.name} | FAILED: ${result.error} | | | | | |`);
      continue;
    }
    for (const row of result.rows) {
      const met = row.met === undefined ? '' : row.met === null ? '?' : row.met ? 'yes' : '**no**';
      rows.push(
        `| ${result.name} | ${row.case}${row.note ? ` (${row.note})` : ''} | ${row.n} | ${formatValue(row.p50, row.unit)} | ${formatValue(row.p95, row.unit)} | ${row.goal ?? ''} | ${met} |`,
      );
    }
  }
  return rows.join('\n');
}

const DOCS_FILE = path.join(here, '..', 'docs', 'BENCHMARKS.md');

/** Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/BENCHMARKS.md has no ${start} … ${end} section`);
  return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(to)}`;
}

function updateDocs(report: BenchReport): void {
  const m = report.machine;
  const machine = [
    `- mode: ${report.mode}, run ${report.startedAt} – ${report.finishedAt}`,
    `- CPU: ${m.nproc} × ${m.cpuModel}`,
    `- memory: ${m.memoryTotalMB} MB`,
    `- Node ${m.node}, ${m.platform}, kernel ${m.kernel}`,
  ].join('\n');
  let document = readFileSync(DOCS_FILE, 'utf8');
  document = replaceSection(document, 'machine', machine);
  document = replaceSection(document, 'table', markdownTable(report.benchmarks));
  writeFileSync(DOCS_FILE, document);
}

interface CliOptions {
  quick: boolean;
  only: string[] | null;
  out: string;
  markdown: boolean;
  docs: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { quick: false, only: null, out: path.join(here, 'results.json'), markdown: false, docs: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--markdown') options.markdown = true;
    else if (arg === '--docs') options.docs = true;
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--out') options.out = path.resolve(argv[++i] ?? options.out);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--only name,…] [--out file] [--markdown] [--docs]\n');
      process.stdout.write(`benchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const selected = cli.only ? BENCHMARKS.filter((b) => cli.only!.includes(b.name)) : BENCHMARKS;
  if (cli.only && selected.length !== cli.only.length) {
    throw new Error(`unknown benchmark in --only (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`);
  }
  const startedAt = new Date().toISOString();
  const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
  const results: BenchResult[] = [];
  for (const benchmark of selected) {
    log(`${benchmark.name}: ${benchmark.description}`);
    const started = performance.now();
    try {
      const rows = await benchmark.run({ quick: cli.quick, log: (m) => log(`${benchmark.name}: ${m}`) });
      results.push({ name: benchmark.name, description: benchmark.description, durationMs: performance.now() - started, rows });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
      results.push({ name: benchmark.name, description: benchmark.description, durationMs: performance.now() - started, rows: [], error: message });
    }
  }
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: cli.quick ? 'quick' : 'full',
    machine: machineInfo(),
    benchmarks: results,
  };
  writeFileSync(cli.out, `${JSON.stringify(report, null, 2)}\n`);
  const m = report.machine;
  process.stdout.write(`\nMarquee benchmarks (${report.mode}) — ${m.nproc} CPU ${m.cpuModel}, ${m.memoryTotalMB} MB, Node ${m.node}\n\n`);
  process.stdout.write(`${cli.markdown ? markdownTable(results) : textTable(results)}\n\nwritten to ${path.relative(process.cwd(), cli.out)}\n`);
  if (cli.docs) {
    updateDocs(report);
    process.stdout.write(`updated ${path.relative(process.cwd(), DOCS_FILE)}\n`);
  }
  // Exit explicitly: a library's idle keep-alive socket must not hold the run open.
  process.exit(results.some((r) => r.error) ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
