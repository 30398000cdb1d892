/* fs: a FUSE client on the first virtio-fs device (VIRTIO 1.2 §5.11), speaking to the
 * virtiofsd behind it: FUSE_INIT, then it looks up hello.txt in the shared directory's root,
 * opens and reads it and prints what it read; then creates guest.txt and writes a line into
 * it (the host checks the file), or with fs.readonly=1 on the command line expects the
 * creation to fail with EROFS. With fs.wait=1 it then waits for the device to need a reset
 * (the test kills virtiofsd) and reports it.
 * Exit code: number of failed checks. */
#include "runtime/runtime.h"
#include "runtime/virtio.h"

#define VIRTIO_ID_FS 26
#define STATUS_NEEDS_RESET 0x40
#define FUSE_LOOKUP 1
#define FUSE_OPEN 14
#define FUSE_READ 15
#define FUSE_WRITE 16
#define FUSE_INIT 26
#define FUSE_CREATE 35
#define EROFS 30

struct fuse_in_header {
    uint32_t len, opcode;
    uint64_t unique, nodeid;
    uint32_t uid, gid, pid;
    uint16_t total_extlen, padding;
};
struct fuse_out_header {
    uint32_t len;
    int32_t error;
    uint64_t unique;
};

static struct virtq request;
static uint8_t in_buf[512] __attribute__((aligned(8)));
static uint8_t out_buf[4096 + 256] __attribute__((aligned(8)));
static uint64_t next_unique = 1;

static void copy(void *dst, const void *src, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = ((const uint8_t *)src)[i];
}

static uint32_t length(const char *s) {
    uint32_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* One request: header + `arg` (+ `name` with its NUL, + `data`) out, header + reply in.
 * Returns the reply's error (0 or -errno), or 1 when the device did not answer right. */
static int fuse(uint32_t opcode, uint64_t nodeid, const void *arg, uint32_t arg_len, const char *name,
                const void *data, uint32_t data_len, uint32_t reply_len) {
    uint32_t name_len = name ? length(name) + 1 : 0;
    struct fuse_in_header h = {(uint32_t)sizeof h + arg_len + name_len + data_len, opcode, next_unique++,
                               nodeid, 0, 0, 1, 0, 0};
    copy(in_buf, &h, sizeof h);
    copy(in_buf + sizeof h, arg, arg_len);
    if (name)
        copy(in_buf + sizeof h + arg_len, name, name_len);
    if (data)
        copy(in_buf + sizeof h + arg_len + name_len, data, data_len);
    struct vbuf bufs[2] = {{in_buf, h.len, false}, {out_buf, (uint32_t)sizeof(struct fuse_out_header) + reply_len, true}};
    int64_t used = virtq_run(&request, bufs, 2, false);
    struct fuse_out_header o;
    copy(&o, out_buf, sizeof o);
    if (used < (int64_t)sizeof o || o.unique != h.unique)
        return 1;
    return o.error;
}

static bool has_arg(const char *cmdline, const char *arg) {
    uint32_t n = length(arg);
    for (const char *p = cmdline; *p; p++) {
        uint32_t i = 0;
        while (i < n && p[i] == arg[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static uint64_t u64_at(uint32_t offset) {
    uint64_t v;
    copy(&v, out_buf + sizeof(struct fuse_out_header) + offset, sizeof v);
    return v;
}

int guest_main(const struct boot_info *boot) {
    struct virtio_dev devs[VIRTIO_MAX_DEVICES];
    struct virtio_dev *fs = virtio_find_device(boot->cmdline, devs, VIRTIO_ID_FS);
    if (!fs) {
        print("fs: no virtio-fs device\n");
        return 0x7c;
    }
    char tag[37] = {0};
    for (int i = 0; i < 36; i++)
        tag[i] = (char)virtio_config8(fs, (uint32_t)i);
    print("fs: tag ");
    print(tag);
    print(", request queues ");
    print_dec(virtio_config32(fs, 36));
    print("\n");
    static struct virtq hiprio;
    check(virtio_negotiate(fs, 0), "features accepted");
    check(virtio_setup_queue(fs, &hiprio, 0), "hiprio queue ready");
    check(virtio_setup_queue(fs, &request, 1), "request queue ready");
    virtio_driver_ok(fs);

    uint32_t init_in[4] = {7, 31, 0, 0}; /* major, minor, max_readahead, flags */
    check(fuse(FUSE_INIT, 0, init_in, sizeof init_in, 0, 0, 0, 64) == 0, "FUSE_INIT answered");
    check(fuse(FUSE_LOOKUP, 1, 0, 0, "hello.txt", 0, 0, 128) == 0, "hello.txt found");
    uint64_t node = u64_at(0);
    uint32_t open_in[2] = {0, 0}; /* O_RDONLY */
    check(fuse(FUSE_OPEN, node, open_in, sizeof open_in, 0, 0, 0, 16) == 0, "hello.txt opened");
    uint64_t read_in[5] = {u64_at(0), 0, 256, 0, 0}; /* fh, offset, size | read_flags, lock_owner, flags */
    int err = fuse(FUSE_READ, node, read_in, sizeof read_in, 0, 0, 0, 256);
    check(err == 0, "hello.txt read");
    struct fuse_out_header o;
    copy(&o, out_buf, sizeof o);
    char text[257] = {0};
    uint32_t got = o.len > sizeof o && o.len - sizeof o <= 256 ? o.len - (uint32_t)sizeof o : 0;
    copy(text, out_buf + sizeof o, got);
    print("fs: read: ");
    print(text);

    uint32_t create_in[4] = {0x41 /* O_WRONLY|O_CREAT */, 0644, 0, 0};
    err = fuse(FUSE_CREATE, 1, create_in, sizeof create_in, "guest.txt", 0, 0, 128 + 16);
    if (has_arg(boot->cmdline, "fs.readonly=1")) {
        check(err == -EROFS, "guest.txt refused: read-only file system");
    } else {
        check(err == 0, "guest.txt created");
        uint64_t fh = u64_at(128);
        const char *line = "written by the guest\n";
        uint64_t write_in[5] = {fh, 0, length(line), 0, 0}; /* fh, offset, size | write_flags, lock_owner, flags */
        check(fuse(FUSE_WRITE, u64_at(0), write_in, sizeof write_in, 0, line, length(line), 8) == 0,
              "guest.txt written");
    }
    print("fs: done\n");
    if (has_arg(boot->cmdline, "fs.wait=1")) {
        while (!(virtio_status(fs) & STATUS_NEEDS_RESET))
            __asm__ volatile("pause");
        print("fs: device needs reset\n");
    }
    return check_failures();
}
