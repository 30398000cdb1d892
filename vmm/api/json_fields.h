// Reading a JSON request body or config-file section strictly, as Firecracker's serde types do
// (deny_unknown_fields): every field is known, of its type, and named in the error when not.
// No exceptions escape: nlohmann-json is used only through its non-throwing calls.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace vmm::api {

using Json = nlohmann::json;

// A body as JSON; "" and malformed text are errors naming the position.
Result<Json> parse_json(std::string_view text);

class JsonFields {
public:
    // `what` names the object in errors ("machine-config"); `known` are its field names.
    static Result<JsonFields> of(const Json& value, std::string_view what,
                                 std::initializer_list<std::string_view> known);

    bool has(std::string_view key) const { return m_object->contains(key); }
    Result<std::optional<std::string>> string(std::string_view key) const;
    Result<std::optional<bool>> boolean(std::string_view key) const;
    // An integer in [min, max].
    Result<std::optional<uint64_t>> integer(std::string_view key, uint64_t min, uint64_t max) const;
    // One of `values` (exact spelling).
    Result<std::optional<std::string>> one_of(std::string_view key,
                                              std::initializer_list<std::string_view> values) const;
    // A nested object, or nullopt when the field is absent or null.
    std::optional<Json> object(std::string_view key) const;
    // The same, refusing a field that is not an object.
    Result<std::optional<Json>> object_field(std::string_view key) const;
    Error missing(std::string_view key) const;

private:
    JsonFields(const Json& object, std::string_view what) : m_object(&object), m_what(what) {}
    const Json* field(std::string_view key) const;
    Error wrong(std::string_view key, std::string_view expected) const;

    const Json* m_object;
    std::string m_what;
};

}  // namespace vmm::api
