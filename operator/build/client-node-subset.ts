/**
 * The part of @kubernetes/client-node that @dot-i/k8s-operator uses. The bundle resolves that
 * package's `require('@kubernetes/client-node')` to this module (see bundle.ts): a CommonJS require
 * takes the whole package, every API group's client with it (4.2 of the bundle's 7.1 MB, kept in
 * memory as source); these named imports let esbuild drop the groups nothing calls.
 * client-node-subset.test.ts checks this list against what that package's code reads.
 */
export { ApiextensionsV1Api, CoreV1Api, KubeConfig, Watch, loadYaml } from '@kubernetes/client-node';
