// RAII owners of the KVM file descriptors in their chain Kvm -> Vm -> Vcpu (+ kvm_run mapping).
// Every ioctl failure becomes an Error naming the ioctl and errno. Nothing else in Ember
// calls ioctl() on a KVM fd.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/x86_64/cpuid.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

using arch::x86_64::CpuidEntries;

class Vcpu;

class Vm {
public:
    Vm(UniqueFd fd, size_t run_mmap_size) : m_fd(std::move(fd)), m_run_mmap_size(run_mmap_size) {}

    Status set_user_memory_region(uint32_t slot, uint64_t gpa, uint64_t size, void* host);
    Status set_tss_addr(uint64_t addr);
    Status set_identity_map_addr(uint64_t addr);
    Status create_irqchip();
    Status create_pit2();
    Status set_irq_line(uint32_t irq, bool level);
    // Each write to `eventfd` injects an edge on interrupt line `gsi` (KVM_IRQFD).
    Status register_irqfd(int eventfd, uint32_t gsi);
    // A guest write of `datamatch` (len bytes) at MMIO `addr` signals `eventfd` in the kernel
    // instead of exiting to user space (KVM_IOEVENTFD).
    Status register_ioeventfd(int eventfd, uint64_t addr, uint32_t len, uint64_t datamatch);
    Result<Vcpu> create_vcpu(uint32_t id);
    int fd() const { return m_fd.get(); }

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
    Result<CpuidEntries> supported_cpuid() const;
    Result<std::vector<uint32_t>> msr_index_list() const;
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

private:
    uint32_t m_id;
    UniqueFd m_fd;
    Mapping m_run;
};

}  // namespace vmm
