// Simulation config: the JSON a test or the CLI hands to createSimulation. Validated with zod so a
// typo in a fixture fails loudly instead of silently producing a different simulation.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const loopbackHost = z
  .string()
  .refine((h) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1', 'must be a loopback address (127.0.0.0/8 or ::1)');

const port = z.number().int().min(0).max(65535);

export const RouteConfigSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(['local', 'remote', 'relay']),
  host: loopbackHost,
  port: port.default(0),
  /** Serve HTTPS with a certificate from the simulation's own CA (see `tls-mismatch`). */
  tls: z.boolean().default(false),
  /**
   * Plex: whether plex.tv lists this route among the server's connections (default true). An unlisted
   * route still serves — it is an address the server will have once plex.tv lists it (a new public IP,
   * a new relay: `sim.plexTv.setConnections`).
   */
  listed: z.boolean().default(true),
});

const PlexLibrarySchema = z.object({
  key: z.string().optional(),
  title: z.string().min(1),
  type: z.enum(['movie', 'show', 'artist', 'photo']),
  /** Top-level items generated (movies, shows, artists or photos); shows and artists carry children. */
  itemCount: z.number().int().min(0).max(50_000).default(24),
});

const JellyfinLibrarySchema = z.object({
  name: z.string().min(1),
  /** Absent for a mixed library, as on the real server. */
  collectionType: z
    .enum(['movies', 'tvshows', 'music', 'musicvideos', 'trailers', 'homevideos', 'boxsets', 'books', 'photos', 'livetv', 'playlists', 'folders', 'unknown'])
    .optional(),
  /** Top-level items generated (movies, series, artists, photos; a mixed library alternates movies and series). */
  itemCount: z.number().int().min(0).max(50_000).default(24),
});

/** The clips of sim/media-catalog.ts (SimMediaVariant). */
const MediaVariantSchema = z.enum(['h264-aac', 'hevc-ac3', 'audio-aac', 'h264-aac-high']);

const PlexServerSchema = z.object({
  id: z.string().min(1),
  kind: z.literal('plex'),
  name: z.string().min(1),
  /** 40 hex; derived from `id` when omitted (stable across runs). */
  machineId: z.string().regex(/^[0-9a-f]{40}$/).optional(),
  version: z.string().default('1.41.3.9314-a0bfb8370'),
  /** plex.tv username owning the server; defaults to the first account. */
  owner: z.string().optional(),
  /** plex.tv usernames the server is shared with. */
  sharedWith: z.array(z.string()).default([]),
  /** Sources disagree whether /identity needs a token; off by default (OAS says no). */
  requireTokenForIdentity: z.boolean().default(false),
  /** What plex.tv reports as `presence`. */
  presence: z.boolean().default(true),
  routes: z.array(RouteConfigSchema).min(1),
  libraries: z.array(PlexLibrarySchema).default([]),
  /** Items (ratingKey) that play another clip than their generated one, e.g. `h264-aac-high` (~3 Mbps) for throughput benches. */
  mediaVariants: z.record(z.string().regex(/^\d+$/), MediaVariantSchema).default({}),
});

const JellyfinUserSchema = z.object({
  name: z.string().min(1),
  password: z.string().default(''),
  admin: z.boolean().default(false),
  disabled: z.boolean().default(false),
});

const JellyfinServerSchema = z.object({
  id: z.string().min(1),
  kind: z.literal('jellyfin'),
  name: z.string().min(1),
  /** 32 hex, no dashes; derived from `id` when omitted. */
  machineId: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  version: z.string().default('10.11.3'),
  /** Accept X-Emby-Token, X-Emby-Authorization, api_key, the Emby scheme (12.0 default: off). */
  legacyAuth: z.boolean().default(false),
  quickConnect: z.boolean().default(true),
  /** Start in "starting up" mode: 503 + Retry-After (Info/Public reports StartupWizardCompleted=false). */
  startup: z.boolean().default(false),
  /**
   * What /System/Info reports as `LocalAddress`. Default: the URL of the route that was asked (as a
   * server configured with its own address would). Any http(s) URL — another server's route, a
   * link-local address — to test how a client treats an address the server reports.
   */
  localAddress: z.url({ protocol: /^https?$/ }).optional(),
  users: z.array(JellyfinUserSchema).default([{ name: 'demo', password: 'demo', admin: true, disabled: false }]),
  routes: z.array(RouteConfigSchema).min(1),
  libraries: z.array(JellyfinLibrarySchema).default([]),
  /** Items (Id, 32 hex) that play another clip than their generated one, e.g. `h264-aac-high` (~3 Mbps) for throughput benches. */
  mediaVariants: z.record(z.string().regex(/^[0-9a-f]{32}$/), MediaVariantSchema).default({}),
});

export const ServerConfigSchema = z.discriminatedUnion('kind', [PlexServerSchema, JellyfinServerSchema]);

const PlexAccountSchema = z.object({
  username: z.string().min(1),
  email: z.string().optional(),
  /** Fixed account token (handy for demos); generated when omitted. */
  token: z.string().min(8).optional(),
});

export const SimConfigSchema = z.object({
  control: z.object({ host: loopbackHost.default('127.0.0.1'), port: port.default(0) }).default({ host: '127.0.0.1', port: 0 }),
  plexTv: z
    .object({
      host: loopbackHost.default('127.0.0.1'),
      port: port.default(0),
      accounts: z.array(PlexAccountSchema).min(1).default([{ username: 'demo' }]),
      /** Seed for the per-server access tokens (random when omitted); shards of a scale run share it. */
      tokenSeed: z.string().min(8).optional(),
      /** Overrides the PIN lifetime in seconds (real: 900 plain, 1800 strong). */
      pinExpiresIn: z.number().positive().optional(),
      /** Lifetime of the JWTs /api/v2/auth/token hands out, in seconds (real: 7 days). */
      jwtLifetimeSec: z.number().positive().default(7 * 86_400),
    })
    .default({ host: '127.0.0.1', port: 0, accounts: [{ username: 'demo' }], jwtLifetimeSec: 7 * 86_400 }),
  /** Multiplies Jellyfin's WebSocket keep-alive timers (12 s tick, 45 s resend, 60 s abort). */
  jellyfinKeepAliveScale: z.number().positive().max(10).default(1),
  /** Multiplies how long an unpinged transcode lives (Jellyfin HLS 60 s, Plex 90 s); `0.02` → ~1.2 s. */
  mediaKeepAliveScale: z.number().positive().max(10).default(1),
  /** Generate the test clips at start (else on the first media request; ~10–20 s the first time, cached after). */
  prepareMedia: z.boolean().default(false),
  servers: z.array(ServerConfigSchema).default([]),
});

export type SimConfig = z.input<typeof SimConfigSchema>;
export type ParsedSimConfig = z.output<typeof SimConfigSchema>;
export type RouteConfig = z.output<typeof RouteConfigSchema>;
export type ServerConfig = z.output<typeof ServerConfigSchema>;
export type PlexServerConfig = z.output<typeof PlexServerSchema>;
export type JellyfinServerConfig = z.output<typeof JellyfinServerSchema>;
export type PlexLibraryConfig = z.output<typeof PlexLibrarySchema>;
export type JellyfinLibraryConfig = z.output<typeof JellyfinLibrarySchema>;

/** Parses and cross-checks a config (unique ids, known plex.tv accounts). Throws with every problem listed. */
export function parseSimConfig(input: unknown): ParsedSimConfig {
  const config = SimConfigSchema.parse(input);
  const problems: string[] = [];
  const serverIds = new Set<string>();
  const routeIds = new Set<string>();
  const endpoints = new Set<string>();
  const accounts = new Set(config.plexTv.accounts.map((a) => a.username));
  for (const server of config.servers) {
    if (serverIds.has(server.id)) problems.push(`duplicate server id "${server.id}"`);
    serverIds.add(server.id);
    for (const route of server.routes) {
      if (routeIds.has(route.id)) problems.push(`duplicate route id "${route.id}"`);
      routeIds.add(route.id);
      if (route.port !== 0) {
        const endpoint = `${route.host}:${route.port}`;
        if (endpoints.has(endpoint)) problems.push(`two routes on ${endpoint}`);
        endpoints.add(endpoint);
      }
    }
    if (server.kind === 'plex') {
      for (const user of [server.owner, ...server.sharedWith]) {
        if (user !== undefined && !accounts.has(user)) problems.push(`server "${server.id}" names unknown plex.tv account "${user}"`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`invalid simulation config: ${problems.join('; ')}`);
  return config;
}

export function loadSimConfig(path: string): SimConfig {
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  parseSimConfig(raw);
  return raw as SimConfig;
}
