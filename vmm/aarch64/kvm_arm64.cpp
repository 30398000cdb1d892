// The arm64 side of the KVM wrappers (kvm.h): the preferred vCPU target, in-kernel devices (the
// vGIC), KVM_ARM_VCPU_INIT and registers one at a time.
#include "vmm/kvm.h"
#include "vmm/kvm_ioctl.h"

namespace vmm {

using namespace kvm_detail;

Result<kvm_vcpu_init> Vm::preferred_target() const {
    kvm_vcpu_init init{};
    TRY(KVM_IOCTL(m_fd.get(), KVM_ARM_PREFERRED_TARGET, &init));
    return init;
}

Result<KvmDevice> Vm::create_device(uint32_t type) const {
    kvm_create_device device{};
    device.type = type;
    TRY(KVM_IOCTL(m_fd.get(), KVM_CREATE_DEVICE, &device));
    return KvmDevice(UniqueFd(static_cast<int>(device.fd)));
}

Status KvmDevice::set_attr(uint32_t group, uint64_t attr, const void* value, const char* what) {
    kvm_device_attr request{};
    request.group = group;
    request.attr = attr;
    request.addr = reinterpret_cast<uint64_t>(value);
    TRY_CTX(KVM_IOCTL(m_fd.get(), KVM_SET_DEVICE_ATTR, &request), what);
    return {};
}

Status Vcpu::arm_init(const kvm_vcpu_init& init) {
    TRY(KVM_IOCTL(m_fd.get(), KVM_ARM_VCPU_INIT, &init));
    return {};
}

Result<uint64_t> Vcpu::get_one_reg(uint64_t id) const {
    uint64_t value = 0;
    kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
    TRY(KVM_IOCTL(m_fd.get(), KVM_GET_ONE_REG, &reg));
    return value;
}

Status Vcpu::set_one_reg(uint64_t id, uint64_t value) {
    kvm_one_reg reg{id, reinterpret_cast<uint64_t>(&value)};
    TRY(KVM_IOCTL(m_fd.get(), KVM_SET_ONE_REG, &reg));
    return {};
}

// arm64 guests have no kvmclock: the answer x86 KVM gives a guest without one.
Status Vcpu::kvmclock_ctrl() { return Error(ErrorKind::InvalidInput, "KVM_KVMCLOCK_CTRL: no kvmclock on arm64", EINVAL); }

}  // namespace vmm
