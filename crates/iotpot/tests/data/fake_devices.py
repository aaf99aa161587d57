# Fake devices for the profiler's tests, each on its own address inside the
# network namespace the test created. Real banners (from Recog's examples),
# a real Telnet negotiation, and hostile ones. Prints "ready" when listening.
import asyncio, ssl, sys

IAC, DO, WILL, WONT, DONT = 255, 253, 251, 252, 254
NET = sys.argv[1]  # e.g. "198.51.100."
# Certificates the test made (openssl): a modern server's, an old one's.
CERTS = sys.argv[2:4]

def say(data, close=True):
    async def handler(r, w):
        w.write(data)
        await w.drain()
        if close:
            await asyncio.sleep(0.2)
            w.close()
        else:
            try:
                await asyncio.wait_for(r.read(100), 30)
            except Exception:
                pass
            w.close()
    return handler

def telnet(banner):
    async def handler(r, w):
        w.write(bytes([IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 31]))
        await w.drain()
        # A real telnetd waits for the client's answers before its banner.
        got = await asyncio.wait_for(r.read(100), 5)
        if IAC not in got:
            w.close()
            return
        w.write(banner)
        await w.drain()
        try:
            await asyncio.wait_for(r.read(100), 30)
        except Exception:
            pass
        w.close()
    return handler

def http(status, headers, body=b"", favicon=None):
    async def handler(r, w):
        req = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
        if req.startswith(b"GET /favicon.ico "):
            if favicon is None:
                w.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                # Chunked, as some device servers send it.
                w.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/x-icon\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in range(0, len(favicon), 500):
                    part = favicon[i:i + 500]
                    w.write(b"%x\r\n" % len(part) + part + b"\r\n")
                w.write(b"0\r\n\r\n")
            await w.drain()
            w.close()
            return
        head = "HTTP/1.1 %s\r\n" % status + "".join("%s: %s\r\n" % h for h in headers)
        w.write(head.encode() + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await w.drain()
        w.close()
    return handler

def rtsp(server):
    async def handler(r, w):
        req = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
        assert req.startswith(b"OPTIONS ")
        w.write(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: %s\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n" % server)
        await w.drain()
        await asyncio.sleep(0.2)
        w.close()
    return handler

async def trickle(r, w):
    # One byte every 100 ms, forever.
    try:
        while True:
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.1)
    except Exception:
        pass

async def huge(r, w):
    # 100 MB of body, as fast as it goes.
    await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
    block = b"A" * 65536
    try:
        for _ in range(1600):
            w.write(block)
            await w.drain()
    except Exception:
        pass

async def endless(r, w):
    # Negotiation that never ends: a new option every time.
    try:
        i = 0
        while True:
            w.write(bytes([IAC, DO, i % 256, IAC, WILL, (i * 7) % 256]))
            await w.drain()
            i += 1
            await asyncio.sleep(0.001)
    except Exception:
        pass

def busybox_telnetd(banner):
    # As BusyBox telnetd does: negotiation and login prompt at once.
    async def handler(r, w):
        w.write(bytes([IAC, DO, 1, IAC, DO, 31, IAC, WILL, 1, IAC, WILL, 3]) + banner)
        await w.drain()
        try:
            while await asyncio.wait_for(r.read(100), 30):
                pass
        except Exception:
            pass
        w.close()
    return handler

DEVICES = {
    # A DVR: Telnet, web with a login realm, and FTP.
    11: {23: telnet(b"\r\nIMDVRS login: "),
         80: http("401 Unauthorized", [("Server", "Hikvision-Webs"), ("WWW-Authenticate", 'Basic realm="DVR"')]),
         21: say(b"220 DVR FTP server ready.\r\n", close=False)},
    # An IP camera: web, FTP, RTSP.
    12: {80: http("200 OK", [("Server", "Netwave IP Camera")], b"<html><head><title>Camera</title></head></html>",
                  favicon=bytes(range(256)) * 3),
         21: say(b"220 Axis 2100 Network Camera 2.43 Nov 04 2008 ready.\r\n", close=False),
         554: rtsp(b"Hipcam RealServer/V1.0")},
    # A router: Telnet, and a web page on 8080 no fingerprint knows.
    13: {23: telnet(b"KWS-1043N login: "),
         8080: http("200 OK", [("Server", "KWS-1043N-httpd")], b"<title>KWS-1043N</title>")},
    # Owned by Linux.Wifatch: its notice instead of telnetd.
    14: {23: say(b"Telnet has been closed to avoid further infection of this device. Please disable telnet, change telnet passwords, and/or update the firmware.\r\n")},
    # 15: nothing listens.
    # Hostile: trickles, floods, negotiates forever.
    16: {23: trickle, 80: huge, 21: endless},
    # A router to be worn: BusyBox telnetd and a Boa web login.
    18: {23: busybox_telnetd(b"\r\nDIR-615 login: "),
         80: http("401 Unauthorized", [("Server", "Boa/0.94.14rc21"), ("Date", "Mon, 01 Dec 2025 10:00:00 GMT"),
                                       ("WWW-Authenticate", 'Basic realm="DIR-615"'), ("Content-Type", "text/html")],
                  b"<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY>401 Unauthorized</BODY></HTML>")},
    # SSH only.
    17: {22: say(b"SSH-2.0-dropbear_2019.78\r\n", close=False)},
}

def tls_context(cert, old, tls13=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if old:
        # An old device: TLS 1.0 only, RSA key exchange only.
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("AES128-SHA:AES256-SHA:@SECLEVEL=0")
    ctx.load_cert_chain(cert, cert)
    return ctx

async def main():
    servers = []
    for host, ports in DEVICES.items():
        for port, handler in ports.items():
            servers.append(await asyncio.start_server(handler, NET + str(host), port))
    if len(CERTS) == 2:
        page = http("200 OK", [("Server", "lighttpd")], b"<title>Secure</title>")
        servers.append(await asyncio.start_server(page, NET + "12", 443, ssl=tls_context(CERTS[0], False)))
        servers.append(await asyncio.start_server(page, NET + "19", 443, ssl=tls_context(CERTS[1], True)))
        # TLS 1.3 only: the certificate is encrypted in the handshake.
        servers.append(await asyncio.start_server(page, NET + "12", 8443, ssl=tls_context(CERTS[0], False, True)))
    print("ready", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
