# Flatten JSON (stdin) into one "path<TAB>value" line per scalar, for the boot script:
#   {"public_keys": {"k": "ssh-ed25519 AAAA...\n"}, "keys": [{"data": "x"}]}
# becomes
#   public_keys.k<TAB>ssh-ed25519 AAAA...\n       (newlines in strings stay escaped as \n)
#   keys.0.data<TAB>x
# busybox has no JSON tool; this is enough for meta_data.json and network_data.json.
{ s = s $0 "\n" }
END { n = length(s); pos = 1; value("") }

function skipws() {
  while (pos <= n && index(" \t\r\n", substr(s, pos, 1))) pos++
}
function value(path,   c) {
  skipws(); c = substr(s, pos, 1)
  if (c == "{") object(path)
  else if (c == "[") array(path)
  else if (c == "\"") emit(path, str())
  else literal(path)
}
function object(path,   c, k) {
  pos++; skipws()
  if (substr(s, pos, 1) == "}") { pos++; return }
  while (pos <= n) {
    skipws(); k = str(); skipws(); pos++   # the ':'
    value(path == "" ? k : path "." k)
    skipws(); c = substr(s, pos, 1); pos++
    if (c != ",") return
  }
}
function array(path,   c, i) {
  pos++; skipws()
  if (substr(s, pos, 1) == "]") { pos++; return }
  for (i = 0; pos <= n; i++) {
    value(path == "" ? i : path "." i)
    skipws(); c = substr(s, pos, 1); pos++
    if (c != ",") return
  }
}
function str(   out, rest, i, e) {
  pos++; out = ""
  while (pos <= n) {
    rest = substr(s, pos)
    i = match(rest, /["\\]/)
    if (!i) { pos = n + 1; return out rest }
    out = out substr(rest, 1, i - 1); pos += i
    if (substr(rest, i, 1) == "\"") return out
    e = substr(s, pos, 1); pos++
    if (e == "n") out = out "\\n"
    else if (e == "t") out = out "\t"
    else if (e == "r" || e == "b" || e == "f") out = out ""
    else if (e == "u") { out = out "?"; pos += 4 }
    else out = out e
  }
  return out
}
function literal(path,   start) {
  start = pos
  while (pos <= n && !index(",}] \t\r\n", substr(s, pos, 1))) pos++
  emit(path, substr(s, start, pos - start))
}
function emit(path, v) { print path "\t" v }
