import { ApiObject, Chart, JsonPatch } from 'cdk8s';

/**
 * Marks an ApiObject as cluster-scoped: cdk8s stamps the chart's namespace on every object, which a cluster-scoped
 * kind (CRD, ClusterRole, Namespace, admission policy) must not carry. Returns the object.
 */
export function clusterScoped(obj: ApiObject): ApiObject {
  if (Chart.of(obj).namespace) obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  return obj;
}
