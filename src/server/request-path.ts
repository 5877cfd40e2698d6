// What a request path means, judged the way a lenient router or file server could read it. Used only
// where no route matched (or the static-file wildcard did): there the raw URL must not be trusted, so
// the path is decoded until it stops changing, slashes are collapsed, dot segments resolved, and the
// result lower-cased — every spelling of /api/... lands in the API namespace.

const MAX_DECODE_ROUNDS = 8;

/** Decodes %XX escapes byte by byte (never throws on malformed ones), repeatedly, then normalises. */
export function normalisedPath(url: string): string {
  let path = url.split(/[?#]/, 1)[0] ?? '';
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const decoded = path.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === path) break;
    path = decoded;
  }
  path = path.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  let joined = out.join('/');
  if (!joined.startsWith('/')) joined = `/${joined}`;
  return joined.toLowerCase();
}

/** True when the path names something under the API (`<base>api`, `<base>api/...`) or the metrics. */
export function inProtectedNamespace(url: string, basePath: string): boolean {
  const path = normalisedPath(url);
  const base = basePath.toLowerCase();
  // A semicolon or trailing junk must not move a path out: compare on the first segment after the base.
  if (!path.startsWith(base)) return false;
  const first = path.slice(base.length).split('/', 1)[0] ?? '';
  return /^(api|metrics)(?![a-z0-9_-])/.test(first);
}

/** True when the path names something under the API namespace (for cache headers and the 404 page). */
export function inApiNamespace(url: string, basePath: string): boolean {
  const path = normalisedPath(url);
  const base = basePath.toLowerCase();
  if (!path.startsWith(base)) return false;
  return /^api(?![a-z0-9_-])/.test(path.slice(base.length).split('/', 1)[0] ?? '');
}
