/**
 * CEL validation rules (`x-kubernetes-validations`) of custom resource schemas: compiled and
 * checked when a schema is registered, evaluated when an object is written.
 */
export { compileSchema, type CompileResult, type CompiledRule, type RuleSet } from './compile.js';
export { evaluateRules, type RuleResult } from './validate.js';
export { Quantity } from './quantity.js';
export { KubeURL, kubernetesEnvironment } from './library.js';
export {
  compileAdmissionExpression,
  evaluateAdmissionExpression,
  type AdmissionVariables,
  type CompiledExpression,
  type ExpressionResult,
} from './expressions.js';
export type { AuthorizeFn, AuthzAttributes, AuthzSubject } from './authz.js';
