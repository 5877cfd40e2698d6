// Benchmark — fuzzed server input (issue 7, "Bad input"): every parser of server input and the
// user-entered URL / plex.tv route builders, ≥ 10,000 fast-check cases each (test/support/parser-fuzz.ts;
// `npm test` runs 1,000 per parser). A case fails when an exception escapes or a rejection is not
// a typed `malformed` error. Goal: 0 failures per parser. fast-check stops a property at its first
// counterexample (and shrinks it), so "failures" is 0 or 1 per parser: any 1 is a real bug.
import { fuzzAllParsers } from '../test/support/parser-fuzz.js';
import type { Benchmark, BenchRow } from './types.js';

const CASES_PER_PARSER = 10_000;

export const fuzz: Benchmark = {
  name: 'fuzz',
  description: `fast-check fuzzing of every server-input parser and the URL/route builders, ${CASES_PER_PARSER.toLocaleString('en')} cases each`,
  async run(options) {
    // Same count in --quick: the goal is stated per parser and the whole run takes seconds.
    const seed = Date.now() % 2 ** 31;
    options.log(`${CASES_PER_PARSER} cases per parser, seed ${seed}`);
    const started = performance.now();
    const reports = fuzzAllParsers(CASES_PER_PARSER, seed);
    options.log(`done in ${Math.round(performance.now() - started)} ms`);
    return reports.map((report): BenchRow => {
      const failed = report.failures > 0;
      return {
        case: `${report.name}: failures`,
        n: report.runs,
        unit: 'count',
        p50: report.failures,
        p95: null,
        goal: `0 failures in ≥ ${CASES_PER_PARSER.toLocaleString('en')} cases`,
        met: !failed && report.runs >= CASES_PER_PARSER,
        ...(failed ? { note: `seed ${seed}, counterexample ${report.firstFailure ?? '?'}` } : {}),
      };
    });
  },
};
