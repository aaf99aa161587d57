# A Telnet login attempt on the honeypot from each given source address
# (inside the test's network namespace): what makes the profiler scan back.
import socket, sys

target, port = sys.argv[1], int(sys.argv[2])
for src in sys.argv[3:]:
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((target, port))
    buf = b""
    while b"ogin" not in buf:
        buf += s.recv(1000)
    s.sendall(b"root\r\n")
    while b"assword" not in buf:
        buf += s.recv(1000)
    s.sendall(b"wrong-password\r\n")
    try:
        s.recv(1000)
    except Exception:
        pass
    s.close()
print("attacked", len(sys.argv) - 3)
