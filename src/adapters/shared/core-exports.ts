/** What every entry point (`ipmatch/express`, `ipmatch/koa`…) re-exports: the whole core, and its answers' shapes. */
// The whole core, so that a routes file needs one import; plus the shapes of the adapters' own answers.
export * from '../../index.js';
export type { BlockBody, BodyErrorBody, InvalidPhoneBody } from './route.js';
