/** Microsoft's Azure Service Tags JSON: `{ changeNumber, cloud, values: [{ name, properties: { addressPrefixes } }] }`. */
import {
  arrayField,
  type FeedResult,
  jsonObject,
  RangeCollector,
  unreadable,
  versionField,
} from './range.js';

/** The tags that name Azure's public cloud space as a whole (`AzureCloud`) and per region (`AzureCloud.westeurope`). */
function isAzureCloudTag(name: unknown): boolean {
  return name === 'AzureCloud' || (typeof name === 'string' && name.startsWith('AzureCloud.'));
}

/**
 * The `AzureCloud` tags only: they cover every public address of Azure's compute, and the service tags
 * (Storage, AzureFrontDoor…) lie inside them. The version is the document's `changeNumber`.
 */
export function parseAzure(text: string): FeedResult {
  const doc = jsonObject(text);
  if (!doc || !Array.isArray(doc.values)) return unreadable('not Azure Service Tags JSON: no `values` array');
  const out = new RangeCollector();
  for (const tag of arrayField(doc, 'values')) {
    if (!isAzureCloudTag((tag as { name?: unknown } | null)?.name)) continue;
    const props = (tag as { properties?: unknown }).properties;
    for (const prefix of arrayField(props, 'addressPrefixes')) out.cidr(prefix);
  }
  return out.result(versionField(doc, 'changeNumber'));
}
