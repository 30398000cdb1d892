/* kvmclock: turns on KVM's paravirtual clock (MSR_KVM_SYSTEM_TIME_NEW, as Linux's kvmclock
 * does) and watches the PVCLOCK_GUEST_STOPPED flag of its time page, the flag a VMM has KVM set
 * (KVM_KVMCLOCK_CTRL) when the VM was paused, so that Linux's soft-lockup and RCU-stall
 * watchdogs take the pause for what it is rather than a hang. Prints "kvmclock: ready" once
 * the clock runs, then, when the flag appears, clears it (as Linux does) and prints
 * "kvmclock: told it was stopped" and that it saw the flag N times so far. It never ends on
 * its own. */
#include "runtime/runtime.h"

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define PVCLOCK_GUEST_STOPPED (1u << 1)

/* The kernel's struct pvclock_vcpu_time_info (32 bytes; KVM writes it, the guest reads it). */
struct pvclock_time {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
};
static volatile struct pvclock_time clock __attribute__((aligned(64)));

static void cpuid(uint32_t leaf, uint32_t regs[4]) {
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t value) {
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* flags, &= ~clear, with KVM's own atomic access (it may write the page at any VM entry). */
static uint8_t take_flags(uint8_t clear) {
    return __atomic_fetch_and(&clock.flags, (uint8_t)~clear, __ATOMIC_SEQ_CST);
}

int guest_main(const struct boot_info *boot) {
    (void)boot;
    uint32_t regs[4];
    cpuid(0x40000000u, regs);
    const bool kvm = regs[1] == 0x4b4d564bu && regs[2] == 0x564b4d56u && regs[3] == 0x4du;  /* "KVMKVMKVM\0\0\0" */
    check(kvm && regs[0] >= 0x40000001u, "kvmclock: KVM's CPUID leaves");
    cpuid(0x40000001u, regs);
    check(kvm && (regs[0] & KVM_FEATURE_CLOCKSOURCE2), "kvmclock: KVM_FEATURE_CLOCKSOURCE2");
    if (check_failures())
        return check_failures();
    wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&clock | 1);
    while (clock.version == 0 || (clock.version & 1))
        cpu_relax();
    check(!(take_flags(0) & PVCLOCK_GUEST_STOPPED), "kvmclock: not stopped before any pause");
    print("kvmclock: ready\n");
    for (uint64_t seen = 1;; ) {
        if (take_flags(PVCLOCK_GUEST_STOPPED) & PVCLOCK_GUEST_STOPPED) {
            print("kvmclock: told it was stopped (");
            print_dec(seen++);
            print(")\n");
        }
        cpu_relax();
    }
}
