#include "arch/aarch64/fdt.h"

#include <gtest/gtest.h>

extern "C" {
#include <libfdt.h>
}

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "arch/aarch64/layout.h"

namespace vmm::arch::aarch64 {
namespace {

namespace layout = arch::aarch64::layout;

FdtSpec two_cpus() {
    FdtSpec spec;
    spec.mpidrs = {0x0, 0x1};
    spec.ram_base = layout::RAM_BASE;
    spec.ram_size = 256ull << 20;
    spec.bootargs = "console=ttyS0 panic=-1";
    spec.initrd = {{0x8f000000, 0x8f400000}};
    spec.virtio_mmio = {{layout::VIRTIO_MMIO_BASE, layout::VIRTIO_MMIO_SIZE, 16},
                        {layout::VIRTIO_MMIO_BASE + layout::VIRTIO_MMIO_SIZE, layout::VIRTIO_MMIO_SIZE, 17}};
    spec.kaslr_seed = 0x1234;
    return spec;
}

// The blob read back through libfdt, the way a kernel reads it.
struct Tree {
    explicit Tree(std::vector<uint8_t> b) : blob(std::move(b)) { EXPECT_EQ(fdt_check_header(blob.data()), 0); }
    int node(const char* path) const { return fdt_path_offset(blob.data(), path); }
    std::string string(const char* path, const char* name) const {
        int len = 0;
        const void* value = fdt_getprop(blob.data(), node(path), name, &len);
        return value ? std::string(static_cast<const char*>(value), len > 0 ? len - 1 : 0) : "<missing>";
    }
    std::vector<uint32_t> cells(const char* path, const char* name) const {
        int len = 0;
        const auto* value = static_cast<const fdt32_t*>(fdt_getprop(blob.data(), node(path), name, &len));
        std::vector<uint32_t> out;
        for (int i = 0; value && i < len / 4; ++i)
            out.push_back(fdt32_to_cpu(value[i]));
        return out;
    }
    bool has(const char* path, const char* name) const { return fdt_getprop(blob.data(), node(path), name, nullptr); }
    std::vector<uint8_t> blob;
};

Tree build(const FdtSpec& spec) { return Tree(build_fdt(spec).value()); }

TEST(Fdt, RootDescribesSixtyFourBitCellsAndTheGicAsInterruptParent) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.cells("/", "#address-cells"), (std::vector<uint32_t>{2}));
    EXPECT_EQ(t.cells("/", "#size-cells"), (std::vector<uint32_t>{2}));
    EXPECT_EQ(t.cells("/", "interrupt-parent"), (std::vector<uint32_t>{GIC_PHANDLE}));
    EXPECT_EQ(t.cells("/intc@8000000", "phandle"), (std::vector<uint32_t>{GIC_PHANDLE}));
}

TEST(Fdt, ChosenCarriesCommandLineConsoleInitrdAndSeed) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/chosen", "bootargs"), "console=ttyS0 panic=-1");
    EXPECT_EQ(t.string("/chosen", "stdout-path"), "/uart@9000000");
    EXPECT_EQ(t.cells("/chosen", "linux,initrd-start"), (std::vector<uint32_t>{0, 0x8f000000}));
    EXPECT_EQ(t.cells("/chosen", "linux,initrd-end"), (std::vector<uint32_t>{0, 0x8f400000}));
    EXPECT_EQ(t.cells("/chosen", "kaslr-seed"), (std::vector<uint32_t>{0, 0x1234}));
}

TEST(Fdt, WithoutInitrdChosenNamesNone) {
    FdtSpec spec = two_cpus();
    spec.initrd.reset();
    spec.kaslr_seed = 0;
    const Tree t = build(spec);
    EXPECT_FALSE(t.has("/chosen", "linux,initrd-start"));
    EXPECT_FALSE(t.has("/chosen", "kaslr-seed"));
}

TEST(Fdt, MemoryNodeCoversTheRam) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/memory@80000000", "device_type"), "memory");
    EXPECT_EQ(t.cells("/memory@80000000", "reg"), (std::vector<uint32_t>{0, 0x80000000, 0, 0x10000000}));
}

TEST(Fdt, EveryCpuStartsThroughPsciWithItsMpidr) {
    FdtSpec spec = two_cpus();
    spec.mpidrs = {0x0, 0x1, 0x100};  // vCPU 16 is Aff1 1, Aff0 0
    const Tree t = build(spec);
    EXPECT_EQ(t.cells("/cpus", "#address-cells"), (std::vector<uint32_t>{2}));
    for (const char* cpu : {"/cpus/cpu@0", "/cpus/cpu@1", "/cpus/cpu@100"}) {
        EXPECT_EQ(t.string(cpu, "device_type"), "cpu") << cpu;
        EXPECT_EQ(t.string(cpu, "enable-method"), "psci") << cpu;
    }
    EXPECT_EQ(t.cells("/cpus/cpu@100", "reg"), (std::vector<uint32_t>{0, 0x100}));
    EXPECT_EQ(t.string("/psci", "method"), "hvc");
    int len = 0;
    const char* compatible = static_cast<const char*>(fdt_getprop(t.blob.data(), t.node("/psci"), "compatible", &len));
    ASSERT_NE(compatible, nullptr);
    EXPECT_EQ(std::string(compatible, len), std::string("arm,psci-1.0\0arm,psci-0.2\0", 26));
}

TEST(Fdt, GicV3HasDistributorAndARedistributorPerCpu) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/intc@8000000", "compatible"), "arm,gic-v3");
    EXPECT_TRUE(t.has("/intc@8000000", "interrupt-controller"));
    EXPECT_EQ(t.cells("/intc@8000000", "#interrupt-cells"), (std::vector<uint32_t>{3}));
    EXPECT_EQ(t.cells("/intc@8000000", "reg"),
              (std::vector<uint32_t>{0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 2 * 0x20000}));
}

TEST(Fdt, GicV2HasACpuInterfaceAndPpisNameTheirCpus) {
    FdtSpec spec = two_cpus();
    spec.gic_version = 2;
    const Tree t = build(spec);
    EXPECT_EQ(t.string("/intc@8000000", "compatible"), "arm,cortex-a15-gic");
    EXPECT_EQ(t.cells("/intc@8000000", "reg"), (std::vector<uint32_t>{0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x2000}));
    EXPECT_EQ(t.cells("/timer", "interrupts")[2], 0x304u);  // level high, CPUs 0 and 1
}

TEST(Fdt, TimerHasItsFourPpis) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/timer", "compatible"), "arm,armv8-timer");
    EXPECT_EQ(t.cells("/timer", "interrupts"), (std::vector<uint32_t>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4}));
}

TEST(Fdt, UartIsA16550WithItsClockAndLevelInterrupt) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/uart@9000000", "compatible"), "ns16550a");
    EXPECT_EQ(t.cells("/uart@9000000", "reg"), (std::vector<uint32_t>{0, 0x09000000, 0, 0x1000}));
    EXPECT_EQ(t.cells("/uart@9000000", "clock-frequency"), (std::vector<uint32_t>{1843200}));
    EXPECT_EQ(t.cells("/uart@9000000", "interrupts"), (std::vector<uint32_t>{0, 1, 4}));
}

TEST(Fdt, VirtioDevicesHaveWindowAndEdgeSpi) {
    const Tree t = build(two_cpus());
    EXPECT_EQ(t.string("/virtio_mmio@a001000", "compatible"), "virtio,mmio");
    EXPECT_EQ(t.cells("/virtio_mmio@a001000", "reg"), (std::vector<uint32_t>{0, 0x0a001000, 0, 0x1000}));
    EXPECT_EQ(t.cells("/virtio_mmio@a001000", "interrupts"), (std::vector<uint32_t>{0, 17, 1}));
    EXPECT_TRUE(t.has("/virtio_mmio@a000000", "dma-coherent"));
}

TEST(Fdt, AHugeCommandLineGrowsTheBlobUntilTheLimit) {
    FdtSpec spec = two_cpus();
    spec.bootargs.assign(100000, 'x');
    const Tree t = build(spec);
    EXPECT_EQ(t.string("/chosen", "bootargs").size(), 100000u);
    spec.bootargs.assign(3 << 20, 'x');
    auto refused = build_fdt(spec);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("does not fit"), std::string::npos);
}

TEST(Fdt, RefusesAMachineWithoutCpus) {
    FdtSpec spec = two_cpus();
    spec.mpidrs.clear();
    EXPECT_FALSE(build_fdt(spec).ok());
}

// dtc, the reference implementation, reads the blob back without a warning.
TEST(Fdt, DtcDecompilesItWithoutWarnings) {
    if (std::system("command -v dtc >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "dtc (device-tree-compiler) is not installed";
    const auto blob = build_fdt(two_cpus()).value();
    const auto path = std::filesystem::temp_directory_path() / ("ember-fdt-" + std::to_string(::getpid()) + ".dtb");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(blob.data()), blob.size());
    std::string log;
    FILE* pipe = ::popen(("dtc -I dtb -O dts " + path.string() + " 2>&1 >/dev/null").c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
        log.append(buf, n);
    const int status = ::pclose(pipe);
    std::filesystem::remove(path);
    EXPECT_EQ(status, 0) << log;
    EXPECT_EQ(log, "") << log;
}

}  // namespace
}  // namespace vmm::arch::aarch64
