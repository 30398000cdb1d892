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

// The whole DSDT, as written into guest memory, disassembled by ACPICA's iasl (the
// reference AML implementation): every device and resource must come out as ASL.
TEST(Dsdt, IaslDisassemblesTheTableIntoTheExpectedAsl) {
    if (run("command -v iasl").empty())
        GTEST_SKIP() << "iasl (acpica-tools) is not installed";
    const MemoryRegionSpec spec[] = {{0, 0x100000}};
    auto memory = std::move(GuestMemory::create(spec).value());
    ASSERT_TRUE(write_acpi_tables(memory, 2, TWO_VIRTIO).ok());
    const uint64_t xsdt = memory.load<uint64_t>(layout::ACPI_START + 24).value();
    const uint64_t fadt = memory.load<uint64_t>(xsdt + 36).value();
    const uint64_t dsdt = memory.load<uint64_t>(fadt + 140).value();
    const uint32_t length = memory.load<uint32_t>(dsdt + 4).value();
    const auto bytes = memory.slice(dsdt, length).value();

    const auto dir = std::filesystem::temp_directory_path() / ("ember-dsdt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "dsdt.aml", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), length);
    const std::string log = run("cd " + dir.string() + " && iasl -d dsdt.aml 2>&1");
    std::stringstream asl;
    asl << std::ifstream(dir / "dsdt.dsl").rdbuf();
    std::filesystem::remove_all(dir);
    const std::string text = asl.str();
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

}  // namespace
}  // namespace vmm::arch::x86_64
