/**
 * The generated project's configuration and deployment files: package.json, tsconfig.json, the
 * ignore files, the Dockerfile and deploy/ (Deployment, kcp-side RBAC, kubeconfig Secret), shaped
 * after the library's own examples/deploy.
 */
import type { Scaffold } from './scaffold.js';

/** package.json: ESM, the library at the running version, client-node as its peer range. */
export function packageJSON(s: Scaffold): string {
  const pkg = {
    name: s.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'tsc -p tsconfig.json && mocha',
      prestart: 'tsc -p tsconfig.json',
      start: 'kcp-mc run ./dist/src/controller.js --install',
      apigen: 'tsc -p tsconfig.json && kcp-mc apigen ./dist/src/api.js --output-dir manifests',
      server: 'kcp-mc server --root-dir .kcp',
    },
    mocha: { spec: 'dist/test/**/*.test.js', timeout: 60000 },
    dependencies: { '@kubernetes/client-node': s.versions.clientNode, 'kcp-multicluster-provider': s.versions.library },
    devDependencies: Object.fromEntries(Object.entries(s.versions.dev).sort(([a], [b]) => a.localeCompare(b))),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** tsconfig.json: strict, declarations checked (skipLibCheck false), unused code refused. */
export function tsconfigJSON(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      rootDir: '.',
      outDir: 'dist',
      strict: true,
      skipLibCheck: false,
      noUnusedLocals: true,
      noUnusedParameters: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      exactOptionalPropertyTypes: true,
      sourceMap: true,
      types: ['node', 'mocha'],
    },
    include: ['src', 'test'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** .gitignore */
export function gitignore(): string {
  return ['node_modules/', 'dist/', '.kcp/', '*.kubeconfig', ''].join('\n');
}

/** .dockerignore: the image builds from sources, with its own npm ci. */
export function dockerignore(): string {
  return ['node_modules', 'dist', '.kcp', '*.kubeconfig', '.git', ''].join('\n');
}

/** Dockerfile: compile, drop dev dependencies, run the module with kcp-mc as PID 1 (SIGTERM reaches it). */
export function dockerfile(s: Scaffold): string {
  return `# ${s.name}: the controller as an image.
#
#   docker build -t ${s.name} .
#   docker run --rm -v $PWD/provider.kubeconfig:/etc/kcp/kubeconfig:ro ${s.name} --kubeconfig=/etc/kcp/kubeconfig
#
# Probes: liveness GET /healthz and readiness GET /readyz on :8081; metrics on :8080 (/metrics).

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
USER node
EXPOSE 8080 8081
# Exec form: kcp-mc is PID 1 and gets SIGTERM itself (graceful shutdown, exit 0). The Deployment's
# args are the flags (--kubeconfig, --leader-elect, ...).
ENTRYPOINT ["node", "node_modules/kcp-multicluster-provider/dist/src/cli/main.js", "run", "./dist/src/controller.js"]
`;
}

const labels = (s: Scaffold, indent: string): string => `${indent}app.kubernetes.io/name: ${s.name}`;

/** deploy/deployment.yaml: two replicas with leader election, probes, non-root, the kubeconfig from a Secret. */
export function deploymentYAML(s: Scaffold): string {
  return `# ${s.name} in a physical cluster, next to kcp. The kubeconfig (the provider workspace, a token
# bound by kcp-rbac.yaml) comes from the Secret in kubeconfig-secret.yaml.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${s.name}
  labels:
${labels(s, '    ')}
spec:
  # Two replicas with leader election: one works, the other takes over within the lease duration.
  replicas: 2
  selector:
    matchLabels:
${labels(s, '      ')}
  template:
    metadata:
      labels:
${labels(s, '        ')}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        seccompProfile:
          type: RuntimeDefault
      terminationGracePeriodSeconds: 40
      containers:
        - name: controller
          image: ghcr.io/example/${s.name}:0.1.0
          args:
            - --kubeconfig=/etc/kcp/kubeconfig
            - --leader-elect
            - --metrics-bind-address=:8080
            - --health-probe-bind-address=:8081
            - --graceful-shutdown=30s
          ports:
            - name: metrics
              containerPort: 8080
            - name: probes
              containerPort: 8081
          livenessProbe:
            httpGet:
              path: /healthz
              port: probes
            periodSeconds: 10
          readinessProbe:
            httpGet:
              path: /readyz
              port: probes
            periodSeconds: 5
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 512Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: kubeconfig
              mountPath: /etc/kcp
              readOnly: true
      volumes:
        - name: kubeconfig
          secret:
            secretName: ${s.name}-kubeconfig
`;
}

/** deploy/kcp-rbac.yaml: what the controller's kcp identity needs in the provider workspace. */
export function kcpRbacYAML(s: Scaffold): string {
  return `# What the controller's identity needs in kcp, applied in the provider workspace (where the
# APIExport ${s.exportName} and its endpoint slice live). Replace the User subject with the
# identity your token authenticates as.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${s.name}
rules:
  # Find the virtual workspace URLs (one per shard).
  - apiGroups: ["apis.kcp.io"]
    resources: ["apiexportendpointslices"]
    verbs: ["get", "list", "watch"]
  # Read and write the tenants' objects through the APIExport virtual workspace.
  - apiGroups: ["apis.kcp.io"]
    resources: ["apiexports/content"]
    resourceNames: ["${s.exportName}"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${s.name}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${s.name}
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: ${s.name}
---
# Leader election (--leader-elect) holds a Lease in the provider workspace.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${s.name}-leader-election
  namespace: default
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${s.name}-leader-election
  namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${s.name}-leader-election
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: ${s.name}
`;
}

/** deploy/kubeconfig-secret.yaml: the kcp kubeconfig the Deployment mounts, to fill in. */
export function kubeconfigSecretYAML(s: Scaffold): string {
  return `# The kubeconfig the Deployment mounts at /etc/kcp/kubeconfig: the provider workspace's URL and a
# token of the identity kcp-rbac.yaml binds. Fill in server, certificate-authority-data and token,
# or create the Secret from a file instead:
#   kubectl create secret generic ${s.name}-kubeconfig --from-file=kubeconfig=provider.kubeconfig
apiVersion: v1
kind: Secret
metadata:
  name: ${s.name}-kubeconfig
type: Opaque
stringData:
  kubeconfig: |
    apiVersion: v1
    kind: Config
    clusters:
      - name: kcp
        cluster:
          server: https://kcp.example.com/clusters/root:provider
          certificate-authority-data: ""
    users:
      - name: ${s.name}
        user:
          token: ""
    contexts:
      - name: kcp
        context:
          cluster: kcp
          user: ${s.name}
    current-context: kcp
`;
}
