// Imported first by every bench child process. tsx turns on source-mapped stack traces, which make each
// `err.stack` read open and map files (Node's stream destroy reads it when undici aborts a request): a cost
// that `node dist/…` does not pay. The children measure what a deployed app pays, so they turn it off.
process.setSourceMapsEnabled(false);
