/** kcp's own layers on the reference server: the apis.kcp.io APIs, tenancy (workspaces and shards) and the virtual workspaces. */
export { installApis, webhookConfigurationCluster } from './apis/index.js';
export { installTenancy } from './tenancy/index.js';
export { installVirtualWorkspaces } from './vw/index.js';
