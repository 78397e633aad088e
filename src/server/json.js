/** Structural equality of two JSON values (key order ignored; undefined members ignored). */
export function deepEqual(a, b) {
    if (a === b)
        return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
        return false;
    if (Array.isArray(a)) {
        if (!Array.isArray(b) || a.length !== b.length)
            return false;
        for (let i = 0; i < a.length; i++)
            if (!deepEqual(a[i], b[i]))
                return false;
        return true;
    }
    if (Array.isArray(b))
        return false;
    const ao = a;
    const bo = b;
    const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
    const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
    if (ak.length !== bk.length)
        return false;
    // Own properties only: a key like `constructor` must not match something inherited.
    for (const k of ak)
        if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k]))
            return false;
    return true;
}
/**
 * `{ ...o }` for a JSON value, built key by key (own enumerable keys, `__proto__` kept as data).
 * Use it for copies that get new keys afterwards: on Node 20's V8 every object made by spread
 * that then receives a key it did not have gets a hidden class of its own (about 0.8 µs per key,
 * and megamorphic property access wherever the object goes later), which the server used to do
 * to the metadata of every object it stored.
 */
export function shallowCopy(o) {
    const out = {};
    if (o === null || o === undefined)
        return out;
    const src = o;
    for (const k of Object.keys(src))
        setOwn(out, k, src[k]);
    return out;
}
/** Reads an own property only, so keys such as `__proto__` never reach the prototype chain. */
export function getOwn(o, k) {
    return Object.hasOwn(o, k) ? o[k] : undefined;
}
/** Sets an own property; plain assignment of `__proto__` would replace the prototype instead. */
export function setOwn(o, k, v) {
    if (k === '__proto__')
        Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
    else
        o[k] = v;
}
/** Whether a JSON value is a non-array object. */
export function isObject(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** A JSON value with every `undefined` member removed (what JSON.stringify would send). */
export function toJson(v) {
    return JSON.parse(JSON.stringify(v));
}
/**
 * Deepest nesting of objects and arrays a request body or a patched object may have. Go's
 * encoding/json (and so kube) stops at 10,000 levels; this server stops much earlier because
 * validation, patching, managedFields and JSON.stringify all recurse, and V8 overflows its stack
 * at a few thousand levels. No real object comes near 1,000.
 */
export const MAX_JSON_DEPTH = 1000;
/**
 * Whether a decoded value nests deeper than MAX_JSON_DEPTH (`depth`) or holds more than
 * `maxValues` values counted as if written out (`values`: a YAML alias graph, or JSON patch
 * `copy` operations that share subtrees, can expand exponentially or loop). Walks without
 * recursion and stops at the first excess, so a hostile value costs at most `maxValues` steps.
 */
export function jsonShapeExcess(v, maxValues) {
    const stack = [[v, 1]];
    let values = 0;
    while (stack.length > 0) {
        const [x, depth] = stack.pop();
        if (++values > maxValues)
            return 'values';
        if (typeof x !== 'object' || x === null)
            continue;
        if (depth > MAX_JSON_DEPTH)
            return 'depth';
        for (const c of Array.isArray(x) ? x : Object.values(x))
            stack.push([c, depth + 1]);
    }
    return undefined;
}
//# sourceMappingURL=json.js.map