#include "arch/aarch64/fdt.h"

extern "C" {
#include <libfdt.h>
}

#include <fmt/format.h>

#include <initializer_list>

#include "arch/aarch64/layout.h"

namespace vmm::arch::aarch64 {

namespace {

// include/dt-bindings/interrupt-controller/arm-gic.h and irq.h
constexpr uint32_t GIC_SPI = 0, GIC_PPI = 1;
constexpr uint32_t IRQ_TYPE_EDGE_RISING = 1, IRQ_TYPE_LEVEL_HIGH = 4;
constexpr uint32_t GIC_V2_PPI_CPU_SHIFT = 8;  // GICv2 PPIs name the CPUs they reach

// The sequential writer over a buffer, every libfdt error kept (the first one wins) so the
// tree reads as a tree; finish() reports it.
class Writer {
public:
    // An empty reserve map: the DT and the initramfs are described by /memory and /chosen.
    explicit Writer(size_t capacity) : m_blob(capacity) {
        check(fdt_create(m_blob.data(), int(capacity)), "create");
        check(fdt_finish_reservemap(m_blob.data()), "reserve map");
    }

    void begin(const std::string& name) { check(fdt_begin_node(m_blob.data(), name.c_str()), name.c_str()); }
    void end() { check(fdt_end_node(m_blob.data()), "end node"); }
    void property(const char* name, const void* value, size_t len) {
        check(fdt_property(m_blob.data(), name, value, int(len)), name);
    }
    void empty(const char* name) { property(name, nullptr, 0); }
    void u32(const char* name, uint32_t value) { check(fdt_property_u32(m_blob.data(), name, value), name); }
    void u64(const char* name, uint64_t value) { check(fdt_property_u64(m_blob.data(), name, value), name); }
    void string(const char* name, const std::string& value) {
        check(fdt_property_string(m_blob.data(), name, value.c_str()), name);
    }
    // A string list: each string with its NUL, one after the other.
    void strings(const char* name, std::initializer_list<const char*> values) {
        std::string joined;
        for (const char* v : values)
            joined.append(v).push_back('\0');
        property(name, joined.data(), joined.size());
    }
    // Cells, big-endian, 32 bits each.
    void cells(const char* name, std::initializer_list<uint32_t> values) { cells(name, std::vector<uint32_t>(values)); }
    void cells(const char* name, const std::vector<uint32_t>& values) {
        std::vector<fdt32_t> be;
        for (uint32_t v : values)
            be.push_back(cpu_to_fdt32(v));
        property(name, be.data(), be.size() * sizeof(fdt32_t));
    }
    // `reg` of (address, size) pairs, two cells each (the root's #address-cells/#size-cells).
    void reg(std::initializer_list<std::pair<uint64_t, uint64_t>> ranges) {
        std::vector<uint32_t> values;
        for (auto [address, size] : ranges)
            for (uint64_t v : {address, size})
                values.insert(values.end(), {uint32_t(v >> 32), uint32_t(v)});
        cells("reg", values);
    }

    Result<std::vector<uint8_t>> finish() {
        check(fdt_finish(m_blob.data()), "finish");
        if (m_error)
            return Error(ErrorKind::Internal, fmt::format("device tree: {}: {}", m_where, fdt_strerror(m_error)));
        m_blob.resize(fdt_totalsize(m_blob.data()));
        return std::move(m_blob);
    }
    bool out_of_space() const { return m_error == -FDT_ERR_NOSPACE; }

private:
    void check(int status, const char* where) {
        if (status < 0 && m_error == 0) {
            m_error = status;
            m_where = where;
        }
    }
    std::vector<uint8_t> m_blob;
    int m_error = 0;
    std::string m_where;
};

std::string node(const char* name, uint64_t address) { return fmt::format("{}@{:x}", name, address); }

void cpus(Writer& w, const FdtSpec& spec) {
    w.begin("cpus");
    w.u32("#address-cells", 2);
    w.u32("#size-cells", 0);
    for (uint64_t mpidr : spec.mpidrs) {
        w.begin(node("cpu", mpidr));
        w.string("device_type", "cpu");
        w.string("compatible", "arm,arm-v8");
        w.string("enable-method", "psci");  // secondaries start with PSCI CPU_ON
        w.cells("reg", {uint32_t(mpidr >> 32), uint32_t(mpidr)});
        w.end();
    }
    w.end();
}

void gic(Writer& w, const FdtSpec& spec) {
    w.begin(node("intc", layout::GIC_DIST_BASE));
    if (spec.gic_version == 3) {
        w.string("compatible", "arm,gic-v3");
        w.reg({{layout::GIC_DIST_BASE, layout::GIC_DIST_SIZE},
               {layout::GIC_REDIST_BASE, spec.mpidrs.size() * layout::GIC_REDIST_STRIDE}});
    } else {
        w.string("compatible", "arm,cortex-a15-gic");
        w.reg({{layout::GIC_DIST_BASE, layout::GIC_DIST_SIZE}, {layout::GIC_CPU_BASE, layout::GIC_CPU_SIZE}});
    }
    w.u32("#interrupt-cells", 3);
    w.empty("interrupt-controller");
    // No child nodes (no ITS yet), but a provider of interrupts states its address cells
    // (the interrupt-map parsing rules), as QEMU's does.
    w.u32("#address-cells", 2);
    w.u32("#size-cells", 2);
    w.empty("ranges");
    w.u32("phandle", GIC_PHANDLE);
    w.end();
}

void timer(Writer& w, const FdtSpec& spec) {
    uint32_t flags = IRQ_TYPE_LEVEL_HIGH;
    if (spec.gic_version == 2)
        flags |= ((1u << spec.mpidrs.size()) - 1) << GIC_V2_PPI_CPU_SHIFT;
    w.begin("timer");
    w.string("compatible", "arm,armv8-timer");
    w.cells("interrupts", {GIC_PPI, layout::TIMER_PPI_SECURE, flags, GIC_PPI, layout::TIMER_PPI_NONSECURE, flags,
                           GIC_PPI, layout::TIMER_PPI_VIRTUAL, flags, GIC_PPI, layout::TIMER_PPI_HYP, flags});
    w.empty("always-on");
    w.end();
}

void chosen(Writer& w, const FdtSpec& spec) {
    w.begin("chosen");
    w.string("bootargs", spec.bootargs);
    w.string("stdout-path", "/" + node("uart", layout::UART_BASE));
    if (spec.initrd) {
        w.u64("linux,initrd-start", spec.initrd->first);
        w.u64("linux,initrd-end", spec.initrd->second);
    }
    if (spec.kaslr_seed)
        w.u64("kaslr-seed", spec.kaslr_seed);
    w.end();
}

void devices(Writer& w, const FdtSpec& spec) {
    w.begin(node("uart", layout::UART_BASE));
    w.string("compatible", "ns16550a");
    w.reg({{layout::UART_BASE, layout::UART_SIZE}});
    w.u32("clock-frequency", layout::UART_CLOCK_HZ);
    w.cells("interrupts", {GIC_SPI, layout::UART_SPI, IRQ_TYPE_LEVEL_HIGH});
    w.end();
    for (const auto& device : spec.virtio_mmio) {
        w.begin(node("virtio_mmio", device.base));
        w.string("compatible", "virtio,mmio");
        w.reg({{device.base, device.size}});
        w.cells("interrupts", {GIC_SPI, device.gsi, IRQ_TYPE_EDGE_RISING});  // irqfd edges
        w.empty("dma-coherent");
        w.end();
    }
}

// The whole tree into `w`; the root's cells are two and two (64-bit addresses and sizes).
void write_tree(Writer& w, const FdtSpec& spec) {
    w.begin("");
    w.string("compatible", "linux,dummy-virt");
    w.string("model", "Ember");
    w.u32("#address-cells", 2);
    w.u32("#size-cells", 2);
    w.u32("interrupt-parent", GIC_PHANDLE);
    chosen(w, spec);
    w.begin(node("memory", spec.ram_base));
    w.string("device_type", "memory");
    w.reg({{spec.ram_base, spec.ram_size}});
    w.end();
    cpus(w, spec);
    w.begin("psci");
    w.strings("compatible", {"arm,psci-1.0", "arm,psci-0.2"});
    w.string("method", "hvc");  // KVM serves PSCI calls made with HVC (KVM_ARM_VCPU_PSCI_0_2)
    w.end();
    gic(w, spec);
    timer(w, spec);
    devices(w, spec);
    w.end();
}

}  // namespace

Result<std::vector<uint8_t>> build_fdt(const FdtSpec& spec) {
    if (spec.mpidrs.empty())
        return Error(ErrorKind::Internal, "device tree: no vCPUs");
    if (spec.gic_version != 2 && spec.gic_version != 3)
        return Error(ErrorKind::Internal, fmt::format("device tree: no GIC version {}", spec.gic_version));
    // A first guess that fits every machine but those with very long command lines or many
    // devices; the writer says when it ran out, and the tree is written again twice as large.
    for (size_t capacity = 16 << 10;; capacity *= 2) {
        Writer w(capacity);
        write_tree(w, spec);
        auto blob = w.finish();
        if (blob.ok() || !w.out_of_space())
            return blob;
        if (capacity * 2 > layout::FDT_MAX_SIZE)
            return Error(fmt::format("the device tree does not fit in {} MiB (command line of {} bytes)",
                                     layout::FDT_MAX_SIZE >> 20, spec.bootargs.size()));
    }
}

}  // namespace vmm::arch::aarch64
