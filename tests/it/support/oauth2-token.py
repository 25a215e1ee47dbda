#!/usr/bin/python3
"""Tiny local OAuth2 token endpoint for tests (Python standard library only).

  oauth2-token.py serve --key-file K --dir D [--issuer I] [--aud A] [--scope S] [--client ID:SECRET ...]
                  [--user EMAIL] [--expires-in 3600] [--keep-old-refresh] [--refresh TOKEN=EMAIL ...] [--port 0]
  oauth2-token.py mint --key-file K --email E [--issuer I] [--aud A] [--expires-in S] [--scope S] [--claim k=v ...]

Access tokens are HS256 JWTs signed with the base64 key in K (the file Dovecot's passdb oauth2 reads):
header {"alg":"HS256","typ":"JWT"}, claims iss, sub, aud, email, scope, iat, exp, jti.
* First stdout line: "READY <port>" (port 0 => kernel picks, no race). SIGTERM: clean exit.
* POST /token  (form body; client auth by client_id/client_secret in the body or HTTP Basic)
    grant_type=refresh_token       -> new access token + NEW refresh token; the old one is invalid
                                      (unless --keep-old-refresh, which is what Microsoft does)
    grant_type=client_credentials  -> access token for --user (no refresh token)
    grant_type=authorization_code  -> code from GET /authorize (auto-consent, PKCE S256/plain checked)
    grant_type=urn:ietf:params:oauth:grant-type:device_code -> code from POST /devicecode;
                                      first poll: authorization_pending, then tokens
* GET /authorize?client_id&redirect_uri&state&scope&login_hint&code_challenge[_method]
    -> 302 redirect_uri?code=..&state=..   (user = login_hint or --user)
* Refresh tokens live in D/refresh.json {token: {email, scope, client_id}}, re-read on every request,
  so a test may seed one by writing the file (or pass --refresh TOKEN=EMAIL). Defaults: client
  supportd:supportd-secret (an empty SECRET makes a public client), user alice@example.com.
* The token's "scope" is the request's scope, else the grant's, else --scope.
* D/requests.jsonl: one line per /token request {grant_type, status, error, client_id, email}.
* Failure injection, re-read on every request, from D/control (one line):
    empty/missing -> normal | invalid_grant (consent revoked) | invalid_client (secret expired)
    500 -> HTTP 500 server_error | slow SECONDS -> sleep, then answer normally
    expires_in SECONDS -> tokens issued from now on live that long (JWT exp and "expires_in")
"""
import argparse, base64, hashlib, hmac, json, os, secrets, signal, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint(key, email, issuer, expires_in, scope="", aud="mail", extra=None):
    now = int(time.time())
    claims = {"iss": issuer, "sub": email, "aud": aud, "email": email, "iat": now,
              "exp": now + expires_in, "jti": secrets.token_hex(8)}
    if scope:
        claims["scope"] = scope
    claims.update(extra or {})
    signing_input = b64u(b'{"alg":"HS256","typ":"JWT"}') + "." + b64u(json.dumps(claims).encode())
    return signing_input + "." + b64u(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


p = argparse.ArgumentParser()
p.add_argument("cmd", choices=["serve", "mint"])
p.add_argument("--key-file", required=True)
p.add_argument("--issuer", default="https://oauth2.test/")
p.add_argument("--expires-in", type=int, default=3600)
p.add_argument("--aud", default="mail", help='"aud" claim (Dovecot checks it against client_id, if set)')
p.add_argument("--email"); p.add_argument("--scope", default=""); p.add_argument("--claim", action="append", default=[])
p.add_argument("--dir"); p.add_argument("--host", default="127.0.0.1"); p.add_argument("--port", type=int, default=0)
p.add_argument("--client", action="append", default=[], help="ID:SECRET (empty SECRET = public client)")
p.add_argument("--user", default="alice@example.com"); p.add_argument("--keep-old-refresh", action="store_true")
p.add_argument("--refresh", action="append", default=[], help="TOKEN=EMAIL to pre-register")
a = p.parse_args()
KEY = base64.b64decode("".join(open(a.key_file).read().split()))
if a.cmd == "mint":
    def val(v):
        try:
            return json.loads(v)          # numbers, true/false, arrays; anything else is a string
        except ValueError:
            return v
    extra = {k: val(v) for k, v in (c.split("=", 1) for c in a.claim)}
    print(mint(KEY, a.email, a.issuer, a.expires_in, a.scope, a.aud, extra)); sys.exit(0)

os.makedirs(a.dir, exist_ok=True)
STATE, CONTROL, LOG = (os.path.join(a.dir, f) for f in ("refresh.json", "control", "requests.jsonl"))
CLIENTS = dict(c.split(":", 1) for c in (a.client or ["supportd:supportd-secret"]))
LOCK, CODES = threading.Lock(), {}   # CODES: code -> dict(kind, email, scope, client_id, ...)


def load():
    try:
        return json.load(open(STATE))
    except FileNotFoundError:
        return {}


def save(st):
    json.dump(st, open(STATE + ".tmp", "w"), indent=1); os.replace(STATE + ".tmp", STATE)


save({**load(), **{t: {"email": e, "scope": a.scope, "client_id": None} for t, e in (r.split("=", 1) for r in a.refresh)}})


class H(BaseHTTPRequestHandler):
    # supportd addition: the answer is buffered and leaves when do_POST returns (handle_one_request
    # flushes it), after the request's line is in requests.jsonl. Unbuffered, the line was written
    # after the answer had gone, and a test that read requests.jsonl on its answer could miss it.
    wbufsize = -1

    def log_message(self, *args): pass

    def reply(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store"); self.send_header("Content-Length", str(len(data)))
        for h in headers:
            self.send_header(*h)
        self.end_headers(); self.wfile.write(data)

    def err(self, code, error, desc):
        self.reply(code, {"error": error, "error_description": desc}); return code, error

    def do_GET(self):   # /authorize: auto-consent, redirect with a one-time code
        u = urllib.parse.urlsplit(self.path); q = dict(urllib.parse.parse_qsl(u.query))
        if u.path != "/authorize" or "redirect_uri" not in q:
            return self.reply(404, {"error": "not_found"})
        code = secrets.token_urlsafe(16)
        CODES[code] = dict(kind="code", email=q.get("login_hint", a.user), scope=q.get("scope", a.scope), client_id=q.get("client_id"),
                           redirect_uri=q["redirect_uri"], challenge=q.get("code_challenge"), method=q.get("code_challenge_method", "plain"))
        loc = q["redirect_uri"] + ("&" if "?" in q["redirect_uri"] else "?") + urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
        self.send_response(302); self.send_header("Location", loc); self.send_header("Content-Length", "0"); self.end_headers()

    def do_POST(self):
        f = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
            f.setdefault("client_id", urllib.parse.unquote_plus(cid)); f.setdefault("client_secret", urllib.parse.unquote_plus(sec))
        if self.path.split("?")[0] == "/devicecode":
            dc = secrets.token_urlsafe(16)
            CODES[dc] = dict(kind="device", email=f.get("login_hint", a.user), scope=f.get("scope", a.scope), client_id=f.get("client_id"), polls=0)
            return self.reply(200, {"device_code": dc, "user_code": "TEST-CODE", "expires_in": 900, "interval": 1,
                                    "verification_uri": "http://%s:%d/device" % self.server.server_address[:2]})
        if self.path.split("?")[0] != "/token":
            return self.reply(404, {"error": "not_found"})
        try:
            ctl = open(CONTROL).read().split()
        except FileNotFoundError:
            ctl = []
        if ctl[:1] == ["slow"]:
            time.sleep(float(ctl[1]))
        with LOCK:
            status, error, email = self.token(f, ctl[:2])
        with open(LOG, "a") as lf:
            lf.write(json.dumps({"grant_type": f.get("grant_type"), "status": status, "error": error,
                                 "client_id": f.get("client_id"), "email": email}) + "\n")

    def token(self, f, ctl):
        gt, cid = f.get("grant_type"), f.get("client_id")
        st = load()
        who = (st.get(f.get("refresh_token", "")) or CODES.get(f.get("code") or f.get("device_code", "")) or {}).get("email")
        # injected failures come first and consume nothing: clear the control file and the same grant works again
        if ctl == ["500"]:
            return self.err(500, "server_error", "injected by control file") + (who,)
        if ctl == ["invalid_client"] or cid not in CLIENTS or (CLIENTS[cid] and f.get("client_secret") != CLIENTS[cid]):
            return self.err(401, "invalid_client", "AADSTS7000222: client secret expired or wrong (test server)") + (who,)
        if ctl == ["invalid_grant"]:
            return self.err(400, "invalid_grant", "AADSTS65001: consent revoked (injected by control file)") + (who,)
        if gt == "refresh_token":
            g = st.get(f.get("refresh_token", ""))
            if g is None:
                return self.err(400, "invalid_grant", "AADSTS70000: refresh token unknown, revoked or already rotated") + (None,)
            if not a.keep_old_refresh:
                del st[f["refresh_token"]]
        elif gt == "client_credentials":
            g = {"email": a.user, "scope": f.get("scope", a.scope), "norefresh": True}
        elif gt in ("authorization_code", "urn:ietf:params:oauth:grant-type:device_code"):
            c = f.get("code") or f.get("device_code", "")
            g = CODES.get(c)
            if g is None or g["client_id"] not in (None, cid) or g.get("redirect_uri", "") != f.get("redirect_uri", g.get("redirect_uri", "")):
                return self.err(400, "invalid_grant", "code unknown, used, or issued to another client/redirect_uri") + (None,)
            if g["kind"] == "device" and g["polls"] == 0:
                g["polls"] = 1
                return self.err(400, "authorization_pending", "user has not finished signing in yet") + (who,)
            v = f.get("code_verifier", "")
            if g.get("challenge") and g["challenge"] != (v if g["method"] == "plain" else b64u(hashlib.sha256(v.encode()).digest())):
                return self.err(400, "invalid_grant", "PKCE code_verifier does not match") + (None,)
            del CODES[c]
        else:
            return self.err(400, "unsupported_grant_type", "grant_type %r not supported" % gt) + (None,)
        scope = f.get("scope") or g.get("scope") or a.scope
        life = int(ctl[1]) if ctl[:1] == ["expires_in"] else a.expires_in
        body = {"token_type": "Bearer", "expires_in": life, "scope": scope,
                "access_token": mint(KEY, g["email"], a.issuer, life, scope, a.aud)}
        if not g.get("norefresh"):
            body["refresh_token"] = rt = secrets.token_urlsafe(24)
            st[rt] = {"email": g["email"], "scope": scope, "client_id": cid}
        save(st)
        self.reply(200, body)
        return 200, None, g["email"]


srv = ThreadingHTTPServer((a.host, a.port), H)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
print("READY", srv.server_address[1], flush=True)
srv.serve_forever()
