/* raw_kvm: the smallest KVM loop that runs the freestanding test guests, the physical limit
 * the benchmarks compare Ember and QEMU against. One vCPU, RAM from 0, the guest's PVH entry
 * (32-bit protected mode, start info with the command line and one memory-map entry), a
 * serial port that is always ready, the debug-exit port and the i8042 reset, a stub
 * virtio-mmio window at 0xd0000000 (MagicValue, version 2, device ID 4) whose QueueNotify is
 * an ioeventfd. No irqchip, no devices, no checks beyond what running needs.
 *   raw_kvm GUEST.elf MEMORY_MIB [CMDLINE]
 * Exit status as Ember's: 0 on reset/halt, (v << 1) | 1 on a debug exit. */
#include <elf.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define START_INFO 0x6000
#define MEMMAP 0x6100
#define CMDLINE 0x7000
#define VIRTIO_BASE 0xd0000000ull

static void die(const char *what) {
    perror(what);
    exit(8);
}

static int xioctl(int fd, unsigned long request, void *arg, const char *what) {
    int r = ioctl(fd, request, arg);
    if (r < 0)
        die(what);
    return r;
}

/* Copies PT_LOAD segments into guest memory; returns the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY). */
static uint32_t load_elf(const char *path, uint8_t *ram, uint64_t ram_size) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        die(path);
    uint8_t *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED)
        die("mmap kernel");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
    uint32_t entry = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff + (uint64_t)i * eh->e_phentsize);
        if (ph->p_type == PT_LOAD && ph->p_paddr + ph->p_memsz <= ram_size) {
            memcpy(ram + ph->p_paddr, file + ph->p_offset, ph->p_filesz);
            memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
        }
        for (uint64_t off = 0; ph->p_type == PT_NOTE && off + 12 <= ph->p_filesz;) {
            const uint32_t *note = (const uint32_t *)(file + ph->p_offset + off);
            const uint64_t name = (note[0] + 3) & ~3u, desc = (note[1] + 3) & ~3u;
            if (note[2] == 18 && note[0] == 4 && memcmp(note + 3, "Xen", 4) == 0)
                memcpy(&entry, (const uint8_t *)(note + 3) + name, 4);
            off += 12 + name + desc;
        }
    }
    munmap(file, (size_t)st.st_size);
    close(fd);
    if (!entry) {
        fprintf(stderr, "raw_kvm: %s has no PVH entry note\n", path);
        exit(2);
    }
    return entry;
}

static void write_start_info(uint8_t *ram, uint64_t ram_size, const char *cmdline) {
    const uint32_t info[12] = {0x336ec578, 1, 0, 0, 0, 0, CMDLINE, 0, 0, 0, MEMMAP, 0};
    memcpy(ram + START_INFO, info, sizeof info); /* magic, version, ..., cmdline, memmap */
    const uint32_t entries = 1;
    memcpy(ram + START_INFO + 48, &entries, 4);
    const uint64_t map[3] = {0, ram_size, 1}; /* RAM */
    memcpy(ram + MEMMAP, map, sizeof map);
    strncpy((char *)ram + CMDLINE, cmdline, 4095);
}

static void set_cpuid(int kvm, int vcpu) {
    const int max = 128;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + max * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = max;
    xioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
    xioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
    free(cpuid);
}

static void set_pvh_registers(int vcpu, uint32_t entry) {
    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    struct kvm_segment code = {.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
                               .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1};
    struct kvm_segment data = code;
    data.type = 0x3;
    data.selector = 0x18;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = 0x11; /* PE, ET */
    sregs.cr4 = 0;
    sregs.efer = 0;
    xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    struct kvm_regs regs = {.rip = entry, .rbx = START_INFO, .rflags = 2};
    xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* What the guest wrote to the status, queue-ready and feature-select registers, so the stub
 * reads back as a device that accepted them. */
static uint32_t stub_status, stub_ready, stub_features_sel;

static uint32_t stub_read(uint64_t offset) {
    switch (offset) {
    case 0x000: return 0x74726976; /* "virt" */
    case 0x004: return 2;
    case 0x008: return 4; /* entropy */
    case 0x010: return stub_features_sel == 1 ? 1 : 0; /* VERSION_1 */
    case 0x034: return 256; /* QueueNumMax */
    case 0x044: return stub_ready;
    case 0x070: return stub_status;
    default: return 0;
    }
}

static void stub_write(uint64_t offset, uint32_t value) {
    switch (offset) {
    case 0x014: stub_features_sel = value; break;
    case 0x044: stub_ready = value; break;
    case 0x070: stub_status = value; break;
    default: break;
    }
}

static int handle_io(struct kvm_run *run) {
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            if (run->io.port == 0x3f8 && write(1, data, 1) < 0)
                return 8;
            if (run->io.port == 0xf4)
                return (data[0] << 1) | 1;
            if (run->io.port == 0x64 && data[0] == 0xfe)
                return 0;
        } else {
            memset(data, run->io.port == 0x3fd ? 0x60 : 0xff, run->io.size); /* LSR: THRE | TEMT */
        }
    }
    return -1;
}

static void handle_mmio(struct kvm_run *run) {
    const uint64_t offset = run->mmio.phys_addr - VIRTIO_BASE;
    const uint32_t len = run->mmio.len < 4 ? run->mmio.len : 4;
    uint32_t value = 0;
    if (run->mmio.is_write) {
        memcpy(&value, run->mmio.data, len);
        stub_write(offset, value);
    } else {
        value = stub_read(offset);
        memcpy(run->mmio.data, &value, len);
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: raw_kvm GUEST.elf MEMORY_MIB [CMDLINE]\n");
        return 2;
    }
    const uint64_t ram_size = strtoull(argv[2], NULL, 10) << 20;
    const int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    const int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap guest memory");
    struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
                                                 .userspace_addr = (uint64_t)ram};
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    const uint32_t entry = load_elf(argv[1], ram, ram_size);
    write_start_info(ram, ram_size, argc > 3 ? argv[3] : "");

    const int notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct kvm_ioeventfd ioeventfd = {.addr = VIRTIO_BASE + 0x50, .len = 4, .fd = notify};
    xioctl(vm, KVM_IOEVENTFD, &ioeventfd, "KVM_IOEVENTFD");

    const int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    const int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    set_cpuid(kvm, vcpu);
    set_pvh_registers(vcpu, entry);

    for (;;) {
        xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
        int status = -1;
        switch (run->exit_reason) {
        case KVM_EXIT_IO: status = handle_io(run); break;
        case KVM_EXIT_MMIO: handle_mmio(run); break;
        case KVM_EXIT_HLT: status = 0; break;
        case KVM_EXIT_SHUTDOWN: status = 4; break;
        default:
            fprintf(stderr, "raw_kvm: exit reason %u\n", run->exit_reason);
            status = 6;
        }
        if (status >= 0)
            return status;
    }
}
