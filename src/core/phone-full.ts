// libphonenumber-js's full parser, imported statically here so that bundlers keep only what it uses; phone.ts
// loads this module on first need.
export { parsePhoneNumberFromString } from 'libphonenumber-js/core';
