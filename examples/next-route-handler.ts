/**
 * A Next.js App Router route handler (save it as app/api/signup/route.ts) guarded by ipmatch/fetch: a signup
 * whose IP country differs from its phone's country gets a 403 before any account is created. The same guard
 * works in any Request → Response runtime (Cloudflare Workers, Bun, Deno); only the client-IP header differs.
 */
import { createIpMatch } from 'ipmatch';
import { ipMatch } from 'ipmatch/fetch';

// Module scope: one core per server instance, shared by every request (the GeoIP data, the phone cache).
const core = createIpMatch();

const guard = ipMatch(core, {
  // Vercel sets x-real-ip itself, replacing any a client sent (it is what @vercel/functions' ipAddress()
  // reads). Elsewhere name your platform's header; trusting one a client can write lets it pick its country.
  clientIp: 'x-real-ip',
});

export async function POST(request: Request): Promise<Response> {
  const { decision, response } = await guard(request);
  if (response) return response; // 403 { error: 'ip_phone_mismatch', … } or 400 { error: 'invalid_phone', … }

  // ipmatch read a clone, so the body is still here. decision.phone.number is the E.164 form.
  const { name } = (await request.json()) as { name?: string };
  // Reached for 'allow' and 'flag': a flagged signup might get an extra SMS check before it is activated.
  return Response.json(
    { created: true, name, phone: decision.phone.number, review: decision.action === 'flag' },
    { status: 201 },
  );
}
