// Fuzzing harness for every parser of server input (issue 7: `npm test` runs ≥1,000 cases per
// parser through parsers.test.ts; the benchmark calls `fuzzAllParsers(10_000)` and reports).
// Uses fast-check (a dev dependency): import it only from tests and the bench.
import fc from 'fast-check';
import * as jf from '../../src/backends/jellyfin/parsers.js';
import { jellyfinRoutes } from '../../src/backends/jellyfin/routes.js';
import { parseUserUrl } from '../../src/backends/jellyfin/backend.js';
import type { Parsed } from '../../src/backends/parse.js';
import * as plex from '../../src/backends/plex/parsers.js';
import { routesFromResource } from '../../src/backends/plex/routes.js';

export const PARSERS: Record<string, (body: unknown) => Parsed<unknown>> = {
  'plex.tv pin': plex.parsePlexPin,
  'plex.tv user': plex.parsePlexUser,
  'plex.tv resources': plex.parsePlexResources,
  'PMS identity (JSON/XML)': plex.parsePmsIdentity,
  'PMS sections (JSON/XML)': plex.parsePmsSections,
  'PMS notification': plex.parsePlexNotification,
  'Jellyfin info': jf.parseJellyfinInfo,
  'Jellyfin auth result': jf.parseJellyfinAuth,
  'Jellyfin user views': jf.parseJellyfinViews,
  'Jellyfin quick connect': jf.parseJellyfinQuickConnect,
  'Jellyfin boolean': jf.parseJellyfinBoolean,
  'Jellyfin socket message': jf.parseJellyfinSocketMessage,
};

const anyValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double(), fc.array(fc.string(), { maxLength: 3 }));
const nearPlex = fc.record({
  MediaContainer: fc.dictionary(fc.constantFrom('machineIdentifier', 'friendlyName', 'version', 'Directory', 'size'), anyValue),
});
const nearResources = fc.array(
  fc.record({
    name: anyValue,
    clientIdentifier: anyValue,
    provides: fc.constantFrom('server', 'client,player', 'server,player', 7),
    accessToken: anyValue,
    connections: fc.array(fc.dictionary(fc.constantFrom('protocol', 'address', 'port', 'uri', 'local', 'relay', 'IPv6'), anyValue), { maxLength: 3 }),
  }),
  { maxLength: 3 },
);
const nearJellyfin = fc.dictionary(
  fc.constantFrom('Id', 'ServerName', 'Version', 'Items', 'AccessToken', 'User', 'ServerId', 'MessageType', 'Data', 'Secret', 'Code', 'Authenticated'),
  anyValue,
);
const xmlish = fc
  .tuple(
    fc.constantFrom('<MediaContainer', '<?xml version="1.0"?><MediaContainer', '<MediaContainer><Directory', '<html', '<MediaContainer><Device'),
    fc.string(),
    fc.constantFrom('/>', '>', '></MediaContainer>', ''),
  )
  .map(([a, b, c]) => `${a} ${b}${c}`);

/** Bodies as they might arrive: any JSON, any string, any value, and near-misses of the real shapes. */
export const serverInput = fc.oneof(
  fc.json(),
  fc.string(),
  fc.anything(),
  nearPlex,
  nearPlex.map((v) => JSON.stringify(v)),
  nearResources,
  nearResources.map((v) => JSON.stringify(v)),
  nearJellyfin,
  nearJellyfin.map((v) => JSON.stringify(v)),
  xmlish,
);

/** What a person may type as a server address. */
export const userUrlInput = fc.oneof(
  fc.string(),
  fc.webUrl(),
  fc.tuple(fc.constantFrom('', 'http://', 'https://', 'ftp://', '//', 'javascript:'), fc.domain(), fc.option(fc.integer({ min: -5, max: 70000 }))).map(([s, d, p]) => `${s}${d}${p === null ? '' : `:${p}`}`),
  fc.ipV4().map((ip) => `${ip}:8096`),
  fc.ipV6().map((ip) => `http://[${ip}]:8096/`),
);

export interface FuzzReport {
  name: string;
  runs: number;
  failures: number;
  firstFailure?: string;
}

function isTyped(r: Parsed<unknown>): boolean {
  // A rejection is a typed, short error fit for a per-route message.
  return typeof r.ok === 'boolean' && (r.ok || (r.error.code === 'malformed' && typeof r.error.message === 'string' && r.error.message.length < 300));
}

/** Runs every parser (and the URL/route builders) `runs` times; counts failures instead of throwing. */
export function fuzzAllParsers(runs: number, seed?: number): FuzzReport[] {
  const reports: FuzzReport[] = [];
  const run = (name: string, arb: fc.Arbitrary<unknown>, check: (input: unknown) => boolean) => {
    const details = fc.check(
      fc.property(arb, (input) => {
        try {
          return check(input);
        } catch {
          return false;
        }
      }),
      { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
    );
    reports.push({ name, runs: details.numRuns, failures: details.failed ? 1 : 0, ...(details.failed ? { firstFailure: fc.stringify(details.counterexample).slice(0, 200) } : {}) });
  };
  for (const [name, parse] of Object.entries(PARSERS)) run(name, serverInput, (input) => isTyped(parse(input)));
  run('user-entered URL', userUrlInput, (input) => {
    const url = parseUserUrl(String(input));
    if (url === null) return true;
    const routes = jellyfinRoutes(url, String(input));
    return routes.length >= 1 && routes.every((r) => /^https?:\/\//.test(r.url));
  });
  run('plex.tv resources → routes', serverInput, (input) => {
    const parsed = plex.parsePlexResources(input);
    if (!parsed.ok) return true;
    return parsed.value.every((res) => routesFromResource(res).every((r) => /^https?:\/\//.test(r.url) && ['local', 'remote', 'relay'].includes(r.kind)));
  });
  return reports;
}
