/* net: a polling virtio-net driver that answers ARP and ICMP echo requests for the address
 * in net.ip=A.B.C.D, with one receive buffer posted per receive queue at a time (so the device
 * must hold frames back while the guest is busy). With net.pairs=2 it negotiates MQ and a
 * control queue, enables both queue pairs with MQ_VQ_PAIRS_SET, listens on both receive queues
 * and answers on the transmit queue of the pair a request came in on. After net.count=N echo
 * replies (default 20) it reports and exits. Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_MQ (1ull << 22)
#define MAX_PAIRS 2
#define HDR 12
#define BUF 2048
#define ETH_ARP 0x0806
#define ETH_IP 0x0800

static struct virtq rx[MAX_PAIRS], tx[MAX_PAIRS], ctrl;
static uint8_t rx_buf[MAX_PAIRS][BUF] __attribute__((aligned(64)));
static struct virtq *reply_queue;
static uint8_t tx_hdr[HDR], tx_frame[BUF] __attribute__((aligned(64)));
static uint8_t mac[6];
static uint8_t my_ip[4];

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put_be16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static bool same(const uint8_t *a, const uint8_t *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static bool parse_ip(const char *p, uint8_t *ip) {
    for (int i = 0; i < 4; i++) {
        if (*p < '0' || *p > '9')
            return false;
        uint32_t v = 0;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (uint32_t)(*p++ - '0');
        if (v > 255 || (i < 3 && *p++ != '.'))
            return false;
        ip[i] = (uint8_t)v;
    }
    return true;
}

static uint16_t checksum(const uint8_t *p, uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < n; i += 2)
        sum += be16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static bool send(uint32_t len) {
    memset(tx_hdr, 0, HDR);
    struct vbuf bufs[2] = {{tx_hdr, HDR, false}, {tx_frame, len, false}};
    return virtq_run(reply_queue, bufs, 2, false) == 0;
}

/* Ethernet header of a reply to `frame`: back to its sender, from us. */
static void reply_header(const uint8_t *frame, uint16_t type) {
    memcpy(tx_frame, frame + 6, 6);
    memcpy(tx_frame + 6, mac, 6);
    put_be16(tx_frame + 12, type);
}

static bool answer_arp(const uint8_t *frame, uint32_t len) {
    const uint8_t *arp = frame + 14;
    if (len < 42 || be16(arp) != 1 || be16(arp + 2) != ETH_IP || be16(arp + 6) != 1 || !same(arp + 24, my_ip, 4))
        return true; /* not a request for us */
    reply_header(frame, ETH_ARP);
    uint8_t *out = tx_frame + 14;
    memcpy(out, arp, 6);   /* hardware type, protocol type, lengths */
    put_be16(out + 6, 2);  /* reply */
    memcpy(out + 8, mac, 6);
    memcpy(out + 14, my_ip, 4);
    memcpy(out + 18, arp + 8, 10); /* sender's MAC and IP become the target */
    return send(42);
}

/* Returns 1 when an echo request was answered, 0 when the frame was not one, -1 on error. */
static int answer_icmp(const uint8_t *frame, uint32_t len) {
    const uint8_t *ip = frame + 14;
    if (len < 34 || (ip[0] >> 4) != 4 || ip[9] != 1 || !same(ip + 16, my_ip, 4))
        return 0;
    const uint32_t ihl = (uint32_t)(ip[0] & 15) * 4, total = be16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || 14 + total > len || total > BUF - 14 || ip[ihl] != 8)
        return 0;
    reply_header(frame, ETH_IP);
    uint8_t *out = tx_frame + 14;
    memcpy(out, ip, total);
    memcpy(out + 12, ip + 16, 4); /* swapped addresses keep the IP checksum */
    memcpy(out + 16, ip + 12, 4);
    uint8_t *icmp = out + ihl;
    icmp[0] = 0; /* echo reply */
    put_be16(icmp + 2, 0);
    put_be16(icmp + 2, checksum(icmp, total - ihl));
    return send(14 + total) ? 1 : -1;
}

/* MQ_VQ_PAIRS_SET through the control queue; true when the device acknowledged it. */
static bool set_queue_pairs(uint16_t pairs) {
    static uint8_t command[4], ack;
    command[0] = 4; /* VIRTIO_NET_CTRL_MQ */
    command[1] = 0; /* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
    command[2] = (uint8_t)pairs;
    command[3] = (uint8_t)(pairs >> 8);
    ack = 0xff;
    struct vbuf bufs[2] = {{command, 4, false}, {&ack, 1, true}};
    return virtq_run(&ctrl, bufs, 2, false) == 1 && ack == 0;
}

static void print_mac(void) {
    print("net: mac ");
    for (int i = 0; i < 6; i++) {
        print_char("0123456789abcdef"[mac[i] >> 4]);
        print_char("0123456789abcdef"[mac[i] & 15]);
        print_char(i < 5 ? ':' : '\n');
    }
}

/* Answers one received frame; counts echo replies and errors. */
static void handle_frame(const uint8_t *buf, int64_t len, uint64_t *answered, uint64_t *bad_headers,
                         uint64_t *errors) {
    if (len < HDR + 14)
        return;
    if (be16(buf + 10) != 0x0100) /* num_buffers, little endian: 1 */
        (*bad_headers)++;
    const uint8_t *frame = buf + HDR;
    const uint32_t frame_len = (uint32_t)len - HDR;
    const uint16_t type = be16(frame + 12);
    if (type == ETH_ARP && !answer_arp(frame, frame_len))
        (*errors)++;
    if (type == ETH_IP) {
        const int r = answer_icmp(frame, frame_len);
        *answered += r > 0;
        *errors += r < 0;
    }
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *dev = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_NET);
    const char *ip_text = cmdline_value(boot->cmdline, "net.ip");
    uint64_t count = 20, pairs = 1;
    cmdline_number(boot->cmdline, "net.count", &count);
    cmdline_number(boot->cmdline, "net.pairs", &pairs);
    if (!dev || !ip_text || !parse_ip(ip_text, my_ip) || pairs < 1 || pairs > MAX_PAIRS) {
        print("net: needs a virtio-net device, net.ip=A.B.C.D and net.pairs=1|2\n");
        return 0x7c;
    }
    print("net: virtio-net found\n");
    const uint64_t wanted = F_MAC | F_STATUS | F_MRG_RXBUF | (pairs > 1 ? F_MQ | F_CTRL_VQ : 0);
    check(virtio_negotiate(dev, wanted), "features accepted");
    check((dev->features & (F_MAC | F_STATUS | F_MRG_RXBUF)) == (F_MAC | F_STATUS | F_MRG_RXBUF),
          "MAC, STATUS and MRG_RXBUF offered");
    if (pairs > 1)
        check((dev->features & (F_MQ | F_CTRL_VQ)) == (F_MQ | F_CTRL_VQ) && virtio_config8(dev, 8) >= pairs,
              "MQ with a control queue and two pairs offered");
    for (int i = 0; i < 6; i++)
        mac[i] = virtio_config8(dev, (uint32_t)i);
    print_mac();
    check((virtio_config8(dev, 6) & 1) == 1, "link is up");
    bool ready = true;
    for (uint16_t p = 0; p < pairs; p++)
        ready = ready && virtio_setup_queue(dev, &rx[p], (uint16_t)(2 * p)) &&
                virtio_setup_queue(dev, &tx[p], (uint16_t)(2 * p + 1));
    if (pairs > 1) /* the control queue follows the last pair: 2 * max_virtqueue_pairs */
        ready = ready && virtio_setup_queue(dev, &ctrl, (uint16_t)(2 * virtio_config8(dev, 8)));
    check(ready, "queues ready");
    virtio_driver_ok(dev);
    if (pairs > 1)
        check(set_queue_pairs((uint16_t)pairs), "MQ_VQ_PAIRS_SET 2 acknowledged");
    print("net: ready\n");

    uint64_t answered = 0, bad_headers = 0, errors = 0;
    for (uint16_t p = 0; p < pairs; p++) {
        struct vbuf post = {rx_buf[p], BUF, true};
        if (!virtq_submit(&rx[p], &post, 1, false))
            return 0x7d;
    }
    while (answered < count && errors == 0) {
        for (uint16_t p = 0; p < pairs; p++) {
            const int64_t len = virtq_poll(&rx[p]);
            if (len < 0)
                continue;
            reply_queue = &tx[p];
            handle_frame(rx_buf[p], len, &answered, &bad_headers, &errors);
            struct vbuf post = {rx_buf[p], BUF, true};
            if (!virtq_submit(&rx[p], &post, 1, false))
                return 0x7d;
        }
        cpu_relax();
    }
    check(errors == 0, "every reply sent");
    check(bad_headers == 0, "every receive header says num_buffers 1");
    print("net: answered ");
    print_dec(answered);
    print(" echo requests\n");
    return check_failures();
}
