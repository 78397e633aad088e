/** Authoring helpers: conditions (apimachinery's `meta`), createOrUpdate/createOrPatch (`controllerutil`), typed built-in kinds. */
export {
  setStatusCondition,
  removeStatusCondition,
  findStatusCondition,
  isStatusConditionTrue,
  isStatusConditionFalse,
  isStatusConditionPresentAndEqual,
  type Condition,
  type ConditionInput,
  type ConditionStatus,
  type ConditionsInput,
} from './conditions.js';
export {
  createOrUpdate,
  createOrPatch,
  type OperationResult,
  type ObjectAccess,
  type MutateFn,
  type CreateOrUpdateOptions,
} from './create-or-update.js';
export * from './core.js';
