// Notification targets written as Apprise URLs (issue 16): people paste what they already use
// elsewhere. Pure: parsing, validation and redaction only; the senders live in
// src/notifications/send.ts. docs/NOTIFICATIONS.md lists every form with examples.
//
// Parsing is done by hand rather than with WHATWG `URL`: Apprise URLs are not web URLs (a Telegram
// bot token `123:ABC` sits where a host and port would be), and a hand parser lets every refusal
// name what is wrong without ever echoing a secret back.

/** Every service a target can be. */
export type NotificationService = 'webhook' | 'ntfy' | 'gotify' | 'discord' | 'slack' | 'telegram' | 'email' | 'pushover';

/**
 * Services whose address is fixed (a cloud API), so the URL names no host. Their base URL can be
 * replaced through the sender's `serviceBaseUrls` option (configuration and tests only, never the
 * browser), e.g. to point them at a loopback receiver.
 */
export type FixedHostService = 'ntfy' | 'discord' | 'slack' | 'telegram' | 'pushover';

export const DEFAULT_SERVICE_BASE_URLS: Readonly<Record<FixedHostService, string>> = {
  ntfy: 'https://ntfy.sh',
  discord: 'https://discord.com',
  slack: 'https://hooks.slack.com',
  telegram: 'https://api.telegram.org',
  pushover: 'https://api.pushover.net',
};

/** The URL schemes accepted, in the order error messages name them. */
export const SUPPORTED_SCHEMES = [
  'json',
  'jsons',
  'ntfy',
  'ntfys',
  'gotify',
  'gotifys',
  'discord',
  'slack',
  'tgram',
  'mailto',
  'mailtos',
  'pover',
] as const;
export type SupportedScheme = (typeof SUPPORTED_SCHEMES)[number];

export interface WebhookTarget {
  service: 'webhook';
  /** http(s) URL the JSON is POSTed to, without Marquee's own parameters (`secret`, `+Header`). */
  url: string;
  /** HMAC-SHA256 key for the `X-Marquee-Signature` header. */
  secret?: string;
  /** Basic auth from `user:password@`. */
  basicAuth?: { user: string; password: string };
  /** Apprise's `+Name=value` parameters: extra request headers (values are treated as secrets). */
  headers: Record<string, string>;
}

export interface NtfyTarget {
  service: 'ntfy';
  /** Null: ntfy.sh (the fixed-host default, replaceable by `serviceBaseUrls.ntfy`). */
  baseUrl: string | null;
  topic: string;
  /** ntfy priority 1 (min) … 5 (max); absent: the server's default (3). */
  priority?: 1 | 2 | 3 | 4 | 5;
  tags: string[];
  auth?: { kind: 'basic'; user: string; password: string } | { kind: 'token'; token: string };
}

export interface GotifyTarget {
  service: 'gotify';
  /** http(s) base URL, including a sub-path when Gotify runs under one. */
  baseUrl: string;
  /** The application token (sent in `X-Gotify-Key`, never in the URL). */
  token: string;
  /** Gotify priority 0–10. */
  priority: number;
}

export interface DiscordTarget {
  service: 'discord';
  webhookId: string;
  webhookToken: string;
  /** Apprise's `discord://botname@id/token`: the name the message is posted under. */
  username?: string;
}

export interface SlackTarget {
  service: 'slack';
  /** The three parts of an incoming webhook `https://hooks.slack.com/services/A/B/C`. */
  tokenA: string;
  tokenB: string;
  tokenC: string;
  username?: string;
}

export interface TelegramTarget {
  service: 'telegram';
  botToken: string;
  chatIds: string[];
}

/**
 * Email over SMTP. `plain`: mailto://, a plain connection that nodemailer still upgrades with
 * STARTTLS when the server offers it; `starttls`: mailtos:// (Apprise's default secure mode),
 * STARTTLS required; `ssl`: mailtos://…?mode=ssl (or port 465), implicit TLS.
 */
export interface EmailTarget {
  service: 'email';
  host: string;
  port: number;
  security: 'plain' | 'starttls' | 'ssl';
  user?: string;
  password?: string;
  from: string;
  to: string[];
}

export interface PushoverTarget {
  service: 'pushover';
  userKey: string;
  token: string;
  /** Pushover priority -2 … 1 (2, emergency, needs retry/expire and is not offered). */
  priority?: number;
  devices: string[];
}

export type NotificationTarget =
  | WebhookTarget
  | NtfyTarget
  | GotifyTarget
  | DiscordTarget
  | SlackTarget
  | TelegramTarget
  | EmailTarget
  | PushoverTarget;

export type ParseTargetResult = { ok: true; target: NotificationTarget } | { ok: false; message: string };

/** The pieces of `scheme://userinfo@host:port/path?query`, split without decoding secrets into messages. */
interface RawUrl {
  scheme: string;
  user: string | null;
  password: string | null;
  /** The host as written (brackets kept for IPv6), and the port text. */
  host: string;
  port: string | null;
  /** Decoded path segments, empty ones dropped. */
  segments: string[];
  /** The path ended with `/` (kept for webhooks: some receivers answer a redirect without it). */
  trailingSlash: boolean;
  params: Array<[string, string]>;
}

const MAX_URL_LENGTH = 2048;

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** Splits an Apprise URL. Null: no `scheme://`. Throws a plain-words Error (never echoing input) on bad escapes. */
function splitUrl(input: string): RawUrl | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(input);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  let rest = m[2]!;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : null;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let user: string | null = null;
  let password: string | null = null;
  if (userinfo !== null) {
    const colon = userinfo.indexOf(':');
    const rawUser = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    const rawPassword = colon >= 0 ? userinfo.slice(colon + 1) : null;
    user = decode(rawUser);
    password = rawPassword === null ? null : decode(rawPassword);
    if (user === null || (rawPassword !== null && password === null)) throw new Error('the user name or password has a broken %-escape');
  }
  let host = hostport;
  let port: string | null = null;
  const portMatch = /^(\[[^\]]*\]|[^:]*):(.*)$/.exec(hostport);
  if (portMatch) {
    host = portMatch[1]!;
    port = portMatch[2]!;
  }
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (!raw) continue;
    const seg = decode(raw);
    if (seg === null) throw new Error('the path has a broken %-escape');
    segments.push(seg);
  }
  const params: Array<[string, string]> = [];
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode((eq >= 0 ? pair.slice(0, eq) : pair).replace(/\+/g, '%2B'));
    const value = decode((eq >= 0 ? pair.slice(eq + 1) : '').replace(/\+/g, ' '));
    if (key === null || value === null) throw new Error('a parameter has a broken %-escape');
    params.push([key, value]);
  }
  return { scheme, user, password, host, port, segments, trailingSlash: path.endsWith('/') && segments.length > 0, params };
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** A DNS name, an IPv4 address or a bracketed IPv6 address. */
function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/i.test(host.slice(1, -1)) && host.includes(':');
  if (/^\d+(\.\d+){3}$/.test(host)) return host.split('.').every((o) => Number(o) <= 255);
  if (host.length > 253) return false;
  return host.split('.').every((label) => HOST_LABEL.test(label));
}

function validPort(port: string | null): port is string {
  return port !== null && /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}

function param(raw: RawUrl, name: string): string | undefined {
  const hit = raw.params.find(([k]) => k.toLowerCase() === name);
  return hit?.[1];
}

class TargetError extends Error {}
const fail = (message: string): never => {
  throw new TargetError(message);
};

/** `host[:port]` checked; returns the origin text `host[:port]` (port omitted when absent). */
function hostAndPort(raw: RawUrl, what: string): string {
  if (!raw.host) fail(`${what} needs a host name`);
  if (!validHost(raw.host)) fail(`${what}: the host name is not valid`);
  if (raw.port !== null && !validPort(raw.port)) fail(`${what}: the port must be a number from 1 to 65535`);
  return raw.port !== null ? `${raw.host.toLowerCase()}:${Number(raw.port)}` : raw.host.toLowerCase();
}

const NTFY_PRIORITIES: Record<string, 1 | 2 | 3 | 4 | 5> = {
  min: 1,
  low: 2,
  default: 3,
  normal: 3,
  high: 4,
  max: 5,
  urgent: 5,
  emergency: 5,
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
  '5': 5,
};

/** Apprise's names for Gotify priorities. */
const GOTIFY_PRIORITIES: Record<string, number> = { low: 1, moderate: 3, normal: 5, high: 8, emergency: 10 };

const PUSHOVER_PRIORITIES: Record<string, number> = { lowest: -2, low: -1, normal: 0, high: 1 };

const TOKEN_CHARS = /^[A-Za-z0-9_.~-]+$/;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

function parseWebhook(raw: RawUrl): WebhookTarget {
  const origin = hostAndPort(raw, 'A webhook URL');
  const method = param(raw, 'method');
  if (method !== undefined && method.toUpperCase() !== 'POST') fail('a webhook is always sent with POST; method= may only be POST');
  const headers: Record<string, string> = {};
  const passOn: string[] = [];
  for (const [key, value] of raw.params) {
    if (key.startsWith('+')) {
      const name = key.slice(1);
      if (!/^[A-Za-z0-9-]{1,64}$/.test(name)) fail('a +Header parameter names an invalid header');
      if (!/^[\x20-\x7e]*$/.test(value)) fail('a +Header value may only use printable ASCII characters');
      headers[name] = value;
    } else if (!['secret', 'method'].includes(key.toLowerCase())) {
      passOn.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    }
  }
  const secret = param(raw, 'secret');
  if (secret !== undefined && secret.length < 8) fail('the webhook secret must be at least 8 characters long');
  const scheme = raw.scheme === 'jsons' ? 'https' : 'http';
  const path = raw.segments.map(encodeURIComponent).join('/');
  const url = `${scheme}://${origin}/${path}${raw.trailingSlash ? '/' : ''}${passOn.length ? `?${passOn.join('&')}` : ''}`;
  return {
    service: 'webhook',
    url,
    ...(secret ? { secret } : {}),
    ...(raw.user !== null ? { basicAuth: { user: raw.user, password: raw.password ?? '' } } : {}),
    headers,
  };
}

function parseNtfy(raw: RawUrl): NtfyTarget {
  let baseUrl: string | null = null;
  let topic: string | undefined;
  if (raw.segments.length === 0) {
    // ntfy://topic — Apprise's short form for ntfy.sh.
    if (raw.port !== null || raw.user !== null) fail('ntfy: name the topic after the host, e.g. ntfys://ntfy.example.org/alerts');
    topic = raw.host;
  } else {
    baseUrl = `${raw.scheme === 'ntfys' ? 'https' : 'http'}://${hostAndPort(raw, 'An ntfy URL')}`;
    if (raw.segments.length > 1) fail('ntfy: give exactly one topic (one path segment)');
    topic = raw.segments[0];
  }
  if (!topic || !/^[A-Za-z0-9_-]{1,64}$/.test(topic)) fail('ntfy: the topic may use letters, digits, _ and - (at most 64)');
  const priorityText = param(raw, 'priority');
  let priority: NtfyTarget['priority'];
  if (priorityText !== undefined) {
    priority = NTFY_PRIORITIES[priorityText.toLowerCase()];
    if (priority === undefined) fail('ntfy: priority must be min, low, default, high, max or 1–5');
  }
  const tags = list(param(raw, 'tags'));
  if (tags.some((t) => t.length > 64)) fail('ntfy: a tag is longer than 64 characters');
  const token = param(raw, 'token');
  let auth: NtfyTarget['auth'];
  if (token) auth = { kind: 'token', token };
  else if (raw.user !== null && raw.password !== null && raw.user !== '') auth = { kind: 'basic', user: raw.user, password: raw.password };
  else if (raw.user !== null && raw.password !== null && raw.user === '') auth = { kind: 'token', token: raw.password };
  // ntfy://tk_abc@host/topic: Apprise reads a lone user part starting with tk_ as an access token.
  else if (raw.user !== null && /^tk_/i.test(raw.user)) auth = { kind: 'token', token: raw.user };
  else if (raw.user !== null) fail('ntfy: give user:password@ or an access token (tk_…)');
  return { service: 'ntfy', baseUrl, topic: topic!, ...(priority ? { priority } : {}), tags, ...(auth ? { auth } : {}) };
}

function parseGotify(raw: RawUrl): GotifyTarget {
  const origin = hostAndPort(raw, 'A Gotify URL');
  const token = raw.segments.at(-1);
  if (!token) fail('gotify: the application token is missing (gotify://host/TOKEN)');
  if (!TOKEN_CHARS.test(token!)) fail('gotify: the application token has characters a token cannot have');
  const prefix = raw.segments.slice(0, -1).map(encodeURIComponent).join('/');
  const priorityText = param(raw, 'priority');
  let priority = 5;
  if (priorityText !== undefined) {
    const named = GOTIFY_PRIORITIES[priorityText.toLowerCase()];
    const numeric = /^\d{1,2}$/.test(priorityText) ? Number(priorityText) : NaN;
    if (named !== undefined) priority = named;
    else if (numeric >= 0 && numeric <= 10) priority = numeric;
    else fail('gotify: priority must be low, moderate, normal, high, emergency or 0–10');
  }
  return { service: 'gotify', baseUrl: `${raw.scheme === 'gotifys' ? 'https' : 'http'}://${origin}${prefix ? `/${prefix}` : ''}`, token: token!, priority };
}

function parseDiscord(raw: RawUrl): DiscordTarget {
  const webhookId = raw.host;
  const webhookToken = raw.segments[0];
  if (raw.port !== null || !/^\d{5,30}$/.test(webhookId)) fail('discord: expected discord://WEBHOOK_ID/WEBHOOK_TOKEN with a numeric webhook id');
  if (!webhookToken || !TOKEN_CHARS.test(webhookToken) || raw.segments.length !== 1) fail('discord: the webhook token is missing or malformed (discord://WEBHOOK_ID/WEBHOOK_TOKEN)');
  if (raw.password !== null) fail('discord: only a bot name may stand before @');
  return { service: 'discord', webhookId, webhookToken: webhookToken!, ...(raw.user ? { username: raw.user } : {}) };
}

function parseSlack(raw: RawUrl): SlackTarget {
  const [tokenB, tokenC, ...extra] = raw.segments;
  const tokenA = raw.host;
  if (raw.port !== null || !tokenB || !tokenC || extra.some((e) => !e.startsWith('#'))) {
    fail('slack: expected slack://TokenA/TokenB/TokenC (the three parts of an incoming-webhook URL)');
  }
  if (![tokenA, tokenB!, tokenC!].every((t) => /^[A-Za-z0-9]{6,64}$/.test(t))) fail('slack: TokenA, TokenB and TokenC may only have letters and digits');
  if (raw.password !== null) fail('slack: only a bot name may stand before @');
  return { service: 'slack', tokenA, tokenB: tokenB!, tokenC: tokenC!, ...(raw.user ? { username: raw.user } : {}) };
}

function parseTelegram(raw: RawUrl): TelegramTarget {
  // The bot token is `digits:secret`, so it spans what a generic parser calls host and port.
  const botToken = raw.port !== null ? `${raw.host}:${raw.port}` : raw.host;
  if (!/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/.test(botToken)) fail('tgram: expected tgram://BOT_TOKEN/CHAT_ID with a bot token like 123456789:AA…');
  if (raw.user !== null) fail('tgram: nothing may stand before the bot token');
  const chatIds = raw.segments;
  if (chatIds.length === 0) fail('tgram: the chat id is missing (tgram://BOT_TOKEN/CHAT_ID)');
  if (!chatIds.every((c) => /^(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$/.test(c))) fail('tgram: a chat id must be a number or @channelname');
  return { service: 'telegram', botToken, chatIds };
}

function parseEmail(raw: RawUrl): EmailTarget {
  const what = 'An email URL';
  hostAndPort(raw, what);
  const smtpHost = param(raw, 'smtp');
  if (smtpHost !== undefined && !validHost(smtpHost)) fail('mailto: smtp= is not a valid host name');
  const user = raw.user ?? param(raw, 'user');
  const password = raw.password ?? param(raw, 'pass');
  const mode = param(raw, 'mode')?.toLowerCase();
  let security: EmailTarget['security'];
  if (raw.scheme === 'mailto') {
    if (mode !== undefined) fail('mailto: mode= only applies to mailtos:// (secure connections)');
    security = 'plain';
  } else if (mode === undefined) security = raw.port === '465' ? 'ssl' : 'starttls';
  else if (mode === 'ssl' || mode === 'starttls') security = mode;
  else security = fail('mailtos: mode must be ssl or starttls');
  const port = raw.port !== null ? Number(raw.port) : security === 'ssl' ? 465 : security === 'starttls' ? 587 : 25;
  const domain = raw.host.toLowerCase();
  const from = param(raw, 'from') ?? (user ? (user.includes('@') ? user : `${user}@${domain}`) : undefined);
  if (!from || !EMAIL.test(from)) fail('mailto: the sender is missing or not an address; add from=you@example.org');
  const to = [...raw.segments, ...list(param(raw, 'to'))];
  const recipients = to.length ? to : [from!];
  if (!recipients.every((r) => EMAIL.test(r))) fail('mailto: a recipient is not an email address');
  if (password && !user) fail('mailto: a password needs a user name');
  return {
    service: 'email',
    host: smtpHost ? smtpHost.toLowerCase() : domain,
    port,
    security,
    ...(user ? { user } : {}),
    ...(password ? { password } : {}),
    from: from!,
    to: recipients,
  };
}

function parsePushover(raw: RawUrl): PushoverTarget {
  // pover://USER_KEY@TOKEN[/DEVICE…]
  const userKey = raw.user;
  const token = raw.host;
  if (!userKey || raw.password !== null || raw.port !== null) fail('pover: expected pover://USER_KEY@APP_TOKEN');
  if (!/^[A-Za-z0-9]{20,40}$/.test(userKey!) || !/^[A-Za-z0-9]{20,40}$/.test(token)) fail('pover: the user key and the application token are 30 letters and digits');
  const devices = raw.segments;
  if (!devices.every((d) => /^[A-Za-z0-9_-]{1,25}$/.test(d))) fail('pover: a device name may use letters, digits, _ and - (at most 25)');
  const priorityText = param(raw, 'priority');
  let priority: number | undefined;
  if (priorityText !== undefined) {
    priority = PUSHOVER_PRIORITIES[priorityText.toLowerCase()] ?? (/^-?[0-2]$/.test(priorityText) ? Number(priorityText) : undefined);
    if (priority === undefined || priority > 1) fail('pover: priority must be lowest, low, normal, high or -2 to 1 (emergency is not offered)');
  }
  return { service: 'pushover', userKey: userKey!, token, ...(priority !== undefined ? { priority } : {}), devices };
}

/** Reads a target URL written the Apprise way. Messages never repeat the URL (it may hold secrets). */
export function parseTargetUrl(url: string): ParseTargetResult {
  if (typeof url !== 'string' || !url.trim()) return { ok: false, message: 'The target URL is empty' };
  if (url.length > MAX_URL_LENGTH) return { ok: false, message: `The target URL is longer than ${MAX_URL_LENGTH} characters` };
  if (/[\s\u0000-\u001f\u007f]/.test(url.trim())) return { ok: false, message: 'The target URL may not contain spaces or control characters' };
  try {
    const raw = splitUrl(url.trim());
    if (!raw) return { ok: false, message: `The target URL must start with a scheme such as json:// — supported: ${schemesInWords()}` };
    const scheme = raw.scheme as SupportedScheme;
    switch (scheme) {
      case 'json':
      case 'jsons':
        return { ok: true, target: parseWebhook(raw) };
      case 'ntfy':
      case 'ntfys':
        return { ok: true, target: parseNtfy(raw) };
      case 'gotify':
      case 'gotifys':
        return { ok: true, target: parseGotify(raw) };
      case 'discord':
        return { ok: true, target: parseDiscord(raw) };
      case 'slack':
        return { ok: true, target: parseSlack(raw) };
      case 'tgram':
        return { ok: true, target: parseTelegram(raw) };
      case 'mailto':
      case 'mailtos':
        return { ok: true, target: parseEmail(raw) };
      case 'pover':
        return { ok: true, target: parsePushover(raw) };
      default: {
        const shown = /^[a-z][a-z0-9+.-]{0,20}$/.test(raw.scheme) ? `${raw.scheme}://` : 'That scheme';
        return { ok: false, message: `${shown} is not supported — supported: ${schemesInWords()}` };
      }
    }
  } catch (err) {
    if (err instanceof TargetError || err instanceof Error) return { ok: false, message: capitalise(err.message) };
    return { ok: false, message: 'The target URL could not be read' };
  }
}

function schemesInWords(): string {
  return SUPPORTED_SCHEMES.map((s) => `${s}://`).join(', ');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Every secret a parsed target holds, for scrubbing them out of answers and messages. */
export function targetSecrets(target: NotificationTarget): string[] {
  const secrets: Array<string | undefined> = [];
  switch (target.service) {
    case 'webhook':
      secrets.push(target.secret, target.basicAuth?.password, ...Object.values(target.headers));
      break;
    case 'ntfy':
      secrets.push(target.auth?.kind === 'basic' ? target.auth.password : target.auth?.token);
      break;
    case 'gotify':
      secrets.push(target.token);
      break;
    case 'discord':
      secrets.push(target.webhookToken);
      break;
    case 'slack':
      secrets.push(target.tokenB, target.tokenC);
      break;
    case 'telegram':
      secrets.push(target.botToken, target.botToken.split(':')[1]);
      break;
    case 'email':
      secrets.push(target.password);
      break;
    case 'pushover':
      secrets.push(target.token);
      break;
  }
  return [...new Set(secrets.filter((s): s is string => !!s && s.length >= 3))];
}

const MASK = '***';

/** Parameters whose values are secrets in any scheme. */
const SECRET_PARAM = /^(secret|token|pass|password|key|apikey|api_key|access_token)$/i;

/**
 * The URL with every password, token and secret replaced by `***`, for API answers and logs.
 * A URL that cannot be read at all gives only its scheme: what cannot be parsed cannot be trusted
 * to be free of secrets.
 */
export function redactTargetUrl(url: string): string {
  const schemeOnly = /^([a-z][a-z0-9+.-]{0,20}):\/\//i.exec(typeof url === 'string' ? url.trim() : '');
  let raw: RawUrl | null = null;
  try {
    // Only a URL that parses as a target has known secret parts; anything else shows its scheme.
    if (parseTargetUrl(url).ok) raw = splitUrl(url.trim());
  } catch {
    raw = null;
  }
  if (!raw) return schemeOnly ? `${schemeOnly[1]!.toLowerCase()}://${MASK}` : MASK;
  const enc = (s: string) => encodeURIComponent(s);
  let user = raw.user;
  let password = raw.password;
  let host = raw.host;
  let port = raw.port;
  let segments = raw.segments.map(enc);
  const params = raw.params.map(([k, v]): [string, string] => [k, SECRET_PARAM.test(k) || k.startsWith('+') ? MASK : v]);
  if (password !== null) password = MASK;
  switch (raw.scheme as SupportedScheme) {
    case 'ntfy':
    case 'ntfys':
      if (user !== null && raw.password === null) user = MASK; // a lone tk_… access token
      break;
    case 'gotify':
    case 'gotifys':
      if (segments.length) segments = [...segments.slice(0, -1), MASK];
      break;
    case 'discord':
      segments = segments.length ? [MASK] : [];
      break;
    case 'slack':
      segments = segments.map((s, i) => (i < 2 ? MASK : s));
      break;
    case 'tgram':
      host = MASK;
      port = null;
      break;
    case 'pover':
      host = MASK;
      port = null;
      break;
    case 'json':
    case 'jsons':
    case 'mailto':
    case 'mailtos':
      break;
    default:
      // Unknown scheme: which parts are secret is unknown, so nothing but the scheme is shown.
      return raw.scheme.length <= 20 ? `${raw.scheme}://${MASK}` : MASK;
  }
  const userinfo = user !== null ? `${user === MASK ? MASK : enc(user)}${password !== null ? `:${password}` : ''}@` : '';
  const query = params.length ? `?${params.map(([k, v]) => `${enc(k)}=${v === MASK ? MASK : enc(v)}`).join('&')}` : '';
  return `${raw.scheme}://${userinfo}${host}${port !== null ? `:${port}` : ''}${segments.length ? `/${segments.join('/')}` : ''}${query}`;
}
