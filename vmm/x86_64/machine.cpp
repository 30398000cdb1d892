// The x86_64 machine: IOAPIC/PIC/PIT in KVM, COM1, i8042, CMOS, the ACPI power device, POST
// code and (on request) debug exit on ports; MP and ACPI tables, the reset vector and the
// kernel through boot/x86_64's loaders; vCPUs with CPUID, MSRs, FPU, LAPIC and boot registers.
#include <ctime>
#include <type_traits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/interrupts.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/mptable.h"
#include "arch/x86_64/msrs.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/reset_vector.h"
#include "boot/x86_64/kernel_loader.h"
#include "devices/legacy/acpi_power.h"
#include "devices/legacy/byte_register_device.h"
#include "devices/legacy/cmos.h"
#include "devices/legacy/debug_exit.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/post_code.h"
#include "vmm/boot_layout.h"
#include "vmm/device_state_codec.h"
#include "vmm/machine.h"
#include "vmm/vm_parts.h"

namespace vmm {

namespace x86 = arch::x86_64;
namespace layout = arch::x86_64::layout;

namespace {

class X86Machine final : public Machine {
public:
    std::vector<std::pair<long, const char*>> required_capabilities() const override {
        return {{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
                {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
                {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
                {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
                {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
                {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"}};
    }
    std::vector<MemoryRegionSpec> ram_regions(uint64_t memory) const override { return x86::ram_regions(memory); }
    uint64_t image_size_limit(uint64_t memory) const override { return x86::low_ram_end(memory); }

    Status create_irqchip(VmParts& vmm, const VmConfig& config) override {
        TRY(vmm.vm->set_tss_addr(layout::TSS_ADDR));
        TRY(vmm.vm->set_identity_map_addr(layout::IDENTITY_MAP_ADDR));
        TRY(vmm.vm->create_irqchip());
        if (config.pit) {
            TRY(vmm.vm->create_pit2());
            vmm.has_pit = true;
        }
        return {};
    }

    Status attach_platform_devices(VmParts& vmm, const VmConfig& config) override;

    Status load_kernel(VmParts& vmm, const VmConfig& config, std::span<const uint8_t> kernel,
                       std::span<const uint8_t> initrd, boot::KernelCmdline& cmdline) override {
        // The guest learns its CPUs from either table: MP for older kernels, ACPI for the rest;
        // its devices from the DSDT, or the command line for kernels without ACPI.
        const x86::AcpiDevices devices{true, vmm.devices.virtio_resources(), vmm.devices.pci_resources()};
        if (config.virtio_mmio_cmdline)
            TRY(announce_on_cmdline(devices.virtio_mmio, cmdline));
        TRY(x86::write_mptable(*vmm.memory, config.cpus));
        const uint64_t rsdp = TRY(x86::write_acpi_tables(*vmm.memory, config.cpus, devices));
        TRY(x86::write_reset_vector(*vmm.memory));
        const boot::BootSpec spec{kernel, initrd, cmdline, x86_boot_layout(),
                                  x86::e820_map(config.memory), x86::low_ram_end(config.memory), rsdp};
        const auto loaded = TRY(boot::load_kernel(*vmm.memory, spec));
        TRY(x86::write_boot_tables(*vmm.memory, cpu_mode(loaded.entry.mode)));
        spdlog::info("loaded {} kernel, entry {:#x}, {} vCPUs, {} MiB", boot::format_name(loaded.format),
                     loaded.entry.entry, config.cpus, config.memory >> 20);
        m_entry = loaded.entry;
        return {};
    }

    Status create_vcpus(VmParts& vmm, const VmConfig& config) override {
        auto cpuid = TRY(vmm.kvm->supported_cpuid());
        x86::apply_cpu_template(cpuid, config.cpu_template);
        const auto msr_list = TRY(vmm.kvm->msr_index_list());
        vmm.msr_indices = msr_list;
        for (uint32_t id = 0; id < config.cpus; ++id) {
            Vcpu vcpu = TRY(vmm.vm->create_vcpu(id));
            TRY_CTX(configure_vcpu(vcpu, cpuid, config.cpus, msr_list), fmt::format("vCPU {}", id));
            vmm.vcpus.push_back(std::move(vcpu));
        }
        // Only the boot processor gets registers; the others wait for INIT/SIPI from the guest.
        Vcpu& bsp = vmm.vcpus.front();
        TRY(bsp.set_sregs(x86::boot_sregs(TRY(bsp.get_sregs()), cpu_mode(m_entry.mode))));
        TRY(bsp.set_regs(x86::boot_regs(cpu_mode(m_entry.mode), m_entry.entry, m_entry.boot_info)));
        return {};
    }

private:
    static Status configure_vcpu(Vcpu& vcpu, const x86::CpuidEntries& base_cpuid, uint32_t vcpu_count,
                                 const std::vector<uint32_t>& msr_list) {
        auto cpuid = base_cpuid;
        x86::set_vcpu_topology(cpuid, vcpu.id(), vcpu_count);
        TRY(vcpu.set_cpuid(cpuid));
        const kvm_cpuid_entry2* leaf1 = cpuid.find(1, 0);
        const bool mtrr = leaf1 && (leaf1->edx & (1u << 12));  // CPUID.1:EDX.MTRR
        TRY(vcpu.set_msrs(x86::boot_msrs(msr_list, mtrr)));
        TRY(vcpu.set_fpu(x86::boot_fpu()));
        TRY(vcpu.set_lapic(x86::with_lint_wiring(TRY(vcpu.get_lapic()))));
        return {};
    }

    boot::BootEntry m_entry{};
};

// A device's state through its model, under the device's lock, in section `tag`.
template <typename Device, typename Decode>
PlatformState platform_state(const char (&tag)[5], std::shared_ptr<Device> device, Decode decode, std::string what) {
    return {
        state_tag(tag),
        [device] {
            StateEncoder out;
            device->with_model([&out](auto& model) { encode_state(model.save(), out); });
            return out.take();
        },
        [device, decode, what](std::span<const uint8_t> bytes) -> Status {
            StateDecoder in(bytes, what);
            auto state = TRY(decode(in));
            TRY(in.finish());
            return device->with_model([&state](auto& model) -> Status {
                if constexpr (std::is_void_v<decltype(model.restore(state))>) {
                    model.restore(state);
                    return {};
                } else {
                    return model.restore(state);
                }
            });
        }};
}

Status X86Machine::attach_platform_devices(VmParts& vmm, const VmConfig& config) {
    Lifecycle& lifecycle = *vmm.lifecycle;
    Bus& pio = vmm.devices.pio_bus();
    vmm.serial_host = std::make_unique<HostConsole>(config.serial, "serial");
    HostConsole* host = vmm.serial_host.get();
    vmm.serial = std::make_shared<SerialPort>(vmm.devices.add_irq_line(*vmm.vm, layout::COM1_IRQ),
                                              [host](std::span<const uint8_t> bytes) { host->write(bytes); });
    vmm.serial->with_model([host](Serial& uart) { uart.set_rx_drained_listener([host] { host->input_space(); }); });
    TRY(pio.insert(layout::COM1_PORT, layout::COM_PORT_COUNT, vmm.serial));
    vmm.platform_states.push_back(platform_state("UART", vmm.serial, decode_serial_state, "the snapshot's UART state"));

    auto i8042 = std::make_shared<ByteRegisterDevice<I8042>>(
        "i8042", vmm.devices.add_irq_line(*vmm.vm, layout::I8042_KEYBOARD_IRQ),
        [&lifecycle] { lifecycle.request_stop(exit_status::GUEST_ENDED, "guest reset through the i8042"); });
    TRY(pio.insert(layout::I8042_DATA_PORT, layout::I8042_COMMAND_PORT - layout::I8042_DATA_PORT + 1, i8042));
    vmm.platform_states.push_back(platform_state("KBDC", i8042, decode_i8042_state, "the snapshot's i8042 state"));
    vmm.ctrl_alt_del = [i8042] { return i8042->with_model([](I8042& kbd) { return kbd.press_ctrl_alt_del(); }); };

    auto power = std::make_shared<ByteRegisterDevice<AcpiPower>>(
        "acpi-power", x86::SLEEP_TYPE_S5, layout::ACPI_RESET_VALUE,
        [&lifecycle] { lifecycle.request_stop(exit_status::GUEST_ENDED, "guest powered off (ACPI S5)"); },
        [&lifecycle] { lifecycle.request_stop(exit_status::GUEST_ENDED, "guest reset through the ACPI reset register"); });
    TRY(pio.insert(layout::ACPI_PM_PORT, layout::ACPI_PM_PORT_COUNT, power));

    if (config.transport == VmConfig::Transport::Pci) {
        const uint64_t mmio64 = layout::pci_mmio64_base(config.memory);
        TRY(vmm.devices.enable_pci(*vmm.vm, {layout::PCI_ECAM_BASE, layout::PCI_ECAM_SIZE, layout::PCI_MMIO32_BASE,
                                             layout::PCI_MMIO32_SIZE, mmio64, layout::PCI_MMIO64_SIZE, {}}));
    }

    // Only on request: otherwise a guest could choose Ember's exit status.
    if (config.debug_exit) {
        auto debug_exit = std::make_shared<DebugExit>([&lifecycle](int code) {
            lifecycle.request_stop(code, fmt::format("guest wrote to the debug-exit port"));
        });
        TRY(pio.insert(layout::DEBUG_EXIT_PORT, layout::DEBUG_EXIT_PORT_COUNT, debug_exit));
    }

    const uint64_t below_4g = x86::low_ram_end(config.memory);
    auto cmos = std::make_shared<ByteRegisterDevice<Cmos>>(
        "cmos", [] { return std::time(nullptr); }, below_4g, config.memory - below_4g);
    TRY(pio.insert(layout::CMOS_PORT, layout::CMOS_PORT_COUNT, cmos));
    vmm.platform_states.push_back(platform_state("CMOS", cmos, decode_cmos_state, "the snapshot's CMOS state"));
    TRY(pio.insert(layout::POST_CODE_PORT, 1, std::make_shared<PostCode>()));
    return {};
}

}  // namespace

std::unique_ptr<Machine> host_machine() { return std::make_unique<X86Machine>(); }

}  // namespace vmm
