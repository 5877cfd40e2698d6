// The route table of the wire contract: every route the server registers, with the schemas of its
// input and answer. Handlers validate input with these very schemas (src/server/routes/*), and
// src/server/api-contract.test.ts checks the table against Fastify's routes, src/server/API.md and
// real answers. Paths are relative to the base path, in Fastify's `:param` form.
import { z } from 'zod';
import * as req from './requests.js';
import * as res from './responses.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RouteContract {
  method: HttpMethod;
  path: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success status and the schema of its JSON body (`null`: no body). */
  status: number;
  response: z.ZodType | null;
  /** Not JSON: `text/event-stream` (SSE payloads: responses.ts) or Prometheus text. */
  produces?: 'text/event-stream' | 'text/plain' | 'image/*' | 'application/vnd.apple.mpegurl';
  /** Registered only in demo mode. */
  demoOnly?: true;
}

export const API_ROUTES = {
  health: { method: 'GET', path: '/healthz', status: 200, response: res.apiHealthSchema },
  metrics: { method: 'GET', path: '/metrics', status: 200, response: null, produces: 'text/plain' },
  getSession: { method: 'GET', path: '/api/session', status: 200, response: res.apiSessionStateSchema },
  createSession: { method: 'POST', path: '/api/session', body: req.sessionBody, status: 200, response: res.apiSessionStateSchema },
  deleteSession: { method: 'DELETE', path: '/api/session', status: 204, response: null },

  listSources: { method: 'GET', path: '/api/sources', status: 200, response: z.array(res.apiSourceSchema) },
  getSource: { method: 'GET', path: '/api/sources/:id', params: req.sourceIdParams, status: 200, response: res.apiSourceDetailSchema },
  addSource: { method: 'POST', path: '/api/sources', body: req.addSourceBody, status: 201, response: res.apiSourceSchema },
  checkSource: { method: 'POST', path: '/api/sources/:id/check', params: req.sourceIdParams, status: 202, response: res.apiCheckAcceptedSchema },
  patchSource: { method: 'PATCH', path: '/api/sources/:id', params: req.sourceIdParams, body: req.patchSourceBody, status: 200, response: res.apiSourceSchema },
  deleteSource: { method: 'DELETE', path: '/api/sources/:id', params: req.sourceIdParams, status: 204, response: null },
  addRoute: { method: 'POST', path: '/api/sources/:id/routes', params: req.sourceIdParams, body: req.addRouteBody, status: 201, response: res.apiRouteEditSchema },
  patchRoute: { method: 'PATCH', path: '/api/sources/:id/routes/:routeId', params: req.sourceRouteParams, body: req.patchRouteBody, status: 200, response: res.apiRouteEditSchema },
  deleteRoute: { method: 'DELETE', path: '/api/sources/:id/routes/:routeId', params: req.sourceRouteParams, status: 204, response: null },
  signInAgain: { method: 'POST', path: '/api/sources/:id/signin', params: req.sourceIdParams, body: req.signInAgainBody, status: 200, response: res.apiSourceDetailSchema },

  createPlexPin: { method: 'POST', path: '/api/plex/pins', status: 201, response: res.apiPlexPinSchema },
  getPlexPin: { method: 'GET', path: '/api/plex/pins/:id', params: req.pinIdParams, status: 200, response: res.apiPlexPinStateSchema },
  probeJellyfin: { method: 'POST', path: '/api/jellyfin/probe', body: req.probeBody, status: 200, response: res.apiJellyfinProbeSchema },
  /** The probe used to be a GET: it now only says to use POST, and fetches nothing (no SSRF from a web page). */
  probeJellyfinGetRefused: { method: 'GET', path: '/api/jellyfin/probe', status: 405, response: res.apiErrorSchema },
  startQuickConnect: { method: 'POST', path: '/api/jellyfin/quickconnect', body: req.quickConnectBody, status: 201, response: res.apiQuickConnectStartSchema },
  getQuickConnect: { method: 'GET', path: '/api/jellyfin/quickconnect/:handle', params: req.handleParams, status: 200, response: res.apiQuickConnectStateSchema },

  listNotificationTargets: { method: 'GET', path: '/api/notifications/targets', status: 200, response: res.apiNotificationTargetsSchema },
  addNotificationTarget: { method: 'POST', path: '/api/notifications/targets', body: req.addNotificationTargetBody, status: 201, response: res.apiNotificationTargetSchema },
  patchNotificationTarget: { method: 'PATCH', path: '/api/notifications/targets/:id', params: req.notificationTargetIdParams, body: req.patchNotificationTargetBody, status: 200, response: res.apiNotificationTargetSchema },
  deleteNotificationTarget: { method: 'DELETE', path: '/api/notifications/targets/:id', params: req.notificationTargetIdParams, status: 204, response: null },
  testNotificationTarget: { method: 'POST', path: '/api/notifications/targets/:id/test', params: req.notificationTargetIdParams, status: 200, response: res.apiNotificationTestResultSchema },
  home: { method: 'GET', path: '/api/home', status: 200, response: res.apiHomeSchema },
  search: { method: 'GET', path: '/api/search', query: req.searchQuery, status: 200, response: res.apiSearchSchema },
  getLibrary: { method: 'GET', path: '/api/sources/:id/libraries/:libraryId', params: req.sourceLibraryParams, status: 200, response: res.apiLibraryInfoSchema },
  libraryItems: { method: 'GET', path: '/api/sources/:id/libraries/:libraryId/items', params: req.sourceLibraryParams, query: req.libraryItemsQuery, status: 200, response: res.apiLibraryItemsSchema },
  getItem: { method: 'GET', path: '/api/sources/:id/items/:itemId', params: req.sourceItemParams, status: 200, response: res.apiItemDetailSchema },
  /** The image bytes (JPEG, PNG, WebP or GIF), not JSON. */
  itemImage: { method: 'GET', path: '/api/sources/:id/items/:itemId/image', params: req.sourceItemParams, query: req.itemImageQuery, status: 200, response: null, produces: 'image/*' },
  createPlay: { method: 'POST', path: '/api/play', body: req.createPlayBody, status: 201, response: res.apiPlaySessionSchema },
  getPlay: { method: 'GET', path: '/api/play/:session', params: req.playSessionParams, status: 200, response: res.apiPlaySessionSchema },
  playProgress: { method: 'POST', path: '/api/play/:session/progress', params: req.playSessionParams, body: req.playProgressBody, status: 204, response: null },
  deletePlay: { method: 'DELETE', path: '/api/play/:session', params: req.playSessionParams, body: req.stopPlayBody, status: 204, response: null },
  /** The direct-play byte proxy: 200/206 media bytes (Range honoured, 416 for a bad range). */
  playStream: { method: 'GET', path: '/api/play/:session/stream', params: req.playSessionParams, status: 200, response: null },
  /** A subtitle track as WebVTT (text/vtt). */
  playSubtitle: { method: 'GET', path: '/api/play/:session/subtitles/:index', params: req.playSubtitleParams, status: 200, response: null },
  /** HLS of a transcode (issue 15): rewritten playlists and segments, fetched over the engine's current route. Not JSON. */
  playHls: { method: 'GET', path: '/api/play/:session/hls/:name', params: req.playHlsParams, status: 200, response: null, produces: 'application/vnd.apple.mpegurl' },

  events: { method: 'GET', path: '/api/events', query: req.eventsQuery, status: 200, response: null, produces: 'text/event-stream' },

  demoRoutes: { method: 'GET', path: '/api/demo/routes', status: 200, response: z.array(res.apiDemoRouteSchema), demoOnly: true },
  demoRouteFault: { method: 'POST', path: '/api/demo/routes/:id/fault', params: req.routeIdParams, body: req.faultBody, status: 200, response: res.apiRouteFaultResultSchema, demoOnly: true },
  demoServerFault: { method: 'POST', path: '/api/demo/servers/:id/fault', params: req.sourceIdParams, body: req.faultBody, status: 200, response: res.apiServerFaultResultSchema, demoOnly: true },
} as const satisfies Record<string, RouteContract>;

/** SSE payloads of GET /api/events, by event name. */
export const SSE_EVENTS = {
  snapshot: res.apiSnapshotSchema,
  engine: res.apiEventMessageSchema,
  source: res.apiSourceUpdateSchema,
  removed: res.apiSourceRemovedSchema,
  health: res.apiHealthStateSchema,
  /** A sync changed (or failed) a library: pages showing it refetch in place. */
  library: res.apiLibraryUpdateSchema,
} as const;

/** Every error answer (4xx/5xx). */
export const API_ERROR = res.apiErrorSchema;
