import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.join(__dirname, '..', '..');

/** All documents of a YAML file under the repo, as plain objects. */
export function loadYaml(rel: string): Record<string, unknown>[] {
  const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>).filter((d) => d !== null);
}
