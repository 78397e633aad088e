/**
 * The generated project's README: the commands to test it, to run it against `kcp-mc server` with
 * kubectl (workspaces, a binding with its claims accepted, an object in two tenants), and to build
 * and deploy the image. The library's e2e test runs these blocks as they are written.
 */
import type { Scaffold } from './scaffold.js';

/** README.md */
export function readme(s: Scaffold): string {
  const ns = s.scope === 'Namespaced';
  const fence = '```';
  return `# ${s.name}

A kcp service provider: the APIExport \`${s.exportName}\` serves ${ns ? 'namespaced' : 'cluster-scoped'} \`${s.kind}\`s
(\`${s.group}/${s.version}\`) to every workspace that binds it, and a controller built on
[kcp-multicluster-provider](https://www.npmjs.com/package/kcp-multicluster-provider) reconciles them
across all of those workspaces: for each ${s.kind} it keeps an owned ConfigMap \`<name>-${s.singular}\`, sets the
\`Ready\` condition, records an Event, and cleans up under a finalizer.

- \`src/api.ts\`: the API, defined once (TypeBox): the objects' TypeScript type and the schema.
- \`src/controller.ts\`: the controller, a \`kcp-mc run\` module.
- \`test/controller.test.ts\`: the controller on the in-process reference kcp server, two tenants.
- \`manifests/\`: the APIResourceSchema and APIExport, written by \`npm run apigen\`.
- \`Dockerfile\`, \`deploy/\`: the image, its Deployment, kcp-side RBAC and kubeconfig Secret.

## Test

${fence}sh
npm install
npm test                # compiles, then runs test/ on the reference kcp server (no cluster needed)
${fence}

## Run against the reference kcp server

In one terminal, the server (\`https://127.0.0.1:6443\`, its admin kubeconfig in \`.kcp/\`):

${fence}sh
npm run server
${fence}

In another, set where it is:

${fence}sh
export KUBECONFIG=$PWD/.kcp/admin.kubeconfig KCP=https://127.0.0.1:6443
${fence}

and create a provider workspace, two tenant workspaces, and a kubeconfig for the provider's:

${fence}sh
for ws in provider tenant-a tenant-b; do
  printf 'apiVersion: tenancy.kcp.io/v1alpha1\\nkind: Workspace\\nmetadata:\\n  name: %s\\n' "$ws" | kubectl create -f -
done
kubectl wait --for=jsonpath='{.status.phase}'=Ready workspace/provider workspace/tenant-a workspace/tenant-b --timeout=60s
cp "$KUBECONFIG" provider.kubeconfig
kubectl --kubeconfig provider.kubeconfig config set-cluster root --server "$KCP/clusters/root:provider"
${fence}

Start the controller: \`--install\` creates the APIResourceSchema, the APIExport and its endpoint slice in
the provider workspace (again after a change of \`src/api.ts\`), then it reconciles every bound workspace:

${fence}sh
npm start -- --kubeconfig provider.kubeconfig
${fence}

In a third terminal (with the same two variables), bind the export in each tenant with its
permission claims accepted, and create a ${s.kind}:

${fence}sh
for ws in tenant-a tenant-b; do
  kubectl --server "$KCP/clusters/root:$ws" apply -f - <<EOF
apiVersion: apis.kcp.io/v1alpha2
kind: APIBinding
metadata:
  name: ${s.exportName}
spec:
  reference:
    export:
      path: root:provider
      name: ${s.exportName}
  permissionClaims:
    - {group: "", resource: configmaps, verbs: ["*"], selector: {matchAll: true}, state: Accepted}
    - {group: "", resource: events, verbs: ["*"], selector: {matchAll: true}, state: Accepted}
EOF
  kubectl --server "$KCP/clusters/root:$ws" wait --for=condition=Ready apibinding/${s.exportName} --timeout=60s
  kubectl --server "$KCP/clusters/root:$ws" apply -f - <<EOF
apiVersion: ${s.group}/${s.version}
kind: ${s.kind}
metadata:
  name: hello
spec:
  size: 3
  message: hello from $ws
EOF
done
for ws in tenant-a tenant-b; do
  kubectl --server "$KCP/clusters/root:$ws" wait --for=condition=Ready ${s.singular}/hello --timeout=60s
  kubectl --server "$KCP/clusters/root:$ws" get ${s.plural},configmaps${ns ? '' : ' -n default'}
done
${fence}

Against a real kcp, the same with \`kubectl ws\` (kcp's kubectl plugin) instead of \`--server\`, and
\`kubectl apply -f manifests/\` in the provider workspace instead of \`--install\`.

## Change the API

Edit \`src/api.ts\` (spec, status, printer columns, claims); the type of \`${s.kind}\` follows. Then:

${fence}sh
npm run apigen          # rewrites manifests/: a changed schema gets a new name, the export points at it
${fence}

## Build and deploy

${fence}sh
docker build -t ghcr.io/example/${s.name}:0.1.0 .
# in kcp, in the provider workspace: the schema, the export, and what the controller's identity may do
kubectl --server "$KCP/clusters/root:provider" apply -f manifests/ -f deploy/kcp-rbac.yaml
# in the physical cluster: the kubeconfig Secret (fill it in first) and the Deployment
kubectl apply -f deploy/kubeconfig-secret.yaml -f deploy/deployment.yaml
${fence}
`;
}
