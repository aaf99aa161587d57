/* A tiny bot for the analysis test: asks the resolver for a name, then
   tries three addresses of one /24 on port 23. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
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
    sendto(u, q, 12 + n + 4, 0, (struct sockaddr *)&dns, sizeof dns);
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
