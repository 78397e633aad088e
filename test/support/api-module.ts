/**
 * A `kcp-mc run` module written the defineAPI way, for the API tests: a namespaced `Database`
 * (`example.dev`, two versions, v1 stored; enum, default, bounds, a map, an int-or-string, a
 * preserved free-form field, a CEL rule, printer columns, status and scale subresources) claiming
 * Secrets, and a cluster-scoped `Backup` sharing its export.
 */
import { Type, defineAPI, type Manager, type ObjectOf } from '../../src/index.js';

const engine = Type.Union([Type.Literal('postgres'), Type.Literal('mysql')], { default: 'postgres', description: 'Database engine.' });

const spec = Type.Object({
  engine: Type.Optional(engine),
  replicas: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
  storage: Type.Unsafe<number | string>({ 'x-kubernetes-int-or-string': true }),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  tier: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
  options: Type.Optional(Type.Object({}, { 'x-kubernetes-preserve-unknown-fields': true })),
  users: Type.Optional(
    Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), admin: Type.Optional(Type.Boolean()) }), {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      maxItems: 10,
    }),
  ),
});

const status = Type.Object({
  phase: Type.Optional(Type.Enum(['Pending', 'Ready', 'Failed'])),
  replicas: Type.Optional(Type.Integer()),
  selector: Type.Optional(Type.String()),
  endpoint: Type.Optional(Type.String({ format: 'uri' })),
});

/** The Database API. */
export const Databases = defineAPI({
  group: 'example.dev',
  kind: 'Database',
  scope: 'Namespaced',
  shortNames: ['db'],
  storageVersion: 'v1',
  versions: {
    v1alpha1: { spec, status, served: true, deprecated: true, deprecationWarning: 'example.dev/v1alpha1 Database is deprecated; use v1' },
    v1: {
      spec,
      status,
      printerColumns: [
        { name: 'Engine', type: 'string', jsonPath: '.spec.engine' },
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      ],
      subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
      validations: [{ rule: 'self.spec.replicas <= 3 || self.spec.engine == "postgres"', message: 'mysql runs at most 3 replicas' }],
    },
  },
  claims: [{ group: '', resource: 'secrets' }],
  exportName: 'databases.example.dev',
});

/** The Backup API, in the same export. */
export const Backups = defineAPI({
  group: 'example.dev',
  kind: 'Backup',
  scope: 'Cluster',
  versions: { v1alpha1: { spec: Type.Object({ database: Type.String(), schedule: Type.Optional(Type.String({ pattern: '^[0-9*/ ,-]+$' })) }) } },
  claims: [{ group: '', resource: 'events', verbs: ['create', 'patch'] }],
  exportName: 'databases.example.dev',
});

/** The module's APIs. */
export const apis = [Databases, Backups];

/** A Database as stored. */
export type Database = ObjectOf<typeof Databases>;

/** Counts Databases. */
export default function setup(manager: Manager): void {
  manager.controller('databases').for(Databases.type).reconcile(() => undefined);
}
