/** Admission webhooks: the builder (`manager.webhook(type)`), the HTTPS server, its certificates, and the configurations `--install` writes. */
export {
  WebhookDenied,
  type AdmissionOperation,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  type AdmissionStatus,
  type Defaulter,
  type GroupVersionKind,
  type GroupVersionResource,
  type UserInfo,
  type Validator,
  type Warnings,
  type WebhookContext,
  type WebhookDeniedOptions,
} from './types.js';
export { createJsonPatch, escapePointerToken, jsonEqual, type JsonPatchOperation } from './patch.js';
export { allowed, denied, errored, reviewDefault, reviewValidate, webhookContext, type ReviewEnv } from './admission.js';
export { CertWatcher, type CertificatePair, type CertWatcherOptions } from './certwatcher.js';
export { MAX_REQUEST_BYTES, WebhookServer, defaultCertDir, type AdmissionHandler, type WebhookServerOptions } from './server.js';
export { WebhookBuilder, webhookPath, type FailurePolicy, type WebhookHost, type WebhookOptions, type WebhookRegistration } from './builder.js';
export {
  caBundleFromCertDir,
  installWebhookConfigurations,
  resolveWebhookResources,
  webhookConfigurations,
  webhookName,
  webhookURLProblem,
  type WebhookConfiguration,
  type WebhookConfigurationOptions,
} from './install.js';
export { createWebhookCertificates, writeWebhookCertificates, type PemPair, type WebhookCertificateOptions, type WebhookCertificates } from './certs.js';
