// The x86 side of the KVM wrappers (kvm.h): CPUID, MSRs, TSS and identity map, the PIC/IOAPIC
// and PIT, registers, FPU, LAPIC and address translation.
#include <cstring>

#include <fmt/format.h>

#include "vmm/kvm.h"
#include "vmm/kvm_ioctl.h"

namespace vmm {

using namespace kvm_detail;

Result<CpuidEntries> Kvm::supported_cpuid() const {
    for (size_t count = 128; count <= 4096; count *= 2) {
        FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(count);
        buf.header()->nent = static_cast<uint32_t>(count);
        if (::ioctl(m_fd.get(), IOCTL_GET_SUPPORTED_CPUID, buf.header()) < 0) {
            if (errno == E2BIG)
                continue;
            return Error::from_errno("KVM_GET_SUPPORTED_CPUID");
        }
        CpuidEntries result;
        result.entries.assign(buf.entries(), buf.entries() + buf.header()->nent);
        return result;
    }
    return Error(ErrorKind::HostResource, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

Result<std::vector<uint32_t>> Kvm::msr_index_list() const {
    MsrListHeader probe{};
    if (::ioctl(m_fd.get(), IOCTL_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
        return Error::from_errno("KVM_GET_MSR_INDEX_LIST");
    FlexBuffer<MsrListHeader, uint32_t> buf(probe.nmsrs);
    buf.header()->nmsrs = probe.nmsrs;
    TRY(checked_ioctl(m_fd.get(), IOCTL_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST", buf.header()));
    return std::vector<uint32_t>(buf.entries(), buf.entries() + buf.header()->nmsrs);
}

Status Vm::set_tss_addr(uint64_t addr) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr)));
    return {};
}

Status Vm::set_identity_map_addr(uint64_t addr) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_IDENTITY_MAP_ADDR, &addr));
    return {};
}

Status Vm::create_irqchip() {
    TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_IRQCHIP, 0));
    return {};
}

Status Vm::create_pit2() {
    kvm_pit_config config{};
    config.flags = KVM_PIT_SPEAKER_DUMMY;
    TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_PIT2, &config));
    return {};
}

Result<kvm_regs> Vcpu::get_regs() const {
    kvm_regs regs{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_REGS, &regs));
    return regs;
}

Status Vcpu::set_regs(const kvm_regs& regs) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_REGS, &regs));
    return {};
}

Result<kvm_sregs> Vcpu::get_sregs() const {
    kvm_sregs sregs{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_SREGS, &sregs));
    return sregs;
}

Status Vcpu::set_sregs(const kvm_sregs& sregs) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_SREGS, &sregs));
    return {};
}

Status Vcpu::set_fpu(const kvm_fpu& fpu) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_FPU, &fpu));
    return {};
}

Status Vcpu::set_cpuid(const CpuidEntries& cpuid) {
    FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(cpuid.entries.size());
    buf.header()->nent = static_cast<uint32_t>(cpuid.entries.size());
    std::memcpy(buf.entries(), cpuid.entries.data(), cpuid.entries.size() * sizeof(kvm_cpuid_entry2));
    TRY(checked_ioctl(m_fd.get(), IOCTL_SET_CPUID2, "KVM_SET_CPUID2", buf.header()));
    return {};
}

Status Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
    FlexBuffer<MsrsHeader, kvm_msr_entry> buf(msrs.size());
    buf.header()->nmsrs = static_cast<uint32_t>(msrs.size());
    std::memcpy(buf.entries(), msrs.data(), msrs.size() * sizeof(kvm_msr_entry));
    int written = TRY(checked_ioctl(m_fd.get(), IOCTL_SET_MSRS, "KVM_SET_MSRS", buf.header()));
    if (static_cast<size_t>(written) != msrs.size())
        return Error(ErrorKind::HostResource, fmt::format("KVM_SET_MSRS: MSR {:#x} rejected", msrs[written].index));
    return {};
}

Result<kvm_lapic_state> Vcpu::get_lapic() const {
    kvm_lapic_state lapic{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_LAPIC, &lapic));
    return lapic;
}

Status Vcpu::set_lapic(const kvm_lapic_state& lapic) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_LAPIC, &lapic));
    return {};
}

Result<kvm_translation> Vcpu::translate(uint64_t linear) const {
    kvm_translation tr{};
    tr.linear_address = linear;
    TRY(KVM_IOCTL(m_fd.get(), KVM_TRANSLATE, &tr));
    return tr;
}

}  // namespace vmm
