/**
 * The generated project's TypeScript: src/api.ts (the API, defined once), src/controller.ts (the
 * `kcp-mc run` module) and test/controller.test.ts (the testing kit, two bound tenants). Written as
 * a user would write them by hand: no generated markers, nothing to regenerate.
 */
import type { Scaffold } from './scaffold.js';

/** `Database` → `Databases`, `URLMap` → `URLMaps`: the name of the defineAPI result. */
export function apiConst(s: Scaffold): string {
  const lower = s.kind.toLowerCase();
  return s.plural.startsWith(lower) ? `${s.kind}${s.plural.slice(lower.length)}` : `${s.plural.charAt(0).toUpperCase()}${s.plural.slice(1)}`;
}

/** src/api.ts: the kind, its schema and its export in one TypeBox definition (scaffold.ts builds the same). */
export function apiSource(s: Scaffold): string {
  const A = apiConst(s);
  return `/**
 * The ${s.kind} API (${s.plural}.${s.group}/${s.version}), defined once: the TypeScript type of its
 * objects, the APIResourceSchema and the APIExport all come from this definition. After a change,
 * \`npm run apigen\` rewrites manifests/ (changed content gets a new schema name: kcp's
 * APIResourceSchemas are immutable) and \`npm start\` (\`kcp-mc run --install\`) installs it.
 */
import { Type, defineAPI, type ObjectOf } from 'kcp-multicluster-provider';

// A status condition, as Kubernetes' metav1.Condition.
const Condition = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
});

/** The ${s.kind} API. */
export const ${A} = defineAPI({
  group: '${s.group}',
  kind: '${s.kind}',
  scope: '${s.scope}',
  versions: {
    ${s.version}: {
      spec: Type.Object({
        size: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 1, description: 'How many; 1 to 10.' })),
        message: Type.Optional(Type.String({ maxLength: 256, description: 'Copied into the owned ConfigMap.' })),
      }),
      status: Type.Object({
        observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
        conditions: Type.Optional(Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })),
      }),
      printerColumns: [
        { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
        { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      ],
    },
  },
  // What the controller reads and writes in the tenants' workspaces; tenants accept these claims.
  claims: [
    { group: '', resource: 'configmaps' },
    { group: '', resource: 'events' },
  ],
});

/** A ${s.kind}, typed from the schema above. */
export type ${s.kind} = ObjectOf<typeof ${A}>;

/** The APIs of this project (\`kcp-mc apigen\` and \`kcp-mc run --install\` read this export). */
export const apis = [${A}];
`;
}

/** src/controller.ts: for, owns (or a watch for a cluster-scoped owner), conditions, a finalizer, an Event. */
export function controllerSource(s: Scaffold): string {
  const A = apiConst(s);
  const namespaced = s.scope === 'Namespaced';
  // A namespaced kind's requests always carry a namespace; a cluster-scoped owner's ConfigMap goes to default.
  const cmNamespace = namespaced ? 'req.namespace!' : `'default'`;
  const importsWatch = namespaced ? '' : '\n  controllerOf,';
  const ownsLine = namespaced
    ? `    .owns(CONFIG_MAP)                                   // a change to the ConfigMap reconciles its ${s.kind}`
    : `    // owns() enqueues an owner in the object's namespace; a cluster-scoped owner has none.
    .watches(CONFIG_MAP, (cm) => {
      const owner = controllerOf(cm);
      return owner?.apiVersion === ${A}.type.apiVersion && owner.kind === ${A}.type.kind ? [{ name: owner.name }] : [];
    })`;
  return `/**
 * The ${s.kind} controller, a \`kcp-mc run\` module. In every workspace bound to the export it keeps,
 * for each ${s.kind}, a ConfigMap \`<name>-${s.singular}\`${namespaced ? '' : ' (namespace default)'} that it owns (data: size and message),
 * reports the \`Ready\` condition and \`observedGeneration\`, records an Event when it writes the
 * ConfigMap, and deletes the ConfigMap under the finalizer \`${s.group}/cleanup\` before the
 * ${s.kind} goes.
 *
 *   npm run build && npx kcp-mc run ./dist/src/controller.js --install --kubeconfig provider.kubeconfig
 */
import {
  CONFIG_MAP,${importsWatch}
  createOrUpdate,
  finalizer,
  isNotFound,
  setControllerReference,
  setStatusCondition,
  type ConfigMap,
  type ControllerModule,
  type Manager,
  type ReconcileContext,
  type Request,
} from 'kcp-multicluster-provider';
import { ${A} } from './api.js';
import * as self from './controller.js';

/** \`kcp-mc run --install\` installs these, and watches their export's endpoint slice. */
export { apis } from './api.js';
/** The module's name: its Events' reporting controller and its leader-election Lease (\`kcp-mc-${s.name}\`). */
export const name = '${s.name}';
/** Held on each ${s.kind} until its ConfigMap is deleted. */
export const FINALIZER = '${s.group}/cleanup';

/** The ConfigMap a ${s.kind} owns. */
export function configMapName(${s.singular}: string): string {
  return \`\${${s.singular}}-${s.singular}\`;
}

async function reconcile(req: Request, { cluster, log, signal }: ReconcileContext): Promise<void> {
  const obj = cluster.cache.get(${A}.type, req);
  if (!obj) return; // gone: its ConfigMap went first, under the finalizer
  const key = { namespace: ${cmNamespace}, name: configMapName(req.name) };
  await finalizer(cluster.client, FINALIZER, obj, async (ev) => {
    if (ev.kind === 'cleanup') {
      try {
        await cluster.client.delete(CONFIG_MAP, key, { signal });
        log.info('deleted configmap', { configMap: key.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...key } };
    // 'created' | 'updated' | 'unchanged': a write only when the data or the owner changed.
    const result = await createOrUpdate(cluster, cm, (cm) => {
      cm.data = { size: String(obj.spec.size ?? 1), message: obj.spec.message ?? '' };
      cm.metadata.ownerReferences = setControllerReference(obj, cm);
    }, { signal });
    if (result !== 'unchanged') {
      await cluster.events.publish(obj, { type: 'Normal', reason: 'ConfigMapSynced', action: 'Reconcile', note: \`ConfigMap \${key.name} \${result}\` });
      log.info('configmap', { configMap: key.name, result });
    }
    const generation = obj.metadata?.generation;
    const conditions = [...(obj.status?.conditions ?? [])];
    const changed = setStatusCondition(conditions, {
      type: 'Ready',
      status: 'True',
      reason: 'Reconciled',
      message: \`ConfigMap \${key.name} is in sync\`,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    });
    if (changed || obj.status?.observedGeneration !== generation) {
      await cluster.client.patchStatus(${A}.type, req, { status: { observedGeneration: generation, conditions } }, { signal });
    }
  });
}

/** Registers the controller. */
export default function setup(manager: Manager): void {
  manager
    .controller('${s.plural}')
    .for(${A}.type)
${ownsLine}
    .reconcile(reconcile);
}

self satisfies ControllerModule; // a compile-time check of the module's exports
`;
}

/** test/controller.test.ts: the testing kit, the API installed, two tenants bound, the controller's whole cycle. */
export function testSource(s: Scaffold): string {
  const A = apiConst(s);
  const ns = s.scope === 'Namespaced';
  const objKey = ns ? `{ namespace: 'default', name: 'hello' }` : `{ name: 'hello' }`;
  return `/**
 * The ${s.kind} controller on the reference kcp server, in-process: the API installed in a
 * provider workspace, two tenant workspaces bound to its export (claims accepted), a ${s.kind} in
 * each reconciled (Ready, its ConfigMap, an Event), then deleted through the finalizer.
 */
import * as assert from 'node:assert/strict';
import { APIExportProvider, CONFIG_MAP, EVENT, Logger, Manager, apiManifests, isNotFound, type ClusterClient, type ObjectKey, type ObjectType } from 'kcp-multicluster-provider';
import { startTestEnvironment, type TestEnvironment, type TestWorkspace } from 'kcp-multicluster-provider/testing';
import { ${A}, apis } from '../src/api.js';
import setup, { FINALIZER, configMapName } from '../src/controller.js';

const PROVIDER = 'root:provider';
const KEY: ObjectKey = ${objKey};
const CM_KEY: ObjectKey = { namespace: 'default', name: configMapName('hello') };

async function gone(client: ClusterClient, type: ObjectType, key: ObjectKey): Promise<boolean> {
  return client.get(type, key).then(() => false, (e: unknown) => isNotFound(e));
}

describe('the ${s.kind} controller', () => {
  let env: TestEnvironment;
  const tenants: TestWorkspace[] = [];

  before(async () => {
    env = await startTestEnvironment();
    await env.createWorkspace(PROVIDER);
    await env.apply(PROVIDER, apiManifests(apis)); // what manifests/ holds and \`kcp-mc run --install\` applies
    for (const name of ['tenant-a', 'tenant-b']) {
      const ws = await env.createWorkspace(\`root:\${name}\`);
      await env.bind(ws.path, { path: PROVIDER, name: ${A}.exportName }); // every claim accepted; waits for Ready
      tenants.push(ws);
    }
    const log = new Logger({ level: 'error' });
    const manager = new Manager({ provider: new APIExportProvider(env.kubeconfig(PROVIDER), { endpointSlice: ${A}.exportName, log }), log });
    setup(manager);
    env.startManager(manager); // stopped by env.stop()
  });
  after(() => env?.stop());

  it('reconciles a ${s.kind} in each tenant: Ready, its ConfigMap, an Event', async () => {
    for (const t of tenants) {
      await env.apply(t.path, { ...${A}.type, metadata: { name: 'hello' }, spec: { size: 3, message: \`hi from \${t.path}\` } });
    }
    for (const t of tenants) {
      const client = env.client(t.path);
      const obj = await env.waitForCondition(t.path, ${A}.type, KEY, 'Ready');
      assert.equal(obj.status?.observedGeneration, obj.metadata?.generation);
      assert.ok(obj.metadata?.finalizers?.includes(FINALIZER), 'the finalizer is set');
      const cm = await client.get(CONFIG_MAP, CM_KEY);
      assert.deepEqual(cm.data, { size: '3', message: \`hi from \${t.path}\` });
      assert.equal(cm.metadata?.ownerReferences?.[0]?.uid, obj.metadata?.uid);
      await env.waitFor(async () => (await client.list(EVENT, { namespace: 'default' })).items.some((e) => e.regarding?.name === 'hello' && e.reason === 'ConfigMapSynced'), {
        what: \`the ConfigMapSynced Event in \${t.path}\`,
      });
    }
  });

  it('follows a change of the spec into the ConfigMap', async () => {
    const [t] = tenants;
    await env.apply(t!.path, { ...${A}.type, metadata: { name: 'hello' }, spec: { size: 5 } });
    await env.waitFor(async () => (await env.client(t!.path).get(CONFIG_MAP, CM_KEY)).data?.['size'] === '5', { what: 'size 5 in the ConfigMap' });
  });

  it('deletes the ConfigMap before the ${s.kind} goes', async () => {
    for (const t of tenants) {
      const client = env.client(t.path);
      await client.delete(${A}.type, KEY);
      await env.waitFor(() => gone(client, ${A}.type, KEY), { what: \`hello deleted in \${t.path}\` });
      assert.ok(await gone(client, CONFIG_MAP, CM_KEY), 'the ConfigMap was deleted first');
    }
  });
});
`;
}
