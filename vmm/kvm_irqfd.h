// An edge-triggered Interrupt backed by an eventfd registered with KVM_IRQFD: triggering it
// is one write(2), no ioctl and no lock.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>

#include "devices/device.h"
#include "vmm/kvm.h"

namespace vmm {

class KvmIrqfd final : public Interrupt {
public:
    static Result<std::unique_ptr<KvmIrqfd>> create(Vm& vm, uint32_t gsi) {
        int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            return Error::from_errno("eventfd");
        UniqueFd owned(fd);
        TRY(vm.register_irqfd(fd, gsi));
        return std::unique_ptr<KvmIrqfd>(new KvmIrqfd(std::move(owned)));
    }

    void trigger() override {
        const uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(m_fd.get(), &one, sizeof one);
    }

private:
    explicit KvmIrqfd(UniqueFd fd) : m_fd(std::move(fd)) {}
    UniqueFd m_fd;
};

}  // namespace vmm
