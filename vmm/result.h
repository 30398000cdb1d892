// Result<T>: the one way project code reports an expected failure (bad guest or user input,
// a failed syscall). Project code does not throw.
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vmm {

class Error {
public:
    explicit Error(std::string message, int sys_errno = 0)
        : m_message(std::move(message)), m_errno(sys_errno) {}

    // "what: strerror(errno)", capturing errno at the call.
    static Error from_errno(std::string_view what) { return from_errno(what, errno); }
    static Error from_errno(std::string_view what, int err) {
        return Error(std::string(what) + ": " + std::strerror(err), err);
    }

    const std::string& message() const { return m_message; }
    int sys_errno() const { return m_errno; }

    // Prefix the message with where it happened: "kernel 'x': <message>".
    Error context(std::string_view where) const {
        return Error(std::string(where) + ": " + m_message, m_errno);
    }

private:
    std::string m_message;
    int m_errno;
};

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : m_value(std::move(error)) {}  // NOLINT

    bool ok() const { return std::holds_alternative<T>(m_value); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(m_value); }
    const T& value() const& { return std::get<T>(m_value); }
    T&& value() && { return std::get<T>(std::move(m_value)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    const Error& error() const& { return std::get<Error>(m_value); }
    Error&& error() && { return std::get<Error>(std::move(m_value)); }

private:
    std::variant<T, Error> m_value;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}  // NOLINT

    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    void value() const {}
    const Error& error() const& { return *m_error; }
    Error&& error() && { return std::move(*m_error); }

private:
    std::optional<Error> m_error;
};

using Status = Result<void>;

}  // namespace vmm

// Evaluates a Result expression; on error returns it from the enclosing function, otherwise
// yields the value. GNU statement expression (g++ and clang).
#define TRY(expr)                                           \
    ({                                                      \
        auto _try_result = (expr);                          \
        if (!_try_result.ok())                              \
            return std::move(_try_result).error();          \
        std::move(_try_result).value();                     \
    })

// Same, with context added to the error message.
#define TRY_CTX(expr, where)                                \
    ({                                                      \
        auto _try_result = (expr);                          \
        if (!_try_result.ok())                              \
            return std::move(_try_result).error().context(where); \
        std::move(_try_result).value();                     \
    })
