// The fake plex.tv: PIN sign-in, token checks and the /api/v2/resources discovery list.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { empty, header, json, queryParam, rejectUpgrade, requestUrl, text, type SimResponse } from './http-util.js';
import { PlexJwtIssuer } from './plex-jwt.js';
import { pinCode } from './ids.js';
import type { PlexAccounts } from './plex-accounts.js';
import { toPlexXml } from './plex-xml.js';
import type { RouteKind } from './route.js';
import type { SimService } from './service.js';
import type { Timers } from './timers.js';

/** What plex.tv knows about a Plex server it lists in /resources. */
export interface PlexResourceSource {
  id: string;
  name: string;
  machineId: string;
  version: string;
  owner: string;
  sharedWith: string[];
  createdAt: Date;
  presence(): boolean;
  connections(): { kind: RouteKind; host: string; port: number; url: string }[];
}

interface Pin {
  id: number;
  code: string;
  strong: boolean;
  clientIdentifier: string;
  product: string;
  createdAt: Date;
  expiresAt: Date;
  authToken: string | null;
}

const PLEX_TV_ERRORS = {
  unauthorized: { code: 1001, message: 'User could not be authenticated', status: 401 },
  missingClientId: { code: 1000, message: 'X-Plex-Client-Identifier is missing', status: 400 },
  missingProduct: { code: 1000, message: 'X-Plex-Product is missing', status: 400 },
  pinNotFound: { code: 1020, message: 'Code not found or expired', status: 404 },
  notFound: { code: 1002, message: 'Not Found', status: 404 },
  tokenExpired: { code: 1003, message: 'Token expired', status: 498 },
} as const;

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/** plex.tv answers JSON only to `Accept: application/json` exactly; anything else (even a list naming it) gets XML. */
function wantsJson(req: IncomingMessage): boolean {
  return (header(req, 'accept') ?? '').trim().toLowerCase() === 'application/json';
}

/** X-Plex-* values may come as headers or as query parameters. */
export function plexParam(req: IncomingMessage, url: URL, name: string): string | undefined {
  return header(req, name) ?? queryParam(url, name);
}

export class PlexTv implements SimService {
  private readonly pins = new Map<number, Pin>();
  private nextPinId = 1_000_000_000 + Math.floor(Math.random() * 1_000_000);

  constructor(
    readonly accounts: PlexAccounts,
    private readonly servers: () => PlexResourceSource[],
    private readonly timers: Timers,
    private readonly pinExpiresIn?: number,
    readonly jwt: PlexJwtIssuer = new PlexJwtIssuer(7 * 86_400),
  ) {}

  handle(req: IncomingMessage, body: Buffer, _ctx: unknown): SimResponse {
    const url = requestUrl(req);
    const path = url.pathname.replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/api/v2/pins') return this.createPin(req, url);
    const pinMatch = /^\/api\/v2\/pins\/(\d+)$/.exec(path);
    if (method === 'GET' && pinMatch) return this.getPin(req, url, Number(pinMatch[1]));
    if (method === 'GET' && path === '/api/v2/user') return this.user(req, url);
    if (method === 'GET' && path === '/api/v2/ping') return this.ping(req, url);
    if (method === 'GET' && path === '/api/v2/resources') return this.resources(req, url);
    if (method === 'POST' && path === '/api/v2/auth/jwk') return this.registerJwk(req, url, body);
    if (method === 'GET' && path === '/api/v2/auth/nonce') return this.nonce(req, url);
    if (method === 'POST' && path === '/api/v2/auth/token') return this.exchangeJwt(req, url, body);
    return this.error(req, PLEX_TV_ERRORS.notFound);
  }

  upgrade(_req: IncomingMessage, socket: Duplex): void {
    rejectUpgrade(socket, text(404, 'Not Found'));
  }

  // --- control -------------------------------------------------------------------------------

  /**
   * Plays the user approving the PIN in a signed-in Plex app: a fresh account token is minted,
   * after `delayMs` if given (the user taking their time).
   */
  approvePin(pinId: number, username = this.accounts.defaultUsername, delayMs = 0): void {
    const pin = this.pins.get(pinId);
    if (!pin || pin.expiresAt.getTime() <= Date.now()) throw new Error(`no live PIN ${pinId}`);
    this.accounts.account(username);
    const claim = () => {
      if (pin.expiresAt.getTime() > Date.now()) pin.authToken = this.accounts.mintAccountToken(username);
    };
    if (delayMs > 0) this.timers.timeout(claim, delayMs);
    else claim();
  }

  expirePin(pinId: number): void {
    const pin = this.pins.get(pinId);
    if (pin) pin.expiresAt = new Date(Date.now() - 1);
  }

  // --- endpoints -----------------------------------------------------------------------------

  private createPin(req: IncomingMessage, url: URL): SimResponse {
    const clientIdentifier = plexParam(req, url, 'X-Plex-Client-Identifier');
    const product = plexParam(req, url, 'X-Plex-Product');
    if (!clientIdentifier) return this.error(req, PLEX_TV_ERRORS.missingClientId);
    if (!product) return this.error(req, PLEX_TV_ERRORS.missingProduct);
    const strong = queryParam(url, 'strong') === 'true' || queryParam(url, 'strong') === '1';
    const lifetime = this.pinExpiresIn ?? (strong ? 1800 : 900);
    const createdAt = new Date();
    const pin: Pin = {
      id: this.nextPinId++,
      code: pinCode(strong ? 25 : 4).toLowerCase(),
      strong,
      clientIdentifier,
      product,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + lifetime * 1000),
      authToken: null,
    };
    if (!strong) pin.code = pin.code.toUpperCase();
    this.pins.set(pin.id, pin);
    return this.reply(req, 201, 'pin', this.pinBody(pin));
  }

  private getPin(req: IncomingMessage, url: URL, id: number): SimResponse {
    const clientIdentifier = plexParam(req, url, 'X-Plex-Client-Identifier');
    if (!clientIdentifier) return this.error(req, PLEX_TV_ERRORS.missingClientId);
    const pin = this.pins.get(id);
    // Expired, unknown, or asked for by a different client: plex.tv answers 404 alike.
    if (!pin || pin.expiresAt.getTime() <= Date.now() || pin.clientIdentifier !== clientIdentifier) {
      if (pin && pin.expiresAt.getTime() <= Date.now()) this.pins.delete(id);
      return this.error(req, PLEX_TV_ERRORS.pinNotFound);
    }
    return this.reply(req, 200, 'pin', this.pinBody(pin));
  }

  private pinBody(pin: Pin): Record<string, unknown> {
    return {
      id: pin.id,
      code: pin.code,
      product: pin.product,
      trusted: false,
      qr: `https://plex.tv/api/v2/pins/qr/${pin.code}`,
      clientIdentifier: pin.clientIdentifier,
      location: {
        code: 'NL',
        european_union_member: true,
        continent_code: 'EU',
        country: 'Netherlands',
        city: 'Amsterdam',
        time_zone: 'Europe/Amsterdam',
        postal_code: '1012',
        in_privacy_restricted_country: true,
        in_privacy_restricted_region: true,
        subdivisions: 'North Holland',
        coordinates: '52.3740, 4.8897',
      },
      // Seconds left, rounded up: a fresh PIN reports its whole lifetime (900 / 1800).
      expiresIn: Math.max(0, Math.ceil((pin.expiresAt.getTime() - Date.now()) / 1000)),
      createdAt: pin.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      expiresAt: pin.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      authToken: pin.authToken,
      newRegistration: null,
    };
  }

  /** The account behind the token; 'expired' for a plex.tv JWT past its expiry (498). */
  private tokenUser(req: IncomingMessage, url: URL): { username: string } | 'expired' | undefined {
    const entry = this.accounts.lookup(plexParam(req, url, 'X-Plex-Token'));
    if (entry?.kind !== 'account') return undefined;
    return this.accounts.expired(entry) ? 'expired' : { username: entry.username };
  }

  /** 401 for an unknown token, 498 for an expired JWT. */
  private authError(req: IncomingMessage, username: { username: string } | 'expired' | undefined): SimResponse | null {
    if (username === undefined) return this.error(req, PLEX_TV_ERRORS.unauthorized);
    if (username === 'expired') return this.error(req, PLEX_TV_ERRORS.tokenExpired);
    return null;
  }

  // --- JWT sign-in ---------------------------------------------------------------------------

  private registerJwk(req: IncomingMessage, url: URL, body: Buffer): SimResponse {
    const clientIdentifier = plexParam(req, url, 'X-Plex-Client-Identifier');
    if (!clientIdentifier) return this.error(req, PLEX_TV_ERRORS.missingClientId);
    const who = this.tokenUser(req, url);
    const denied = this.authError(req, who);
    if (denied || who === undefined || who === 'expired') return denied ?? this.error(req, PLEX_TV_ERRORS.unauthorized);
    const failure = this.jwt.register(clientIdentifier, who.username, parseJson(body));
    if (failure) return this.error(req, { code: 1099, message: failure.message, status: failure.status });
    return empty(204);
  }

  private nonce(req: IncomingMessage, url: URL): SimResponse {
    const clientIdentifier = plexParam(req, url, 'X-Plex-Client-Identifier');
    if (!clientIdentifier) return this.error(req, PLEX_TV_ERRORS.missingClientId);
    return json(200, { nonce: this.jwt.nonce(clientIdentifier) });
  }

  private exchangeJwt(req: IncomingMessage, url: URL, body: Buffer): SimResponse {
    const clientIdentifier = plexParam(req, url, 'X-Plex-Client-Identifier');
    if (!clientIdentifier) return this.error(req, PLEX_TV_ERRORS.missingClientId);
    const verified = this.jwt.verifyDeviceJwt(clientIdentifier, parseJson(body));
    if ('status' in verified) return this.error(req, { code: 1099, message: verified.message, status: verified.status });
    const { token, expiresAt } = this.jwt.mint(verified.username, clientIdentifier);
    this.accounts.addJwt(verified.username, token, expiresAt);
    this.accounts.account(verified.username).token = token;
    return json(200, { auth_token: token });
  }

  private user(req: IncomingMessage, url: URL): SimResponse {
    const who = this.tokenUser(req, url);
    const denied = this.authError(req, who);
    if (denied || who === undefined || who === 'expired') return denied ?? this.error(req, PLEX_TV_ERRORS.unauthorized);
    const account = this.accounts.account(who.username);
    const token = plexParam(req, url, 'X-Plex-Token') ?? '';
    return this.reply(req, 200, 'user', {
      id: account.id,
      uuid: account.uuid,
      username: account.username,
      title: account.username,
      email: account.email,
      friendlyName: account.username,
      locale: null,
      confirmed: true,
      joinedAt: 1_600_000_000,
      emailOnlyAuth: false,
      hasPassword: true,
      protected: false,
      thumb: `https://plex.tv/users/${account.uuid}/avatar?c=1700000000`,
      authToken: token,
      mailingListStatus: 'unsubscribed',
      mailingListActive: false,
      scrobbleTypes: '',
      country: 'NL',
      subscription: { active: false, subscribedAt: null, status: 'Inactive', paymentService: null, plan: null, features: [] },
      subscriptionDescription: null,
      restricted: false,
      anonymous: null,
      home: false,
      guest: false,
      homeSize: 1,
      homeAdmin: false,
      maxHomeSize: 15,
      rememberExpiresAt: Math.floor(Date.now() / 1000) + 30 * 86400,
      profile: { autoSelectAudio: true, defaultAudioLanguage: 'en', defaultSubtitleLanguage: 'en', autoSelectSubtitle: 0, defaultSubtitleAccessibility: 0, defaultSubtitleForced: 0 },
      entitlements: [],
      roles: [],
      services: [],
      adsConsent: null,
      adsConsentSetAt: null,
      adsConsentReminderAt: null,
      experimentalFeatures: false,
      twoFactorEnabled: false,
      backupCodesCreated: false,
      attributionPartner: null,
    });
  }

  private ping(req: IncomingMessage, url: URL): SimResponse {
    const denied = this.authError(req, this.tokenUser(req, url));
    if (denied) return denied;
    return this.reply(req, 200, 'response', { pong: true });
  }

  private resources(req: IncomingMessage, url: URL): SimResponse {
    const who = this.tokenUser(req, url);
    const denied = this.authError(req, who);
    if (denied || who === undefined || who === 'expired') return denied ?? this.error(req, PLEX_TV_ERRORS.unauthorized);
    const username = who.username;
    const flag = (name: string) => queryParam(url, name) === '1' || queryParam(url, name) === 'true';
    const includeRelay = flag('includeRelay');
    const includeIPv6 = flag('includeIPv6');
    const devices = this.servers()
      .filter((s) => s.owner === username || s.sharedWith.includes(username))
      .map((s) => {
        const owned = s.owner === username;
        const owner = this.accounts.account(s.owner);
        const connections = s
          .connections()
          .filter((c) => includeRelay || c.kind !== 'relay')
          .filter((c) => includeIPv6 || !c.host.includes(':'))
          .map((c) => ({
            protocol: c.url.startsWith('https:') ? 'https' : 'http',
            address: c.host,
            port: c.port,
            uri: c.url,
            local: c.kind === 'local',
            relay: c.kind === 'relay',
            IPv6: c.host.includes(':'),
          }));
        const remote = s.connections().find((c) => c.kind === 'remote');
        return {
          name: s.name,
          product: 'Plex Media Server',
          productVersion: s.version,
          platform: 'Linux',
          platformVersion: '6.1.0',
          device: 'PC',
          clientIdentifier: s.machineId,
          createdAt: s.createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          lastSeenAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          provides: 'server',
          ownerId: owned ? null : owner.id,
          sourceTitle: owned ? null : owner.username,
          publicAddress: remote?.host ?? '127.0.0.1',
          accessToken: this.accounts.serverToken(s.id, username),
          owned,
          home: false,
          synced: false,
          relay: true,
          presence: s.presence(),
          httpsRequired: false,
          publicAddressMatches: true,
          dnsRebindingProtection: false,
          natLoopbackSupported: false,
          connections,
        };
      });
    if (wantsJson(req)) return json(200, devices);
    const xml = toPlexXml('resources', {
      size: devices.length,
      resource: devices.map((d) => ({ ...d, connections: { connection: d.connections } })),
    });
    return text(200, xml, 'application/xml; charset=utf-8');
  }

  private reply(req: IncomingMessage, status: number, xmlRoot: string, body: Record<string, unknown>): SimResponse {
    if (wantsJson(req)) return json(status, body);
    return text(status, toPlexXml(xmlRoot, body), 'application/xml; charset=utf-8');
  }

  private error(req: IncomingMessage, err: { code: number; message: string; status: number }): SimResponse {
    if (wantsJson(req)) return json(err.status, { errors: [err] });
    return text(err.status, toPlexXml('errors', { error: [err] }), 'application/xml; charset=utf-8');
  }
}
