// The arm64 core registers' KVM ids (KVM_GET/SET_ONE_REG): a register's offset in struct
// kvm_regs in 32-bit words (asm/kvm.h).
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>

namespace vmm::arm64_regs {

constexpr uint64_t core_reg(size_t offset) {
    return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}
inline constexpr uint64_t PC = core_reg(offsetof(kvm_regs, regs.pc));
inline constexpr uint64_t PSTATE = core_reg(offsetof(kvm_regs, regs.pstate));
inline constexpr uint64_t X0 = core_reg(offsetof(kvm_regs, regs.regs));

}  // namespace vmm::arm64_regs
