#include "arch/x86_64/aml.h"

#include <gtest/gtest.h>

namespace vmm::arch::x86_64::aml {
namespace {

TEST(Aml, PackageLengthUsesOneByteUpTo62BytesOfPayload) {
    EXPECT_EQ(package_length(0), (Bytes{0x01}));
    EXPECT_EQ(package_length(62), (Bytes{0x3f}));
}

TEST(Aml, PackageLengthCountsItsOwnBytesWhenLonger) {
    // 63 bytes of payload + 2 length bytes = 65 = 0x41: low nibble 1 in byte 0, 0x4 next.
    EXPECT_EQ(package_length(63), (Bytes{0x41, 0x04}));
    // 5000 + 3 = 5003 = 0x138b: two more bytes.
    EXPECT_EQ(package_length(5000), (Bytes{0x8b, 0x38, 0x01}));
}

TEST(Aml, NameStringsPadSegmentsAndUsePrefixes) {
    EXPECT_EQ(name_string("_HID"), (Bytes{'_', 'H', 'I', 'D'}));
    EXPECT_EQ(name_string("_S5"), (Bytes{'_', 'S', '5', '_'}));
    EXPECT_EQ(name_string("\\_SB"), (Bytes{'\\', '_', 'S', 'B', '_'}));
    EXPECT_EQ(name_string("\\_SB.COM1"), (Bytes{'\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'}));
    EXPECT_EQ(name_string("A.B.C"), (Bytes{0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'}));
}

TEST(Aml, IntegersTakeTheShortestEncoding) {
    EXPECT_EQ(integer(0), (Bytes{0x00}));
    EXPECT_EQ(integer(1), (Bytes{0x01}));
    EXPECT_EQ(integer(5), (Bytes{0x0a, 0x05}));
    EXPECT_EQ(integer(0x3f8), (Bytes{0x0b, 0xf8, 0x03}));
    EXPECT_EQ(integer(0xd0000000), (Bytes{0x0c, 0x00, 0x00, 0x00, 0xd0}));
    EXPECT_EQ(integer(0x100000000), (Bytes{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(Aml, EisaIdMatchesAslCompression) {
    // ASL EISAID("PNP0501") is 0x0105D041.
    EXPECT_EQ(eisa_id("PNP0501"), (Bytes{0x0c, 0x41, 0xd0, 0x05, 0x01}));
}

TEST(Aml, ResourceDescriptorsHaveTheirSpecLayout) {
    EXPECT_EQ(resource::io(0x3f8, 8), (Bytes{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08}));
    EXPECT_EQ(resource::irq_no_flags(4), (Bytes{0x22, 0x10, 0x00}));
    EXPECT_EQ(resource::memory32_fixed(0xd0000000, 0x1000),
              (Bytes{0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10, 0x00, 0x00}));
    EXPECT_EQ(resource::interrupt(5, true), (Bytes{0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00}));
}

TEST(Aml, ResourceTemplateIsABufferEndingInAnEndTag) {
    const Bytes t = resource_template({resource::irq_no_flags(1)});
    EXPECT_EQ(t, (Bytes{0x11, 0x08, 0x0a, 0x05, 0x22, 0x02, 0x00, 0x79, 0x00}));
}

TEST(Aml, DeviceWrapsItsBodyWithExtOpAndLength) {
    const Bytes d = device("COM1", {name("_UID", integer(0))});
    EXPECT_EQ(d, (Bytes{0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I', 'D', 0x00}));
}

TEST(Aml, PackageCountsItsElements) {
    EXPECT_EQ(package({integer(5), integer(0)}), (Bytes{0x12, 0x05, 0x02, 0x0a, 0x05, 0x00}));
}

TEST(Aml, UuidStoresItsFirstThreeGroupsLittleEndian) {
    EXPECT_EQ(uuid("33DB4D5B-1FF7-401C-9657-7441C03DD766"),
              (Bytes{0x11, 0x13, 0x0a, 0x10, 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40, 0x96, 0x57, 0x74, 0x41,
                     0xc0, 0x3d, 0xd7, 0x66}));
}

TEST(Aml, MethodCarriesItsArgumentCountAfterTheName) {
    EXPECT_EQ(method("_OSC", 4, {return_value(arg(3))}), (Bytes{0x14, 0x08, '_', 'O', 'S', 'C', 0x04, 0xa4, 0x6b}));
}

TEST(Aml, IfWrapsPredicateAndBodyWithALength) {
    EXPECT_EQ(if_then(not_equal(arg(1), integer(1)), {bit_or(local(0), integer(8), local(0))}),
              (Bytes{0xa0, 0x0a, 0x92, 0x93, 0x69, 0x01, 0x7d, 0x60, 0x0a, 0x08, 0x60}));
}

TEST(Aml, CreateDWordFieldNamesAByteOffsetIntoItsSource) {
    EXPECT_EQ(create_dword_field(arg(3), 8, "CDW3"), (Bytes{0x8a, 0x6b, 0x0a, 0x08, 'C', 'D', 'W', '3'}));
}

}  // namespace
}  // namespace vmm::arch::x86_64::aml
