/** The commander argument parser of controller-runtime bind addresses (`:8080`, `127.0.0.1:0`, `0`). */
import { InvalidArgumentError } from 'commander';
import { parseBindAddress } from '../manager/index.js';

/** Checks a bind-address flag's value; a bad one is commander's usage error. */
export function bindAddressArg(v: string): string {
  try {
    parseBindAddress(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}
