#include "devices/pci/pci_root.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "devices/pci/pci_config.h"

namespace vmm::pci {

namespace {

// 00:00.0, the host bridge: QEMU's PCIe host bridge ids (1b36:0008), class 06/00 (PCI 3.0
// Appendix D), no BARs, no interrupt.
class HostBridge final : public PciFunction {
public:
    HostBridge() : m_config(PciId{0x1b36, 0x0008, 0, 0x060000, 0x1b36, 0x0008}, 0) {}
    void config_read(uint64_t offset, std::span<uint8_t> data) override {
        std::lock_guard lock(m_mutex);
        m_config.read(offset, data);
    }
    void config_write(uint64_t offset, std::span<const uint8_t> data) override {
        std::lock_guard lock(m_mutex);
        m_config.write(offset, data);
    }
    bool mmio_read(uint64_t, std::span<uint8_t>) override { return false; }
    bool mmio_write(uint64_t, std::span<const uint8_t>) override { return false; }

private:
    std::mutex m_mutex;
    PciConfig m_config;
};

bool natural_access(uint64_t offset, size_t size) {
    return (size == 1 || size == 2 || size == 4) && offset % size == 0;
}

// Configuration mechanism #1: CONFIG_ADDRESS (0xCF8, 32-bit accesses only: bytes and words
// there belong to other chipset registers) selects bus/device/function/register; CONFIG_DATA
// (0xCFC..0xCFF) reads or writes it.
class ConfigPorts final : public BusDevice {
public:
    explicit ConfigPorts(PciRoot& root) : m_root(root) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        if (offset == 0 && data.size() == 4) {
            const uint32_t value = m_root.config_address();
            std::copy_n(reinterpret_cast<const uint8_t*>(&value), 4, data.begin());
        } else if (auto at = target(offset, data.size())) {
            m_root.config_read(at->device, at->function, at->offset, data);
        } else {
            std::fill(data.begin(), data.end(), 0xff);
        }
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        if (offset == 0 && data.size() == 4) {
            uint32_t value;
            std::copy_n(data.begin(), 4, reinterpret_cast<uint8_t*>(&value));
            m_root.set_config_address(value & 0x80fffffc);  // enable, bus, device, function, register
        } else if (auto at = target(offset, data.size())) {
            m_root.config_write(at->device, at->function, at->offset, data);
        }
    }
    std::string_view name() const override { return "pci-config-ports"; }

private:
    struct Target {
        uint32_t device;
        uint32_t function;
        uint64_t offset;
    };
    // What an access to CONFIG_DATA (port offsets 4..7) reaches: nothing while the address
    // is disabled or names another bus.
    std::optional<Target> target(uint64_t port_offset, size_t size) const {
        const uint32_t address = m_root.config_address();
        if (port_offset < 4 || port_offset - 4 + size > 4 || !(address & 0x80000000u) || ((address >> 16) & 0xff) != 0)
            return std::nullopt;
        return Target{(address >> 11) & 0x1f, (address >> 8) & 0x7, (address & 0xfc) + (port_offset - 4)};
    }

    PciRoot& m_root;
};

class Ecam final : public BusDevice {
public:
    explicit Ecam(PciRoot& root) : m_root(root) {}
    void read(uint64_t offset, std::span<uint8_t> data) override {
        m_root.config_read(static_cast<uint32_t>(offset >> 15) & 0x1f, static_cast<uint32_t>(offset >> 12) & 0x7,
                           offset & 0xfff, data);
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        m_root.config_write(static_cast<uint32_t>(offset >> 15) & 0x1f, static_cast<uint32_t>(offset >> 12) & 0x7,
                            offset & 0xfff, data);
    }
    std::string_view name() const override { return "pci-ecam"; }

private:
    PciRoot& m_root;
};

class BarWindow final : public BusDevice {
public:
    BarWindow(PciRoot& root, uint64_t base) : m_root(root), m_base(base) {}
    void read(uint64_t offset, std::span<uint8_t> data) override { m_root.mmio_read(m_base + offset, data); }
    void write(uint64_t offset, std::span<const uint8_t> data) override { m_root.mmio_write(m_base + offset, data); }
    std::string_view name() const override { return "pci-bar-window"; }

private:
    PciRoot& m_root;
    uint64_t m_base;
};

}  // namespace

PciRoot::PciRoot() { m_slots[0] = std::make_shared<HostBridge>(); }

Result<uint8_t> PciRoot::add(std::shared_ptr<PciFunction> function) {
    for (size_t slot = 1; slot < SLOTS; ++slot) {
        if (!m_slots[slot]) {
            m_slots[slot] = std::move(function);
            return static_cast<uint8_t>(slot);
        }
    }
    return Error("PCI bus 0 is full (31 devices)");
}

std::shared_ptr<BusDevice> PciRoot::config_ports() { return std::make_shared<ConfigPorts>(*this); }
std::shared_ptr<BusDevice> PciRoot::ecam() { return std::make_shared<Ecam>(*this); }
std::shared_ptr<BusDevice> PciRoot::bar_window(uint64_t base) { return std::make_shared<BarWindow>(*this, base); }

PciFunction* PciRoot::function_at(uint32_t device, uint32_t function, uint64_t offset, size_t size) const {
    if (device >= SLOTS || function != 0 || offset >= CONFIG_SIZE || !natural_access(offset, size))
        return nullptr;
    return m_slots[device].get();
}

void PciRoot::config_read(uint32_t device, uint32_t function, uint64_t offset, std::span<uint8_t> data) {
    if (PciFunction* f = function_at(device, function, offset, data.size()))
        f->config_read(offset, data);
    else
        std::fill(data.begin(), data.end(), 0xff);  // no device: the master abort's all ones
}

void PciRoot::config_write(uint32_t device, uint32_t function, uint64_t offset, std::span<const uint8_t> data) {
    if (PciFunction* f = function_at(device, function, offset, data.size()))
        f->config_write(offset, data);
}

void PciRoot::mmio_read(uint64_t address, std::span<uint8_t> data) {
    for (const auto& function : m_slots) {
        if (function && function->mmio_read(address, data))
            return;
    }
    std::fill(data.begin(), data.end(), 0xff);
}

void PciRoot::mmio_write(uint64_t address, std::span<const uint8_t> data) {
    for (const auto& function : m_slots) {
        if (function && function->mmio_write(address, data))
            return;
    }
}

}  // namespace vmm::pci
