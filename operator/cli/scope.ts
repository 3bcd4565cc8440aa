import type { Mapping } from '../../resources/types.js';
import { forbidden } from './cluster.js';

/** What the scope reads: the mappings of one namespace or all, and the namespaces' names. */
export interface MappingReader {
  mappings(namespace?: string): Promise<Mapping[]>;
  namespaces(): Promise<{ metadata?: { name?: string } }[] | undefined>;
}

export interface Readable {
  mappings: Mapping[];
  /** Namespaces whose mappings the user may not list (only when cluster-wide listing was refused). */
  refused: string[];
}

/**
 * The mappings in every namespace the user can read: cluster-wide when allowed; when refused (a user
 * with RoleBindings only), namespace by namespace — those it may list if it may list namespaces,
 * else `fallback` (the context's namespace) — skipping the ones refused. Throws when nothing at all
 * is readable, with the cluster-wide refusal. `namespace` narrows to one namespace (-n).
 */
export async function readableMappings(
  reader: MappingReader,
  opts: { namespace?: string; fallback: string },
): Promise<Readable> {
  if (opts.namespace !== undefined) return { mappings: await reader.mappings(opts.namespace), refused: [] };
  try {
    return { mappings: await reader.mappings(), refused: [] };
  } catch (err) {
    if (!forbidden(err)) throw err;
    const listed = await reader.namespaces();
    const names = listed?.flatMap((n) => n.metadata?.name ?? []) ?? [opts.fallback];
    const out: Readable = { mappings: [], refused: [] };
    for (const ns of names) {
      try {
        out.mappings.push(...(await reader.mappings(ns)));
      } catch (inner) {
        if (!forbidden(inner)) throw inner;
        out.refused.push(ns);
      }
    }
    if (out.refused.length === names.length) throw err;
    return out;
  }
}

/** Mappings in kubectl's order: by namespace, then name. Pure. */
export const byKey = (a: Mapping, b: Mapping): number =>
  a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name);
