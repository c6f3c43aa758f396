/// UTF-8 helpers that work on bytes and never trap on invalid input.
public enum UTF8Scan {
    /// Decodes the scalar at `i`. Invalid or truncated sequences decode as one byte with
    /// `valid == false`, so scanners make progress and stay lossless.
    @inline(__always)
    public static func decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (scalar: UInt32, length: Int, valid: Bool) {
        let b0 = p[i]
        if b0 < 0x80 { return (UInt32(b0), 1, true) }
        let n = p.count
        if b0 < 0xC2 { return (UInt32(b0), 1, false) }
        if b0 < 0xE0 {
            if i + 1 < n, p[i + 1] & 0xC0 == 0x80 {
                return ((UInt32(b0 & 0x1F) << 6) | UInt32(p[i + 1] & 0x3F), 2, true)
            }
            return (UInt32(b0), 1, false)
        }
        if b0 < 0xF0 {
            if i + 2 < n, p[i + 1] & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80 {
                let c = (UInt32(b0 & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F)
                if c >= 0x800 && !(0xD800...0xDFFF).contains(c) { return (c, 3, true) }
            }
            return (UInt32(b0), 1, false)
        }
        if b0 < 0xF5 {
            if i + 3 < n, p[i + 1] & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 {
                let c = (UInt32(b0 & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12)
                    | (UInt32(p[i + 2] & 0x3F) << 6) | UInt32(p[i + 3] & 0x3F)
                if (0x10000...0x10FFFF).contains(c) { return (c, 4, true) }
            }
        }
        return (UInt32(b0), 1, false)
    }

    /// Byte offset of the first invalid UTF-8 sequence, or nil if all of `bytes` is valid.
    public static func firstInvalid(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            let d = decode(bytes, i)
            if !d.valid { return i }
            i += d.length
        }
        return nil
    }

    public static func firstInvalid(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalid($0) }
    }

    /// Number of scalars (invalid bytes count one each).
    public static func scalarCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // Every byte that is not a continuation byte starts a scalar; stray continuation bytes
        // are invalid and count one each, which needs a real decode only off the ASCII path.
        var count = 0
        var i = 0
        let n = bytes.count
        while i < n {
            if bytes[i] < 0x80 {
                i += 1
            } else {
                i += decode(bytes, i).length
            }
            count += 1
        }
        return count
    }

    @inline(__always)
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        while i + 8 <= n {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n {
            if base[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Appends the UTF-8 encoding of a scalar.
    @inline(__always)
    public static func append(_ c: UInt32, to out: inout [UInt8]) {
        if c < 0x80 {
            out.append(UInt8(c))
        } else if c < 0x800 {
            out.append(UInt8(0xC0 | (c >> 6)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else if c < 0x10000 {
            out.append(UInt8(0xE0 | (c >> 12)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (c >> 18)))
            out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }
}
