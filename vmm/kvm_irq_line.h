// An IrqLine driving an in-kernel IOAPIC/PIC input with KVM_IRQ_LINE.
#pragma once

#include <spdlog/spdlog.h>

#include "devices/device.h"
#include "vmm/kvm.h"

namespace vmm {

class KvmIrqLine final : public IrqLine {
public:
    KvmIrqLine(Vm& vm, uint32_t irq) : m_vm(vm), m_irq(irq) {}

    void set_level(bool asserted) override {
        if (auto status = m_vm.set_irq_line(m_irq, asserted); !status.ok())
            spdlog::error("IRQ {}: {}", m_irq, status.error().message());
    }

private:
    Vm& m_vm;
    uint32_t m_irq;
};

}  // namespace vmm
