#include "vmm/api/json_fields.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmm::api {

Result<Json> parse_json(std::string_view text) {
    if (text.empty())
        return Error("the request has no body; a JSON object was expected");
    Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded())
        return Error("the body is not valid JSON");
    return value;
}

Result<JsonFields> JsonFields::of(const Json& value, std::string_view what,
                                  std::initializer_list<std::string_view> known) {
    if (!value.is_object())
        return Error(fmt::format("{}: a JSON object was expected", what));
    for (const auto& [key, _] : value.items()) {
        if (std::find(known.begin(), known.end(), key) == known.end())
            return Error(fmt::format("{}: unknown field '{}'", what, key));
    }
    return JsonFields(value, what);
}

const Json* JsonFields::field(std::string_view key) const {
    auto it = m_object->find(key);
    if (it == m_object->end() || it->is_null())
        return nullptr;
    return &*it;
}

Error JsonFields::wrong(std::string_view key, std::string_view expected) const {
    return Error(fmt::format("{}: field '{}' must be {}", m_what, key, expected));
}

Error JsonFields::missing(std::string_view key) const {
    return Error(fmt::format("{}: missing field '{}'", m_what, key));
}

Result<std::optional<std::string>> JsonFields::string(std::string_view key) const {
    const Json* value = field(key);
    if (!value)
        return std::optional<std::string>();
    if (!value->is_string())
        return wrong(key, "a string");
    return std::optional<std::string>(value->get<std::string>());
}

Result<std::optional<bool>> JsonFields::boolean(std::string_view key) const {
    const Json* value = field(key);
    if (!value)
        return std::optional<bool>();
    if (!value->is_boolean())
        return wrong(key, "true or false");
    return std::optional<bool>(value->get<bool>());
}

Result<std::optional<uint64_t>> JsonFields::integer(std::string_view key, uint64_t min, uint64_t max) const {
    const Json* value = field(key);
    if (!value)
        return std::optional<uint64_t>();
    const std::string range = fmt::format("an integer in {}..{}", min, max);
    if (!value->is_number_unsigned())
        return wrong(key, range);
    const uint64_t number = value->get<uint64_t>();
    if (number < min || number > max)
        return wrong(key, range);
    return std::optional<uint64_t>(number);
}

Result<std::optional<std::string>> JsonFields::one_of(std::string_view key,
                                                      std::initializer_list<std::string_view> values) const {
    auto text = TRY(string(key));
    if (text && std::find(values.begin(), values.end(), *text) == values.end()) {
        std::string list;
        for (auto v : values)
            list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", v);
        return wrong(key, "one of " + list);
    }
    return text;
}

std::optional<Json> JsonFields::object(std::string_view key) const {
    const Json* value = field(key);
    if (!value)
        return std::nullopt;
    return *value;
}

Result<std::optional<Json>> JsonFields::object_field(std::string_view key) const {
    const Json* value = field(key);
    if (!value)
        return std::optional<Json>();
    if (!value->is_object())
        return wrong(key, "an object");
    return std::optional<Json>(*value);
}

}  // namespace vmm::api
