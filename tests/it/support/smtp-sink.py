#!/usr/bin/python3
"""Real SMTP receiver for tests (aiosmtpd), on a kernel-chosen loopback port.

Run with Debian's interpreter (apt-get install python3-aiosmtpd) or any python3
that has `pip install aiosmtpd`.

  smtp-sink.py --dir DIR [--host 127.0.0.1] [--port 0]
               [--tls-cert cert.pem --tls-key key.pem [--require-tls]]
               [--auth user:pass [--auth-require-tls]]

* First line on stdout: "READY <port>" (port 0 => the kernel picks one, no race).
* Every accepted message is written atomically as DIR/NNNNNN.eml (raw bytes as received,
  with aiosmtpd's added X-Peer/X-MailFrom/X-RcptTo removed: we store the original content)
  plus DIR/NNNNNN.json (envelope: mail_from, rcpt_tos, peer, tls, auth user).
* Failure injection, re-read on every command, from the file DIR/control:
    empty / missing        -> accept everything
    MAIL 451 4.3.0 busy    -> answer MAIL FROM with that reply (any 4xx/5xx text)
    RCPT 550 5.1.1 no user -> answer RCPT TO with that reply
    DATA 452 4.3.1 full    -> answer end-of-DATA with that reply
    DATA DROP              -> close the TCP connection at end-of-DATA (no reply)
    DATA CLOSE             -> accept the message, then close the TCP connection after the 250
    FAILN 2 DATA 451 4.3.0 transient  -> fail the first 2 DATA attempts, then accept
  Counter for FAILN lives in DIR/control.count.
* SIGTERM/SIGINT: clean exit.
"""
import argparse, asyncio, json, os, signal, ssl, sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True)
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, default=0)
p.add_argument("--tls-cert"); p.add_argument("--tls-key")
p.add_argument("--require-tls", action="store_true")
# supportd addition: implicit TLS from the first byte (SMTPS, port 465 style).
p.add_argument("--implicit-tls", action="store_true")
p.add_argument("--auth")
p.add_argument("--auth-require-tls", action="store_true")
a = p.parse_args()
os.makedirs(a.dir, exist_ok=True)
CONTROL = os.path.join(a.dir, "control")


def control():
    try:
        with open(CONTROL) as f:
            line = f.read().strip()
    except FileNotFoundError:
        return None
    if not line:
        return None
    parts = line.split(None, 1)
    if parts[0] == "FAILN":
        n, rest = line.split(None, 2)[1:]
        cnt_file = CONTROL + ".count"
        try:
            done = int(open(cnt_file).read() or 0)
        except FileNotFoundError:
            done = 0
        cmd = rest.split(None, 1)[0]
        return ("FAILN", int(n), done, cnt_file, cmd, rest.split(None, 1)[1])
    return (parts[0].upper(), parts[1] if len(parts) > 1 else "")


def injected(cmd):
    c = control()
    if not c:
        return None
    if c[0] == "FAILN":
        _, n, done, cnt_file, ccmd, reply = c
        if ccmd.upper() == cmd and done < n:
            open(cnt_file, "w").write(str(done + 1))
            return reply
        return None
    return c[1] if c[0] == cmd else None


class Handler:
    seq = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        r = injected("MAIL")
        if r:
            return r
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        r = injected("RCPT")
        if r:
            return r
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        r = injected("DATA")
        if r == "DROP":
            server.transport.close()
            return "421 4.4.2 dropping"  # never seen by the client
        if r and r != "CLOSE":
            return r
        if r == "CLOSE":
            # Runs once this task yields, i.e. after aiosmtpd has written the 250 below;
            # close() sends what is buffered, then FIN.
            asyncio.get_running_loop().call_soon(server.transport.close)
        Handler.seq += 1
        base = os.path.join(a.dir, "%06d" % Handler.seq)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "peer": list(session.peer),
            "tls": session.ssl is not None or a.implicit_tls,
            "auth": (session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None),
        }
        # write to tmp name then rename, so a polling reader never sees half a file
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK queued as %06d" % Handler.seq


def authenticator(server, session, envelope, mechanism, auth_data):
    # NB: AuthResult(handled=...) defaults to True, which means "I already replied":
    # a failure MUST say handled=False or the client hangs without a 535.
    if not a.auth or not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    user, pw = a.auth.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == pw
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


async def main():
    tls_ctx = None
    if a.tls_cert:
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(a.tls_cert, a.tls_key)
    handler = Handler()
    kw = {}
    if a.auth:
        kw = dict(authenticator=authenticator, auth_require_tls=a.auth_require_tls)
    loop = asyncio.get_running_loop()
    implicit = tls_ctx if a.implicit_tls else None
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", tls_context=None if implicit else tls_ctx,
                     require_starttls=a.require_tls and not implicit, decode_data=False,
                     enable_SMTPUTF8=True, **kw),
        host=a.host, port=a.port, ssl=implicit)
    port = server.sockets[0].getsockname()[1]
    print("READY", port, flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


asyncio.run(main())
