// The state accessors of Vm and Vcpu (kvm.h): each one KVM ioctl on a fixed-size struct,
// except get_msrs.
#include <fmt/format.h>

#include "vmm/kvm.h"
#include "vmm/kvm_ioctl.h"

namespace vmm {

using namespace kvm_detail;

Result<kvm_irqchip> Vm::get_irqchip(uint32_t chip) const {
    kvm_irqchip state{};
    state.chip_id = chip;
    TRY(KVM_IOCTL(fd(), KVM_GET_IRQCHIP, &state));
    return state;
}
Status Vm::set_irqchip(const kvm_irqchip& chip) { return set_struct(fd(), KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", chip); }
Result<kvm_pit_state2> Vm::get_pit2() const { return get_struct<kvm_pit_state2>(fd(), KVM_GET_PIT2, "KVM_GET_PIT2"); }
Status Vm::set_pit2(const kvm_pit_state2& pit) { return set_struct(fd(), KVM_SET_PIT2, "KVM_SET_PIT2", pit); }
Result<kvm_clock_data> Vm::get_clock() const { return get_struct<kvm_clock_data>(fd(), KVM_GET_CLOCK, "KVM_GET_CLOCK"); }
Status Vm::set_clock(const kvm_clock_data& clock) {
    kvm_clock_data data{};
    data.clock = clock.clock;  // KVM_SET_CLOCK takes the clock value alone (flags 0: no realtime)
    return set_struct(fd(), KVM_SET_CLOCK, "KVM_SET_CLOCK", data);
}

Result<kvm_fpu> Vcpu::get_fpu() const { return get_struct<kvm_fpu>(m_fd.get(), KVM_GET_FPU, "KVM_GET_FPU"); }
Result<kvm_mp_state> Vcpu::get_mp_state() const {
    return get_struct<kvm_mp_state>(m_fd.get(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE");
}
Status Vcpu::set_mp_state(const kvm_mp_state& state) {
    return set_struct(m_fd.get(), KVM_SET_MP_STATE, "KVM_SET_MP_STATE", state);
}
Result<XsaveArea> Vcpu::get_xsave() const { return get_struct<XsaveArea>(m_fd.get(), IOCTL_GET_XSAVE, "KVM_GET_XSAVE"); }
Status Vcpu::set_xsave(const XsaveArea& xsave) { return set_struct(m_fd.get(), IOCTL_SET_XSAVE, "KVM_SET_XSAVE", xsave); }
Result<kvm_xcrs> Vcpu::get_xcrs() const { return get_struct<kvm_xcrs>(m_fd.get(), KVM_GET_XCRS, "KVM_GET_XCRS"); }
Status Vcpu::set_xcrs(const kvm_xcrs& xcrs) { return set_struct(m_fd.get(), KVM_SET_XCRS, "KVM_SET_XCRS", xcrs); }
Result<kvm_debugregs> Vcpu::get_debugregs() const {
    return get_struct<kvm_debugregs>(m_fd.get(), KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
}
Status Vcpu::set_debugregs(const kvm_debugregs& regs) {
    return set_struct(m_fd.get(), KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", regs);
}
Result<kvm_vcpu_events> Vcpu::get_vcpu_events() const {
    return get_struct<kvm_vcpu_events>(m_fd.get(), KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");
}
Status Vcpu::set_vcpu_events(const kvm_vcpu_events& events) {
    return set_struct(m_fd.get(), KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS", events);
}
Status Vcpu::kvmclock_ctrl() {
    if (::ioctl(m_fd.get(), KVM_KVMCLOCK_CTRL, 0) < 0)
        return Error::from_errno("KVM_KVMCLOCK_CTRL");
    return {};
}

Result<std::vector<kvm_msr_entry>> Vcpu::get_msrs(const std::vector<uint32_t>& indices) const {
    // KVM_GET_MSRS stops at the first MSR it cannot read and returns how many it did: take
    // those, skip the refused one, go on with the rest.
    std::vector<kvm_msr_entry> out;
    size_t next = 0;
    while (next < indices.size()) {
        const size_t count = indices.size() - next;
        FlexBuffer<MsrsHeader, kvm_msr_entry> buf(count);
        buf.header()->nmsrs = static_cast<uint32_t>(count);
        for (size_t i = 0; i < count; ++i)
            buf.entries()[i] = kvm_msr_entry{indices[next + i], 0, 0};
        const int read = TRY(checked_ioctl(m_fd.get(), IOCTL_GET_MSRS, "KVM_GET_MSRS", buf.header()));
        out.insert(out.end(), buf.entries(), buf.entries() + read);
        next += static_cast<size_t>(read) + 1;  // the refused one, if any, is skipped
    }
    return out;
}

}  // namespace vmm
