// Plex's XML dialect: scalar fields become attributes (booleans as "1"/"0", nulls dropped),
// arrays of objects become repeated child elements named by the key.
import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true, format: false });

function toNode(value: Record<string, unknown>): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) node[key] = v.filter((x) => x && typeof x === 'object').map((x) => toNode(x as Record<string, unknown>));
    else if (typeof v === 'object') node[key] = toNode(v as Record<string, unknown>);
    else if (typeof v === 'boolean') node[`@_${key}`] = v ? '1' : '0';
    else if (typeof v === 'string' || typeof v === 'number') node[`@_${key}`] = String(v);
  }
  return node;
}

export function toPlexXml(root: string, value: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: toNode(value) })}\n`;
}
