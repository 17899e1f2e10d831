export * from '../access/schema.js';
export * from '../affiliation/schema.js';
export * from '../audit/schema.js';
export * from '../credentials/schema.js';
export * from '../detection/schema.js';
export * from '../emergency/schema.js';
export * from '../hr/schema.js';
export * from '../outbox/schema.js';
