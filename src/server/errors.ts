// One error vocabulary for the HTTP layer: HttpError for expected failures, zod input validation
// through one helper, SignInError codes mapped to 4xx, and the single Fastify error handler.
import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { SignInError, type SignInErrorCode } from '../backends/types.js';
import type { ApiError } from '../api/types.js';
import { scrubSecrets } from './logger.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string, id: string | number): HttpError =>
  new HttpError(404, 'not_found', `No ${what} with id "${String(id).slice(0, 80)}".`);

/** Parses one part of a request; failures become 400s that name the field ("body.username: …"). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const messages = result.error.issues.flatMap((issue) => {
    const path = [part, ...issue.path.map(String)];
    // One message per unknown key, with the key in the path: "body.monitoring.foo: …".
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${[...path, key.slice(0, 64)].join('.')}: is not a known field`);
    return [`${path.join('.')}: ${issue.message}`];
  }).slice(0, 3);
  throw new HttpError(400, 'invalid_request', messages.join('; '));
}

const SIGN_IN_STATUS: Record<SignInErrorCode, number> = {
  invalid_url: 400,
  unreachable: 422,
  not_a_server: 422,
  bad_credentials: 422,
  quick_connect_disabled: 409,
  expired: 410,
  upstream_error: 502,
};

const SIGN_IN_FALLBACK: Record<SignInErrorCode, string> = {
  invalid_url: 'That address is not a valid server URL.',
  unreachable: 'No server answered at that address.',
  not_a_server: 'The address answered, but not as a media server.',
  bad_credentials: 'Wrong user name or password.',
  quick_connect_disabled: 'Quick Connect is disabled on this server.',
  expired: 'The sign-in request expired; start again.',
  upstream_error: 'The server answered with an error; try again.',
};

export function signInHttpError(err: SignInError): HttpError {
  const message = err.message ? scrubSecrets(err.message) : SIGN_IN_FALLBACK[err.code];
  return new HttpError(SIGN_IN_STATUS[err.code] ?? 502, err.code, message);
}

/** Fastify's own 4xx codes, in words a client can act on. */
function fastifyClientError(err: FastifyError): ApiError {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { error: 'invalid_json', message: 'body: the request body is not valid JSON.' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: 'body_too_large', message: 'body: the request body is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { error: 'unsupported_media_type', message: 'Send the body as application/json.' };
    default:
      return { error: 'bad_request', message: scrubSecrets(err.message) };
  }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    if (err instanceof HttpError) {
      return reply.status(err.statusCode).send({ error: err.error, message: err.message } satisfies ApiError);
    }
    if (err instanceof SignInError) {
      const mapped = signInHttpError(err);
      return reply.status(mapped.statusCode).send({ error: mapped.error, message: mapped.message } satisfies ApiError);
    }
    // The store refuses a configuration write while its disk is full or read-only
    // (StoreUnavailableError, matched by name: the HTTP layer does not import the store).
    if (err.name === 'StoreUnavailableError') {
      request.log.warn({ err }, 'storage unavailable');
      return reply.status(503).send({ error: 'storage_unavailable', message: scrubSecrets(err.message) } satisfies ApiError);
    }
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.status(status).send(fastifyClientError(err as FastifyError));
    }
    request.log.error({ err }, 'request failed');
    return reply
      .status(500)
      .send({ error: 'internal_error', message: 'Something went wrong inside Marquee; the server log has the details.' } satisfies ApiError);
  });
}
