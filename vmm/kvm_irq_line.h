// In-kernel IOAPIC/PIC inputs driven with KVM_IRQ_LINE: a level (the 16550) or an edge (a
// virtio-mmio interrupt).
//
// Edges are not an irqfd on purpose: the kernel waits out an SRCU grace period for every
// irqfd when the VM is destroyed (~16 ms on the development host), which doubled exec -> exit
// of a short-lived microVM. Two ioctls per interrupt cost microseconds; interrupts are few
// (EVENT_IDX), and VM churn is what microVM users measure.
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

// An edge: a low-high-low pulse on the line.
class KvmIrqEdge final : public Interrupt {
public:
    KvmIrqEdge(Vm& vm, uint32_t irq) : m_line(vm, irq) {}
    void trigger() override {
        m_line.set_level(true);
        m_line.set_level(false);
    }

private:
    KvmIrqLine m_line;
};

}  // namespace vmm
