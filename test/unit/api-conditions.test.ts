/** Conditions as apimachinery's meta package handles them, and TerminalError made from a cause. */
import { expect } from 'chai';
import {
  findStatusCondition,
  isStatusConditionFalse,
  isStatusConditionPresentAndEqual,
  isStatusConditionTrue,
  isTerminalError,
  removeStatusCondition,
  setStatusCondition,
  TerminalError,
  type Condition,
} from '../../src/index.js';
import { deepFreeze } from '../../src/informer/freeze.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-02T00:00:00Z';

describe('api: conditions', () => {
  it('appends a new condition with an empty message and now as its transition time when none is given', () => {
    const conds: Condition[] = [];
    const before = Date.now();
    expect(setStatusCondition(conds, { type: 'Ready', status: 'True', reason: 'Reconciled', observedGeneration: 3 })).to.equal(true);
    expect(conds).to.have.length(1);
    const c = conds[0]!;
    expect(c).to.include({ type: 'Ready', status: 'True', reason: 'Reconciled', message: '', observedGeneration: 3 });
    // metav1.Time: whole seconds, UTC.
    expect(c.lastTransitionTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(c.lastTransitionTime)).to.be.within(Math.floor(before / 1000) * 1000, Date.now());
  });

  it('keeps lastTransitionTime while the status stays, takes the rest, and moves it when the status changes', () => {
    const conds: Condition[] = [];
    setStatusCondition(conds, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting', lastTransitionTime: T0, observedGeneration: 1 });
    // Same status, new reason, message and generation: changed, transition time kept.
    expect(setStatusCondition(conds, { type: 'Ready', status: 'False', reason: 'Blocked', message: 'quota', lastTransitionTime: T1, observedGeneration: 2 })).to.equal(true);
    expect(conds[0]).to.deep.equal({ type: 'Ready', status: 'False', reason: 'Blocked', message: 'quota', lastTransitionTime: T0, observedGeneration: 2 });
    // The very same condition again: nothing changed.
    expect(setStatusCondition(conds, { type: 'Ready', status: 'False', reason: 'Blocked', message: 'quota', observedGeneration: 2 })).to.equal(false);
    expect(conds[0]!.lastTransitionTime).to.equal(T0);
    // A new status: the transition time moves.
    expect(setStatusCondition(conds, { type: 'Ready', status: 'True', reason: 'Reconciled', lastTransitionTime: T1, observedGeneration: 2 })).to.equal(true);
    expect(conds[0]).to.deep.equal({ type: 'Ready', status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: T1, observedGeneration: 2 });
    expect(conds).to.have.length(1);
  });

  it('leaves other types alone and works on a copied list of frozen (cached) entries', () => {
    const cached = deepFreeze<Condition[]>([
      { type: 'Synced', status: 'True', reason: 'Ok', message: '', lastTransitionTime: T0 },
      { type: 'Ready', status: 'Unknown', reason: 'Starting', message: '', lastTransitionTime: T0 },
    ]);
    const conds = [...cached];
    expect(setStatusCondition(conds, { type: 'Ready', status: 'True', reason: 'Reconciled', lastTransitionTime: T1 })).to.equal(true);
    expect(conds.map((c) => `${c.type}=${c.status}`)).to.deep.equal(['Synced=True', 'Ready=True']);
    expect(cached[1]!.status).to.equal('Unknown');
    expect(conds[0]).to.equal(cached[0]);
  });

  it('finds, tests and removes conditions; readers take absent and read-only lists', () => {
    const conds: Condition[] = [];
    setStatusCondition(conds, { type: 'Ready', status: 'True', reason: 'R' });
    setStatusCondition(conds, { type: 'Degraded', status: 'False', reason: 'R' });
    expect(findStatusCondition(conds, 'Ready')?.status).to.equal('True');
    expect(findStatusCondition(conds, 'Missing')).to.equal(undefined);
    expect(findStatusCondition(undefined, 'Ready')).to.equal(undefined);
    expect(isStatusConditionTrue(conds, 'Ready')).to.equal(true);
    expect(isStatusConditionFalse(conds, 'Ready')).to.equal(false);
    expect(isStatusConditionFalse(conds, 'Degraded')).to.equal(true);
    expect(isStatusConditionTrue(conds, 'Missing')).to.equal(false);
    expect(isStatusConditionFalse(conds, 'Missing')).to.equal(false);
    expect(isStatusConditionTrue(undefined, 'Ready')).to.equal(false);
    expect(isStatusConditionPresentAndEqual(deepFreeze([...conds]), 'Degraded', 'False')).to.equal(true);
    expect(removeStatusCondition(conds, 'Ready')).to.equal(true);
    expect(removeStatusCondition(conds, 'Ready')).to.equal(false);
    expect(conds.map((c) => c.type)).to.deep.equal(['Degraded']);
  });
});

describe('TerminalError', () => {
  it('takes a message, a message with a cause, or the Error that caused it', () => {
    expect(new TerminalError('bad spec').message).to.equal('terminal error: bad spec');
    expect(new TerminalError('bad spec').cause).to.equal(undefined);
    const cause = new RangeError('size 11 is out of range');
    const withMessage = new TerminalError('bad spec', { cause });
    expect(withMessage.message).to.equal('terminal error: bad spec');
    expect(withMessage.cause).to.equal(cause);
    const fromCause = new TerminalError(cause);
    expect(fromCause.message).to.equal('terminal error: size 11 is out of range');
    expect(fromCause.cause).to.equal(cause);
    expect(fromCause.name).to.equal('TerminalError');
    expect(isTerminalError(fromCause)).to.equal(true);
    expect(isTerminalError(new Error('wrapped', { cause: fromCause }))).to.equal(true);
  });
});
