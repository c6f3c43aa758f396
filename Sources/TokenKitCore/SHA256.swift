import CDigest

/// SHA-256 (FIPS 180-4): recognises the OpenAI rank files by content and keys the model cache.
/// The rounds are in C (`CDigest`), on the CPU's SHA extensions where it has them.
public enum SHA256 {
    /// The 32-byte digest.
    public static func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { o in
            tk_sha256(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, o.baseAddress!)
        }
        return out
    }

    /// The digest on the portable rounds, never the SHA extensions (for tests).
    static func digestPortable(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { o in
            tk_sha256_portable(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count, o.baseAddress!)
        }
        return out
    }

    /// Lowercase hex digest.
    public static func hex(_ data: UnsafeRawBufferPointer) -> String { hex(digest: digest(data)) }

    /// A digest in lowercase hex.
    public static func hex(digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hex(_ data: [UInt8]) -> String { data.withUnsafeBytes { hex($0) } }
}

/// A fast 64-bit checksum of a buffer (not cryptographic), for detecting damaged cache files.
public func checksum64(_ data: UnsafeRawBufferPointer) -> UInt64 {
    tk_checksum64(data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count)
}
