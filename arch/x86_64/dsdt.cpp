#include "arch/x86_64/dsdt.h"

#include <fmt/format.h>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {

namespace {

using aml::Bytes;
namespace res = aml::resource;

Bytes com1() {
    return aml::device("COM1", {aml::name("_HID", aml::eisa_id("PNP0501")), aml::name("_UID", aml::integer(0)),
                                aml::name("_CRS", aml::resource_template({
                                                      res::io(layout::COM1_PORT, layout::COM_PORT_COUNT),
                                                      res::irq_no_flags(layout::COM1_IRQ),
                                                  }))});
}

Bytes rtc() {
    return aml::device("RTC", {aml::name("_HID", aml::eisa_id("PNP0B00")),
                               aml::name("_CRS", aml::resource_template({
                                                     res::io(layout::CMOS_PORT, layout::CMOS_PORT_COUNT),
                                                     res::irq_no_flags(layout::RTC_IRQ),
                                                 }))});
}

Bytes keyboard_controller() {
    return aml::device("PS2K", {aml::name("_HID", aml::eisa_id("PNP0303")),
                                aml::name("_CRS", aml::resource_template({
                                                      res::io(layout::I8042_DATA_PORT, 1),
                                                      res::io(layout::I8042_COMMAND_PORT, 1),
                                                      res::irq_no_flags(layout::I8042_KEYBOARD_IRQ),
                                                  }))});
}

// "LNRO0005" is the virtio-mmio id Linux's driver matches (drivers/virtio/virtio_mmio.c);
// the interrupt is edge-triggered because Ember signals it through an irqfd.
Bytes virtio_mmio(size_t index, const MmioDeviceResources& device) {
    return aml::device(fmt::format("V{:03X}", index),
                       {aml::name("_HID", aml::string("LNRO0005")), aml::name("_UID", aml::integer(index)),
                        aml::name("_CCA", aml::integer(1)),  // cache-coherent DMA
                        aml::name("_CRS", aml::resource_template({
                                              res::memory32_fixed(static_cast<uint32_t>(device.base),
                                                                  static_cast<uint32_t>(device.size)),
                                              res::interrupt(device.gsi, true),
                                          }))});
}

// _OSC of a PCI host bridge (PCI Firmware 3.3 §4.5): for the PCI host bridge UUID the OS is
// granted what it asks of the five controls PCI Firmware 3.0 defines (native PCIe hotplug,
// SHPC hotplug, PME, AER, the PCIe capability structure), as QEMU's GPEX does: Ember's bus has
// none of those features, so granting them changes nothing but lets Linux keep its native
// PCIe services and ASPM policy instead of falling back. A bit asked for beyond those is
// cleared and reported (capabilities masked), a revision other than 1 is reported, and any
// other UUID is answered "unrecognized UUID" (ACPI 6.5 §6.2.11).
Bytes pci_osc() {
    constexpr uint64_t GRANTED = 0x1f;
    constexpr uint64_t UNRECOGNIZED_UUID = 0x04, UNRECOGNIZED_REVISION = 0x08, CAPABILITIES_MASKED = 0x10;
    const Bytes cdw1 = aml::reference("CDW1"), cdw3 = aml::reference("CDW3"), granted = aml::local(0);
    return aml::method(
        "_OSC", 4,
        {aml::create_dword_field(aml::arg(3), 0, "CDW1"),
         aml::if_then(aml::equal(aml::arg(0), aml::uuid("33DB4D5B-1FF7-401C-9657-7441C03DD766")),
                      {aml::create_dword_field(aml::arg(3), 8, "CDW3"),
                       aml::bit_and(cdw3, aml::integer(GRANTED), granted),
                       aml::if_then(aml::not_equal(aml::arg(1), aml::integer(1)),
                                    {aml::bit_or(cdw1, aml::integer(UNRECOGNIZED_REVISION), cdw1)}),
                       aml::if_then(aml::not_equal(cdw3, granted),
                                    {aml::bit_or(cdw1, aml::integer(CAPABILITIES_MASKED), cdw1)}),
                       aml::store(granted, cdw3), aml::return_value(aml::arg(3))}),
         aml::bit_or(cdw1, aml::integer(UNRECOGNIZED_UUID), cdw1), aml::return_value(aml::arg(3))});
}

// The PCIe host bridge (PNP0A08, compatible with PNP0A03): segment 0, bus 0, its windows, and a
// _PRT wiring each function's INTA# straight to its IOAPIC input. No I/O BARs exist, so the I/O
// window starts above the legacy ports.
Bytes pci_host_bridge(const PciHostResources& pci) {
    std::vector<Bytes> routes;
    for (const auto& intx : pci.intx) {
        // Address (device << 16 | 0xffff: any function), pin (0 = INTA#), source (none), GSI.
        routes.push_back(aml::package({aml::integer(uint64_t{intx.device} << 16 | 0xffff), aml::integer(0),
                                       aml::integer(0), aml::integer(intx.gsi)}));
    }
    return aml::device(
        "PCI0",
        {aml::name("_HID", aml::eisa_id("PNP0A08")), aml::name("_CID", aml::eisa_id("PNP0A03")),
         aml::name("_SEG", aml::integer(0)), aml::name("_BBN", aml::integer(0)), aml::name("_UID", aml::integer(0)),
         aml::name("_CCA", aml::integer(1)),
         aml::name("_CRS", aml::resource_template({
                               res::word_bus_number(0, 0),
                               res::io(0xcf8, 8),
                               res::word_io(0x1000, 0xffff),
                               res::dword_memory(static_cast<uint32_t>(pci.mmio32_base),
                                                 static_cast<uint32_t>(pci.mmio32_base + pci.mmio32_size - 1)),
                               res::qword_memory(pci.mmio64_base, pci.mmio64_base + pci.mmio64_size - 1),
                           })),
         aml::name("_PRT", aml::package_of(routes)), pci_osc()});
}

// ECAM is a motherboard resource (PNP0C02): Linux uses the MCFG window only when it is
// reserved there (or in the E820 map).
Bytes pci_ecam_reservation(const PciHostResources& pci) {
    return aml::device("MRES", {aml::name("_HID", aml::eisa_id("PNP0C02")), aml::name("_UID", aml::integer(1)),
                                aml::name("_CRS", aml::resource_template({res::memory32_fixed(
                                                      static_cast<uint32_t>(pci.ecam_base),
                                                      static_cast<uint32_t>(pci.ecam_size))}))});
}

}  // namespace

Bytes dsdt_body(const AcpiDevices& devices) {
    Bytes sb = aml::concat({com1(), rtc()});
    if (devices.i8042) {
        const Bytes kbd = keyboard_controller();
        sb.insert(sb.end(), kbd.begin(), kbd.end());
    }
    for (size_t i = 0; i < devices.virtio_mmio.size(); ++i) {
        const Bytes dev = virtio_mmio(i, devices.virtio_mmio[i]);
        sb.insert(sb.end(), dev.begin(), dev.end());
    }
    if (devices.pci)
        sb = aml::concat({sb, pci_host_bridge(*devices.pci), pci_ecam_reservation(*devices.pci)});
    // \_S5_: SLP_TYPa, SLP_TYPb (the same register serves both in hardware-reduced mode).
    return aml::concat({aml::scope("\\_SB", {sb}),
                        aml::name("\\_S5", aml::package({aml::integer(SLEEP_TYPE_S5), aml::integer(0)}))});
}

}  // namespace vmm::arch::x86_64
