export { ModelHealthParamsSchema, type ModelHealthParams } from './params.js';
export { ConfidenceSchema, ModelHealthSchema, HEALTH_STATUSES, type Confidence, type HealthStatus, type ModelHealth } from './types.js';
export { ModelHealthTracker, accuracyOf, confidenceOf, type ConfidenceInput, type HealthObservation } from './health.js';
