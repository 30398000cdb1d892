#include "vmm/vcpu_fault.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace vmm {

namespace {

std::string hex_bytes(std::span<const uint8_t> bytes) {
    std::string out;
    for (uint8_t b : bytes)
        out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
    return out;
}

}  // namespace

std::string fault_location(const Vcpu& vcpu) {
    // Where the guest was, for whoever reads the error: a fault's RIP and paging state.
    auto regs = vcpu.get_regs();
    auto sregs = vcpu.get_sregs();
    if (!regs.ok() || !sregs.ok())
        return {};
    // KVM on AMD (SVM) INITs a vCPU before it reports a shutdown: its registers then say
    // nothing of where the fault was, and the message says so rather than mislead.
    if (regs->rip == 0xfff0 && sregs->cs.selector == 0xf000 && !(sregs->cr0 & 1))
        return " (the vCPU is already back in its reset state, as KVM on AMD leaves it: no fault address)";
    return fmt::format(" at RIP {:#x} RSP {:#x}, CR0 {:#x} CR2 {:#x} CR3 {:#x} CR4 {:#x} EFER {:#x}",
                       regs->rip, regs->rsp, sregs->cr0, sregs->cr2, sregs->cr3, sregs->cr4, sregs->efer);
}

std::string internal_error_context(const Vcpu& vcpu, const kvm_run& run, const GuestMemory& memory) {
    std::string detail;
    if (auto regs = vcpu.get_regs(); regs.ok())
        detail += fmt::format(" at RIP {:#x}", regs->rip);
    std::array<uint8_t, 15> insn{};
    size_t insn_len = 0;
    if (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
        (run.emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
        insn_len = std::min<size_t>(run.emulation_failure.insn_size, insn.size());
        std::copy_n(run.emulation_failure.insn_bytes, insn_len, insn.begin());
    } else if (auto regs = vcpu.get_regs(); regs.ok()) {
        // No bytes from KVM: translate RIP through the guest's page tables and read them.
        if (auto tr = vcpu.translate(regs->rip); tr.ok() && tr->valid && memory.read(tr->physical_address, insn).ok())
            insn_len = insn.size();
    }
    if (insn_len)
        detail += ", instruction bytes: " + hex_bytes(std::span(insn.data(), insn_len));
    return detail;
}

}  // namespace vmm
