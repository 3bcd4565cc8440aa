import { Observable, type ConfigurationOptions, type CustomObjectsApi } from '@kubernetes/client-node';

/** Raw objects as the API returns them (JSON), before projection. */
export interface RawObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ListPage {
  items: RawObject[];
  resourceVersion: string;
  continue?: string;
}

/** A resource to list and watch, in one namespace or in all. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
}

const PAGE = 500;

/** Client options that abort the request with `signal` (client-node's fetch takes it from the request). */
function abortedBy(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (request) => {
          // The request already carries the API client's timeout (withRequestTimeout set it when it
          // applied auth, before the middleware runs): keep it, or a LIST never answered hangs forever.
          const own = request.getSignal();
          request.setSignal(own ? AbortSignal.any([own, signal]) : signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * One page of a list as plain JSON, through the generic client whatever the resource (the typed
 * clients rebuild a model object for every item of every page); `signal` aborts it.
 */
export async function listPage(
  api: CustomObjectsApi,
  res: ResourceRef,
  token: string | undefined,
  signal?: AbortSignal,
): Promise<ListPage> {
  const common = {
    group: res.group,
    version: res.version,
    plural: res.plural,
    limit: PAGE,
    _continue: token,
  };
  const options = signal && abortedBy(signal);
  const out = (await (res.namespace
    ? api.listNamespacedCustomObject({ ...common, namespace: res.namespace }, options)
    : api.listClusterCustomObject(common, options))) as {
    items: RawObject[];
    metadata: { resourceVersion: string; continue?: string };
  };
  return { items: out.items, resourceVersion: out.metadata.resourceVersion, continue: out.metadata.continue };
}

/** The watch path of a resource, e.g. /apis/apps/v1/namespaces/x/deployments. */
export const watchPath = (res: ResourceRef): string =>
  `/apis/${res.group}/${res.version}/${res.namespace ? `namespaces/${res.namespace}/` : ''}${res.plural}`;
