/**
 * defineAPI: the types it infers (checked by the compiler: a broken inference fails the build),
 * the structural OpenAPI it emits from TypeBox, the manifests against a golden file, and the
 * content-hashed schema names (unchanged content keeps its name and date; changed content does not).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import {
  APIDefinitionError,
  Type,
  apiBinding,
  apiManifests,
  defineAPI,
  pluralOf,
  resourceSchema,
  toStructuralSchema,
  type APIResourceSchema,
  type Cached,
  type ObjectOf,
  type ReconcileContext,
  type Request,
} from '../../src/index.js';
import { structuralSchemaErrors } from '../../src/server/index.js';
import { Backups, Databases, apis, type Database } from '../support/api-module.js';

const GOLDEN = path.resolve('test/fixtures/api/databases.golden.yaml');
const DAY = new Date('2026-03-04T10:00:00Z');

// ---- Type-level checks: these lines stop compiling when the inference breaks. ----
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type Spec = Database['spec'];
type Status = NonNullable<Database['status']>;
export type TypeChecks = [
  Expect<Equal<Spec['replicas'], number>>,
  Expect<Equal<Spec['engine'], 'postgres' | 'mysql' | undefined>>,
  Expect<Equal<Spec['storage'], number | string>>,
  Expect<Equal<Spec['tier'], string | null | undefined>>,
  Expect<Equal<Status['phase'], 'Pending' | 'Ready' | 'Failed' | undefined>>,
  Expect<Equal<NonNullable<Spec['users']>[number]['name'], string>>,
  Expect<Equal<ObjectOf<typeof Backups>['spec'], { database: string; schedule?: string }>>,
  // A kind without a status schema has no status field.
  Expect<Equal<'status' extends keyof ObjectOf<typeof Backups> ? true : false, false>>,
  // Each version has its own ObjectType, typed alike.
  Expect<Equal<(typeof Databases.versions.v1alpha1)['__object'], Database | undefined>>,
];

/** Compiled, never run: the ObjectType types the cache and the client. */
export async function typedUse(req: Request, ctx: ReconcileContext): Promise<void> {
  const db: Cached<Database> | undefined = ctx.cluster.cache.get(Databases.type, req);
  const replicas: number | undefined = db?.spec.replicas;
  // @ts-expect-error: replicas is a number, not a string
  const wrong: string | undefined = db?.spec.replicas;
  // @ts-expect-error: no such spec field
  void db?.spec.nope;
  await ctx.cluster.client.patchStatus(Databases.type, req, { status: { phase: 'Ready', replicas } });
  // @ts-expect-error: phase is one of the enum's values
  const bad: Status = { phase: 'Sleeping' };
  void [wrong, bad];
}

describe('defineAPI: structural OpenAPI from TypeBox', () => {
  const props = (): Record<string, Record<string, unknown>> => {
    const v1 = Databases.schemaSpec.versions.find((v) => v.name === 'v1')!;
    return (v1.schema['properties'] as Record<string, Record<string, unknown>>)['spec']!['properties'] as Record<string, Record<string, unknown>>;
  };

  it('writes unions of literals and Type.Enum as typed enums, keeping the default and description', () => {
    expect(props()['engine']).to.deep.equal({ type: 'string', enum: ['postgres', 'mysql'], default: 'postgres', description: 'Database engine.' });
    const status = (Databases.schemaSpec.versions[1]!.schema['properties'] as Record<string, Record<string, Record<string, unknown>>>)['status']!;
    expect(status['properties']!['phase']).to.deep.equal({ type: 'string', enum: ['Pending', 'Ready', 'Failed'] });
  });

  it('keeps bounds and x-kubernetes-* extensions; maps, nullable and int-or-string in their OpenAPI forms', () => {
    expect(props()['replicas']).to.deep.equal({ type: 'integer', minimum: 1, maximum: 5, default: 1 });
    expect(props()['labels']).to.deep.equal({ type: 'object', additionalProperties: { type: 'string' } });
    expect(props()['tier']).to.deep.equal({ type: 'string', maxLength: 20, nullable: true });
    expect(props()['storage']).to.deep.equal({ 'x-kubernetes-int-or-string': true });
    expect(props()['options']).to.deep.equal({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(props()['users']).to.include({ 'x-kubernetes-list-type': 'map', maxItems: 10 });
    expect(Databases.schemaSpec.versions[1]!.schema['x-kubernetes-validations']).to.deep.equal([
      { rule: 'self.spec.replicas <= 3 || self.spec.engine == "postgres"', message: 'mysql runs at most 3 replicas' },
    ]);
  });

  it('emits no $id, $schema, const or anyOf anywhere, and passes the reference server\'s structural check', () => {
    for (const v of [...Databases.schemaSpec.versions, ...Backups.schemaSpec.versions]) {
      const text = JSON.stringify(v.schema);
      for (const kw of ['"$id"', '"$schema"', '"const"', '"anyOf"', '"patternProperties"']) expect(text).not.to.contain(kw);
      expect(structuralSchemaErrors(JSON.parse(text), 'schema')).to.deep.equal([]);
    }
  });

  it('converts draft-2020 exclusive bounds, merges intersections, and refuses what apiextensions cannot express, naming the field', () => {
    expect(toStructuralSchema(Type.Number({ exclusiveMinimum: 0 }))).to.deep.equal({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(toStructuralSchema(Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.Optional(Type.Integer()) })]))).to.deep.equal({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer' } },
      required: ['a'],
    });
    const refused = (s: object): string => {
      try {
        toStructuralSchema(Type.Object({ x: s as never }), 'spec');
      } catch (e) {
        expect(e).to.be.instanceOf(APIDefinitionError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused(Type.Union([Type.String(), Type.Object({ a: Type.String() })]))).to.match(/^spec\.properties\.x: anyOf of different shapes is not structural/);
    expect(refused(Type.Unknown())).to.match(/^spec\.properties\.x: has no type/);
    expect(refused(Type.Tuple([Type.String(), Type.Integer()]))).to.match(/^spec\.properties\.x\.items: an array needs one item schema/);
    expect(refused(Type.Union([Type.Literal('a'), Type.Literal(1)]))).to.match(/enum mixes string and integer/);
    expect(refused(Type.Record(Type.String({ pattern: '^a' }), Type.String()))).to.match(/patternProperties is not supported/);
  });

  it('checks names and versions, with kubebuilder\'s plurals', () => {
    expect([pluralOf('Policy'), pluralOf('Class'), pluralOf('Database'), pluralOf('Gateway')]).to.deep.equal(['policies', 'classes', 'databases', 'gateways']);
    const spec = Type.Object({});
    expect(() => defineAPI({ group: 'nodot', kind: 'A', scope: 'Cluster', versions: { v1: { spec } } })).to.throw(APIDefinitionError, /group "nodot"/);
    expect(() => defineAPI({ group: 'a.dev', kind: 'lower', scope: 'Cluster', versions: { v1: { spec } } })).to.throw(/kind "lower"/);
    expect(() => defineAPI({ group: 'a.dev', kind: 'A', scope: 'Cluster', versions: { v1: { spec }, v2: { spec } } })).to.throw(/name the storage one with storageVersion/);
    expect(() => defineAPI({ group: 'a.dev', kind: 'A', scope: 'Cluster', versions: { version1: { spec } } })).to.throw(/version "version1"/);
  });
});

describe('defineAPI: manifests', () => {
  it('match the golden file: schemas then one export for both kinds, claims merged, v1 stored, conversion None', () => {
    const text = apiManifests(apis, { now: DAY }).map((m) => dump(m, { noRefs: true, lineWidth: -1 })).join('---\n');
    expect(text).to.equal(readFileSync(GOLDEN, 'utf8'));
  });

  it('name schemas v<yyMMdd>-<hash>.<plural>.<group>: same content, same name; an existing equal schema keeps its date; new content a new name', () => {
    const [db] = apiManifests([Databases], { now: DAY }) as APIResourceSchema[];
    expect(db!.metadata.name).to.match(/^v260304-[0-9a-f]{8}\.databases\.example\.dev$/);
    const later = new Date('2027-01-02T00:00:00Z');
    expect(resourceSchema(Databases.schemaSpec, { now: later }).metadata.name.slice(0, 7)).to.equal('v270102');
    expect(resourceSchema(Databases.schemaSpec, { now: later, existing: [db!] }).metadata.name).to.equal(db!.metadata.name);
    const changed = defineAPI({ group: 'example.dev', kind: 'Database', scope: 'Namespaced', versions: { v1: { spec: Type.Object({ size: Type.Integer() }) } } });
    const renamed = resourceSchema(changed.schemaSpec, { now: later, existing: [db!] }).metadata.name;
    expect(renamed).to.match(/^v270102-[0-9a-f]{8}\.databases\.example\.dev$/);
    expect(renamed.split('.')[0]!.slice(8)).not.to.equal(db!.metadata.name.split('.')[0]!.slice(8));
  });

  it('builds the tenant APIBinding of one export with every claim of its APIs accepted', () => {
    expect(apiBinding(apis, 'root:providers').spec.permissionClaims.map((c) => c.resource)).to.deep.equal(['secrets', 'events']);
    const elsewhere = defineAPI({ group: 'other.dev', kind: 'Thing', scope: 'Cluster', versions: { v1: { spec: Type.Object({}) } } });
    expect(() => apiBinding([Backups, elsewhere], 'root:p')).to.throw(APIDefinitionError, /different exports/);
    expect(apiBinding(Backups, 'root:providers').spec).to.deep.equal({
      reference: { export: { path: 'root:providers', name: 'databases.example.dev' } },
      permissionClaims: [{ group: '', resource: 'events', verbs: ['create', 'patch'], selector: { matchAll: true }, state: 'Accepted' }],
    });
  });
});
