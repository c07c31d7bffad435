/** `--route` patterns, where `*` stands for anything, matched in linear time whatever the pattern. */

/**
 * A matcher for `pattern`: an exact route, or one with `*` standing for any run of characters. It walks the
 * route once with backtracking only to the last `*` (the classic wildcard match), so a pattern of many stars
 * against a long route name costs pattern × route steps at most, never the exponential time of a regex.
 */
export function routeMatcher(pattern: string | undefined): ((route: string | null) => boolean) | undefined {
  if (pattern === undefined) return undefined;
  if (!pattern.includes('*')) return (route) => route === pattern;
  return (route) => route !== null && wildcard(pattern, route);
}

function wildcard(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
