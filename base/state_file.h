// The container of a snapshot's state file: every saved part of a VM (vCPUs, VM, devices,
// memory layout) is one tagged section. The file is read as hostile input: magic, version,
// sizes and the CRC are checked before any section is handed out, and a section's fields are
// read through a bounds-checked StateDecoder.
//
// Layout (little-endian):
//   header  "EMBERSTA" (8 bytes), u32 version, u32 section count, u64 payload bytes,
//           u64 CRC-64/XZ of the payload
//   payload per section: u32 tag, u32 zero, u64 length, `length` bytes
// A version other than STATE_FILE_VERSION is refused: the promise is that Ember reads the
// files of its own format version, and says which version a file has when it cannot.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.h"

namespace vmm {

static_assert(std::endian::native == std::endian::little, "state files are written little-endian");

inline constexpr uint32_t STATE_FILE_VERSION = 1;
inline constexpr char STATE_FILE_MAGIC[8] = {'E', 'M', 'B', 'E', 'R', 'S', 'T', 'A'};
inline constexpr size_t STATE_FILE_HEADER = 32;
inline constexpr uint32_t STATE_FILE_MAX_SECTIONS = 256;

// A section tag from four characters: state_tag("VCPU").
constexpr uint32_t state_tag(const char (&name)[5]) {
    return uint32_t(uint8_t(name[0])) | uint32_t(uint8_t(name[1])) << 8 | uint32_t(uint8_t(name[2])) << 16 |
           uint32_t(uint8_t(name[3])) << 24;
}

// Appends plain fields to a section's bytes.
class StateEncoder {
public:
    template <typename T>
    void put(const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        // SAFETY: T is trivially copyable, so its object representation is its value.
        put_bytes(std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
    }
    void put_bytes(std::span<const uint8_t> bytes) { m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end()); }
    // A u32 length, then the bytes.
    void put_string(std::string_view text) {
        put(static_cast<uint32_t>(text.size()));
        put_bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    }
    void put_vector(const std::vector<uint8_t>& bytes) {
        put(static_cast<uint32_t>(bytes.size()));
        put_bytes(bytes);
    }
    std::vector<uint8_t> take() { return std::move(m_bytes); }

private:
    std::vector<uint8_t> m_bytes;
};

// Reads a section's fields back; running past its end is an error naming the section.
class StateDecoder {
public:
    StateDecoder(std::span<const uint8_t> bytes, std::string what) : m_bytes(bytes), m_what(std::move(what)) {}

    template <typename T>
    Result<T> get() {
        static_assert(std::is_trivially_copyable_v<T>);
        auto bytes = TRY(get_bytes(sizeof(T)));
        T value;
        std::memcpy(&value, bytes.data(), sizeof(T));
        return value;
    }
    Result<std::span<const uint8_t>> get_bytes(uint64_t count);
    // A count read from the file, refused above `max` (before anything is sized by it).
    Result<uint32_t> get_count(uint32_t max, std::string_view of);
    // What put_string()/put_vector() wrote, refused above `max` bytes.
    Result<std::string> get_string(uint32_t max, std::string_view of);
    Result<std::vector<uint8_t>> get_vector(uint32_t max, std::string_view of);
    // A bool written as one byte, which must be 0 or 1.
    Result<bool> get_bool(std::string_view of);
    // Every byte read: a section longer than its fields is as wrong as a shorter one.
    Status finish() const;
    const std::string& what() const { return m_what; }

private:
    std::span<const uint8_t> m_bytes;
    uint64_t m_offset = 0;
    std::string m_what;
};

class StateFile {
public:
    // Adding a tag twice replaces nothing: parse() refuses files with duplicate tags, so
    // add() must be given each tag once.
    void add(uint32_t tag, std::vector<uint8_t> bytes);
    std::vector<uint8_t> serialize() const;
    // `what` names the file in errors ("snapshot '/x/vm.snap'").
    static Result<StateFile> parse(std::span<const uint8_t> file, const std::string& what);
    // The section's bytes; an error naming the tag when the file has none.
    Result<std::span<const uint8_t>> section(uint32_t tag) const;
    bool has(uint32_t tag) const;

private:
    struct Section {
        uint32_t tag;
        std::vector<uint8_t> bytes;
    };
    std::vector<Section> m_sections;
    std::string m_what = "state file";
};

}  // namespace vmm
