// The logic behind the add-source and "Sign in again" endpoints, kept out of the route handlers.
// Secrets flow from the sign-in services straight into the engine; what returns to the caller is
// only names, ids and routes.
import type { Credentials, JellyfinSignIn, JellyfinSignInResult, PlexDiscoveredServer, PlexSignIn, RefusedRoute } from '../backends/types.js';
import type { Source, SourceStatus } from '../core/types.js';
import type { Engine } from '../monitor/engine-types.js';
import type { ApiJellyfinProbe, ApiPlexPin, ApiPlexPinState, ApiQuickConnectStart, ApiQuickConnectState, ApiSource, ApiSourceDetail } from '../api/types.js';
import { HttpError, notFound } from './errors.js';
import { toApiSource, toApiSourceDetail } from './views.js';
import type { SignInSessions } from './sign-in-sessions.js';

export type JellyfinCredentialsInput =
  | { url: string; username: string; password: string }
  | { quickConnectHandle: string };

/** Told about each address a server reported that did not become a route (to log it in words). */
export type RefusedRouteListener = (refused: RefusedRoute) => void;

export class SignInService {
  constructor(
    private readonly engine: Engine,
    private readonly plex: PlexSignIn,
    private readonly jellyfin: JellyfinSignIn,
    private readonly sessions: SignInSessions,
  ) {}

  private assertNotAdded(serverId: string, name: string): void {
    if (this.engine.hasServer(serverId)) {
      throw new HttpError(409, 'already_added', `${name} is already one of your sources.`);
    }
  }

  async createPlexPin(): Promise<ApiPlexPin> {
    const pin = await this.plex.createPin();
    this.sessions.addPin(pin.id, pin.expiresAt);
    return { id: pin.id, code: pin.code, authUrl: pin.authUrl, expiresAt: pin.expiresAt };
  }

  async plexPinState(pinId: number): Promise<ApiPlexPinState> {
    const session = this.sessions.getPin(pinId);
    if (!session) throw notFound('Plex sign-in PIN', pinId);
    let servers = session.servers;
    if (!session.accountToken || !servers) {
      const state = await this.plex.checkPin(pinId);
      if (state.state !== 'authorized') return state;
      servers = await this.plex.listServers(state.accountToken);
      this.sessions.authorizePin(pinId, state.accountToken, servers);
    }
    return {
      state: 'authorized',
      servers: servers.map((s) => ({
        serverId: s.serverId,
        name: s.name,
        owned: s.owned,
        presence: s.presence,
        routes: s.routes.map((r) => ({ url: r.url, kind: r.kind })),
        alreadyAdded: this.engine.hasServer(s.serverId),
      })),
    };
  }

  private authorizedPlexServers(pinId: number): PlexDiscoveredServer[] {
    const session = this.sessions.getPin(pinId);
    if (!session) throw new HttpError(404, 'not_found', `No Plex sign-in with PIN id ${pinId}; start the sign-in again.`);
    if (!session.servers) {
      throw new HttpError(409, 'not_authorized', 'This Plex PIN has not been authorized yet; finish signing in at plex.tv first.');
    }
    return session.servers;
  }

  addPlexSource(pinId: number, serverId: string, name?: string, onRefusedRoute?: RefusedRouteListener): ApiSource {
    const server = this.authorizedPlexServers(pinId).find((s) => s.serverId === serverId);
    if (!server) throw new HttpError(404, 'not_found', 'body.serverId: this Plex account has no server with that id.');
    this.assertNotAdded(server.serverId, server.name);
    server.refusedRoutes?.forEach((r) => onRefusedRoute?.(r));
    return toApiSource(
      this.engine.addSource({
        name: name ?? server.name,
        kind: 'plex',
        serverId: server.serverId,
        routes: server.routes,
        credentials: server.credentials,
      }),
    );
  }

  async probeJellyfin(url: string): Promise<ApiJellyfinProbe> {
    const info = await this.jellyfin.probe(url);
    return { serverId: info.serverId, name: info.name, version: info.version, url: info.url, alreadyAdded: this.engine.hasServer(info.serverId) };
  }

  /**
   * Refuses a server that is already a source BEFORE any sign-in: Jellyfin revokes the previous
   * token of the same DeviceId on every new login, so signing in "just to find out" would sign the
   * existing source out.
   */
  private async assertJellyfinNotAdded(url: string): Promise<void> {
    const info = await this.jellyfin.probe(url);
    this.assertNotAdded(info.serverId, info.name);
  }

  /**
   * Quick Connect mints its token when the code is approved — a login like any other — so the
   * same checks run before the code exists: adding (no `forSourceId`) refuses a server that is
   * already a source; "Sign in again" for `forSourceId` must be that source's server.
   */
  async startQuickConnect(url: string, forSourceId?: string): Promise<ApiQuickConnectStart> {
    if (forSourceId === undefined) {
      await this.assertJellyfinNotAdded(url);
    } else {
      const source = this.engine.getSource(forSourceId)?.source;
      if (!source) throw notFound('source', forSourceId);
      const info = await this.jellyfin.probe(url);
      if (source.kind !== 'jellyfin' || info.serverId !== source.serverId) {
        throw new HttpError(422, 'wrong_server', `The server at that address is ${info.name}, not ${source.name}.`);
      }
    }
    const { code, secret } = await this.jellyfin.quickConnectStart(url);
    const session = this.sessions.addQuickConnect(url, code, secret);
    return { code, handle: session.handle, expiresAt: session.expiresAt };
  }

  async quickConnectState(handle: string): Promise<ApiQuickConnectState> {
    const session = this.sessions.getQuickConnect(handle);
    if (!session) throw notFound('Quick Connect request', handle);
    let result = session.result;
    if (!result) {
      const state = await this.jellyfin.quickConnectPoll(session.url, session.secret);
      if (state.state !== 'authorized') return state;
      result = state.result;
      this.sessions.authorizeQuickConnect(handle, result);
    }
    return { state: 'authorized', serverId: result.serverId, serverName: result.serverName, userName: result.userName };
  }

  private async jellyfinResult(input: JellyfinCredentialsInput): Promise<JellyfinSignInResult> {
    if ('quickConnectHandle' in input) {
      const session = this.sessions.getQuickConnect(input.quickConnectHandle);
      if (!session) throw new HttpError(404, 'not_found', 'No Quick Connect request with that handle; start again.');
      if (!session.result) {
        throw new HttpError(409, 'not_authorized', 'Quick Connect has not been approved yet; enter the code on the Jellyfin server first.');
      }
      return session.result;
    }
    return this.jellyfin.signInByName(input.url, input.username, input.password);
  }

  async addJellyfinSource(input: JellyfinCredentialsInput, name?: string, onRefusedRoute?: RefusedRouteListener): Promise<ApiSource> {
    if ('url' in input) await this.assertJellyfinNotAdded(input.url);
    const result = await this.jellyfinResult(input);
    this.assertNotAdded(result.serverId, result.serverName);
    result.refusedRoutes?.forEach((r) => onRefusedRoute?.(r));
    return toApiSource(
      this.engine.addSource({
        name: name ?? result.serverName,
        kind: 'jellyfin',
        serverId: result.serverId,
        routes: result.routes,
        credentials: result.credentials,
      }),
    );
  }

  /** "Sign in again": new credentials for an existing source, only from the same server. */
  async signInAgain(
    sourceId: string,
    input: { pinId: number } | { username: string; password: string; url?: string } | { quickConnectHandle: string },
  ): Promise<ApiSourceDetail> {
    const snapshot = this.engine.getSource(sourceId);
    if (!snapshot) throw notFound('source', sourceId);
    const { source, status } = snapshot;
    let credentials: Credentials;
    if (source.kind === 'plex') {
      if (!('pinId' in input)) throw new HttpError(400, 'invalid_request', 'body.pinId: a Plex source signs in again with a PIN (POST /api/plex/pins).');
      const server = this.authorizedPlexServers(input.pinId).find((s) => s.serverId === source.serverId);
      if (!server) {
        throw new HttpError(422, 'server_not_in_account', `The Plex account you signed in with cannot reach ${source.name}.`);
      }
      credentials = server.credentials;
    } else {
      if ('pinId' in input) {
        throw new HttpError(400, 'invalid_request', 'body.username: a Jellyfin source signs in again with a user name and password or Quick Connect.');
      }
      const jellyfinInput: JellyfinCredentialsInput =
        'quickConnectHandle' in input
          ? input
          : { url: input.url ?? currentRouteUrl(source, status) ?? source.routes[0]?.url ?? '', username: input.username, password: input.password };
      const result = await this.jellyfinResult(jellyfinInput);
      if (result.serverId !== source.serverId) {
        throw new HttpError(422, 'wrong_server', `That sign-in belongs to ${result.serverName}, not ${source.name}.`);
      }
      credentials = result.credentials;
    }
    if (!this.engine.updateCredentials(sourceId, credentials)) throw notFound('source', sourceId);
    const updated = this.engine.getSourceDetail(sourceId);
    if (!updated) throw notFound('source', sourceId);
    return toApiSourceDetail(updated);
  }
}

/** The address of the route in use, if connected. */
function currentRouteUrl(source: Source, status: SourceStatus): string | undefined {
  return 'routeId' in status && status.routeId ? source.routes.find((r) => r.id === status.routeId)?.url : undefined;
}
