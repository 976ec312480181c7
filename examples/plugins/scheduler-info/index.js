// @ts-check
/**
 * Example dask-operator plugin (docs/plugins.md): when a Dask scheduler Service (label dask.org/component=scheduler)
 * appears, create a ConfigMap `{service}-info` in its namespace with the scheduler address and the dashboard URL.
 *
 * - The ConfigMap carries an ownerReference to the Service, so the garbage collector removes it with the Service
 *   (and so with the DaskCluster); the plugin itself never deletes anything.
 * - Level-triggered: every call makes the ConfigMap match the Service (created if missing, data patched if the ports
 *   changed). A ConfigMap of that name that the Service does not own is left alone and reported as a Warning Event.
 * - RBAC it needs beyond the operator's own: configmaps get, create, patch (DaskOperator `extraRules`).
 *
 * Plain CommonJS with no dependencies, so it can be copied or `npm install`ed next to the operator.
 */

const COMPONENT_LABEL = 'dask.org/component';
const CLUSTER_LABEL = 'dask.org/cluster-name';
const MANAGED_BY = 'dask-operator-plugin-scheduler-info';

/**
 * @param {{ metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> }; spec?: { ports?: { name?: string; port: number }[] } }} svc
 * @param {string} clusterDomain
 */
function desiredConfigMap(svc, clusterDomain) {
  const { name, namespace, uid } = svc.metadata;
  const ports = (svc.spec && svc.spec.ports) || [];
  const portOf = (/** @type {string} */ portName, /** @type {number} */ fallback) => {
    const p = ports.find((x) => x.name === portName);
    return p ? p.port : fallback;
  };
  const host = `${name}.${namespace}.svc.${clusterDomain}`;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${name}-info`,
      namespace,
      labels: {
        'app.kubernetes.io/managed-by': MANAGED_BY,
        ...(svc.metadata.labels && svc.metadata.labels[CLUSTER_LABEL] ? { [CLUSTER_LABEL]: svc.metadata.labels[CLUSTER_LABEL] } : {}),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid, blockOwnerDeletion: false }],
    },
    data: {
      'scheduler-address': `tcp://${host}:${portOf('tcp-comm', 8786)}`,
      'dashboard-url': `http://${host}:${portOf('http-dashboard', 8787)}`,
    },
  };
}

/** @param {unknown} e */
const statusCode = (e) => (e && typeof e === 'object' && 'statusCode' in e ? /** @type {{ statusCode: number }} */ (e).statusCode : undefined);

module.exports = {
  name: 'scheduler-info',

  /** @param {import('../../../operator/plugins').PluginHost} host */
  setup(host) {
    const clusterDomain = host.clusterDomain || 'cluster.local';
    host.watch(
      'Service',
      async (svc, req, ctx) => {
        if (!svc) return; // the Service is gone: the garbage collector removes the ConfigMap (ownerReference)
        const service = /** @type {Parameters<typeof desiredConfigMap>[0]} */ (/** @type {unknown} */ (svc));
        if (service.metadata.labels?.[COMPONENT_LABEL] !== 'scheduler') return;
        const want = desiredConfigMap(service, clusterDomain);
        const path = `/api/v1/namespaces/${encodeURIComponent(req.namespace)}/configmaps`;
        /** @type {{ metadata: { ownerReferences?: { uid: string }[] }; data?: Record<string, string> } | undefined} */
        let have;
        try {
          have = await ctx.rest.request('GET', `${path}/${encodeURIComponent(want.metadata.name)}`);
        } catch (e) {
          if (statusCode(e) !== 404) throw e; // retried with backoff by the operator
        }
        if (!have) {
          try {
            await ctx.rest.request('POST', path, { body: want });
            ctx.logger.info('created scheduler info ConfigMap', { configMap: want.metadata.name, ...want.data });
          } catch (e) {
            if (statusCode(e) !== 409) throw e; // created meanwhile: the next run compares it
          }
          return;
        }
        if (!(have.metadata.ownerReferences || []).some((r) => r.uid === service.metadata.uid)) {
          const message = `ConfigMap ${want.metadata.name} exists and is not owned by Service ${service.metadata.name}; leaving it alone`;
          ctx.logger.warn(message);
          ctx.events.event(/** @type {never} */ (svc), 'Warning', 'SchedulerInfoConflict', message);
          return;
        }
        const data = have.data || {};
        if (Object.entries(want.data).some(([k, v]) => data[k] !== v)) {
          await ctx.rest.request('PATCH', `${path}/${encodeURIComponent(want.metadata.name)}`, { body: { data: want.data }, contentType: 'application/merge-patch+json' });
          ctx.logger.info('updated scheduler info ConfigMap', { configMap: want.metadata.name, ...want.data });
        }
      },
      { labels: { [COMPONENT_LABEL]: 'scheduler' } },
    );
  },

  desiredConfigMap,
};
