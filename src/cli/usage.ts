/** `ipmatch --help`. Kept beside the parser's options so that the two are read together. */
export const USAGE = `Usage:
  ipmatch check <phone> <ip> [--country GB] [--json] [--vonage | --identity-insights] [--sends-otp] [--database <file.mmdb>]
  ipmatch db [--json] [--database <file.mmdb>]
  ipmatch db update [--source S | --url U (--sha256-url U | --sha256 H)] [--dir D] [--force] [--json]
  ipmatch db rollback [--dir D] [--json]
  ipmatch report <file.ndjson[.gz] ...|-> [--html <file>] [--json] [--since <date>] [--until <date>] [--route <pattern>]
  ipmatch --help

Commands:
  check   Does the IP's country match the phone number's? Prints the decision a middleware would make
          with the default policy (mismatch blocks; match, unknown and errors allow).
  db      Prints the GeoIP data in use: source, build date, age, IPv4/IPv6 coverage, record schema,
          which file was chosen and why, and the data dir's manifest.
  db update / db rollback
          Refresh the GeoIP data in the data dir, verified, or go back one file. See "ipmatch db update --help".
  report  Reads decision logs (decisionLog()): decisions per route, mismatches by country pair, and what
          each candidate policy would block. Files may be gzipped; - reads standard input.

Options:
  --country <CC>      Region of a national-format number, e.g. --country GB for "07400 123456".
  --json              Print the decision (or the database info) as one JSON object.
  --vonage            Look the phone up with Vonage Number Insight (Advanced: roaming, carrier,
                      validity; paid). Reads VONAGE_API_KEY and VONAGE_API_SECRET from the environment.
  --identity-insights Look the phone up with Vonage Identity Insights (country, carrier, roaming, SIM
                      swap; paid). Reads VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY_PATH (or
                      VONAGE_PRIVATE_KEY) from the environment.
  --sends-otp         check: decide as a route that sends a one-time code (sendsOtp: true), which blocks
                      premium-rate, shared-cost and SMS-incapable numbers and flags VoIP ones.
  --database <file>   Use this MMDB (GeoLite2, ip-location-db, IPinfo) instead of the bundled data.
  --html <file>       report: also write the report as one self-contained HTML page with charts.
  --since <date>      report: only decisions from this date (UTC day, or an ISO 8601 time).
  --until <date>      report: only decisions up to this date, the day included.
  --route <pattern>   report: only this route; * matches anything (--route '/api/*').
  -h, --help          Print this help.

Exit status: 0 when a decision was made, whatever its action; 1 on a usage or configuration error.
Warnings go to stderr, so stdout holds only the result.

Examples:
  ipmatch check +447400123456 81.2.69.160
  ipmatch check "07400 123456" 211.234.0.1 --country GB --json
  VONAGE_API_KEY=… VONAGE_API_SECRET=… ipmatch check +447400123456 81.2.69.160 --vonage
  VONAGE_APPLICATION_ID=… VONAGE_PRIVATE_KEY_PATH=./private.key ipmatch check +447400123456 81.2.69.160 --identity-insights
  ipmatch db --json
  ipmatch report decisions.ndjson decisions-1.ndjson.gz --html report.html
`;
