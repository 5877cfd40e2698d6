// Validates recorded responses against the published OpenAPI documents with Ajv. OpenAPI 3.0
// (Jellyfin) marks null with `nullable`, which JSON Schema lacks, so 3.0 schemas are rewritten to
// `type: [T, "null"]` / `anyOf [.., null]` first; 3.1 (Plex) is JSON Schema 2020-12 already.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under tsx/vitest.
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

type Json = Record<string, unknown>;

export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

/** Rewrites OpenAPI 3.0 `nullable` into JSON Schema; returns a new tree. */
export function rewriteNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = rewriteNullable(v);
  if (out['nullable'] !== true) return out;
  delete out['nullable'];
  if (typeof out['type'] === 'string' && !('$ref' in out) && !('allOf' in out) && !('oneOf' in out) && !('anyOf' in out)) {
    out['type'] = [out['type'], 'null'];
    if (Array.isArray(out['enum'])) out['enum'] = [...(out['enum'] as unknown[]), null];
    return out;
  }
  // A nullable composition: the value is either null or the composed schema.
  const { description, ...rest } = out;
  return { ...(description === undefined ? {} : { description }), anyOf: [rest, { type: 'null' }] };
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly spec: Json;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(specPath: string) {
    const raw = JSON.parse(readFileSync(specPath, 'utf8')) as Json;
    const version = typeof raw['openapi'] === 'string' ? raw['openapi'] : '';
    this.spec = (version.startsWith('3.0') ? rewriteNullable(raw) : raw) as Json;
    const options = { strict: false, allErrors: true, validateSchema: false, validateFormats: true } as const;
    this.ajv = version.startsWith('3.1') ? new Ajv2020(options) : new Ajv(options);
    addFormats(this.ajv);
    // OpenAPI's numeric/binary formats are annotations for code generators, not constraints.
    for (const f of ['int32', 'int64', 'float', 'double', 'binary', 'byte']) this.ajv.addFormat(f, true);
    // Jellyfin declares Guids as format "uuid" but its JsonGuidConverter writes them as 32 hex
    // without dashes ("N" format); both spellings are the real wire format.
    this.ajv.addFormat('uuid', /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i);
    this.ajv.addSchema({ ...this.spec, $id: 'spec.json' });
  }

  /** The declared response schema for `method path status contentType`, or undefined. */
  schemaPointer(path: string, method: string, status: number, contentType = 'application/json'): string | undefined {
    const paths = this.spec['paths'] as Record<string, Json>;
    const op = paths[path]?.[method.toLowerCase()] as Json | undefined;
    const responses = op?.['responses'] as Record<string, Json> | undefined;
    const response = responses?.[String(status)] ?? responses?.[`${String(status)[0]}XX`] ?? responses?.['default'];
    if (!response) return undefined;
    const statusKey = Object.entries(responses ?? {}).find(([, r]) => r === response)?.[0] ?? String(status);
    const content = response['content'] as Record<string, Json> | undefined;
    if (!content?.[contentType]?.['schema']) return undefined;
    return `spec.json#/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${statusKey}/content/${escapePointer(contentType)}/schema`;
  }

  /** True when the spec documents this status for the operation at all. */
  documentsStatus(path: string, method: string, status: number): boolean {
    const paths = this.spec['paths'] as Record<string, Json>;
    const responses = (paths[path]?.[method.toLowerCase()] as Json | undefined)?.['responses'] as Json | undefined;
    return !!responses && String(status) in responses;
  }

  validate(path: string, method: string, status: number, body: unknown, contentType = 'application/json'): ValidationResult {
    const pointer = this.schemaPointer(path, method, status, contentType);
    if (!pointer) return { valid: false, errors: [`spec has no ${contentType} schema for ${method.toUpperCase()} ${path} ${status}`] };
    let validate = this.cache.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: pointer });
      this.cache.set(pointer, validate);
    }
    const valid = validate(body);
    return { valid, errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`) };
  }

  /** Validates a request body against the operation's declared `requestBody` schema. */
  validateRequestBody(path: string, method: string, body: unknown, contentType = 'application/json'): ValidationResult {
    const paths = this.spec['paths'] as Record<string, Json>;
    const op = paths[path]?.[method.toLowerCase()] as Json | undefined;
    const content = (op?.['requestBody'] as Json | undefined)?.['content'] as Record<string, Json> | undefined;
    if (!content?.[contentType]?.['schema']) return { valid: false, errors: [`spec has no ${contentType} request body for ${method.toUpperCase()} ${path}`] };
    const pointer = `spec.json#/paths/${escapePointer(path)}/${method.toLowerCase()}/requestBody/content/${escapePointer(contentType)}/schema`;
    let validate = this.cache.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: pointer });
      this.cache.set(pointer, validate);
    }
    const valid = validate(body);
    return { valid, errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`) };
  }

  /**
   * Validates request parameters (query and header values as sent, i.e. strings) against the
   * operation's declared parameters: each documented one against its schema (numbers and booleans
   * read from their text first), required ones present. Names the spec does not document are
   * returned in `undocumented` (the caller decides whether they are allowed).
   */
  validateParameters(path: string, method: string, sent: { query?: Record<string, string>; header?: Record<string, string> }): ValidationResult & { undocumented: string[] } {
    const paths = this.spec['paths'] as Record<string, Json>;
    const op = paths[path]?.[method.toLowerCase()] as Json | undefined;
    if (!op) return { valid: false, errors: [`spec has no ${method.toUpperCase()} ${path}`], undocumented: [] };
    const components = (this.spec['components'] as Json | undefined)?.['parameters'] as Record<string, Json> | undefined;
    const declared = ((op['parameters'] as Json[] | undefined) ?? []).map((p) => (typeof p['$ref'] === 'string' ? (components?.[String(p['$ref']).split('/').pop()!] ?? {}) : p));
    const errors: string[] = [];
    const undocumented: string[] = [];
    for (const where of ['query', 'header'] as const) {
      const values = sent[where] ?? {};
      const find = (name: string) => declared.find((p) => p['in'] === where && (where === 'header' ? String(p['name']).toLowerCase() === name.toLowerCase() : p['name'] === name));
      for (const [name, text] of Object.entries(values)) {
        const param = find(name);
        if (!param) {
          undocumented.push(`${where}:${name}`);
          continue;
        }
        const schema = (param['schema'] ?? {}) as Json;
        const value = readParameter(schema, text);
        const key = `param:${path}:${method}:${where}:${String(param['name'])}`;
        let validate = this.cache.get(key);
        if (!validate) {
          validate = this.ajv.compile(schema);
          this.cache.set(key, validate);
        }
        if (!validate(value)) errors.push(`${where} ${name}=${text}: ${(validate.errors ?? []).map((e) => e.message ?? '').join('; ')}`);
      }
      for (const param of declared) {
        if (param['in'] !== where || param['required'] !== true) continue;
        const name = String(param['name']);
        const present = Object.keys(values).some((k) => (where === 'header' ? k.toLowerCase() === name.toLowerCase() : k === name));
        if (!present) errors.push(`${where} ${name} is required`);
      }
    }
    return { valid: errors.length === 0, errors, undocumented };
  }

  /** Validates a value against a named component schema (for payloads with no documented path, e.g. WebSocket frames). */
  validateComponent(name: string, value: unknown): ValidationResult {
    const pointer = `spec.json#/components/schemas/${escapePointer(name)}`;
    let validate = this.cache.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: pointer });
      this.cache.set(pointer, validate);
    }
    const valid = validate(value);
    return { valid, errors: valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`) };
  }
}

/** A parameter's text as the value its schema describes (query strings carry only text). */
function readParameter(schema: Json, text: string): unknown {
  const type = schema['type'];
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/**
 * The published specs live in the workspace's shared folder, beside the repository (CI clones the
 * repository elsewhere with a copy of shared/ beside it). MARQUEE_SPECS_DIR overrides. No spec
 * found is an error, never a silently skipped check.
 */
export function specsDir(): string {
  const candidates = [
    process.env.MARQUEE_SPECS_DIR,
    fileURLToPath(new URL('../../shared/specs', import.meta.url)),
    '/work/shared/specs',
  ].filter((c): c is string => Boolean(c));
  const found = candidates.find((dir) => existsSync(join(dir, 'jellyfin-openapi.json')));
  if (!found) throw new Error(`OpenAPI specs not found; looked in: ${candidates.join(', ')} (set MARQUEE_SPECS_DIR)`);
  return found;
}

export const JELLYFIN_SPEC = join(specsDir(), 'jellyfin-openapi.json');
export const PLEX_SPEC = join(specsDir(), 'plex-openapi.json');
