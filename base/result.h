// Result<T>: the one way project code reports an expected failure (bad guest or user input,
// a failed syscall). Project code does not throw. Every Error has a kind, which decides how a
// caller reacts (an API status, Ember's exit status) without parsing its message.
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vmm {

enum class ErrorKind {
    InvalidInput,  // a value, option or file format the user (or an image) got wrong
    NotFound,      // a named file or device does not exist or may not be opened
    Busy,          // in use or taken: a disk another VM holds, a TAP name of another device
    HostResource,  // the host could not provide it: memory, fds, KVM VMs or vCPUs
    GuestFault,    // the guest broke the rules (a virtqueue, a buffer outside its memory)
    Internal,      // Ember's own invariant failed
};

// "invalid input", "not found", ...
const char* error_kind_name(ErrorKind kind);

// The kind a failed syscall's errno means.
ErrorKind error_kind_of_errno(int err);

class Error {
public:
    explicit Error(std::string message, int sys_errno = 0)
        : Error(ErrorKind::InvalidInput, std::move(message), sys_errno) {}
    Error(ErrorKind kind, std::string message, int sys_errno = 0)
        : m_kind(kind), m_message(std::move(message)), m_errno(sys_errno) {}

    // "what: strerror(errno)", capturing errno at the call; the kind follows from errno.
    static Error from_errno(std::string_view what) { return from_errno(what, errno); }
    static Error from_errno(std::string_view what, int err) {
        return Error(error_kind_of_errno(err), std::string(what) + ": " + std::strerror(err), err);
    }

    ErrorKind kind() const { return m_kind; }
    const std::string& message() const { return m_message; }
    int sys_errno() const { return m_errno; }

    // The same error, of another kind (where the caller knows better than errno).
    Error with_kind(ErrorKind kind) const { return Error(kind, m_message, m_errno); }

    // Prefix the message with where it happened: "kernel 'x': <message>". The kind stays.
    Error context(std::string_view where) const {
        return Error(m_kind, std::string(where) + ": " + m_message, m_errno);
    }

private:
    ErrorKind m_kind;
    std::string m_message;
    int m_errno;
};

// What a device returns when the guest broke a rule (its queue, its buffers).
inline Error guest_fault(std::string message) { return Error(ErrorKind::GuestFault, std::move(message)); }

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
