/** Number-type signals: premium-rate, shared-cost, SMS-incapable and VoIP numbers, by libphonenumber-js max metadata. */
import type { SignalSource } from '../../core/signal-source.js';
import type { Signal } from '../../core/signals.js';
import type { PhoneType } from '../../core/types.js';

const NONE: readonly Signal[] = Object.freeze([]);

/**
 * The signal each type gives, one array per type made once. A toll-free, pager, UAN or voicemail number cannot
 * receive a text message. Mobile, fixed-line and personal numbers give none. US and Canadian numbers are
 * `fixed_line_or_mobile` offline, so a VoIP number there gives no `voip_number`.
 */
const BY_TYPE: Readonly<Partial<Record<PhoneType, readonly Signal[]>>> = Object.freeze({
  premium_rate: Object.freeze(['premium_rate_number'] as const),
  shared_cost: Object.freeze(['shared_cost_number'] as const),
  toll_free: Object.freeze(['sms_incapable_number'] as const),
  pager: Object.freeze(['sms_incapable_number'] as const),
  uan: Object.freeze(['sms_incapable_number'] as const),
  voicemail: Object.freeze(['sms_incapable_number'] as const),
  voip: Object.freeze(['voip_number'] as const),
});

/** Reads `phone.type`, which the check computes (lazily, cached per number) because this source asks for it. */
export const numberTypeSignals: SignalSource = {
  name: 'number-type',
  signals: Object.freeze([
    'premium_rate_number',
    'shared_cost_number',
    'sms_incapable_number',
    'voip_number',
  ] as const),
  needs: Object.freeze({ phoneType: true }),
  evaluate: ({ phone }) => (phone.type === null ? NONE : (BY_TYPE[phone.type] ?? NONE)),
};
