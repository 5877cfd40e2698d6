// Fuzzing harness for every parser of server input (issue 7: `npm test` runs ≥1,000 cases per
// parser through parsers.test.ts; the benchmark calls `fuzzAllParsers(10_000)` and reports).
// Uses fast-check (a dev dependency): import it only from tests and the bench.
import fc from 'fast-check';
import * as jf from '../../src/backends/jellyfin/parsers.js';
import * as jfLib from '../../src/backends/jellyfin/library-parsers.js';
import * as plexLib from '../../src/backends/plex/library-parsers.js';
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
  'PMS library page': plexLib.parsePlexItemPage,
  'PMS items (children, recently added)': (b) => plexLib.parsePlexItems(b),
  'PMS item detail': plexLib.parsePlexItemDetail,
  'PMS search hubs': plexLib.parsePlexSearch,
  'PMS continue watching hub': plexLib.parsePlexContinueWatching,
  'Jellyfin item page': (b) => jfLib.parseJellyfinItemPage(b, 'lib'),
  'Jellyfin item array (latest)': (b) => jfLib.parseJellyfinItemArray(b),
  'Jellyfin item detail': jfLib.parseJellyfinItemDetail,
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
// Near-misses of library answers: real field names with any values, in containers that are
// right, wrong or truncated.
const plexMetadataKeys = ['ratingKey', 'type', 'title', 'titleSort', 'year', 'addedAt', 'updatedAt', 'rating', 'duration', 'summary', 'Genre', 'Role', 'index', 'parentIndex', 'leafCount', 'viewCount', 'viewOffset', 'thumb', 'art', 'librarySectionID'] as const;
const nearPlexMetadata = fc.dictionary(fc.constantFrom(...plexMetadataKeys), fc.oneof(anyValue, fc.array(fc.dictionary(fc.constantFrom('tag', 'role'), anyValue), { maxLength: 3 })));
const nearPlexLibrary = fc.record({
  MediaContainer: fc.record(
    {
      totalSize: anyValue,
      offset: anyValue,
      Metadata: fc.oneof(fc.array(nearPlexMetadata, { maxLength: 4 }), anyValue),
      Hub: fc.oneof(fc.array(fc.record({ type: anyValue, Metadata: fc.array(nearPlexMetadata, { maxLength: 3 }) }), { maxLength: 3 }), anyValue),
    },
    { requiredKeys: [] },
  ),
});
const jfItemKeys = ['Id', 'Type', 'Name', 'SortName', 'ProductionYear', 'DateCreated', 'RunTimeTicks', 'Overview', 'Genres', 'People', 'UserData', 'ImageTags', 'BackdropImageTags', 'ImageBlurHashes', 'SeasonId', 'SeriesId', 'ChildCount'] as const;
const nearJfItem = fc.dictionary(fc.constantFrom(...jfItemKeys), fc.oneof(anyValue, fc.dictionary(fc.constantFrom('Primary', 'Played', 'PlaybackPositionTicks'), anyValue)));
const nearJfLibrary = fc.oneof(
  fc.record({ Items: fc.oneof(fc.array(nearJfItem, { maxLength: 4 }), anyValue), TotalRecordCount: anyValue, StartIndex: anyValue }, { requiredKeys: [] }),
  fc.array(nearJfItem, { maxLength: 4 }),
  nearJfItem,
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
  nearPlexLibrary,
  nearPlexLibrary.map((v) => JSON.stringify(v)),
  nearPlexLibrary.map((v) => JSON.stringify(v).slice(0, 40)),
  nearJfLibrary,
  nearJfLibrary.map((v) => JSON.stringify(v)),
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
