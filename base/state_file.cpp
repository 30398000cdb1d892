#include "base/state_file.h"

#include <fmt/format.h>

#include "base/crc64.h"

namespace vmm {

namespace {

std::string tag_name(uint32_t tag) {
    std::string name;
    for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>((tag >> (8 * i)) & 0xff);
        name += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return name;
}

}  // namespace

Result<std::span<const uint8_t>> StateDecoder::get_bytes(uint64_t count) {
    if (count > m_bytes.size() - m_offset)
        return Error(fmt::format("{} is truncated: {} bytes wanted at offset {} of {}", m_what, count, m_offset,
                                 m_bytes.size()));
    auto bytes = m_bytes.subspan(m_offset, count);
    m_offset += count;
    return bytes;
}

Result<uint32_t> StateDecoder::get_count(uint32_t max, std::string_view of) {
    const uint32_t count = TRY(get<uint32_t>());
    if (count > max)
        return Error(fmt::format("{}: {} {} (at most {})", m_what, count, of, max));
    return count;
}

Result<std::string> StateDecoder::get_string(uint32_t max, std::string_view of) {
    const uint32_t length = TRY(get_count(max, fmt::format("bytes of {}", of)));
    auto bytes = TRY(get_bytes(length));
    return std::string(bytes.begin(), bytes.end());
}

Result<std::vector<uint8_t>> StateDecoder::get_vector(uint32_t max, std::string_view of) {
    const uint32_t length = TRY(get_count(max, fmt::format("bytes of {}", of)));
    auto bytes = TRY(get_bytes(length));
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

Result<bool> StateDecoder::get_bool(std::string_view of) {
    const uint8_t value = TRY(get<uint8_t>());
    if (value > 1)
        return Error(fmt::format("{}: {} is {}, neither 0 nor 1", m_what, of, value));
    return value == 1;
}

Status StateDecoder::finish() const {
    if (m_offset != m_bytes.size())
        return Error(fmt::format("{} has {} bytes after its fields", m_what, m_bytes.size() - m_offset));
    return {};
}

void StateFile::add(uint32_t tag, std::vector<uint8_t> bytes) { m_sections.push_back({tag, std::move(bytes)}); }

std::vector<uint8_t> StateFile::serialize() const {
    StateEncoder payload;
    for (const auto& section : m_sections) {
        payload.put(section.tag);
        payload.put(uint32_t{0});
        payload.put(uint64_t{section.bytes.size()});
        payload.put_bytes(section.bytes);
    }
    const std::vector<uint8_t> body = payload.take();
    StateEncoder file;
    file.put_bytes(std::span(reinterpret_cast<const uint8_t*>(STATE_FILE_MAGIC), sizeof STATE_FILE_MAGIC));
    file.put(STATE_FILE_VERSION);
    file.put(static_cast<uint32_t>(m_sections.size()));
    file.put(uint64_t{body.size()});
    file.put(crc64(body));
    file.put_bytes(body);
    return file.take();
}

Result<StateFile> StateFile::parse(std::span<const uint8_t> bytes, const std::string& what) {
    if (bytes.size() < STATE_FILE_HEADER || std::memcmp(bytes.data(), STATE_FILE_MAGIC, sizeof STATE_FILE_MAGIC) != 0)
        return Error(what + " is not an Ember snapshot state file (no EMBERSTA header)");
    StateDecoder header(bytes.subspan(sizeof STATE_FILE_MAGIC, STATE_FILE_HEADER - sizeof STATE_FILE_MAGIC), what);
    const uint32_t version = TRY(header.get<uint32_t>());
    const uint32_t count = TRY(header.get<uint32_t>());
    const uint64_t length = TRY(header.get<uint64_t>());
    const uint64_t crc = TRY(header.get<uint64_t>());
    if (version != STATE_FILE_VERSION)
        return Error(fmt::format("{} has state file version {}; this Ember reads version {}", what, version,
                                 STATE_FILE_VERSION));
    const auto body = bytes.subspan(STATE_FILE_HEADER);
    if (length != body.size())
        return Error(fmt::format("{} is {} bytes, its header says {}: truncated or extended", what,
                                 bytes.size(), STATE_FILE_HEADER + length));
    if (crc64(body) != crc)
        return Error(what + " is corrupted: its CRC-64 does not match");
    if (count > STATE_FILE_MAX_SECTIONS)
        return Error(fmt::format("{}: {} sections (at most {})", what, count, STATE_FILE_MAX_SECTIONS));
    StateFile file;
    file.m_what = what;
    StateDecoder payload(body, what);
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t tag = TRY(payload.get<uint32_t>());
        if (TRY(payload.get<uint32_t>()) != 0)
            return Error(fmt::format("{}: section {} has a non-zero reserved field", what, tag_name(tag)));
        const uint64_t size = TRY(payload.get<uint64_t>());
        auto section = TRY(payload.get_bytes(size));
        if (file.has(tag))
            return Error(fmt::format("{}: section {} appears twice", what, tag_name(tag)));
        file.add(tag, std::vector<uint8_t>(section.begin(), section.end()));
    }
    TRY(payload.finish());
    return file;
}

bool StateFile::has(uint32_t tag) const {
    for (const auto& section : m_sections) {
        if (section.tag == tag)
            return true;
    }
    return false;
}

Result<std::span<const uint8_t>> StateFile::section(uint32_t tag) const {
    for (const auto& section : m_sections) {
        if (section.tag == tag)
            return std::span<const uint8_t>(section.bytes);
    }
    return Error(fmt::format("{} has no {} section", m_what, tag_name(tag)));
}

}  // namespace vmm
