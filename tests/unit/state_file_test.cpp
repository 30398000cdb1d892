#include "base/state_file.h"

#include <gtest/gtest.h>

#include <string>

#include "base/crc64.h"

namespace vmm {
namespace {

constexpr uint32_t ONE = state_tag("ONE_");
constexpr uint32_t TWO = state_tag("TWO_");

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

std::vector<uint8_t> two_sections() {
    StateFile file;
    file.add(ONE, bytes_of("first section"));
    file.add(TWO, {});
    return file.serialize();
}

std::string error_of(std::span<const uint8_t> bytes) {
    auto parsed = StateFile::parse(bytes, "snapshot 'x'");
    return parsed.ok() ? std::string("parsed") : parsed.error().message();
}

TEST(Crc64, MatchesTheXzCheckValue) {
    const auto check = bytes_of("123456789");
    EXPECT_EQ(crc64(check), 0x995dc9bbdf1939faull);
    EXPECT_EQ(crc64(std::span(check).subspan(4), crc64(std::span(check).first(4))), crc64(check))
        << "a CRC continues over a second call";
    EXPECT_EQ(crc64({}), 0u);
}

TEST(StateFile, SectionsRoundTrip) {
    const auto bytes = two_sections();
    auto file = StateFile::parse(bytes, "snapshot 'x'").value();
    auto one = file.section(ONE).value();
    EXPECT_EQ(std::string(one.begin(), one.end()), "first section");
    EXPECT_TRUE(file.section(TWO).value().empty());
    auto missing = file.section(state_tag("NONE"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message(), "snapshot 'x' has no NONE section");
}

TEST(StateFile, EveryTruncationIsRefused) {
    const auto bytes = two_sections();
    for (size_t length = 0; length < bytes.size(); ++length)
        EXPECT_NE(error_of(std::span(bytes).first(length)), "parsed") << length << " bytes";
    EXPECT_NE(error_of(std::span(bytes).first(bytes.size() - 1)).find("truncated"), std::string::npos);
}

TEST(StateFile, EveryFlippedBitIsRefused) {
    const auto good = two_sections();
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
        auto bad = good;
        bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        EXPECT_NE(error_of(bad), "parsed") << "bit " << bit;
    }
    auto payload = good;
    payload.back() ^= 1;
    EXPECT_EQ(error_of(payload), "snapshot 'x' is corrupted: its CRC-64 does not match");
}

TEST(StateFile, AnotherVersionOrMagicIsNamed) {
    auto bytes = two_sections();
    bytes[8] = 2;
    EXPECT_EQ(error_of(bytes), "snapshot 'x' has state file version 2; this Ember reads version 1");
    bytes[0] = 'X';
    EXPECT_EQ(error_of(bytes), "snapshot 'x' is not an Ember snapshot state file (no EMBERSTA header)");
}

// A file whose CRC matches but whose sections lie (a crafted file, not a damaged one).
std::vector<uint8_t> crafted(const std::vector<uint8_t>& payload, uint32_t count) {
    StateEncoder file;
    file.put_bytes(std::span(reinterpret_cast<const uint8_t*>(STATE_FILE_MAGIC), sizeof STATE_FILE_MAGIC));
    file.put(STATE_FILE_VERSION);
    file.put(count);
    file.put(uint64_t{payload.size()});
    file.put(crc64(payload));
    file.put_bytes(payload);
    return file.take();
}

TEST(StateFile, CraftedSectionTablesAreRefused) {
    StateEncoder oversized;
    oversized.put(ONE);
    oversized.put(uint32_t{0});
    oversized.put(uint64_t{1} << 62);
    EXPECT_NE(error_of(crafted(oversized.take(), 1)).find("truncated"), std::string::npos);
    StateEncoder twice;
    for (int i = 0; i < 2; ++i) {
        twice.put(ONE);
        twice.put(uint32_t{0});
        twice.put(uint64_t{0});
    }
    EXPECT_NE(error_of(crafted(twice.take(), 2)).find("appears twice"), std::string::npos);
    EXPECT_NE(error_of(crafted({}, STATE_FILE_MAX_SECTIONS + 1)).find("sections"), std::string::npos);
    EXPECT_NE(error_of(crafted({1, 2, 3}, 0)).find("after its fields"), std::string::npos);
}

TEST(StateDecoder, FieldsPastTheEndAndLeftOverBytesAreErrors) {
    StateEncoder out;
    out.put(uint32_t{7});
    out.put(uint16_t{9});
    const auto bytes = out.take();
    StateDecoder in(bytes, "the test section");
    EXPECT_EQ(in.get<uint32_t>().value(), 7u);
    EXPECT_FALSE(in.finish().ok());
    EXPECT_FALSE(in.get<uint32_t>().ok());
    EXPECT_EQ(in.get<uint16_t>().value(), 9u);
    EXPECT_TRUE(in.finish().ok());
    StateDecoder counts{std::span<const uint8_t>(bytes).first(4), "counts"};
    auto count = counts.get_count(5, "things");
    ASSERT_FALSE(count.ok());
    EXPECT_EQ(count.error().message(), "counts: 7 things (at most 5)");
}

}  // namespace
}  // namespace vmm
