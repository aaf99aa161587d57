/* A tiny bot for the analysis tests: resolves its C&C through the
   sandbox's resolver, says hello to it on port 6667, then tries three
   addresses of one /24 on port 23. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(void) {
    unsigned char q[64] = {0x13, 0x37, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    const char *name = "\x03" "cnc" "\x0b" "iotpot-test" "\x07" "example";
    size_t n = strlen(name) + 1;
    memcpy(q + 12, name, n);
    memcpy(q + 12 + n, "\x00\x01\x00\x01", 4);
    struct sockaddr_in dns = {0};
    dns.sin_family = AF_INET;
    dns.sin_port = htons(53);
    inet_aton("10.0.2.3", &dns.sin_addr);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct timeval tv = {2, 0};
    setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sendto(u, q, 12 + n + 4, 0, (struct sockaddr *)&dns, sizeof dns);
    unsigned char r[512];
    ssize_t got = recv(u, r, sizeof r, 0);
    if (got >= 32 && r[7] >= 1) {
        struct sockaddr_in c = {0};
        c.sin_family = AF_INET;
        c.sin_port = htons(6667);
        memcpy(&c.sin_addr, r + got - 4, 4);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&c, sizeof c) == 0) {
            write(s, "HELLO iotpot-test\n", 18);
            sleep(1);
        }
        close(s);
    }
    for (int i = 20; i < 23; i++) {
        char ip[32];
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons(23);
        memcpy(ip, "198.51.100.", 12);
        ip[11] = '0' + i / 10;
        ip[12] = '0' + i % 10;
        ip[13] = 0;
        inet_aton(ip, &a.sin_addr);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        connect(s, (struct sockaddr *)&a, sizeof a);
        close(s);
    }
    return 0;
}
