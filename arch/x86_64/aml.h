// A small encoder for the ACPI Machine Language subset a DSDT of a microVM needs (ACPI 6.5
// §20 "ACPI Machine Language Specification", §6.4 resource descriptors): names, integers,
// strings, packages, devices, scopes and resource templates. Each builder returns the
// encoded bytes; nesting is by passing the children's bytes in.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace vmm::arch::x86_64::aml {

using Bytes = std::vector<uint8_t>;

// §20.2.4 PkgLength: 1 to 4 bytes for a length that includes the PkgLength itself.
Bytes package_length(size_t payload);

// §20.2.2 NameString: "\\_SB_.COM1", "_HID", "_S5_"; segments shorter than 4 are padded
// with '_'.
Bytes name_string(std::string_view path);

// §20.2.3 ComputationalData: the shortest integer encoding (Zero, One, Byte..QWord).
Bytes integer(uint64_t value);
Bytes string(std::string_view text);
// A compressed EISA id ("PNP0501") as an integer, the way ASL's EISAID() encodes it.
Bytes eisa_id(std::string_view id);

Bytes name(std::string_view path, const Bytes& value);               // DefName
Bytes package(std::initializer_list<Bytes> elements);                 // DefPackage
Bytes package_of(const std::vector<Bytes>& elements);                  // DefPackage, built up
Bytes buffer(const Bytes& data);                                       // DefBuffer
Bytes scope(std::string_view path, std::initializer_list<Bytes> body);  // DefScope
Bytes device(std::string_view path, std::initializer_list<Bytes> body);  // DefDevice

Bytes concat(std::initializer_list<Bytes> parts);

// §20.2.5 control methods and the expressions the host bridge's _OSC needs.
Bytes method(std::string_view name, uint8_t arg_count, std::initializer_list<Bytes> body);  // NotSerialized
Bytes arg(uint8_t index);    // Arg0..Arg6
Bytes local(uint8_t index);  // Local0..Local7
Bytes reference(std::string_view path);  // a named object used as a term or target
Bytes if_then(const Bytes& predicate, std::initializer_list<Bytes> body);  // DefIfElse, no Else
Bytes equal(const Bytes& left, const Bytes& right);      // LEqual
Bytes not_equal(const Bytes& left, const Bytes& right);  // LNot (LEqual)
Bytes bit_and(const Bytes& left, const Bytes& right, const Bytes& target);
Bytes bit_or(const Bytes& left, const Bytes& right, const Bytes& target);
Bytes store(const Bytes& value, const Bytes& target);
Bytes return_value(const Bytes& value);
// CreateDWordField (source, byte_index, name)
Bytes create_dword_field(const Bytes& source, uint64_t byte_index, std::string_view name);
// ToUUID ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"): a 16-byte buffer, the first three groups
// little-endian (ACPI 6.5 §19.6.142).
Bytes uuid(std::string_view text);

// §6.4 resource data; resource_template() appends the End Tag and wraps them in a Buffer.
namespace resource {
Bytes io(uint16_t base, uint8_t length);          // I/O Port descriptor, 16-bit decode
Bytes irq_no_flags(uint8_t irq);                  // IRQ descriptor: edge, active high
Bytes memory32_fixed(uint32_t base, uint32_t length);
Bytes interrupt(uint32_t gsi, bool edge);          // Extended Interrupt: consumer, active high
// §6.4.3.5 Address Space descriptors for a bridge's windows [min, max]: producer, positive
// decode, fixed minimum and maximum.
Bytes word_bus_number(uint16_t min, uint16_t max);
Bytes word_io(uint16_t min, uint16_t max);
Bytes dword_memory(uint32_t min, uint32_t max);  // non-cacheable, read-write
Bytes qword_memory(uint64_t min, uint64_t max);  // non-cacheable, read-write
}  // namespace resource
Bytes resource_template(std::initializer_list<Bytes> descriptors);

}  // namespace vmm::arch::x86_64::aml
