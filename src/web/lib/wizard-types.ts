// Shapes of the add-source / sign-in endpoints (issue 4). Kept here, not in the shared contract,
// because only the UI needs them spelled out; the server validates the bodies with zod.
import type { RouteKind } from '../../core/types';

export interface PlexPinStart {
  /** A number: POST /api/sources and /signin take it back as `pinId`. */
  id: number;
  code: string;
  authUrl: string;
}

export interface PlexFoundServer {
  serverId: string;
  name: string;
  owned: boolean;
  presence: boolean;
  routes: { url: string; kind: RouteKind }[];
  /** A source for this server exists already. */
  alreadyAdded?: boolean;
}

export type PlexPinPoll = { state: 'pending' } | { state: 'expired' } | { state: 'authorized'; servers: PlexFoundServer[] };

export interface JellyfinPreview {
  serverId: string;
  name: string;
  version: string;
  url: string;
  alreadyAdded?: boolean;
}

export interface QuickConnectStart {
  code: string;
  handle: string;
}

export type QuickConnectPoll = { state: 'pending' | 'expired' | 'authorized' };

/** What a Jellyfin sign-in form produces: the body for POST /api/sources or /signin (minus url/kind). */
export type JellyfinCredentialsBody = { username: string; password: string } | { quickConnectHandle: string };
