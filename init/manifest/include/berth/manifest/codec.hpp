// Manifests as bytes: berth-init parses manifests in a short-lived child process (so TOML parsing
// never becomes part of PID 1's resident memory) and the child hands its result back in this
// compact binary form. Every field of a manifest type is listed once, in its fields(), for both
// directions; init/tests/manifest/test_codec.cpp round-trips a manifest with every field set and
// counts each struct's fields, so a field added to manifest.hpp but not here fails that test.
//
// The decoder trusts nothing: a short or malformed input makes ok() false, never a crash, and a
// count larger than what is left of the input stops decoding instead of allocating.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "berth/manifest/manifest.hpp"
#include "berth/result.hpp"

namespace berth::manifest {

class Encoder {
public:
    std::string out;

    void operator()(const std::string& v) {
        count(v.size());
        out += v;
    }
    template <typename T>
        requires std::is_arithmetic_v<T> || std::is_enum_v<T>
    void operator()(const T& v) {
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    template <typename R, typename P>
    void operator()(const std::chrono::duration<R, P>& v) {
        (*this)(v.count());
    }
    template <typename T>
    void operator()(const std::optional<T>& v) {
        (*this)(v.has_value());
        if (v) (*this)(*v);
    }
    template <typename T>
    void operator()(const std::vector<T>& v) {
        count(v.size());
        for (const auto& e : v) (*this)(e);
    }
    template <typename K, typename V>
    void operator()(const std::map<K, V>& v) {
        count(v.size());
        for (const auto& [k, e] : v) {
            (*this)(k);
            (*this)(e);
        }
    }
    template <typename T>
        requires std::is_class_v<T>
    void operator()(const T& v) {
        fields(*this, const_cast<T&>(v));  // fields() only reads through an Encoder
    }

private:
    void count(size_t n) { (*this)(static_cast<uint32_t>(n)); }
};

class Decoder {
public:
    explicit Decoder(std::string_view in) : in_(in) {}
    // Everything decoded and nothing left over.
    bool ok() const { return ok_ && in_.empty(); }

    void operator()(std::string& v) {
        size_t n = count();
        if (n > in_.size()) return broken();
        v.assign(in_.substr(0, n));
        in_.remove_prefix(n);
    }
    void operator()(bool& v) {
        uint8_t byte = 2;
        (*this)(byte);
        if (byte > 1) return broken();  // a bool's object representation is 0 or 1
        v = byte == 1;
    }
    template <typename T>
        requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) || std::is_enum_v<T>
    void operator()(T& v) {
        if (in_.size() < sizeof v) return broken();
        std::memcpy(&v, in_.data(), sizeof v);
        in_.remove_prefix(sizeof v);
    }
    template <typename R, typename P>
    void operator()(std::chrono::duration<R, P>& v) {
        R ticks{};
        (*this)(ticks);
        v = std::chrono::duration<R, P>(ticks);
    }
    template <typename T>
    void operator()(std::optional<T>& v) {
        bool present = false;
        (*this)(present);
        v.reset();
        if (present && ok_) (*this)(v.emplace());
    }
    template <typename T>
    void operator()(std::vector<T>& v) {
        size_t n = count();
        v.clear();
        for (size_t i = 0; i < n && ok_; ++i) (*this)(v.emplace_back());
    }
    template <typename K, typename V>
    void operator()(std::map<K, V>& v) {
        size_t n = count();
        v.clear();
        for (size_t i = 0; i < n && ok_; ++i) {
            K key{};
            (*this)(key);
            (*this)(v[std::move(key)]);
        }
    }
    template <typename T>
        requires std::is_class_v<T>
    void operator()(T& v) {
        fields(*this, v);
    }

private:
    // Every element takes at least one byte: a count above what is left is a broken input.
    size_t count() {
        uint32_t n = 0;
        (*this)(n);
        if (!ok_) return 0;
        if (n > in_.size()) {
            broken();
            return 0;
        }
        return n;
    }
    void broken() {
        ok_ = false;
        in_ = {};
    }
    std::string_view in_;
    bool ok_ = true;
};

template <typename Io> void fields(Io& io, SourcePosition& p) { io(p.line), io(p.column); }
template <typename Io> void fields(Io& io, MountEntry& m) {
    io(m.type), io(m.source), io(m.target), io(m.read_only), io(m.options);
}
template <typename Io> void fields(Io& io, ResourceLimits& r) { io(r.memory_bytes), io(r.cpus), io(r.pids), io(r.io_weight); }
template <typename Io> void fields(Io& io, Readiness& r) { io(r.kind), io(r.exec), io(r.tcp_port), io(r.file), io(r.timeout); }
template <typename Io> void fields(Io& io, HealthCheck& h) {
    io(h.exec), io(h.interval), io(h.timeout), io(h.retries), io(h.start_period);
}
template <typename Io> void fields(Io& io, RestartSettings& r) { io(r.policy), io(r.delay), io(r.max_delay), io(r.reset_after); }
template <typename Io> void fields(Io& io, StopSettings& s) { io(s.signal), io(s.signal_name), io(s.timeout); }
template <typename Io> void fields(Io& io, ContainerSection& c) {
    io(c.image), io(c.command), io(c.args), io(c.env), io(c.workdir), io(c.user), io(c.group), io(c.read_only);
    io(c.hostname), io(c.capabilities_add), io(c.capabilities_drop), io(c.seccomp), io(c.seccomp_profile);
    io(c.sysctls), io(c.devices), io(c.network), io(c.pid);
}
template <typename Io> void fields(Io& io, ServiceManifest& m) {
    io(m.name), io(m.file_path), io(m.description), io(m.type), io(m.critical), io(m.privileged), io(m.after);
    io(m.required_services), io(m.container), io(m.mounts), io(m.resources), io(m.ready), io(m.health);
    io(m.restart), io(m.stop), io(m.warnings), io(m.positions);
}
template <typename Io> void fields(Io& io, Diagnostic& d) { io(d.file), io(d.service), io(d.message); }

// A value (of any type with fields()) as bytes, and back.
template <typename T>
std::string encode(const T& value) {
    Encoder encoder;
    encoder(value);
    return std::move(encoder.out);
}
template <typename T>
Result<T> decode(std::string_view bytes) {
    T value{};
    Decoder decoder(bytes);
    decoder(value);
    if (!decoder.ok()) return fail("malformed encoding of parsed manifests");
    return value;
}

}  // namespace berth::manifest
