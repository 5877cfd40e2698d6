// The benchmark plug-in contract: each module exports one Benchmark; bench/run.ts runs them,
// prints one table and writes bench/results.json. Every figure is compared with something
// measured in the same run (these machines are noisy), so rows carry their comparison and goal.

export interface BenchOptions {
  /** Short run (fewer trials) for CI and quick checks. */
  quick: boolean;
  /** Progress lines (stderr), never part of the results. */
  log: (message: string) => void;
}

export interface BenchRow {
  /** What was measured, e.g. "Marquee ConnectionService". */
  case: string;
  /** Number of trials the figures summarise. */
  n: number;
  unit: 'ms' | 'x' | '%' | 'MB' | '/s' | 'count';
  p50: number | null;
  p95: number | null;
  min?: number | null;
  max?: number | null;
  /** The goal in words, e.g. "≤ local round trip + 100 ms". */
  goal?: string;
  /** Whether the goal was met in this run; null when it could not be judged. */
  met?: boolean | null;
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(options: BenchOptions): Promise<BenchRow[]>;
}

export interface BenchResult {
  name: string;
  description: string;
  durationMs: number;
  rows: BenchRow[];
  /** Set when the benchmark itself failed; its rows are then absent. */
  error?: string;
}

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryTotalMB: number;
  node: string;
  platform: string;
  kernel: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: MachineInfo;
  benchmarks: BenchResult[];
}
