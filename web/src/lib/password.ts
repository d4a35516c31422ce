// A quick, local estimate of password strength (0-4) for the meter while
// typing. The server's zxcvbn check decides; this only guides. It rewards
// length and variety and punishes the user's own name or email, repeats,
// sequences and the most common passwords.

const common = new Set([
  'password', 'passw0rd', '123456', '12345678', '123456789', 'qwerty', 'qwertyuiop', 'abc123', 'letmein', 'welcome',
  'iloveyou', 'admin', 'monkey', 'dragon', 'football', 'baseball', 'sunshine', 'princess', 'pakistan', 'karachi',
  'lahore', 'callboard',
]);

export function passwordScore(password: string, personal: string[] = []): 0 | 1 | 2 | 3 | 4 {
  if (password.length < 8) return 0;
  const lower = password.toLowerCase();
  if (common.has(lower.replace(/[0-9!@#$%^&*.]+$/, ''))) return 0;
  for (const p of personal) {
    const w = p.toLowerCase().trim();
    if (w.length >= 3 && lower.includes(w)) return 1;
  }
  let classes = 0;
  for (const re of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/]) if (re.test(password)) classes++;
  // Runs of one character and keyboard/alphabet sequences add little.
  let effective = 0;
  for (let i = 0; i < password.length; i++) {
    const prev = password.charCodeAt(i - 1);
    const cur = password.charCodeAt(i);
    if (i > 0 && (cur === prev || cur === prev + 1 || cur === prev - 1)) effective += 0.25;
    else effective += 1;
  }
  const pool = [0, 26, 40, 62, 90][classes] ?? 90;
  const bits = effective * Math.log2(pool);
  if (bits < 40) return 1;
  if (bits < 55) return 2;
  if (bits < 70) return 3;
  return 4;
}
