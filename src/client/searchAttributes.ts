import type { ConnectionLike } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { KamalDevError } from '../errors';

const KEYWORD = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

/**
 * The project identity (src/state/identity.ts) of a deploy, set by the client when it starts the
 * workflow (so no workflow code depends on it): `kamal-dev deploys` finds a project's deploys by it.
 */
export const PROJECT_ATTRIBUTE = defineSearchAttributeKey('KamalDevProject', SearchAttributeType.KEYWORD);

/** The custom search attributes: the workflows upsert service and phase (the Web UI list filters by them); the client sets the project. */
export const SEARCH_ATTRIBUTES = { KamalDevService: KEYWORD, KamalDevPhase: KEYWORD, [PROJECT_ATTRIBUTE.name]: KEYWORD };

/** `--search-attribute` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return Object.keys(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]);
}

/**
 * Registers whichever of them the namespace lacks. A workflow that upserts an unregistered attribute
 * stalls on every task, so this runs before anything is started.
 */
export async function ensureSearchAttributes(connection: ConnectionLike, namespace: string): Promise<void> {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing) });
  } catch (error) {
    if (/already exists/i.test((error as Error).message)) return;
    throw new KamalDevError('temporal', `cannot register the search attributes ${Object.keys(SEARCH_ATTRIBUTES).join(', ')} in namespace ${namespace}`, {
      description: `Register them once as an admin: ${Object.keys(SEARCH_ATTRIBUTES)
        .map((n) => `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword`)
        .join('; ')}`,
      cause: error,
    });
  }
}
