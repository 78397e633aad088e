/**
 * `/debug/faults` on every shard port of a server started with faults: GET answers the active
 * config and the counts, PUT replaces the config (a FaultConfig JSON), DELETE clears it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, methodNotAllowed } from '../http/errors.js';
import { normalizeFaultConfig, type ServerFaults } from './faults.js';
import type { Json } from '../types.js';
import { readBody, send } from '../http/wire.js';

/** The path of the fault endpoint. */
export const DEBUG_FAULTS_PATH = '/debug/faults';

/** Serves one request to `/debug/faults`. */
export async function serveDebugFaults(faults: ServerFaults, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const state = (): Json => ({ config: (faults.config() ?? null) as unknown as Json, stats: faults.stats() });
  switch (req.method) {
    case 'GET':
      return send(res, 200, state());
    case 'PUT': {
      const text = (await readBody(req)).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw badRequest(`the body is not JSON: ${(e as Error).message}`);
      }
      try {
        faults.set(normalizeFaultConfig(parsed));
      } catch (e) {
        throw badRequest((e as Error).message);
      }
      return send(res, 200, state());
    }
    case 'DELETE':
      faults.clear();
      return send(res, 200, state());
    default:
      throw new ApiError(405, methodNotAllowed().reason, `${methodNotAllowed().message}: GET, PUT or DELETE`);
  }
}
