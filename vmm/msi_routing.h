// MSI delivery through KVM: the VM's GSI routing table (the in-kernel irqchip's default routes
// plus one MSI route per vector, KVM_SET_GSI_ROUTING) and, per PCI function, an irqfd per
// vector on its own GSI. A route is rewritten only when the guest changed the vector's message
// since the last delivery, so a steady interrupt is one eventfd write, as with MMIO.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "base/unique_fd.h"
#include "devices/pci/msix.h"
#include "vmm/kvm.h"

namespace vmm {

class GsiRouting {
public:
    explicit GsiRouting(Vm& vm);
    // A GSI above the IOAPIC's pins for an MSI route.
    Result<uint32_t> allocate();
    // Points `gsi` at `message` and installs the table.
    Status route(uint32_t gsi, const pci::MsiMessage& message);
    // Points every one of `gsis` at `message`, installing the table once.
    Status route_all(std::span<const uint32_t> gsis, const pci::MsiMessage& message);

    // KVM's own default table for its in-kernel irqchip: GSIs 0-15 on the PICs and the IOAPIC,
    // 16-23 on the IOAPIC (setting a table replaces those, so every table carries them).
    static std::vector<kvm_irq_routing_entry> irqchip_routes();

private:
    Status install();  // m_mutex held

    std::mutex m_mutex;
    Vm& m_vm;
    std::map<uint32_t, pci::MsiMessage> m_msi;
    uint32_t m_next;  // the next free GSI
};

class KvmMsiVectors final : public pci::MsiSink {
public:
    static Result<std::unique_ptr<KvmMsiVectors>> create(Vm& vm, GsiRouting& routing, uint16_t vectors);
    void deliver(uint16_t vector, const pci::MsiMessage& message) override;

private:
    struct Vector {
        uint32_t gsi = 0;
        UniqueFd fd;
        pci::MsiMessage routed;
        bool has_route = false;
    };
    explicit KvmMsiVectors(GsiRouting& routing) : m_routing(routing) {}

    GsiRouting& m_routing;
    std::mutex m_mutex;
    std::vector<Vector> m_vectors;
};

}  // namespace vmm
