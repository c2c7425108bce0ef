export * from './policy.js';
export * from './types.js';
export * from './positions.js';
export * from './limits.js';
export * from './correlation.js';
export * from './portfolio.js';
