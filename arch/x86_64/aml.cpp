#include "arch/x86_64/aml.h"

#include <cassert>
#include <string>

namespace vmm::arch::x86_64::aml {

namespace {

// §20.2 opcodes and prefixes.
constexpr uint8_t ZERO_OP = 0x00;
constexpr uint8_t ONE_OP = 0x01;
constexpr uint8_t NAME_OP = 0x08;
constexpr uint8_t BYTE_PREFIX = 0x0a;
constexpr uint8_t WORD_PREFIX = 0x0b;
constexpr uint8_t DWORD_PREFIX = 0x0c;
constexpr uint8_t STRING_PREFIX = 0x0d;
constexpr uint8_t QWORD_PREFIX = 0x0e;
constexpr uint8_t SCOPE_OP = 0x10;
constexpr uint8_t BUFFER_OP = 0x11;
constexpr uint8_t PACKAGE_OP = 0x12;
constexpr uint8_t DUAL_NAME_PREFIX = 0x2e;
constexpr uint8_t MULTI_NAME_PREFIX = 0x2f;
constexpr uint8_t ROOT_CHAR = '\\';
constexpr uint8_t EXT_OP_PREFIX = 0x5b;
constexpr uint8_t DEVICE_OP = 0x82;
constexpr uint8_t METHOD_OP = 0x14;
constexpr uint8_t LOCAL0_OP = 0x60;
constexpr uint8_t ARG0_OP = 0x68;
constexpr uint8_t STORE_OP = 0x70;
constexpr uint8_t AND_OP = 0x7b;
constexpr uint8_t OR_OP = 0x7d;
constexpr uint8_t CREATE_DWORD_FIELD_OP = 0x8a;
constexpr uint8_t LNOT_OP = 0x92;
constexpr uint8_t LEQUAL_OP = 0x93;
constexpr uint8_t IF_OP = 0xa0;
constexpr uint8_t RETURN_OP = 0xa4;

// §6.4 resource descriptor tags.
constexpr uint8_t IRQ_TAG = 0x22;          // small, 2 bytes: no flags byte
constexpr uint8_t IO_TAG = 0x47;           // small, 7 bytes
constexpr uint8_t END_TAG = 0x79;          // small, 1 byte: checksum
constexpr uint8_t MEMORY32_FIXED_TAG = 0x86;
constexpr uint8_t EXTENDED_IRQ_TAG = 0x89;

void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

template <typename T>
void append_le(Bytes& out, T value) {
    for (size_t i = 0; i < sizeof(T); ++i)
        out.push_back(static_cast<uint8_t>(uint64_t(value) >> (8 * i)));
}

// Op [ExtOp] PkgLength <head> <body...>
Bytes with_length(std::initializer_list<uint8_t> ops, const Bytes& payload) {
    Bytes out(ops);
    append(out, package_length(payload.size()));
    append(out, payload);
    return out;
}

}  // namespace

Bytes package_length(size_t payload) {
    // The length counts its own encoding bytes; one byte holds up to 63.
    if (payload + 1 <= 0x3f)
        return {static_cast<uint8_t>(payload + 1)};
    for (size_t extra = 1; extra <= 3; ++extra) {
        const size_t total = payload + 1 + extra;
        if (total < (size_t(1) << (4 + 8 * extra))) {
            Bytes out{static_cast<uint8_t>((extra << 6) | (total & 0xf))};
            for (size_t i = 0; i < extra; ++i)
                out.push_back(static_cast<uint8_t>(total >> (4 + 8 * i)));
            return out;
        }
    }
    assert(!"AML package longer than 256 MiB");
    return {};
}

Bytes name_string(std::string_view path) {
    Bytes out;
    if (!path.empty() && path.front() == '\\') {
        out.push_back(ROOT_CHAR);
        path.remove_prefix(1);
    }
    std::vector<std::string> segments;
    while (!path.empty()) {
        const size_t dot = path.find('.');
        std::string segment(path.substr(0, dot));
        segment.resize(4, '_');
        segments.push_back(segment);
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    if (segments.empty()) {
        out.push_back(0);  // NullName
    } else if (segments.size() == 2) {
        out.push_back(DUAL_NAME_PREFIX);
    } else if (segments.size() > 2) {
        out.push_back(MULTI_NAME_PREFIX);
        out.push_back(static_cast<uint8_t>(segments.size()));
    }
    for (const auto& segment : segments)
        out.insert(out.end(), segment.begin(), segment.end());
    return out;
}

Bytes integer(uint64_t value) {
    Bytes out;
    if (value == 0) {
        out.push_back(ZERO_OP);
    } else if (value == 1) {
        out.push_back(ONE_OP);
    } else if (value <= 0xff) {
        out = {BYTE_PREFIX, static_cast<uint8_t>(value)};
    } else if (value <= 0xffff) {
        out.push_back(WORD_PREFIX);
        append_le(out, static_cast<uint16_t>(value));
    } else if (value <= 0xffffffff) {
        out.push_back(DWORD_PREFIX);
        append_le(out, static_cast<uint32_t>(value));
    } else {
        out.push_back(QWORD_PREFIX);
        append_le(out, value);
    }
    return out;
}

Bytes string(std::string_view text) {
    Bytes out;
    out.reserve(text.size() + 2);
    out.push_back(STRING_PREFIX);
    for (char c : text)
        out.push_back(static_cast<uint8_t>(c));
    out.push_back(0);
    return out;
}

Bytes eisa_id(std::string_view id) {
    assert(id.size() == 7);
    // Three letters of five bits each, then four hex digits; stored big-endian.
    const uint32_t vendor = (uint32_t(id[0] & 0x1f) << 10) | (uint32_t(id[1] & 0x1f) << 5) | (id[2] & 0x1f);
    const uint32_t product = static_cast<uint32_t>(std::stoul(std::string(id.substr(3)), nullptr, 16));
    const uint32_t big_endian = (vendor << 16) | product;
    return integer(__builtin_bswap32(big_endian));
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& part : parts)
        append(out, part);
    return out;
}

Bytes name(std::string_view path, const Bytes& value) {
    Bytes out{NAME_OP};
    append(out, name_string(path));
    append(out, value);
    return out;
}

Bytes package(std::initializer_list<Bytes> elements) {
    Bytes payload{static_cast<uint8_t>(elements.size())};
    for (const auto& element : elements)
        append(payload, element);
    return with_length({PACKAGE_OP}, payload);
}

Bytes package_of(const std::vector<Bytes>& elements) {
    Bytes payload{static_cast<uint8_t>(elements.size())};
    for (const auto& element : elements)
        append(payload, element);
    return with_length({PACKAGE_OP}, payload);
}

Bytes buffer(const Bytes& data) {
    Bytes payload = integer(data.size());
    append(payload, data);
    return with_length({BUFFER_OP}, payload);
}

Bytes scope(std::string_view path, std::initializer_list<Bytes> body) {
    Bytes payload = name_string(path);
    for (const auto& term : body)
        append(payload, term);
    return with_length({SCOPE_OP}, payload);
}

Bytes device(std::string_view path, std::initializer_list<Bytes> body) {
    Bytes payload = name_string(path);
    for (const auto& term : body)
        append(payload, term);
    return with_length({EXT_OP_PREFIX, DEVICE_OP}, payload);
}

Bytes method(std::string_view name, uint8_t arg_count, std::initializer_list<Bytes> body) {
    assert(arg_count <= 7);
    Bytes payload = name_string(name);
    payload.push_back(arg_count);  // MethodFlags: ArgCount in bits 0-2, NotSerialized, SyncLevel 0
    for (const auto& term : body)
        append(payload, term);
    return with_length({METHOD_OP}, payload);
}

Bytes arg(uint8_t index) {
    assert(index <= 6);
    return {static_cast<uint8_t>(ARG0_OP + index)};
}

Bytes local(uint8_t index) {
    assert(index <= 7);
    return {static_cast<uint8_t>(LOCAL0_OP + index)};
}

Bytes reference(std::string_view path) { return name_string(path); }

Bytes if_then(const Bytes& predicate, std::initializer_list<Bytes> body) {
    Bytes payload = predicate;
    for (const auto& term : body)
        append(payload, term);
    return with_length({IF_OP}, payload);
}

Bytes equal(const Bytes& left, const Bytes& right) { return concat({{LEQUAL_OP}, left, right}); }
Bytes not_equal(const Bytes& left, const Bytes& right) { return concat({{LNOT_OP}, equal(left, right)}); }
Bytes bit_and(const Bytes& left, const Bytes& right, const Bytes& target) { return concat({{AND_OP}, left, right, target}); }
Bytes bit_or(const Bytes& left, const Bytes& right, const Bytes& target) { return concat({{OR_OP}, left, right, target}); }
Bytes store(const Bytes& value, const Bytes& target) { return concat({{STORE_OP}, value, target}); }
Bytes return_value(const Bytes& value) { return concat({{RETURN_OP}, value}); }

Bytes create_dword_field(const Bytes& source, uint64_t byte_index, std::string_view name) {
    return concat({{CREATE_DWORD_FIELD_OP}, source, integer(byte_index), name_string(name)});
}

Bytes uuid(std::string_view text) {
    assert(text.size() == 36);
    Bytes raw;  // the 16 bytes in the order they are written
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-')
            continue;
        raw.push_back(static_cast<uint8_t>(std::stoul(std::string(text.substr(i, 2)), nullptr, 16)));
        ++i;
    }
    assert(raw.size() == 16);
    // Groups of 4, 2 and 2 bytes are stored little-endian, the last 8 bytes as written.
    Bytes out{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]};
    out.insert(out.end(), raw.begin() + 8, raw.end());
    return buffer(out);
}

namespace resource {

Bytes io(uint16_t base, uint8_t length) {
    Bytes out{IO_TAG, 0x01};  // decodes 16 address bits
    append_le(out, base);     // minimum
    append_le(out, base);     // maximum: the range is fixed
    out.push_back(1);         // alignment
    out.push_back(length);
    return out;
}

Bytes irq_no_flags(uint8_t irq) {
    Bytes out{IRQ_TAG};
    append_le(out, static_cast<uint16_t>(1u << irq));
    return out;
}

Bytes memory32_fixed(uint32_t base, uint32_t length) {
    Bytes out{MEMORY32_FIXED_TAG};
    append_le(out, uint16_t{9});
    out.push_back(0x01);  // read-write
    append_le(out, base);
    append_le(out, length);
    return out;
}

Bytes interrupt(uint32_t gsi, bool edge) {
    Bytes out{EXTENDED_IRQ_TAG};
    append_le(out, uint16_t{6});
    // Bit 0 consumer, bit 1 edge-triggered; active high, exclusive, not wake-capable.
    out.push_back(static_cast<uint8_t>(0x01 | (edge ? 0x02 : 0)));
    out.push_back(1);  // one interrupt
    append_le(out, gsi);
    return out;
}

namespace {

// §6.4.3.5.1-3: tag, length, resource type, general flags, type-specific flags, then
// granularity, minimum, maximum, translation offset and length, each `width` bytes.
constexpr uint8_t RESOURCE_MEMORY = 0, RESOURCE_IO = 1, RESOURCE_BUS = 2;
constexpr uint8_t MIN_MAX_FIXED = 0x0c;  // producer, positive decode
template <typename T>
Bytes address_space(uint8_t tag, uint8_t type, uint8_t type_flags, T min, T max) {
    Bytes out{tag};
    append_le(out, static_cast<uint16_t>(3 + 5 * sizeof(T)));
    out.push_back(type);
    out.push_back(MIN_MAX_FIXED);
    out.push_back(type_flags);
    for (T field : {T{0}, min, max, T{0}, static_cast<T>(max - min + 1)})
        append_le(out, field);
    return out;
}

}  // namespace

Bytes word_bus_number(uint16_t min, uint16_t max) { return address_space<uint16_t>(0x88, RESOURCE_BUS, 0, min, max); }
Bytes word_io(uint16_t min, uint16_t max) { return address_space<uint16_t>(0x88, RESOURCE_IO, 0x03, min, max); }
Bytes dword_memory(uint32_t min, uint32_t max) { return address_space<uint32_t>(0x87, RESOURCE_MEMORY, 0x01, min, max); }
Bytes qword_memory(uint64_t min, uint64_t max) { return address_space<uint64_t>(0x8a, RESOURCE_MEMORY, 0x01, min, max); }

}  // namespace resource

Bytes resource_template(std::initializer_list<Bytes> descriptors) {
    Bytes data;
    for (const auto& descriptor : descriptors)
        append(data, descriptor);
    data.push_back(END_TAG);
    data.push_back(0);  // checksum 0: "treat as correct" (§6.4.2.9)
    return buffer(data);
}

}  // namespace vmm::arch::x86_64::aml
