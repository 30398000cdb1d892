// RAII owners of the KVM file descriptors in their chain Kvm -> Vm -> Vcpu (+ kvm_run mapping).
// Every ioctl failure becomes an Error naming the ioctl and errno. Nothing else in Ember
// calls ioctl() on a KVM fd.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#if defined(__x86_64__)
#include "arch/x86_64/cpuid.h"
#endif

// The calls every architecture has are defined in kvm.cpp; each architecture's own in
// vmm/<arch>/ (x86_64/kvm_x86.cpp and kvm_state.cpp, aarch64/kvm_arm64.cpp).
namespace vmm {

class Vcpu;

#if defined(__aarch64__)
// An in-kernel device (KVM_CREATE_DEVICE): on arm64, the vGIC.
class KvmDevice {
public:
    explicit KvmDevice(UniqueFd fd) : m_fd(std::move(fd)) {}
    // KVM_SET_DEVICE_ATTR with `value` (what KVM reads there depends on group and attr);
    // `what` names the attribute in the error.
    Status set_attr(uint32_t group, uint64_t attr, const void* value, const char* what);

private:
    UniqueFd m_fd;
};
#endif

#if defined(__x86_64__)
using arch::x86_64::CpuidEntries;

// struct kvm_xsave without its flexible tail (the legacy 4 KiB area KVM_GET/SET_XSAVE move; the
// C++ view of the kernel's struct cannot be held in a Result).
struct XsaveArea {
    uint32_t region[1024];
};
static_assert(sizeof(XsaveArea) == 4096);
#endif

class Vm {
public:
    Vm(UniqueFd fd, size_t run_mmap_size) : m_fd(std::move(fd)), m_run_mmap_size(run_mmap_size) {}

    // log_dirty: KVM records the guest's writes to the slot (get_dirty_log()).
    Status set_user_memory_region(uint32_t slot, uint64_t gpa, uint64_t size, void* host, bool log_dirty = false);
    // The slot's pages the guest wrote since the last call (one bit per 4 KiB page, 64 to a
    // word), cleared by KVM as it hands them over.
    Result<std::vector<uint64_t>> get_dirty_log(uint32_t slot, uint64_t size) const;
    // The level of interrupt line `irq`: an IOAPIC/PIC input on x86, an SPI number (INTID - 32)
    // on arm64.
    Status set_irq_line(uint32_t irq, bool level);
    // Each write to `eventfd` injects an edge on interrupt line `gsi` (KVM_IRQFD).
    Status register_irqfd(int eventfd, uint32_t gsi);
    // A guest write of `datamatch` (len bytes) at MMIO `addr` signals `eventfd` in the kernel
    // instead of exiting to user space (KVM_IOEVENTFD).
    Status register_ioeventfd(int eventfd, uint64_t addr, uint32_t len, uint64_t datamatch);
    // Any `len`-byte guest write at MMIO `addr` signals `eventfd`; and its removal.
    Status register_ioeventfd_any(int eventfd, uint64_t addr, uint32_t len);
    Status unregister_ioeventfd_any(int eventfd, uint64_t addr, uint32_t len);
    // Replaces the whole GSI routing table (KVM_SET_GSI_ROUTING).
    Status set_gsi_routing(const std::vector<kvm_irq_routing_entry>& entries);
    Result<Vcpu> create_vcpu(uint32_t id);
    int fd() const { return m_fd.get(); }

#if defined(__x86_64__)
    Status set_tss_addr(uint64_t addr);
    Status set_identity_map_addr(uint64_t addr);
    Status create_irqchip();
    Status create_pit2();
    // VM state (kvm_state.cpp). chip: KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE or _IOAPIC.
    Result<kvm_irqchip> get_irqchip(uint32_t chip) const;
    Status set_irqchip(const kvm_irqchip& chip);
    Result<kvm_pit_state2> get_pit2() const;
    Status set_pit2(const kvm_pit_state2& pit);
    Result<kvm_clock_data> get_clock() const;
    Status set_clock(const kvm_clock_data& clock);
#elif defined(__aarch64__)
    // The vCPU target KVM prefers on this host (KVM_ARM_PREFERRED_TARGET), for KVM_ARM_VCPU_INIT.
    Result<kvm_vcpu_init> preferred_target() const;
    // An in-kernel device of `type` (KVM_CREATE_DEVICE): the vGIC.
    Result<KvmDevice> create_device(uint32_t type) const;
#endif

private:
    UniqueFd m_fd;
    size_t m_run_mmap_size;
};

class Kvm {
public:
    // Opens the KVM device (normally /dev/kvm) and checks the API version.
    static Result<Kvm> open(const std::string& path);

    Result<int> check_extension(long cap) const;
    // Fails, naming the capability, when KVM lacks it.
    Status require_extension(long cap, const char* name) const;
#if defined(__x86_64__)
    Result<CpuidEntries> supported_cpuid() const;
    Result<std::vector<uint32_t>> msr_index_list() const;
#endif
    Result<Vm> create_vm() const;

private:
    explicit Kvm(UniqueFd fd) : m_fd(std::move(fd)) {}
    UniqueFd m_fd;
};

class Vcpu {
public:
    Vcpu(uint32_t id, UniqueFd fd, Mapping run) : m_id(id), m_fd(std::move(fd)), m_run(std::move(run)) {}

    uint32_t id() const { return m_id; }
    // SAFETY: the mapping is KVM's kvm_run page for this vCPU, sized by
    // KVM_GET_VCPU_MMAP_SIZE, and lives as long as this object.
    kvm_run* run_state() const { return reinterpret_cast<kvm_run*>(m_run.data()); }

    // One KVM_RUN. EINTR is returned as an error with sys_errno() == EINTR.
    Status run();
    // Tells the guest, through its kvmclock page (PVCLOCK_GUEST_STOPPED), that it was stopped,
    // so its watchdogs do not take the pause for a hang. EINVAL: the guest has no kvmclock (and
    // no arm64 guest has one).
    Status kvmclock_ctrl();

#if defined(__x86_64__)
    Result<kvm_regs> get_regs() const;
    Status set_regs(const kvm_regs& regs);
    Result<kvm_sregs> get_sregs() const;
    Status set_sregs(const kvm_sregs& sregs);
    Status set_fpu(const kvm_fpu& fpu);
    Status set_cpuid(const CpuidEntries& cpuid);
    Status set_msrs(const std::vector<kvm_msr_entry>& msrs);
    Result<kvm_lapic_state> get_lapic() const;
    Status set_lapic(const kvm_lapic_state& lapic);
    Result<kvm_translation> translate(uint64_t linear) const;

    // The rest of the vCPU's state (kvm_state.cpp), for pause-save-restore and snapshots.
    Result<kvm_fpu> get_fpu() const;
    Result<kvm_mp_state> get_mp_state() const;
    Status set_mp_state(const kvm_mp_state& state);
    Result<XsaveArea> get_xsave() const;
    Status set_xsave(const XsaveArea& xsave);
    Result<kvm_xcrs> get_xcrs() const;
    Status set_xcrs(const kvm_xcrs& xcrs);
    Result<kvm_debugregs> get_debugregs() const;
    Status set_debugregs(const kvm_debugregs& regs);
    Result<kvm_vcpu_events> get_vcpu_events() const;
    Status set_vcpu_events(const kvm_vcpu_events& events);
    // The MSRs of `indices` that KVM lets this vCPU read (one it refuses is left out).
    Result<std::vector<kvm_msr_entry>> get_msrs(const std::vector<uint32_t>& indices) const;
#elif defined(__aarch64__)
    // KVM_ARM_VCPU_INIT with the target and features in `init`.
    Status arm_init(const kvm_vcpu_init& init);
    // One register by its KVM id (KVM_GET_ONE_REG / KVM_SET_ONE_REG), 64 bits.
    Result<uint64_t> get_one_reg(uint64_t id) const;
    Status set_one_reg(uint64_t id, uint64_t value);
#endif

private:
    uint32_t m_id;
    UniqueFd m_fd;
    Mapping m_run;
};

}  // namespace vmm
