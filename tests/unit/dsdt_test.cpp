#include "arch/x86_64/dsdt.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {
namespace {

const AcpiDevices TWO_VIRTIO{true, {{0xd0000000, 0x1000, 5}, {0xd0001000, 0x1000, 6}}};

bool contains(const aml::Bytes& haystack, const aml::Bytes& needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

TEST(Dsdt, DescribesCom1WithItsPortsAndIrq) {
    const auto body = dsdt_body(TWO_VIRTIO);
    EXPECT_TRUE(contains(body, aml::name("_HID", aml::eisa_id("PNP0501"))));
    EXPECT_TRUE(contains(body, aml::resource::io(0x3f8, 8)));
    EXPECT_TRUE(contains(body, aml::resource::irq_no_flags(4)));
}

TEST(Dsdt, DescribesEveryVirtioDeviceWithWindowAndInterrupt) {
    const auto body = dsdt_body(TWO_VIRTIO);
    EXPECT_TRUE(contains(body, aml::resource::memory32_fixed(0xd0001000, 0x1000)));
    EXPECT_TRUE(contains(body, aml::resource::interrupt(6, true)));
    EXPECT_TRUE(contains(body, aml::name("_UID", aml::integer(1))));
}

TEST(Dsdt, OmitsTheKeyboardControllerWhenThereIsNone) {
    EXPECT_TRUE(contains(dsdt_body(TWO_VIRTIO), aml::eisa_id("PNP0303")));
    EXPECT_FALSE(contains(dsdt_body(AcpiDevices{false, {}}), aml::eisa_id("PNP0303")));
}

TEST(Dsdt, AnnouncesS5ForPowerOff) {
    EXPECT_TRUE(contains(dsdt_body({}), aml::name("\\_S5", aml::package({aml::integer(5), aml::integer(0)}))));
}

std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
        out.append(buf, n);
    ::pclose(pipe);
    return out;
}

// The whole DSDT as write_acpi_tables() puts it into guest memory, saved as DIR/dsdt.aml for
// ACPICA's tools (the reference AML implementation); the directory goes with the object.
struct DsdtFile {
    explicit DsdtFile(const AcpiDevices& devices) {
        const MemoryRegionSpec spec[] = {{0, 0x100000}};
        auto memory = std::move(GuestMemory::create(spec).value());
        EXPECT_TRUE(write_acpi_tables(memory, 2, devices).ok());
        const uint64_t xsdt = memory.load<uint64_t>(layout::ACPI_START + 24).value();
        const uint64_t fadt = memory.load<uint64_t>(xsdt + 36).value();
        const uint64_t dsdt = memory.load<uint64_t>(fadt + 140).value();
        const uint32_t length = memory.load<uint32_t>(dsdt + 4).value();
        const auto bytes = memory.slice(dsdt, length).value();
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "dsdt.aml", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), length);
    }
    ~DsdtFile() { std::filesystem::remove_all(dir); }
    // iasl -d: the table as ASL, with iasl's messages in `log`.
    std::string disassemble(std::string& log) const {
        log = run("cd " + dir.string() + " && iasl -d dsdt.aml 2>&1");
        std::stringstream asl;
        asl << std::ifstream(dir / "dsdt.dsl").rdbuf();
        return asl.str();
    }
    // acpiexec: evaluates `command` (acpiexec's batch syntax) against the table.
    std::string execute(const std::string& command) const {
        return run("acpiexec -b '" + command + "' " + (dir / "dsdt.aml").string() + " 2>&1");
    }
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("ember-dsdt-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
    static inline int count = 0;
};

bool have(const char* tool) { return !run(std::string("command -v ") + tool).empty(); }

// Every device and resource must come out of iasl's disassembly as ASL.
TEST(Dsdt, IaslDisassemblesTheTableIntoTheExpectedAsl) {
    if (!have("iasl"))
        GTEST_SKIP() << "iasl (acpica-tools) is not installed";
    std::string log;
    const std::string text = DsdtFile(TWO_VIRTIO).disassemble(log);
    ASSERT_FALSE(text.empty()) << log;
    for (const char* want : {"Device (COM1)", "EisaId (\"PNP0501\")", "IO (Decode16,", "0x03F8,",
                             "IRQNoFlags ()", "{4}", "Device (RTC)", "EisaId (\"PNP0B00\")",
                             "Device (PS2K)", "EisaId (\"PNP0303\")", "Device (V000)", "Device (V001)",
                             "\"LNRO0005\"", "Name (_CCA, One)", "Memory32Fixed (ReadWrite,",
                             "0xD0001000,", "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )",
                             "0x00000006,", "Name (\\_S5, Package (0x02)"})
        EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
    EXPECT_EQ(log.find("Error"), std::string::npos) << log;
}

const AcpiDevices WITH_PCI{true, {}, PciHostResources{0xe0000000, 0x100000, 0xc0000000, 0x10000000,
                                                      0x100000000, 0x100000000, {{1, 10}, {2, 11}}}};

TEST(Dsdt, IaslDisassemblesThePciHostBridge) {
    if (!have("iasl"))
        GTEST_SKIP() << "iasl (acpica-tools) is not installed";
    std::string log;
    const std::string text = DsdtFile(WITH_PCI).disassemble(log);
    ASSERT_FALSE(text.empty()) << log;
    for (const char* want : {"Device (PCI0)", "EisaId (\"PNP0A08\")", "EisaId (\"PNP0A03\")", "WordBusNumber (",
                             "DWordMemory (", "QWordMemory (", "Name (_PRT, Package (0x02)", "Method (_OSC, 4",
                             "ToUUID (\"33db4d5b-1ff7-401c-9657-7441c03dd766\")", "CreateDWordField (Arg3, 0x08, CDW3)",
                             "Device (MRES)", "EisaId (\"PNP0C02\")"})
        EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
    EXPECT_EQ(log.find("Error"), std::string::npos) << log;
}

// _OSC evaluated by ACPICA's interpreter with the buffers Linux passes (acpi_pci_osc_control_set:
// dword 1 status/query flag, dword 2 support, dword 3 control). acpiexec prints the returned
// buffer as "[Buffer] Length 0C = 0000: <12 bytes>".
std::string osc_result(const DsdtFile& dsdt, const std::string& uuid, int revision, const std::string& dwords) {
    const std::string out = dsdt.execute("execute \\_SB.PCI0._OSC (" + uuid + ") " + std::to_string(revision) + " 3 (" +
                                         dwords + ")");
    const size_t at = out.find("0000: ");
    return at == std::string::npos ? out : out.substr(at + 6, 35);
}

const std::string PCI_HOST_UUID = "5b 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66";

TEST(Dsdt, OscGrantsThePciFirmwareControls) {
    if (!have("acpiexec"))
        GTEST_SKIP() << "acpiexec (acpica-tools) is not installed";
    const DsdtFile dsdt(WITH_PCI);
    // Linux's query (dword 1 bit 0), then its request, for all five controls: granted as asked.
    EXPECT_EQ(osc_result(dsdt, PCI_HOST_UUID, 1, "01 00 00 00 1f 01 00 00 1f 00 00 00"),
              "01 00 00 00 1F 01 00 00 1F 00 00 00");
    EXPECT_EQ(osc_result(dsdt, PCI_HOST_UUID, 1, "00 00 00 00 1f 01 00 00 11 00 00 00"),
              "00 00 00 00 1F 01 00 00 11 00 00 00");
}

TEST(Dsdt, OscMasksControlsBeyondTheFiveAndSaysSo) {
    if (!have("acpiexec"))
        GTEST_SKIP() << "acpiexec (acpica-tools) is not installed";
    // LTR (bit 5) and DPC (bit 7) asked for: cleared, and "capabilities masked" (bit 4) set.
    EXPECT_EQ(osc_result(DsdtFile(WITH_PCI), PCI_HOST_UUID, 1, "01 00 00 00 1f 01 00 00 bf 00 00 00"),
              "11 00 00 00 1F 01 00 00 1F 00 00 00");
}

TEST(Dsdt, OscRejectsOtherUuidsAndRevisions) {
    if (!have("acpiexec"))
        GTEST_SKIP() << "acpiexec (acpica-tools) is not installed";
    const DsdtFile dsdt(WITH_PCI);
    // The CXL host bridge's UUID (68f2d50b-c469-4d8a-bd3d-941a103fd3fc) is not one Ember
    // answers: "unrecognized UUID" (bit 2).
    EXPECT_EQ(osc_result(dsdt, "0b d5 f2 68 69 c4 8a 4d bd 3d 94 1a 10 3f d3 fc", 1,
                         "00 00 00 00 00 00 00 00 00 00 00 00"),
              "04 00 00 00 00 00 00 00 00 00 00 00");
    // Revision 2: "unrecognized revision" (bit 3); the controls are still answered.
    EXPECT_EQ(osc_result(dsdt, PCI_HOST_UUID, 2, "00 00 00 00 00 00 00 00 01 00 00 00"),
              "08 00 00 00 00 00 00 00 01 00 00 00");
}

}  // namespace
}  // namespace vmm::arch::x86_64
