import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import metadata from 'libphonenumber-js/metadata.max.json';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { IpMatchConfigError } from '../../src/core/errors.js';
import {
  createPhoneParser,
  loadFullParser,
  MAX_PHONE_LENGTH,
  parsePhoneFast,
  parsePhoneFull,
} from '../../src/core/phone.js';

// The full parser loads on first need (the core waits for it); these tests call the parsers directly.
beforeAll(() => loadFullParser());

const plans = { ...metadata.countries, ...metadata.nonGeographic } as Record<string, unknown[]>;
const callingCodes = Object.keys(metadata.country_calling_codes);
const callingCodeOf = (plan: unknown[]) => plan[0] as string;

/** Every mobile example number, in E.164. */
const mobileExamples = Object.entries(examples as Record<string, string>).map(
  ([region, national]) => `+${callingCodeOf(plans[region]!)}${national}`,
);

/** Three numbers generated from each number-type pattern (fixed line, mobile, toll free…) of every plan. */
const typeExamples = Object.values(plans).flatMap((plan) => {
  const types = (plan[11] ?? []) as unknown[];
  return types.slice(0, 10).flatMap((type, i) => {
    if (!Array.isArray(type) || typeof type[0] !== 'string' || type[0] === '') return [];
    const national = fc.stringMatching(new RegExp(`^(?:${type[0]})$`), { maxLength: 17 });
    return fc.sample(national, { numRuns: 3, seed: 7 + i }).map((n) => `+${callingCodeOf(plan)}${n}`);
  });
});

/** How people type numbers: spaces, dashes, brackets, a (0), a 00 instead of +. */
function variants(e164: string): string[] {
  const digits = e164.slice(1);
  const spaced = digits.replace(/(\d{3})(?=\d)/g, '$1 ');
  return [
    `+${spaced}`,
    `00${digits}`,
    `+${digits.slice(0, 2)} (0)${digits.slice(2)}`,
    `(+${digits.slice(0, 2)}) ${digits.slice(2)}`,
    `+${digits.slice(0, 3)}-${digits.slice(3)}`,
  ];
}

const randomNumbers = fc
  .sample(fc.tuple(fc.constantFrom(...callingCodes, '0', '999', '42'), fc.stringMatching(/^[0-9]{1,17}$/)), {
    numRuns: 4000,
    seed: 42,
  })
  .map(([code, rest]) => `+${code}${rest}`);

const byCallingCode = metadata.country_calling_codes as Record<string, string[]>;
/** Calling codes that several regions share (+1, +44, +7…), where libphonenumber-js picks the region by number. */
const sharedCodes = callingCodes.filter((code) => byCallingCode[code]!.length > 1);
const heavyCodes = ['1', '44', '7'];

/** Numbers generated from every number-type pattern of every region of each shared calling code. */
function sharedTypeExamples(code: string, perType: number): string[] {
  return byCallingCode[code]!.flatMap((region) => {
    const types = (plans[region]![11] ?? []) as unknown[];
    return types.slice(0, 10).flatMap((type, i) => {
      if (!Array.isArray(type) || typeof type[0] !== 'string' || type[0] === '') return [];
      const national = fc.stringMatching(new RegExp(`^(?:${type[0]})$`), { maxLength: 17 });
      return fc.sample(national, { numRuns: perType, seed: 11 + i }).map((n) => `+${code}${n}`);
    });
  });
}

/** Thousands of +1, +44 and +7 numbers (every region, every type), a few dozen per type elsewhere. */
const sharedExamples = new Map(
  sharedCodes.map((code) => [code, sharedTypeExamples(code, heavyCodes.includes(code) ? 60 : 20)]),
);

const sharedRandom = sharedCodes.flatMap((code) =>
  fc
    .sample(fc.stringMatching(/^[0-9]{1,17}$/), { numRuns: heavyCodes.includes(code) ? 2000 : 300, seed: 5 })
    .map((rest) => `+${code}${rest}`),
);

/** Inputs where the fast path answers something the full parse does not, with both answers. */
function disagreements(inputs: readonly string[]) {
  let decided = 0;
  const wrong: unknown[] = [];
  for (const input of inputs) {
    const fast = parsePhoneFast(input);
    if (fast === undefined) continue;
    decided++;
    const full = parsePhoneFull(input, undefined);
    if (JSON.stringify(fast) !== JSON.stringify(full)) wrong.push({ input, fast, full });
  }
  return { decided, wrong };
}

describe('createPhoneParser', () => {
  const parse = createPhoneParser();

  it('returns E.164 whatever the formatting', () => {
    for (const input of [
      '+33 6 12 34 56 78',
      '+33-6-12-34-56-78',
      '+33 (6) 12.34.56/78',
      '  +33612345678\n',
    ]) {
      expect(parse(input, undefined)).toEqual({ number: '+33612345678', country: 'FR', valid: true });
    }
  });

  it('reads a leading 00 as +, with or without a default country', () => {
    const gb = { number: '+447400123456', country: 'GB', valid: true };
    expect(parse('0044 7400 123456', undefined)).toEqual(gb);
    expect(parse('0044 7400 123456', 'US')).toEqual(gb);
  });

  it('accepts national format only with a default country', () => {
    expect(parse('06 12 34 56 78', 'FR')).toEqual({ number: '+33612345678', country: 'FR', valid: true });
    expect(parse('07400 123456', 'GB')).toEqual({ number: '+447400123456', country: 'GB', valid: true });
    expect(parse('(415) 555-2671', 'US')).toEqual({ number: '+14155552671', country: 'US', valid: true });
    expect(parse('06 12 34 56 78', undefined)).toBeNull();
  });

  it('reads international numbers the same under any default country', () => {
    expect(parse('+33612345678', 'GB')).toEqual({ number: '+33612345678', country: 'FR', valid: true });
    expect(parse('+447911123456', 'FR')).toEqual({ number: '+447911123456', country: 'GG', valid: true });
  });

  it('gives the region libphonenumber-js assigns, down to shared calling codes', () => {
    expect(parse('+44 7400 123456', undefined)).toEqual({
      number: '+447400123456',
      country: 'GB',
      valid: true,
    });
    expect(parse('+44 7911 123456', undefined)).toEqual({
      number: '+447911123456',
      country: 'GG',
      valid: true,
    });
    expect(parse('+1 415 555 2671', undefined)).toEqual({
      number: '+14155552671',
      country: 'US',
      valid: true,
    });
    expect(parse('+33 1 23 45 67 89', undefined)).toEqual({
      number: '+33123456789',
      country: 'FR',
      valid: true,
    });
    expect(parse('+86 138 1234 5678', undefined)).toEqual({
      number: '+8613812345678',
      country: 'CN',
      valid: true,
    });
    expect(parse('+86 10 1234 5678', undefined)).toEqual({
      number: '+861012345678',
      country: 'CN',
      valid: true,
    });
  });

  it('keeps a possible number outside every range, with the main region and valid: false', () => {
    // Ofcom's drama range: libphonenumber-js gives it no region; carriers answer GB.
    expect(parse('+44 7700 900001', undefined)).toEqual({
      number: '+447700900001',
      country: 'GB',
      valid: false,
    });
    expect(parse('+33 0 12 34 56 78', undefined)?.valid).toBe(false);
  });

  it('gives no country for non-geographic calling codes', () => {
    expect(parse('+882 16 1234 5678', undefined)).toEqual({
      number: '+8821612345678',
      country: null,
      valid: true,
    });
    expect(parse('+882 1234 5678', undefined)).toEqual({
      number: '+88212345678',
      country: null,
      valid: false,
    });
    expect(parse('+800 1234 5678', undefined)).toEqual({
      number: '+80012345678',
      country: null,
      valid: true,
    });
  });

  it.each([
    ['letters', '+44 7400 CALL ME'],
    ['an extension', '+44 7400 123456 ext 12'],
    ['full-width digits', '＋４４７４００１２３４５６'],
    ['Arabic-Indic digits', '+٤٤٧٤٠٠١٢٣٤٥٦'],
    ['a control character', '+44 7400\u0000123456'],
    ['a tab inside', '+44\t7400123456'],
    ['an emoji', '+44 7400 123456 📞'],
    [`more than ${MAX_PHONE_LENGTH} characters`, `+44 7400 123456${' '.repeat(MAX_PHONE_LENGTH)}1`],
    ['20 000 digits', '1'.repeat(20_000)],
    ['an empty string', ''],
    ['only spaces', '   '],
    ['a lone +', '+'],
    ['two pluses', '++447400123456'],
    ['calling code 0', '+0 123 456 789'],
    ['an unknown calling code', '+999 123 456 789'],
    ['too few digits', '+33 6'],
    ['too many digits for the country', '+33 6 12 34 56 78 9'],
  ])('rejects %s', (_, input) => {
    expect(parse(input, 'GB')).toBeNull();
    expect(parsePhoneFull(input, 'GB')).toBeNull();
  });

  it('accepts exactly MAX_PHONE_LENGTH characters after trimming', () => {
    const padded = `+33${' '.repeat(MAX_PHONE_LENGTH - 12)}612345678`;
    expect(padded).toHaveLength(MAX_PHONE_LENGTH);
    expect(parse(`  ${padded}  `, undefined)?.number).toBe('+33612345678');
  });

  it('returns frozen results, the same object for a repeated number', () => {
    // A national number needs the full parse, which is cached by its cleaned form.
    const first = parse('030 1234567', 'DE');
    expect(first).toEqual({ number: '+49301234567', country: 'DE', valid: true });
    expect(parse(' 030 1234567 ', 'DE')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // An international number is decided from compiled metadata; the same input again is served from the
    // recent answers, another spelling of it is decided again.
    const fast = parse('+49 30 1234567', undefined);
    expect(parse('+49 30 1234567', 'DE')).toBe(fast);
    expect(parse(' +49 30 1234567 ', 'DE')).toEqual(fast);
    expect(Object.isFrozen(fast)).toBe(true);
  });

  it('answers a repeated input as the full parse does, whatever came between (property)', () => {
    // A pool small enough that inputs repeat and share slots of the recent answers: international numbers
    // (some spelled two ways), national ones under different default countries, and non-numbers.
    const pool = [
      ...mobileExamples.slice(0, 60),
      ...mobileExamples.slice(0, 20).map((n) => ` ${n.slice(0, 4)} ${n.slice(4)} `),
      ...mobileExamples.slice(0, 20).map((n) => `00${n.slice(1)}`),
      '07400 123456',
      '0612345678',
      '(415) 555-2671',
      '+44',
      'not a phone',
      '',
    ];
    const countries = [undefined, 'GB', 'FR', 'NL', 'US'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...pool), fc.constantFrom(...countries)), { minLength: 100 }),
        (inputs) => {
          const fresh = createPhoneParser();
          for (const [raw, country] of inputs)
            expect(fresh(raw, country)).toEqual(parsePhoneFull(raw, country));
        },
      ),
      { numRuns: 100, seed: 3 },
    );
  });

  it('keeps national numbers of different default countries apart', () => {
    expect(parse('0612345678', 'FR')?.country).toBe('FR');
    expect(parse('0612345678', 'NL')?.country).toBe('NL');
    expect(parse('0612345678', undefined)).toBeNull();
  });

  it('evicts beyond max and still answers', () => {
    const small = createPhoneParser({ max: 2 });
    const first = small('0612345678', 'FR');
    expect(small('0612345678', 'FR')).toBe(first);
    small('0612345679', 'FR');
    small('0612345670', 'FR');
    const again = small('0612345678', 'FR');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  it('rejects bad options with a message that says what to fix', () => {
    expect(() => createPhoneParser({ max: 0 })).toThrow(IpMatchConfigError);
    expect(() => createPhoneParser({ max: 1.5 })).toThrow(/max/);
    expect(() => createPhoneParser({ maxx: 10 } as never)).toThrow(/did you mean "max"/);
  });
});

describe('fast path', () => {
  it('answers exactly as the full parse for every mobile example number', () => {
    const { decided, wrong } = disagreements(mobileExamples);
    expect(wrong).toEqual([]);
    // Shared calling codes included: the fast path must actually be taken, not always deferred.
    expect(decided).toBeGreaterThan(mobileExamples.length * 0.95);
  });

  it('answers exactly as the full parse for numbers of every type of every plan', () => {
    const { decided, wrong } = disagreements(typeExamples);
    expect(wrong).toEqual([]);
    expect(decided).toBeGreaterThan(typeExamples.length / 2);
  });

  it('answers exactly as the full parse for formatted and random digit strings', () => {
    const inputs = [...mobileExamples.flatMap(variants), ...randomNumbers];
    const { decided, wrong } = disagreements(inputs);
    expect(wrong).toEqual([]);
    expect(decided).toBeGreaterThan(inputs.length / 4);
  });

  it('picks the region of a shared calling code as libphonenumber-js does, without deferring', () => {
    for (const [input, country, valid] of [
      ['+1 415 555 2671', 'US', true],
      ['+1 604 555 0123', 'CA', true], // no leading digits: CA's own number types
      ['+1 242 357 1234', 'BS', true], // leading digits 242
      ['+1 800 555 0199', 'US', true], // toll free in US and CA alike: the first region wins
      ['+44 7624 123456', 'IM', true],
      ['+44 1534 456789', 'JE', true],
      ['+7 701 123 4567', 'KZ', true],
      ['+7 912 345 6789', 'RU', true],
      // In no region (RU's leading digits are 3, 4, 8, 9): the main region, checked by its own rules.
      ['+7 612 345 6789', 'RU', false],
      ['+39 06 698 12345', 'VA', true],
      ['+358 18 12345', 'AX', true],
    ] as const) {
      const expected = { number: `+${input.replace(/\D/g, '')}`, country, valid };
      expect(parsePhoneFast(input)).toEqual(expected);
      expect(parsePhoneFull(input, undefined)).toEqual(expected);
    }
  });

  it('leaves a national prefix after a shared calling code to the full parse', () => {
    // RU's national prefix is 8, GB's 0, NANPA's 1: the full parse may strip it.
    for (const input of ['+7 800 555 3535', '+44 07400 123456', '+1 1 415 555 2671']) {
      expect(parsePhoneFast(input)).toBeUndefined();
    }
  });

  it.each(sharedCodes.map((code) => [code, byCallingCode[code]!.length]))(
    'answers exactly as the full parse for +%s (%i regions), every region and type',
    (code) => {
      const inputs = sharedExamples.get(code as string)!;
      const { decided, wrong } = disagreements(inputs);
      expect(wrong).toEqual([]);
      // +7 numbers starting 8 (toll free, RU's national prefix) go to the full parse; the rest is decided.
      expect(decided).toBeGreaterThan(inputs.length * (code === '7' ? 0.35 : 0.9));
    },
  );

  it('names every region of +1, +44 and +7 itself', () => {
    for (const code of heavyCodes) {
      const countries = new Set(sharedExamples.get(code)!.map((input) => parsePhoneFast(input)?.country));
      expect([...byCallingCode[code]!].filter((region) => !countries.has(region))).toEqual([]);
    }
  });

  it('answers exactly as the full parse for random digits after shared calling codes', () => {
    const inputs = [...sharedRandom, ...sharedRandom.map((n) => `${n.slice(0, 3)} ${n.slice(3)}`)];
    const { decided, wrong } = disagreements(inputs);
    expect(wrong).toEqual([]);
    expect(decided).toBeGreaterThan(inputs.length * 0.75);
  });

  it('never changes what the parser answers (property)', () => {
    const parse = createPhoneParser();
    const input = fc
      .tuple(
        fc.constantFrom('+', '00', ''),
        fc.constantFrom(...callingCodes),
        fc.stringMatching(/^[0-9 ()\-.]{0,20}$/),
        fc.constantFrom(undefined, 'GB', 'FR', 'US', 'DE'),
      )
      .map(([lead, code, rest, country]) => ({ raw: `${lead}${code}${rest}`, country }));
    fc.assert(
      fc.property(input, ({ raw, country }) => {
        expect(parse(raw, country)).toEqual(parsePhoneFull(raw, country));
      }),
      { numRuns: 3000, seed: 1 },
    );
  });
});

describe('the full parser, loaded on first need', () => {
  /** A fresh copy of the modules, in which nothing has loaded libphonenumber-js's parser yet. */
  async function fresh() {
    vi.resetModules();
    return {
      phone: await import('../../src/core/phone.js'),
      core: await import('../../src/index.js'),
    };
  }

  it('throws PhoneParserLoading for a number only it decides, then parses once that resolves', async () => {
    const { phone } = await fresh();
    const parse = phone.createPhoneParser();
    // The fast path needs no loading.
    expect(parse('+447400123456', undefined)).toEqual({
      number: '+447400123456',
      country: 'GB',
      valid: true,
    });
    let thrown: unknown;
    try {
      parse('020 7946 0018', 'GB');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(phone.PhoneParserLoading);
    await (thrown as InstanceType<typeof phone.PhoneParserLoading>).loaded;
    expect(parse('020 7946 0018', 'GB')).toEqual(parsePhoneFull('020 7946 0018', 'GB'));
  });

  it('check() waits for it and decides as a loaded parser would; ready() loads it', async () => {
    const { core } = await fresh();
    const ipm = core.createIpMatch({ defaultCountry: 'GB', logger: { warn() {}, error() {} } });
    const [first, second] = await Promise.all([
      ipm.check({ phone: '07400 123456', ip: '81.2.69.160' }),
      ipm.check({ phone: 'not a phone', ip: '81.2.69.160' }),
    ]);
    expect(first).toMatchObject({
      reason: 'country_match',
      phone: { number: '+447400123456', country: 'GB' },
    });
    expect(second.reason).toBe('phone_invalid');
    await ipm.close();

    const warmed = (await fresh()).phone;
    const ready = (await import('../../src/index.js')).createIpMatch({ logger: { warn() {}, error() {} } });
    await ready.ready();
    expect(warmed.createPhoneParser()('020 7946 0018', 'GB')).toMatchObject({ country: 'GB' });
    await ready.close();
  });

  it('an offline check of a number the fast path decides never loads libphonenumber-js/core', () => {
    // A resolve hook in a child Node, so that what is loaded is what the runtime loads, not vitest's graph.
    const dir = mkdtempSync(join(tmpdir(), 'ipmatch-lazy-phone-'));
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      // writeSync: the hooks run on their own thread, whose process.stderr reaches the pipe after the main
      // thread's lines on Node 22 and later; a direct write keeps the lines in the order things happened.
      `import { writeSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); if (/libphonenumber-js[\\/]core[\\/]/.test(r.url)) writeSync(2, 'FULL PARSER\\n'); return r; }`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    );
    const src = JSON.stringify(pathToFileURL(join(process.cwd(), 'src/index.ts')).href);
    const script = `
      const { createIpMatch } = await import(${src});
      const ipm = createIpMatch({ logger: { warn() {}, error() {} } });
      let d = await ipm.check({ phone: '+447400123456', ip: '81.2.69.160' });
      process.stderr.write('DECIDED ' + d.reason + '\\n');
      d = await ipm.check({ phone: '07400 123456', ip: '81.2.69.160', country: 'GB' });
      process.stderr.write('DECIDED ' + d.reason + '\\n');`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', register, '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const lines = child.stderr.split('\n').filter((l) => /^(DECIDED|FULL PARSER)/.test(l));
    expect(lines[0]).toBe('DECIDED country_match');
    expect(lines.slice(1)).toContain('FULL PARSER');
    expect(lines.at(-1)).toBe('DECIDED country_match');
  });
});
